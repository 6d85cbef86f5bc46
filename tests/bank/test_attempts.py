"""Attempt limits on a real store: a guesser is stopped, audited and reported; a right answer clears."""

from __future__ import annotations

import datetime as dt

import pytest

from bank import alerts, attempts, audit
from tests.conftest import T0

pytestmark = pytest.mark.engines("sqlite", "postgresql")


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


# --- the attacks, replayed ---------------------------------------------------------------------

def test_a_sweep_of_all_10000_pins_gets_five_tries_per_quarter_hour(store, account):
    """A script asks about every 4-digit PIN as fast as it can (23 a second, as measured against
    the console before the limit): the office looks at 5 of them per 15 minutes."""
    secret = "7319"
    looked_at, at, found = [], T0, None
    for n in range(10_000):
        guess = f"{n:04d}"
        try:
            attempts.check(store, "card_pin", account, lambda g=guess: looked_at.append(g) or g == secret,
                           actor="script", now=at)
            found = guess
            break
        except (attempts.Wrong, attempts.Locked):
            pass
        at += dt.timedelta(seconds=1 / 23)
    elapsed = at - T0
    assert found is None                                   # 7319 is far beyond what was looked at
    assert elapsed < dt.timedelta(minutes=8)               # the whole sweep ran inside one lock
    assert looked_at == ["0000", "0001", "0002", "0003", "0004"]
    assert len(audit.search(store, action="card_pin_failed")) == 5
    assert len(alerts.open_alerts(store, "attempts_locked")) == 1
    # a patient script, one guess a second for two hours: 5 per 15 minutes, 40 in all
    looked_at.clear()
    at = T0 + dt.timedelta(minutes=15, seconds=1)
    for n in range(2 * 3600):
        try:
            attempts.check(store, "card_pin", account, lambda g=f"{n:04d}": looked_at.append(g) or False,
                           actor="script", now=at + dt.timedelta(seconds=n))
        except (attempts.Wrong, attempts.Locked):
            pass
    assert 35 <= len(looked_at) <= 40


def test_requests_sent_all_at_once_get_no_more_tries(store, account, tmp_path):
    """Twenty guesses in parallel (one connection each, as the server's threads) while each check
    takes a while: the count is taken before the check, so only five are looked at."""
    import threading
    import time
    from tests.conftest import reopen
    looked_at, barrier = [], threading.Barrier(20)

    def guess(n):
        conn = reopen(store, tmp_path, migrate=False)
        try:
            barrier.wait()
            attempts.check(conn, "staff_pin", 1, lambda: looked_at.append(n) or time.sleep(0.05) or False,
                           actor="script", now=T0)
        except (attempts.Wrong, attempts.Locked):
            pass
        finally:
            conn.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(looked_at) == 5
    assert len(audit.search(store, action="staff_pin_failed")) == 5


def test_a_login_sweep_is_delayed_then_locked_per_user_and_per_client(store):
    at, looked_at = T0, []

    def login(user, client, ok=False):
        attempts.check_all(store, [("login_user", user), ("login_client", client)],
                           lambda: looked_at.append(user) or ok, actor=user, now=at)

    # one user, one client, a guess every 0.05 s for a minute: 5 free tries, then waits, nothing more
    for _ in range(1200):
        with pytest.raises((attempts.Wrong, attempts.Locked)):
            login("王会计", "10.0.0.9")
        at += dt.timedelta(seconds=0.05)
    assert len(looked_at) == 10 and attempts.wait_seconds(store, "login_user", "王会计", at) > 13 * 60
    with pytest.raises(attempts.Locked):            # the right password is not even looked at
        login("王会计", "10.0.0.8", ok=True)
    assert len(looked_at) == 10
    # one client sweeping many names is stopped by the client's own count
    looked_at.clear()
    at += dt.timedelta(minutes=20)
    for n in range(200):
        try:
            login(f"用户{n}", "10.0.0.7")
        except (attempts.Wrong, attempts.Locked):
            pass
        at += dt.timedelta(seconds=1)
    assert len(looked_at) <= 10
    assert attempts.wait_seconds(store, "login_client", "10.0.0.7", at) > 10 * 60
    assert len(alerts.open_alerts(store, "attempts_locked")) == 3     # the user, and each client
