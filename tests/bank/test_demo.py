"""The demo community: shaped like Longhai, consistent, deterministic."""

import datetime as dt
import sqlite3
from collections import Counter

import pytest

from bank import cards, clock, convention, db, demo, ledger
from bank.errors import DatabaseError


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


def test_a_year_of_history_with_every_kind_of_entry(conn):
    totals = dict(conn.execute("SELECT kind, sum(points) FROM ledger_entries GROUP BY kind").fetchall())
    assert 18_000 <= totals["award"] <= 23_000
    assert totals["deduction"] < 0 and totals["redemption"] < 0 and totals["expiry"] < 0
    assert one(conn, "SELECT count(*) FROM ledger_entries WHERE kind = 'reversal'") >= 3
    last = clock.from_text(one(conn, "SELECT max(recorded_at) FROM ledger_entries WHERE kind <> 'reversal'"))
    assert clock.local_date(last) <= dt.date(2026, 11, 26)
    first_award = clock.from_text(one(conn, "SELECT min(recorded_at) FROM ledger_entries WHERE kind = 'award'"))
    assert clock.local_date(first_award) >= dt.date(2025, 11, 27)


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
    demo.build(again, seed=7, until=dt.date(2026, 11, 26))
    assert dump(again) == dump(demo_db)
    other = tmp_path / "other.sqlite"
    demo.build(other, seed=8, until=dt.date(2026, 11, 26))
    assert dump(other)["cards"] != dump(demo_db)["cards"]


def test_refuses_to_overwrite(tmp_path):
    path = tmp_path / "exists.sqlite"
    path.write_bytes(b"precious")
    with pytest.raises(DatabaseError):
        demo.build(path, seed=1, until=dt.date(2026, 11, 26))
    assert path.read_bytes() == b"precious"


def test_lots_in_bulk_equal_lots_one_by_one(conn):
    from bank import validity
    ids = [r[0] for r in conn.execute("SELECT account_id FROM accounts ORDER BY account_id")]
    bulk = validity.lots_of_many(conn, ids)
    assert list(bulk) == ids
    assert any(lots for lots, _ in bulk.values())
    for account_id in ids:
        assert bulk[account_id] == validity.lots(conn, account_id), account_id
