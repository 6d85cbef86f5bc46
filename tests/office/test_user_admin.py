"""User management in the browser: add (with role, review-group member or merchant), disable and
enable, reset a password; office only, CSRF, audited, bad input writes nothing."""

from __future__ import annotations

import pytest

from bank import db, reviewers, users
from office import server

from .console_kit import PASSWORD, Browser, count, error_text, make_store

NEW_PW = "new-password-7"


@pytest.fixture(scope="module")
def store(demo_db, tmp_path_factory):
    return make_store(demo_db, tmp_path_factory.mktemp("users") / "store.sqlite")


@pytest.fixture(scope="module")
def app(store):
    return server.create_app(store)


@pytest.fixture(scope="module")
def office(app):
    return Browser(app, "王主任")


def test_add_disable_enable_and_reset(app, store, office):
    c = db.connect(store, readonly=True)
    free = [m for m in reviewers.of_compound(c, 2) if users.by_reviewer(c, m.reviewer_id) is None][0]
    c.close()
    page = office.get("/users")
    assert page.status_code == 200 and "添加用户" in page.text and free.name in page.text
    r = office.follow(office.post("/users", {"name": "郑组员", "role": "reviewer", "reviewer": str(free.reviewer_id),
                                             "password": PASSWORD, "password2": PASSWORD}))
    assert "已添加用户 郑组员" in r.text
    r = office.follow(office.post("/users", {"name": "老街店员", "role": "merchant", "merchant": "5",
                                             "password": PASSWORD, "password2": PASSWORD}))
    assert "已添加用户 老街店员" in r.text
    c = db.connect(store, readonly=True)
    new = {u.name: u for u in users.all_users(c)}
    c.close()
    assert new["郑组员"].compound_id == 2 and new["郑组员"].reviewer_id == free.reviewer_id
    assert new["老街店员"].merchant_id == 5
    him = Browser(app, "郑组员")
    assert him.get("/monthly").status_code == 200
    uid = new["郑组员"].user_id
    assert "已停用" in office.follow(office.post(f"/users/{uid}/active", {"active": "0"})).text
    assert him.get("/monthly").status_code == 303                   # the session ended with the user
    assert "已启用" in office.follow(office.post(f"/users/{uid}/active", {"active": "1"})).text
    assert "已重设" in office.follow(office.post(f"/users/{uid}/password", {"password": NEW_PW, "password2": NEW_PW})).text
    c = db.connect(store, readonly=True)
    assert users.authenticate(c, "郑组员", NEW_PW) is not None and users.authenticate(c, "郑组员", PASSWORD) is None
    actions = [r[0] for r in c.execute("SELECT action FROM audit_log WHERE action LIKE 'user.%' ORDER BY audit_id")]
    assert actions[-5:] == ["user.add", "user.add", "user.disable", "user.enable", "user.password"]
    assert NEW_PW not in "".join(r[0] for r in c.execute("SELECT detail FROM audit_log"))
    c.close()


def test_bad_input_writes_nothing(store, office):
    before = count(store, "console_users"), count(store, "audit_log")
    c = db.connect(store, readonly=True)
    me = users.authenticate(c, "王主任", PASSWORD)
    taken = [u.reviewer_id for u in users.all_users(c) if u.reviewer_id][0]
    c.close()
    ok = {"password": PASSWORD, "password2": PASSWORD}
    bad = [({"name": "", "role": "office"} | ok, "请填写"),
           ({"name": "x" * 21, "role": "office"} | ok, "不能超过"),
           ({"name": "新人", "role": "boss"} | ok, "请选择"),
           ({"name": "王主任", "role": "office"} | ok, "已被使用"),
           ({"name": "新人", "role": "office", "password": "short", "password2": "short"}, "密码须为"),
           ({"name": "新人", "role": "office", "password": PASSWORD, "password2": "other-password"}, "不一致"),
           ({"name": "新人", "role": "reviewer"} | ok, "关联"),
           ({"name": "新人", "role": "reviewer", "reviewer": str(taken)} | ok, "已关联"),
           ({"name": "新人", "role": "reviewer", "reviewer": "999"} | ok, "没有编号"),
           ({"name": "新人", "role": "reviewer", "reviewer": "abc"} | ok, "整数"),
           ({"name": "新人", "role": "merchant"} | ok, "商户编号"),
           ({"name": "新人", "role": "merchant", "merchant": "999"} | ok, "")]
    for data, words in bad:
        r = office.post("/users", data)
        assert r.status_code in (400, 404) and words in error_text(r), (data, r.status_code, error_text(r))
    r = office.post(f"/users/{me.user_id}/active", {"active": "0"})
    assert r.status_code == 400 and "自己" in error_text(r)
    assert office.post("/users/99999/active", {"active": "0"}).status_code == 404
    assert office.post("/users/abc/password", ok).status_code == 404
    assert office.post(f"/users/{me.user_id}/active", {"active": "maybe"}).status_code == 400
    r = office.post(f"/users/{me.user_id}/password", {"password": "short", "password2": "short"})
    assert r.status_code == 400
    r = office.post("/users", {"name": "新人", "role": "office", "csrf": "forged"} | ok, csrf=False)
    assert r.status_code == 403
    assert (count(store, "console_users"), count(store, "audit_log")) == before


def test_only_the_office_manages_users(app):
    for name in ("李委员", "钱组员", "小面店"):
        b = Browser(app, name)
        assert b.get("/users").status_code == 403
        r = b.post("/users", {"name": "新人", "role": "office", "password": PASSWORD, "password2": PASSWORD})
        assert r.status_code == 403
        assert b.post("/users/1/active", {"active": "0"}).status_code == 403
