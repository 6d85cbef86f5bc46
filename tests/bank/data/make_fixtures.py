"""Save a small store at each earlier schema version, for the upgrade tests.

Run once when a migration step is added (``python -m tests.bank.data.make_fixtures N``) and
commit the new file; never regenerate an existing one: they stand for databases in the field.
"""

import sqlite3
import sys
from pathlib import Path

from bank.db import APPLICATION_ID
from bank.schema import MIGRATIONS, statements

HERE = Path(__file__).resolve().parent

# Rows valid at each version (columns as they were then).
SEED_ROWS = {
    1: [
        "INSERT INTO settings VALUES ('community.code', 'LH'), ('community.name', '龙海社区')",
        "INSERT INTO compounds VALUES (1, '龙海花园', 9)",
        "INSERT INTO service_points VALUES (1, 1, '龙海花园党群服务点', '')",
        "INSERT INTO review_groups VALUES (1, 1, '龙海花园道德评议小组')",
        "INSERT INTO volunteer_teams VALUES (1, '安心敲门队', '')",
        "INSERT INTO accounts VALUES (1, 'household', '张喆明', 1, 3, 2, '1502', 'active', NULL,"
        " '2025-01-01T00:00:00.000000Z')",
        "INSERT INTO members VALUES (1, 1, '张喆明', '本人', 1, 1)",
        "INSERT INTO issuing_keys VALUES ('K1', x'00', NULL, '2025-01-01T00:00:00.000000Z', NULL)",
        "INSERT INTO cards VALUES ('100001', 1, 1, 'resident', 'K1', 'MPB1:LH:R:100001:1:K1:X', 'active',"
        " '2025-01-01T00:00:00.000000Z', NULL, NULL)",
    ],
    2: [
        "INSERT INTO catalog_versions VALUES (1, '2025-01-01', '2025-01-01T00:00:00.000000Z', '')",
        "INSERT INTO products VALUES (1, 'XS', '修身', '天天存', 'daily')",
        "INSERT INTO rule_items VALUES (1, 'XS01', 'XS', '信守公德', '垃圾分类投放正确', 1, 1, '每天最多记1次')",
        "INSERT INTO merchants VALUES (1, '老街小面', 'noodles', 1, '', 'active')",
        "INSERT INTO offers VALUES (1, 1, '小面', 6, 700, 1)",
        "INSERT INTO ledger_entries (account_id, kind, points, item_code, catalog_version, period_key,"
        " recorded_by, recorded_at) VALUES (1, 'award', 1, 'XS01', 1, 'D2025-03-01', 'test',"
        " '2025-03-01T02:00:00.000000Z')",
    ],
    3: [
        "INSERT INTO offline_policy (merchant_id, per_card_daily_cap, floor_limit, unsynced_cap,"
        " max_sync_age_hours, void_minutes, pin_above) VALUES (NULL, 60, 40, 600, 72, 15, 20)",
        "INSERT INTO offline_policy (merchant_id, per_card_daily_cap, floor_limit) VALUES (1, 100, 60)",
        "INSERT INTO redemption_windows (merchant_id, place, weekdays, opens, closes)"
        " VALUES (1, '老街小面', '1111111', '07:00', '22:00')",
    ],
    4: [
        "INSERT INTO devices (device_id, kind, merchant_id, public_key, label, enrolled_at, last_seq, last_hash,"
        " last_push_at) VALUES ('T0001', 'tablet', 1, zeroblob(32), '收银台', '2025-03-01T01:00:00.000000Z', 1,"
        " 'ab' || substr(hex(zeroblob(31)), 1, 62), '2025-03-01T03:00:00.000000Z')",
        "INSERT INTO enrolment_codes VALUES ('00', 'tablet', 1, NULL, '2025-03-01T00:00:00.000000Z',"
        " '2025-03-02T00:00:00.000000Z', '2025-03-01T01:00:00.000000Z', 'T0001')",
        "INSERT INTO ledger_entries (account_id, kind, points, merchant_id, offer_id, quantity, recorded_by,"
        " device_id, device_time, recorded_at, ref) VALUES (1, 'redemption', -6, 1, 1, 1, 'device:T0001', 'T0001',"
        " '2025-03-01T02:59:00.000000Z', '2025-03-01T03:00:00.000000Z', 'dev:T0001:1')",
        "INSERT INTO device_events VALUES ('T0001', 1, 'ab' || substr(hex(zeroblob(31)), 1, 62),"
        " substr(hex(zeroblob(32)), 1, 64), 'redemption', '{}', '2025-03-01T02:59:00.000000Z',"
        " '2025-03-01T03:00:00.000000Z', 2, 'c2ln')",
        "INSERT INTO alerts (raised_at, kind, device_id, account_id, card_id, detail) VALUES"
        " ('2025-03-01T03:00:00.000000Z', 'overdraft', 'T0001', 1, '100001', '{}')",
        "INSERT INTO card_holds (card_id, account_id, reason, alert_id, placed_at) VALUES"
        " ('100001', 1, 'overdraft', 1, '2025-03-01T03:00:00.000000Z')",
    ],
    5: [
        "INSERT INTO console_users (name, role, compound_id, password_hash, created_at) VALUES"
        " ('钱组员', 'reviewer', 1, 'scrypt$16384$8$1$00$00', '2025-03-01T00:00:00.000000Z')",
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES"
        " ('2025-03-01T04:00:00.000000Z', '钱组员', 'objection.raise', 'account:1', '')",
        "INSERT INTO objections (account_id, entry_id, points_held, source, reason, raised_by, raised_at,"
        " updated_at) VALUES (1, 1, 1, 'office', '记录有误', '钱组员', '2025-03-01T04:00:00.000000Z',"
        " '2025-03-01T04:00:00.000000Z')",
    ],
    6: [
        "INSERT INTO cards VALUES ('100002', 1, 1, 'staff', 'K1', 'MPB1:LH:S:100002:1:K1:X', 'active',"
        " '2025-03-01T00:00:00.000000Z', NULL, NULL)",
        "INSERT INTO reviewers VALUES (1, 1, 1, '张喆明', '100002', 'scrypt$16384$8$1$00$00', 1,"
        " '2025-03-01T00:00:00.000000Z')",
    ],
    7: [
        "UPDATE console_users SET reviewer_id = 1 WHERE name = '钱组员'",
    ],
    8: [
        "UPDATE devices SET last_request_time = '2025-03-01T03:00:00.000000Z' WHERE device_id = 'T0001'",
    ],
    9: [
        "INSERT INTO ledger_entries (entry_id, account_id, kind, points, recorded_by, recorded_at, note, valid_until)"
        " VALUES (90, 1, 'adjustment', 4, '社区办公室', '2025-03-02T03:00:00.000000Z', '户合并转入', '2026-12-31')",
    ],
    10: [
        "INSERT INTO attempt_limits VALUES ('card_pin', '1', 2, '2025-03-02T03:00:00.000000Z', NULL)",
    ],
    11: [
        "INSERT INTO quarantine (device_id, seq, kind, card_id, account_id, points, value_fen, rule, detail,"
        " device_time, received_at) VALUES ('T0001', 2, 'redemption', '100001', 1, -5, 700, 'price', '{}',"
        " '2025-03-01T02:59:30.000000Z', '2025-03-01T03:00:00.000000Z')",
        "UPDATE alerts SET count = 3, agg_key = 'chain_gap|d:T0001' WHERE alert_id = 1",
    ],
    12: [
        "UPDATE issuing_keys SET endorsed_by = NULL WHERE key_id = 'K1'",
    ],
}


def make(version: int) -> Path:
    path = HERE / f"schema_v{version}.sqlite"
    if path.exists():
        raise SystemExit(f"{path} exists: fixtures are frozen")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    for number in range(1, version + 1):
        for statement in statements(MIGRATIONS[number - 1]):
            conn.execute(statement)
        for row in SEED_ROWS.get(number, []):
            conn.execute(row)
    conn.execute(f"PRAGMA user_version={version}")
    conn.close()
    return path


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(make(int(arg)))
