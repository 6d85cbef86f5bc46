"""Validity period: oldest points spent first, an idempotent expiry run, points expiring soon."""

import datetime as dt

import pytest

from bank import ledger, merchants, settings, validity

from .kit import local

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def earn(store, account, code, when):
    return ledger.record_item(store, account, code, recorded_by="t", now=when)


def test_points_expire_at_the_end_of_the_year_after_they_were_earned(store, account):
    earn(store, account, "YC01", local(2025, 6, 1, 10, 0))     # +5 earned 2025
    earn(store, account, "YC02", local(2026, 2, 1, 10, 0))     # +5 earned 2026
    (lot25, lot26), debt = validity.lots(store, account)
    assert (lot25.last_valid_day, lot26.last_valid_day, debt) == (dt.date(2026, 12, 31), dt.date(2027, 12, 31), 0)
    assert validity.run_expiry(store, dt.date(2026, 12, 31)) == []  # still valid on its last day
    posted = validity.run_expiry(store, dt.date(2027, 1, 1), now=local(2027, 1, 1, 0, 5))
    assert [(e.kind, e.points) for e in posted] == [("expiry", -5)]
    assert ledger.balance(store, account) == 5


def test_redemptions_use_the_oldest_points_first(store, account):
    mid = merchants.add_merchant(store, "老街小面", "noodles")
    noodles = merchants.add_offer(store, mid, "小面", 6, 700)
    earn(store, account, "YC01", local(2025, 6, 1, 10, 0))     # +5 (2025)
    earn(store, account, "YC02", local(2026, 2, 1, 10, 0))     # +5 (2026)
    ledger.record_redemption(store, account, noodles, recorded_by="m", now=local(2026, 3, 1, 12, 0))  # -6
    lots, _ = validity.lots(store, account)
    assert [(lot.earned_on.year, lot.remaining) for lot in lots] == [(2026, 4)]
    assert validity.run_expiry(store, dt.date(2027, 1, 1)) == []  # nothing of 2025 left to expire
    assert ledger.balance(store, account) == 4


def test_expiry_run_is_idempotent(store, account):
    earn(store, account, "YC01", local(2025, 6, 1, 10, 0))
    earn(store, account, "XS01", local(2025, 7, 1, 10, 0))
    first = validity.run_expiry(store, dt.date(2027, 1, 1))
    assert sum(e.points for e in first) == -6
    assert validity.run_expiry(store, dt.date(2027, 1, 1)) == []
    assert validity.run_expiry(store, dt.date(2027, 6, 1)) == []
    assert ledger.balance(store, account) == 0
    assert sum(1 for e in ledger.entries(store, account) if e.kind == "expiry") == 1


def test_reversing_an_award_takes_back_its_own_lot(store, account):
    old = earn(store, account, "YC01", local(2025, 6, 1, 10, 0))
    earn(store, account, "YC02", local(2026, 2, 1, 10, 0))
    new = earn(store, account, "YC04", local(2026, 2, 2, 10, 0))
    ledger.reverse(store, new.entry_id, recorded_by="office", note="mistake", now=local(2026, 2, 3, 10, 0))
    lots, _ = validity.lots(store, account)
    assert [(lot.source_entry_id, lot.remaining) for lot in lots][0] == (old.entry_id, 5)
    assert sum(lot.remaining for lot in lots) == ledger.balance(store, account) == 10


def test_debt_is_paid_by_later_points(store, account):
    earn(store, account, "XS06", local(2025, 6, 1, 10, 0))     # -10
    earn(store, account, "YC03", local(2025, 6, 2, 10, 0))     # +10 pays the debt
    earn(store, account, "YC02", local(2025, 6, 3, 10, 0))     # +5
    lots, debt = validity.lots(store, account)
    assert debt == 0 and [lot.remaining for lot in lots] == [5]


def test_expiring_within_sixty_days(store, account):
    earn(store, account, "YC01", local(2025, 6, 1, 10, 0))
    earn(store, account, "YC02", local(2026, 2, 1, 10, 0))
    assert validity.expiring_within(store, account, dt.date(2026, 11, 26)) == [(dt.date(2026, 12, 31), 5)]
    assert validity.expiring_within(store, account, dt.date(2026, 10, 1)) == []


