"""The demo community: shaped like Longhai, consistent, deterministic."""

import datetime as dt
import sqlite3
from collections import Counter

import pytest

from bank import cards, clock, convention, db, demo, devices, ledger, policy, reviewers
from bank.errors import DatabaseError

UNTIL = dt.date(2026, 11, 26)    # the demo_db fixture's last day


@pytest.fixture(scope="module")
def conn(demo_db):
    c = db.connect(demo_db, readonly=True)
    yield c
    c.close()


def one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


def test_shape_of_the_community(conn):
    assert one(conn, "SELECT count(*) FROM compounds") == 6
    assert one(conn, "SELECT count(*) FROM service_points") == 6
    assert one(conn, "SELECT count(*) FROM review_groups") == 6
    assert one(conn, "SELECT sum(buildings) FROM compounds") >= 50
    assert one(conn, "SELECT count(*) FROM accounts") >= 1000
    assert {r[0] for r in conn.execute("SELECT kind FROM accounts")} == {"household", "single"}
    assert one(conn, "SELECT count(*) FROM volunteer_teams") == 13
    assert one(conn, "SELECT count(*) FROM merchants") == 70
    assert one(conn, "SELECT count(DISTINCT category) FROM merchants") >= 8


def test_rare_name_characters_appear(conn):
    names = "".join(r[0] for r in conn.execute("SELECT name FROM members"))
    assert set("喆堃玥珺旻昇翀彧") <= set(names)


@pytest.mark.parametrize("name,points", [("小面", 6), ("馒头", 1), ("洗剪吹", 15)])
def test_report_prices(conn, name, points):
    prices = {r[0] for r in conn.execute("SELECT points FROM offers WHERE name = ?", (name,))}
    assert prices == {points}


def test_every_account_has_a_card_some_reissued_some_revoked(conn):
    assert one(conn, "SELECT count(*) FROM accounts WHERE account_id NOT IN (SELECT account_id FROM cards)") == 0
    statuses = Counter(r[0] for r in conn.execute("SELECT status FROM cards"))
    assert statuses["superseded"] >= 10 and statuses["revoked"] >= 1
    assert one(conn, "SELECT count(*) FROM cards WHERE version > 1") == statuses["superseded"]


def test_two_years_of_history_with_every_kind_of_entry(conn):
    totals = dict(conn.execute("SELECT kind, sum(points) FROM ledger_entries GROUP BY kind").fetchall())
    assert 20_000 < totals["award"] <= 30_000      # the report: 累计获得积分超过20000分
    assert totals["deduction"] < 0 and totals["redemption"] < 0 and totals["expiry"] < 0
    assert one(conn, "SELECT count(*) FROM ledger_entries WHERE kind = 'reversal'") >= 3
    last = clock.from_text(one(conn, "SELECT max(recorded_at) FROM ledger_entries"))
    assert clock.local_date(last) <= UNTIL
    first = clock.from_text(one(conn, "SELECT min(recorded_at) FROM ledger_entries"))
    assert clock.local_date(first) >= dt.date(2024, 12, 1)


def local_months(conn, kind):
    """{(year, month): set of merchant ids (or of anything) with ``kind`` entries} in local time."""
    out = {}
    for at, merchant in conn.execute("SELECT recorded_at, merchant_id FROM ledger_entries WHERE kind = ?", (kind,)):
        day = clock.local_date(clock.from_text(at))
        out.setdefault((day.year, day.month), set()).add(merchant)
    return out


MONTHS = [(y, m) for y in (2024, 2025, 2026) for m in range(1, 13) if dt.date(2024, 12, 1) <= dt.date(y, m, 1) <= UNTIL]


def test_every_month_since_the_start_has_awards_deductions_and_redemptions(conn):
    for kind in ("award", "deduction", "redemption"):
        assert sorted(local_months(conn, kind)) == MONTHS, kind
    assert len(MONTHS) == 24 and MONTHS[0] == (2024, 12)


def test_every_merchant_redeems_every_month(conn):
    merchants = {r[0] for r in conn.execute("SELECT merchant_id FROM merchants")}
    by_month = local_months(conn, "redemption")
    missing = {m: merchants - by_month.get(m, set()) for m in MONTHS if merchants - by_month.get(m, set())}
    assert missing == {}


