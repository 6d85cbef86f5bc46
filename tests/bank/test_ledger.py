"""The ledger: integer points, append-only at the database level, caps per local period, reversals."""

import datetime as dt
import sqlite3

import pytest

from bank import accounts, db, ledger, merchants
from bank.errors import AccountInactive, AlreadyReversed, CapExceeded, InsufficientPoints, InvalidInput, NotFound

from ..conftest import T0
from .kit import local

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def test_award_and_deduction_take_points_and_kind_from_the_rule_item(store, account):
    award = ledger.record_item(store, account, "ML05", recorded_by="tester", now=T0)  # red list +3
    deduction = ledger.record_item(store, account, "XS06", recorded_by="tester", now=T0)  # fighting -10
    assert (award.kind, award.points, deduction.kind, deduction.points) == ("award", 3, "deduction", -10)
    assert award.catalog_version == 1 and award.recorded_by == "tester" and award.device_id == "office"
    assert ledger.balance(store, account) == -7
    assert type(ledger.balance(store, account)) is int


# SQLite's typeof CHECK refuses 1.5; a PostgreSQL INTEGER column rounds a fractional literal on
# assignment (it never stores a fraction, but does not refuse either): not yet decided for PostgreSQL.
@pytest.mark.engines("sqlite")
def test_points_are_integers_even_for_raw_sql(store, account):
    with pytest.raises(sqlite3.IntegrityError):
        store.execute("INSERT INTO ledger_entries (account_id, kind, points, recorded_by, recorded_at, note) "
                      "VALUES (?, 'adjustment', 1.5, 'x', '2026-01-01T00:00:00.000000Z', 'float')", (account,))
    with pytest.raises(InvalidInput):
        ledger.record_adjustment(store, account, 1.5, recorded_by="x", note="float")
    assert ledger.entries(store, account) == []


def test_update_and_delete_are_refused_by_the_database_itself(store, account, engine):
    # SQLite: the triggers; PostgreSQL: first the application role's privileges (it has no
    # UPDATE/DELETE on the ledger), and the triggers behind them (the next test)
    refusal = "append-only" if engine == "sqlite" else "permission denied for table ledger_entries"
    e = ledger.record_item(store, account, "XS01", recorded_by="tester", now=T0)
    with pytest.raises(sqlite3.DatabaseError, match=refusal):
        store.execute("UPDATE ledger_entries SET points = 100 WHERE entry_id = ?", (e.entry_id,))
    with pytest.raises(sqlite3.DatabaseError, match=refusal):
        store.execute("DELETE FROM ledger_entries WHERE entry_id = ?", (e.entry_id,))
    assert ledger.entry(store, e.entry_id).points == 1


@pytest.mark.engines("postgresql")
def test_on_postgresql_even_the_owner_cannot_update_or_delete_ledger_entries(store, account, pg_server):
    from bank import db
    from tests import pg_kit
    e = ledger.record_item(store, account, "XS01", recorded_by="tester", now=T0)
    owner = db.connect(pg_server.url(store.raw.info.dbname, pg_kit.OWNER))
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only: post a reversal instead"):
            owner.execute("UPDATE ledger_entries SET points = 100 WHERE entry_id = ?", (e.entry_id,))
        with pytest.raises(sqlite3.IntegrityError, match="append-only: post a reversal instead"):
            owner.execute("DELETE FROM ledger_entries WHERE entry_id = ?", (e.entry_id,))
    finally:
        owner.close()
    assert ledger.entry(store, e.entry_id).points == 1


def test_daily_cap_follows_the_local_day_not_the_utc_day(store, account):
    # 07:30 and 08:30 local on 3 March are the same UTC day (2 March 23:30 and 3 March 00:30 UTC)
    # would differ in UTC; what counts is the Chongqing day.
    ledger.record_item(store, account, "XS01", recorded_by="t", now=local(2026, 3, 3, 7, 30))
    with pytest.raises(CapExceeded) as exc:
        ledger.record_item(store, account, "XS01", recorded_by="t", now=local(2026, 3, 3, 8, 30))
    assert "每天最多1次" in exc.value.zh
    ledger.record_item(store, account, "XS01", recorded_by="t", now=local(2026, 3, 4, 0, 1))
    assert ledger.balance(store, account) == 2


def test_weekly_cap_resets_at_local_monday_midnight(store, account):
    sunday_night = local(2026, 3, 8, 23, 30)   # Sunday 15:30 UTC
    monday_early = local(2026, 3, 9, 0, 10)    # still Sunday 16:10 UTC
    ledger.record_item(store, account, "RJ01", recorded_by="t", now=sunday_night)
    with pytest.raises(CapExceeded):
        ledger.record_item(store, account, "RJ01", recorded_by="t", now=local(2026, 3, 8, 23, 59))
    entry = ledger.record_item(store, account, "RJ01", recorded_by="t", now=monday_early)
    assert entry.period_key == "W2026-11"
    with pytest.raises(CapExceeded):
        ledger.record_item(store, account, "RJ01", recorded_by="t", now=local(2026, 3, 15, 23, 0))