def test_validity_is_configurable(store, account):
    settings.put(store, "validity.years_after", 2)
    earn(store, account, "YC01", local(2025, 6, 1, 10, 0))
    assert validity.run_expiry(store, dt.date(2027, 1, 1)) == []
    assert len(validity.run_expiry(store, dt.date(2028, 1, 1))) == 1


def test_points_moved_by_a_merge_keep_their_validity(store, account):
    from bank import accounts, households
    other = accounts.open_account(store, kind="single", holder="李四", compound_id=1, building=1, unit=1,
                                  room="101", now=local(2025, 1, 1, 9, 0))
    earn(store, other, "YC01", local(2025, 6, 1, 10, 0))       # +5, valid to 2026-12-31
    earn(store, other, "YC02", local(2026, 2, 1, 10, 0))       # +5, valid to 2027-12-31
    households.merge(store, other, account, note="搬到一起住", by="office", now=local(2026, 11, 1, 10, 0))
    assert ledger.balance(store, account) == 10 and ledger.balance(store, other) == 0
    lots, _ = validity.lots(store, account)
    assert [(lot.last_valid_day, lot.remaining) for lot in lots] == [
        (dt.date(2026, 12, 31), 5), (dt.date(2027, 12, 31), 5)]
    posted = validity.run_expiry(store, dt.date(2027, 1, 1))
    assert [(e.account_id, e.points) for e in posted] == [(account, -5)]
    assert validity.run_expiry(store, dt.date(2027, 1, 1)) == []


def test_a_late_lot_with_an_old_validity_still_expires(store, account):
    earn(store, account, "YC01", local(2025, 6, 1, 10, 0))
    assert len(validity.run_expiry(store, dt.date(2027, 1, 1))) == 1
    ledger.record_adjustment(store, account, 3, recorded_by="office", note="moved in", now=local(2027, 1, 2, 9, 0),
                             valid_until=dt.date(2026, 12, 31))
    second = validity.run_expiry(store, dt.date(2027, 1, 3))
    assert [e.points for e in second] == [-3] and second[0].ref.endswith(":2")
    assert ledger.balance(store, account) == 0


def test_due_before_and_lost_in_say_what_a_run_will_take_without_writing(store, account):
    earn(store, account, "YC01", local(2025, 6, 1, 10, 0))     # +5, valid to 2026-12-31
    earn(store, account, "YC02", local(2026, 2, 1, 10, 0))     # +5, valid to 2027-12-31
    assert validity.due_before(store, dt.date(2026, 12, 31)) == []
    assert validity.due_before(store, dt.date(2027, 1, 1)) == [validity.Due(account, dt.date(2026, 12, 31), 5)]
    # lost on 2027-01-01 (the run of that morning): in January's list, not December's
    assert validity.lost_in(store, dt.date(2027, 1, 1), dt.date(2027, 1, 31)) == [
        validity.Due(account, dt.date(2026, 12, 31), 5)]
    assert validity.lost_in(store, dt.date(2026, 12, 1), dt.date(2026, 12, 31)) == []
    assert len(ledger.entries(store, account)) == 2
    validity.run_expiry(store, dt.date(2027, 1, 1))
    assert validity.due_before(store, dt.date(2027, 1, 1)) == []


def test_the_warning_rule_counts_points_expiring_within_60_days_from_today():
    today = dt.date(2026, 11, 1)
    lots = [("2026-10-31", 1), ("2026-11-01", 2), (dt.date(2026, 12, 31), 3), ("2026-12-31", 4), ("2027-01-01", 5)]
    assert validity.expiring(lots, today) == [(dt.date(2026, 11, 1), 2), (dt.date(2026, 12, 31), 7)]
    assert validity.expiring(lots, today, days=61) == [(dt.date(2026, 11, 1), 2), (dt.date(2026, 12, 31), 7),
                                                       (dt.date(2027, 1, 1), 5)]
