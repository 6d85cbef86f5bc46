"""Unknown addresses and wrong methods: a Chinese page under /, JSON under /api/v1/ for devices."""

from __future__ import annotations

import pytest

from office import server

from .console_kit import Browser, make_store


@pytest.fixture(scope="module")
def app(demo_db, tmp_path_factory):
    return server.create_app(make_store(demo_db, tmp_path_factory.mktemp("errors") / "store.sqlite"))


def test_404_and_405_are_pages_for_people(app):
    anon = Browser(app, None)
    for path in ("/no-such-page", "/residents/7/nothing", "/static"):
        r = anon.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "找不到页面" in r.text and "没有这个页面" in r.text and "Traceback" not in r.text
    r = anon.client.put("/residents")
    assert r.status_code == 405 and "请求方法不对" in r.text and r.headers["content-type"].startswith("text/html")
    office = Browser(app, "王主任")
    r = office.get("/nowhere")
    assert r.status_code == 404 and "储户与卡" in r.text      # logged in: the menu is there


def test_the_device_api_keeps_json(app):
    anon = Browser(app, None)
    r = anon.get("/api/v1/nothing")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = anon.get("/api/v1/push")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_every_request_is_one_log_line_and_every_page_carries_the_security_headers(app, caplog):
    import json
    import logging
    caplog.set_level(logging.INFO, logger="office.api")
    anon = Browser(app, None)
    page = anon.get("/login")
    missing = anon.client.post("/api/v1/push", content=b"{}", headers={"x-mpb-device": "T0001"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "office.api"]
    assert [(x["method"], x["path"], x["status"]) for x in lines[-2:]] == [("GET", "/login", 200),
                                                                          ("POST", "/api/v1/push", missing.status_code)]
    assert lines[-1]["device"] == "T0001" and lines[-1]["bytes_in"] == 2 and lines[-1]["ms"] >= 0
    assert lines[-1]["rid"] != lines[-2]["rid"]
    assert page.headers["content-security-policy"] and page.headers["x-frame-options"] == "DENY"
    assert missing.headers["x-content-type-options"] == "nosniff" and "content-security-policy" not in missing.headers