def test_the_paper_carry_over_is_spent_through_2025_not_expired_at_once(conn):
    carried = conn.execute("SELECT recorded_at, points, note FROM ledger_entries WHERE kind = 'adjustment'").fetchall()
    assert len(carried) >= 300 and all(note == "2024年纸质台账结转" for _, _, note in carried)
    days = {clock.local_date(clock.from_text(at)) for at, _, _ in carried}
    assert len(days) >= 20 and all(dt.date(2024, 12, 1) <= d <= dt.date(2024, 12, 31) for d in days)
    carried_points = sum(p for _, p, _ in carried)
    expired = -one(conn, "SELECT coalesce(sum(points), 0) FROM ledger_entries WHERE kind = 'expiry'")
    earned = one(conn, "SELECT sum(points) FROM ledger_entries WHERE kind IN ('award', 'adjustment')")
    assert 0 < expired <= carried_points * 0.4     # most of 2024's points were spent in 2025
    assert expired <= earned * 0.05
    expiry_days = {clock.local_date(clock.from_text(r[0]))
                   for r in conn.execute("SELECT recorded_at FROM ledger_entries WHERE kind = 'expiry'")}
    assert expiry_days == {dt.date(2026, 1, 1)}


def test_negative_balances_are_rare_and_each_comes_from_a_deduction(conn):
    negative = [r[0] for r in conn.execute(
        "SELECT account_id FROM ledger_entries GROUP BY account_id HAVING sum(points) < 0")]
    assert len(negative) <= one(conn, "SELECT count(*) FROM accounts") // 100
    for account_id in negative:
        running, went_below = 0, None
        for e in ledger.entries(conn, account_id):
            if running >= 0 > running + e.points:
                went_below = e
            running += e.points
        assert went_below.kind == "deduction", (account_id, went_below)


def test_entries_are_recorded_by_the_compounds_review_group_members(conn):
    members = {}
    for r in reviewers.all_members(conn):
        members.setdefault(r.compound_id, {})[r.name] = r
    threshold = reviewers.second_confirm_above(conn)
    rows = conn.execute("SELECT e.account_id, a.compound_id, e.points, e.recorded_by FROM ledger_entries e "
                        "JOIN accounts a USING (account_id) WHERE e.kind IN ('award', 'deduction')").fetchall()
    assert len(rows) > 10_000
    for account_id, compound_id, points, by in rows:
        names = dict(part.split(":") for part in by.split(";"))
        member = members[compound_id][names["评议小组成员"]]
        assert member.account_id != account_id                      # recusal
        if reviewers.needs_second(points, threshold):
            second = members[compound_id][names["复核"]]
            assert second.name != member.name and second.account_id != account_id
        else:
            assert "复核" not in names


def test_every_device_of_the_ledger_is_an_enrolled_device_of_its_place(conn):
    enrolled = {d.device_id: d for d in devices.all_devices(conn)}
    assert sum(d.kind == "kiosk" for d in enrolled.values()) == 6
    assert sum(d.kind == "tablet" for d in enrolled.values()) == 70
    kiosk_compound = dict(conn.execute("SELECT service_point_id, compound_id FROM service_points").fetchall())
    rows = conn.execute("SELECT e.device_id, e.kind, e.merchant_id, a.compound_id FROM ledger_entries e "
                        "JOIN accounts a USING (account_id) WHERE e.device_id <> 'office'").fetchall()
    assert len(rows) > 5_000
    for device_id, kind, merchant_id, compound_id in rows:
        device = enrolled[device_id]
        if kind in ("redemption",):
            assert device.kind == "tablet" and device.merchant_id == merchant_id
        elif kind in ("award", "deduction"):
            assert device.kind == "kiosk" and kiosk_compound[device.service_point_id] == compound_id


def test_redemptions_are_made_in_the_merchants_hours(conn):
    windows = {}
    for at, merchant_id in conn.execute("SELECT recorded_at, merchant_id FROM ledger_entries WHERE kind = 'redemption'"):
        ws = windows.setdefault(merchant_id, policy.windows(conn, merchant_id))
        assert policy.open_at(ws, clock.from_text(at)), (at, merchant_id)


