"""Attempt limits on a real store: a guesser is stopped, audited and reported; a right answer clears."""

from __future__ import annotations

import datetime as dt

import pytest

from bank import alerts, attempts, audit
from tests.conftest import T0


def _try(store, scope, subject, ok, at):
    return attempts.check(store, scope, subject, lambda: ok, actor="test", now=at)


def test_five_wrong_pins_lock_the_card_for_fifteen_minutes(store, account):
    for i in range(4):
        with pytest.raises(attempts.Wrong) as wrong:
            _try(store, "card_pin", account, False, T0 + dt.timedelta(seconds=i))
        assert wrong.value.left == 4 - i
    with pytest.raises(attempts.Locked) as locked:
        _try(store, "card_pin", account, False, T0 + dt.timedelta(seconds=5))
    assert 14 * 60 < locked.value.retry_after <= 15 * 60
    # while locked even the right PIN is not looked at
    called = []
    with pytest.raises(attempts.Locked):
        attempts.check(store, "card_pin", account, lambda: called.append(1) or True, actor="test",
                       now=T0 + dt.timedelta(minutes=10))
    assert called == []
    assert "分钟后再试" in locked.value.zh
    # one alert for the lock, and every failure audited
    locks = alerts.open_alerts(store, "attempts_locked")
    assert len(locks) == 1 and locks[0].account_id == account
    assert len(audit.search(store, action="card_pin_failed")) == 5
    assert len(audit.search(store, action="card_pin_locked")) == 1
    # after the lock the right PIN works and clears the count
    _try(store, "card_pin", account, True, T0 + dt.timedelta(minutes=16))
    with pytest.raises(attempts.Wrong) as wrong:
        _try(store, "card_pin", account, False, T0 + dt.timedelta(minutes=17))
    assert wrong.value.left == 4


def test_a_right_pin_resets_the_count(store, account):
    for i in range(4):
        with pytest.raises(attempts.Wrong):
            _try(store, "card_pin", account, False, T0)
    _try(store, "card_pin", account, True, T0)
    for i in range(4):
        with pytest.raises(attempts.Wrong):
            _try(store, "card_pin", account, False, T0)
    assert alerts.open_alerts(store, "attempts_locked") == []


def test_login_delays_grow_after_five_failures_and_lock_after_ten(store):
    at = T0
    for _ in range(5):
        with pytest.raises(attempts.Wrong):
            _try(store, "login_user", "王会计", False, at)
    # the sixth try within a second of the fifth failure is not listened to
    with pytest.raises(attempts.Locked) as wait:
        _try(store, "login_user", "王会计", True, at)
    assert wait.value.retry_after == 1
    delays = [attempts.wait_seconds(store, "login_user", "王会计", at)]
    for _ in range(5):
        at += dt.timedelta(seconds=delays[-1])
        with pytest.raises((attempts.Wrong, attempts.Locked)):
            _try(store, "login_user", "王会计", False, at)
        delays.append(attempts.wait_seconds(store, "login_user", "王会计", at))
    assert delays[:5] == [1, 2, 4, 8, 16]
    assert delays[5] > 14 * 60          # the tenth failure locks


def test_subjects_and_scopes_are_counted_apart(store, account):
    for _ in range(4):
        with pytest.raises(attempts.Wrong):
            _try(store, "card_pin", account, False, T0)
    with pytest.raises(attempts.Wrong) as other:
        _try(store, "staff_pin", account, False, T0)
    assert other.value.left == 4


def test_check_refuses_to_run_inside_a_transaction(store, account):
    store.execute("BEGIN")
    try:
        with pytest.raises(RuntimeError):
            _try(store, "card_pin", account, True, T0)
    finally:
        store.execute("ROLLBACK")
