"""The console's attempt limits, replayed as the attacks they stop (in process, with the console's
clock moved instead of waiting): a log-in sweep is delayed and locked and the page says how long;
a sweep of a colleague's 4-digit PIN gets five tries; a weak password is refused everywhere; a
reset or a password change ends the old sessions."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bank import alerts, audit, clock, db, reviewers, users
from office import server
from tests.conftest import FakeClock

from .console_kit import PASSWORD, Browser, CSRF, count, error_text, make_store


@pytest.fixture
def store(demo_db, tmp_path):
    return make_store(demo_db, tmp_path / "store.sqlite")


@pytest.fixture
def app(store):
    return server.create_app(store)


@pytest.fixture
def now(app):
    fake = FakeClock()
    app.state.console.clock = fake
    return fake


def _login(browser: Browser, name: str, password: str):
    page = browser.client.get("/login")
    token = CSRF.search(page.text)[1]
    return browser.client.post("/login", data={"csrf": token, "name": name, "password": password, "next": "/"})


def _message(response) -> str:
    m = re.search(r'<div class="error">(.*?)</div>', response.text, re.S)
    return m[1].strip() if m else ""


def test_a_login_sweep_is_delayed_then_locked_and_the_page_says_how_long(app, store, now):
    guesser = Browser(app, None)
    answers = [_login(guesser, "王主任", f"guess-{n:06d}") for n in range(12)]   # as fast as it can
    assert [r.status_code for r in answers[:5]] == [401] * 5
    assert "用户名或密码不正确" in _message(answers[0])
    assert "再错 5 次将锁定 15 分钟" in _message(answers[4])
    assert all(r.status_code == 429 for r in answers[5:])
    assert "请 1 秒后再试" in _message(answers[5]) and "以后可以再试" in _message(answers[5])
    assert answers[5].headers["retry-after"] == "1"
    c = db.connect(store, readonly=True)
    assert len(audit.search(c, action="login_user_failed")) == 5          # the waiting ones were not checked
    c.close()
    # the right password during a wait is not looked at either
    assert _login(guesser, "王主任", PASSWORD).status_code == 429
    # with time moving on, the waits double and the tenth failure locks for 15 minutes
    waits = []
    for n in range(5):
        now.advance(seconds=2 ** n)
        r = _login(guesser, "王主任", f"slow-{n}")
        waits.append(r.status_code)
    assert waits == [401, 401, 401, 401, 429]
    assert "15 分钟后再试" in _message(r)
    until = clock.local(now() + dt.timedelta(minutes=15))
    assert f"北京时间 {until:%H:%M}" in _message(r)
    now.advance(minutes=14)
    assert _login(guesser, "王主任", PASSWORD).status_code == 429
    now.advance(minutes=1, seconds=1)
    assert _login(guesser, "王主任", PASSWORD).status_code == 303           # after the lock: in
    c = db.connect(store, readonly=True)
    assert [a.detail for a in alerts.open_alerts(c, "attempts_locked")][0].count("login_") == 1
    assert {r.action for r in audit.search(c, action="login_")} == {
        "login_user_failed", "login_user_locked", "login_client_failed", "login_client_locked"}
    c.close()
    # the audit page names them in Chinese
    office = Browser(app, "王主任")
    page = office.get("/audit?action=login_user")
    assert "登录失败(按用户计)" in page.text and "登录锁定(按用户计)" in page.text


def test_a_sweep_over_many_names_from_one_address_is_locked(app, now):
    guesser = Browser(app, None)
    codes = []
    for n in range(30):
        codes.append(_login(guesser, f"用户{n}", "password-guess").status_code)
        now.advance(seconds=40)               # past any per-user wait: only the address counts
    assert codes.count(401) == 9 and codes[9] == 429 and set(codes[10:]) == {429}
    assert "分钟后再试" in _message(_login(guesser, "王主任", PASSWORD))


def test_a_colleagues_pin_sweep_gets_five_tries(app, store, now):
    reviewer = Browser(app, "钱组员")
    c = db.connect(store, readonly=True)
    second = [m for m in reviewers.of_compound(c, 1) if m.reviewer_id != 1][0]
    c.close()
    before = count(store, "ledger_entries")
    seen = []
    for n in range(40):                       # 0000, 0001, ... the real one (2468) is far away
        r = reviewer.post("/monthly/entries", {"account": "31", "item": "XS06", "second": str(second.reviewer_id),
                                               "second_pin": f"{n:04d}"})
        seen.append((r.status_code, error_text(r)))
    assert [s for s, _ in seen[:4]] == [403] * 4
    assert "还可以再试 4 次" in seen[0][1] and "还可以再试 1 次" in seen[3][1]
    assert seen[4][0] == 429 and "15 分钟后再试" in seen[4][1]
    assert all(s == 429 for s, _ in seen[5:])
    # locked: even the right PIN is refused, and nothing was recorded
    r = reviewer.post("/monthly/entries", {"account": "31", "item": "XS06", "second": str(second.reviewer_id),
                                           "second_pin": "2468"})
    assert r.status_code == 429 and count(store, "ledger_entries") == before
    c = db.connect(store, readonly=True)
    assert len(audit.search(c, action="staff_pin_failed")) == 5
    lock = alerts.open_alerts(c, "attempts_locked")
    assert len(lock) == 1 and '"staff_pin"' in lock[0].detail
    c.close()
    # after 15 minutes the right PIN works (from the account page too)
    now.advance(minutes=15, seconds=1)
    r = reviewer.post("/residents/31/entries", {"item": "XS06", "second": str(second.reviewer_id),
                                                "second_pin": "2468"})
    assert reviewer.follow(r).status_code == 200 and count(store, "ledger_entries") == before + 1


def test_weak_passwords_are_refused_in_the_user_admin(app, store):
    office = Browser(app, "王主任")
    before = count(store, "console_users")
    for pw, words in (("12345678", "10到128个字符"), ("1234567890", "常见密码"), ("qwertyuiop", "常见密码")):
        r = office.post("/users", {"name": "新人", "role": "office", "password": pw, "password2": pw})
        assert r.status_code == 400 and words in error_text(r), (pw, error_text(r))
        c = db.connect(store, readonly=True)
        me = users.authenticate(c, "李委员", PASSWORD)
        c.close()
        r = office.post(f"/users/{me.user_id}/password", {"password": pw, "password2": pw})
        assert r.status_code == 400 and words in error_text(r)
    assert count(store, "console_users") == before
    assert Browser(app, "李委员").get("/").status_code == 200          # the old password still works


def test_a_reset_ends_the_old_sessions(app, store):
    office = Browser(app, "王主任")
    council = Browser(app, "李委员")                       # e.g. the session on a lost laptop
    assert council.get("/objections").status_code == 200
    c = db.connect(store, readonly=True)
    uid = users.authenticate(c, "李委员", PASSWORD).user_id
    c.close()
    r = office.post(f"/users/{uid}/password", {"password": "new-password-7", "password2": "new-password-7"})
    assert "已重设" in office.follow(r).text
    r = council.get("/objections")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert council.post("/tips", {"channel": "phone", "content": "x"}).status_code == 303   # forms too
    assert office.get("/").status_code == 200                                       # others stay in


def test_changing_ones_own_password(app, store, now):
    me = Browser(app, "李委员")
    other_pc = Browser(app, "李委员")
    assert me.get("/password").status_code == 200 and "修改本人密码" in me.get("/password").text
    for data, words in (({"current": PASSWORD, "password": "12345678", "password2": "12345678"}, "10到128"),
                        ({"current": PASSWORD, "password": "new-password-7", "password2": "other"}, "不一致"),
                        ({"current": "wrong-one!", "password": "new-password-7", "password2": "new-password-7"},
                         "还可以再试")):
        r = me.post("/password", data)
        assert r.status_code in (400, 403) and words in error_text(r), (data, error_text(r))
    r = me.post("/password", {"current": PASSWORD, "password": "new-password-7", "password2": "new-password-7"})
    assert r.status_code == 200 and "密码已修改" in r.text
    assert me.get("/").status_code == 303 and other_pc.get("/").status_code == 303   # both logged out
    assert _login(Browser(app, None), "李委员", "new-password-7").status_code == 303
    c = db.connect(store, readonly=True)
    assert [r.action for r in audit.search(c, action="password.change")] == ["password.change"]
    assert "new-password-7" not in "".join(r.detail for r in audit.search(c))
    c.close()