def test_offers_fit_their_shop(conn):
    offers = {}
    for shop, offer in conn.execute("SELECT m.name, o.name FROM offers o JOIN merchants m USING (merchant_id)"):
        offers.setdefault(shop, set()).add(offer)
    assert offers["胖哥酸辣粉"] >= {"酸辣粉"} and "小面" not in offers["胖哥酸辣粉"]
    assert "抄手一碗" in offers["王婆抄手"] and "馒头" not in offers["王婆抄手"]
    assert "汤圆一碗" in offers["周记汤圆"] and "书法字帖" not in offers["小星星舞蹈"]
    for shop, names in offers.items():
        assert len(names) >= 2, shop
    # every shop has something a resident with a few points can take (the report: 1 point ≥ ¥1)
    cheapest = dict(conn.execute("SELECT merchant_id, min(points) FROM offers GROUP BY merchant_id").fetchall())
    assert max(cheapest.values()) <= 10
    assert one(conn, "SELECT count(*) FROM offers WHERE value_fen < points * 100") == 0


def test_balances_equal_the_sum_of_entries_and_none_overdrawn(conn):
    for (account_id,) in conn.execute("SELECT account_id FROM accounts"):
        entries = ledger.entries(conn, account_id)
        assert ledger.balance(conn, account_id) == sum(e.points for e in entries)
        running = 0
        for e in entries:
            running += e.points
            if e.kind == "redemption":
                assert running >= 0, (account_id, e)


def test_caps_were_respected(conn):
    catalog = convention.load(conn, 1)
    caps = {i.code: i.cap for i in catalog.items}
    rows = conn.execute(
        "SELECT account_id, item_code, period_key, count(*) FROM ledger_entries e "
        "WHERE kind IN ('award', 'deduction') AND NOT EXISTS "
        "(SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id) "
        "GROUP BY account_id, item_code, period_key").fetchall()
    assert rows
    for account_id, code, period, count in rows:
        assert caps[code] is None or count <= caps[code], (account_id, code, period, count)


def test_all_active_cards_verify(conn):
    for card in cards.all_cards(conn)[:200]:
        if card.status == "active":
            assert cards.verify_text(conn, card.qr)[1].account_id == card.account_id


def dump(path):
    c = sqlite3.connect(path)
    out = {}
    for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        width = len(c.execute(f"SELECT * FROM {t} LIMIT 0").description)
        out[t] = c.execute(f"SELECT * FROM {t} ORDER BY {', '.join(map(str, range(1, width + 1)))}").fetchall()
    c.close()
    return out


def test_deterministic_for_seed_and_date(tmp_path, demo_db):
    again = tmp_path / "again.sqlite"
    demo.build(again, seed=7, until=UNTIL)
    assert dump(again) == dump(demo_db)


def test_another_seed_another_community_and_nothing_after_the_builds_now(tmp_path, demo_db):
    """A demo built at 10:00 on its last day holds nothing of that day's afternoon."""
    other = tmp_path / "other.sqlite"
    now = dt.datetime(2026, 11, 26, 10, 0, tzinfo=clock.LOCAL_TZ)
    demo.build(other, seed=8, until=UNTIL, now=now)
    assert dump(other)["cards"] != dump(demo_db)["cards"]
    c = db.connect(other, readonly=True)
    try:
        latest = {t: one(c, f"SELECT max({col}) FROM {t}") for t, col in
                  [("ledger_entries", "recorded_at"), ("cards", "issued_at"), ("cards", "ended_at"),
                   ("devices", "enrolled_at"), ("reviewers", "created_at")]}
        assert all(at is not None and clock.from_text(at) <= now for at in latest.values()), latest
        today = [clock.from_text(r[0]) for r in c.execute("SELECT recorded_at FROM ledger_entries WHERE recorded_at >= ?",
                                                          (clock.to_text(clock.local_midnight(UNTIL)),))]
        assert today and max(today) <= now     # the morning is there, the afternoon is not
    finally:
        c.close()


def test_refuses_to_overwrite(tmp_path):
    path = tmp_path / "exists.sqlite"
    path.write_bytes(b"precious")
    with pytest.raises(DatabaseError):
        demo.build(path, seed=1, until=UNTIL)
    assert path.read_bytes() == b"precious"


def test_lots_in_bulk_equal_lots_one_by_one(conn):
    from bank import validity
    ids = [r[0] for r in conn.execute("SELECT account_id FROM accounts ORDER BY account_id")]
    bulk = validity.lots_of_many(conn, ids)
    assert list(bulk) == ids
    assert any(lots for lots, _ in bulk.values())
    for account_id in ids:
        assert bulk[account_id] == validity.lots(conn, account_id), account_id