def test_monthly_cap_counts_per_local_month(store, account):
    for day in (1, 10, 20, 31):  # haircut: at most 4 a month
        ledger.record_item(store, account, "ML01", recorded_by="t", now=local(2026, 10, day, 23, 50))
    with pytest.raises(CapExceeded):
        ledger.record_item(store, account, "ML01", recorded_by="t", now=local(2026, 10, 31, 23, 59))
    e = ledger.record_item(store, account, "ML01", recorded_by="t", now=local(2026, 11, 1, 0, 5))
    assert e.period_key == "M2026-11"
    assert ledger.balance(store, account) == 15


def test_uncapped_deduction_can_repeat(store, account):
    for _ in range(3):
        ledger.record_item(store, account, "XS06", recorded_by="t", now=T0)
    assert ledger.balance(store, account) == -30


def test_reversal_points_at_the_original_once_only_and_frees_the_cap(store, account):
    e = ledger.record_item(store, account, "RJ01", recorded_by="t", now=T0)
    r = ledger.reverse(store, e.entry_id, recorded_by="office", note="wrong household", now=T0)
    assert (r.kind, r.points, r.reverses_entry_id) == ("reversal", -2, e.entry_id)
    with pytest.raises(AlreadyReversed):
        ledger.reverse(store, e.entry_id, recorded_by="office", note="again", now=T0)
    with pytest.raises(InvalidInput):
        ledger.reverse(store, r.entry_id, recorded_by="office", note="reverse a reversal", now=T0)
    again = ledger.record_item(store, account, "RJ01", recorded_by="t", now=T0)  # cap freed
    assert ledger.balance(store, account) == 2
    assert [ln.reversed for ln in ledger.passbook(store, account)] == [False, False, True]
    assert again.entry_id > r.entry_id


def test_unknown_item_and_closed_account_are_refused_and_write_nothing(store, account):
    with pytest.raises(NotFound, match="ZZ99"):
        ledger.record_item(store, account, "ZZ99", recorded_by="t", now=T0)
    accounts.set_status(store, account, "closed")
    with pytest.raises(AccountInactive):
        ledger.record_item(store, account, "XS01", recorded_by="t", now=T0)
    assert ledger.entries(store, account) == []


def test_redemption_needs_the_balance_at_the_office_but_settlement_may_overdraw(store, account):
    mid = merchants.add_merchant(store, "老街小面", "noodles")
    noodles = merchants.add_offer(store, mid, "小面", 6, 700)
    ledger.record_item(store, account, "YC01", recorded_by="t", now=T0)  # +5
    with pytest.raises(InsufficientPoints, match="6"):
        ledger.record_redemption(store, account, noodles, recorded_by="m", now=T0)
    e = ledger.record_redemption(store, account, noodles, recorded_by="m", device_id="tablet-1",
                                 allow_overdraft=True, now=T0, ref="dev:tablet-1:1")
    assert (e.points, e.merchant_id, e.quantity) == (-6, mid, 1)
    assert ledger.balance(store, account) == -1
    # the same device event again changes nothing
    assert ledger.record_redemption(store, account, noodles, recorded_by="m", device_id="tablet-1",
                                    allow_overdraft=True, now=T0, ref="dev:tablet-1:1") == e
    assert ledger.balance(store, account) == -1


def test_suspended_account_cannot_redeem(store, account):
    mid = merchants.add_merchant(store, "包子铺", "snacks")
    bun = merchants.add_offer(store, mid, "馒头", 1, 100)
    ledger.record_item(store, account, "YC01", recorded_by="t", now=T0)
    accounts.set_status(store, account, "suspended")
    with pytest.raises(AccountInactive):
        ledger.record_redemption(store, account, bun, recorded_by="m", now=T0)


def test_passbook_has_rule_names_running_balance_and_pages(store, account):
    mid = merchants.add_merchant(store, "包子铺", "snacks")
    bun = merchants.add_offer(store, mid, "馒头", 1, 100)
    times = [T0 + dt.timedelta(days=i) for i in range(30)]
    for t in times:
        ledger.record_item(store, account, "XS01", recorded_by="t", now=t)
    ledger.record_redemption(store, account, bun, 3, recorded_by="m", now=times[-1])
    first = ledger.passbook(store, account, limit=20)
    assert len(first) == 20
    assert first[0].entry.kind == "redemption" and first[0].description == "包子铺 · 馒头 ×3"
    assert first[0].balance_after == 27 == ledger.balance(store, account)
    assert first[1].description == "垃圾分类投放正确" and first[1].balance_after == 30
    rest = ledger.passbook(store, account, limit=20, before_entry_id=first[-1].entry.entry_id)
    assert len(rest) == 11 and rest[-1].balance_after == 1
    assert [ln.balance_after for ln in first + rest] == [27] + [30 - i for i in range(30)]


def test_note_too_long_is_refused(store, account):
    with pytest.raises(InvalidInput):
        ledger.record_item(store, account, "XS01", recorded_by="t", note="长" * 201, now=T0)
    assert ledger.entries(store, account) == []


def test_passbook_pages_by_offset_and_whole_with_the_same_running_balance(store, account):
    for i in range(25):
        ledger.record_item(store, account, "XS01", recorded_by="t", now=T0 + dt.timedelta(days=i))
    whole = ledger.passbook(store, account, limit=None)
    assert len(whole) == 25 == ledger.entry_count(store, account)
    pages = [ledger.passbook(store, account, limit=10, offset=o) for o in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [ln.balance_after for p in pages for ln in p] == [ln.balance_after for ln in whole] == list(range(25, 0, -1))
    assert ledger.running_balances([3, -1, 2], opening=10) == [13, 12, 14]


def test_settled_redemptions_keep_their_refs_and_later_entries_follow_them(store, account):
    # settlement assigns entry ids itself (max + 1): an entry recorded afterwards must still get
    # a free one, on PostgreSQL too, where new rows otherwise take the next number of a counter
    mid = merchants.add_merchant(store, "老街小面", "noodles")
    noodles = merchants.offer(store, merchants.add_offer(store, mid, "小面", 6, 700))
    first = ledger.record_item(store, account, "YC01", recorded_by="t", now=T0)  # +5
    items = [(account, noodles, 1, 6, "2026-03-02T01:00:00.000000Z", "dev:tablet-1:1"),
             (account, noodles, 2, 12, "2026-03-02T01:05:00.000000Z", "dev:tablet-1:2")]
    settled = ledger.settle_redemptions(store, items, recorded_by="m", device_id="tablet-1", now=T0)
    assert settled == {"dev:tablet-1:1": first.entry_id + 1, "dev:tablet-1:2": first.entry_id + 2}
    # the same push again writes nothing and answers the same entries
    assert ledger.settle_redemptions(store, items, recorded_by="m", device_id="tablet-1", now=T0) == settled
    later = ledger.record_item(store, account, "XS01", recorded_by="t", now=T0)
    assert later.entry_id == first.entry_id + 3
    assert ledger.balance(store, account) == 5 - 18 + 1


@pytest.mark.parametrize("bad", ["unknown account", "positive redemption"])
def test_the_bulk_insert_keeps_every_constraint_and_writes_nothing_of_a_refused_batch(store, account, bad):
    # settlement appends a push's rows in bulk (COPY on PostgreSQL): a row the schema refuses
    # must fail the whole batch, as single INSERTs would, not slip past the constraints
    mid = merchants.add_merchant(store, "老街小面", "noodles")
    oid = merchants.add_offer(store, mid, "小面", 6, 700)
    columns = ("account_id", "kind", "points", "merchant_id", "offer_id", "quantity", "recorded_by", "recorded_at",
               "ref")
    good = (account, "redemption", -6, mid, oid, 1, "m", "2026-03-02T01:00:00.000000Z", "dev:t:1")
    broken = {"unknown account": (account + 999, "redemption", -6, mid, oid, 1, "m", "2026-03-02T01:00:00.000000Z",
                                  "dev:t:2"),
              "positive redemption": (account, "redemption", 6, mid, oid, 1, "m", "2026-03-02T01:00:00.000000Z",
                                      "dev:t:2")}[bad]
    with pytest.raises(sqlite3.IntegrityError):
        with db.transaction(store):
            db.insert_rows(store, "ledger_entries", columns, [good, broken])
    assert store.execute("SELECT count(*) FROM ledger_entries WHERE ref LIKE 'dev:t:%'").fetchone()[0] == 0
    with db.transaction(store):
        db.insert_rows(store, "ledger_entries", columns, [good])
    assert ledger.balance(store, account) == -6


def test_the_bulk_insert_stores_text_exactly_as_given(store, account):
    # COPY's text format has its own escapes (tab, newline, backslash, \N for NULL): a device
    # event's JSON text or a note must come back byte for byte, or a chain's hash breaks
    note = '他说:"退\\货"\t原因\n第二行 \\N 结束 \\\\'
    columns = ("account_id", "kind", "points", "recorded_by", "recorded_at", "note", "device_time")
    with db.transaction(store):
        db.insert_rows(store, "ledger_entries", columns,
                       [(account, "adjustment", 5, "t", "2026-03-02T01:00:00.000000Z", note, None)])
    assert store.execute("SELECT note, device_time FROM ledger_entries WHERE account_id = ?",
                         (account,)).fetchone()[:] == (note, None)
