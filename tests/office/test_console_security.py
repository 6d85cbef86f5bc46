"""The console's pages send a strict Content-Security-Policy (no inline script or style, no
framing), nosniff and a Referrer-Policy; its cookies are HttpOnly, SameSite=Strict and, under
HTTPS, Secure; and no page relies on what the policy forbids."""

from __future__ import annotations

import re
import warnings

import pytest

from office import server

from .console_kit import CSRF, PASSWORD, Browser, make_store

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

PAGES = ["/", "/residents", "/residents/13", "/reviewers", "/merchants", "/merchants/5", "/merchants/devices",
         "/convention", "/monthly", "/quarterly", "/objections", "/yearly", "/exports", "/audit", "/users",
         "/expiry", "/residents/13/entries/1/objection", "/no-such-page"]


@pytest.fixture(scope="module")
def app(demo_db, tmp_path_factory):
    return server.create_app(make_store(demo_db, tmp_path_factory.mktemp("security") / "store.sqlite"))


def test_every_page_sends_the_policy_and_needs_nothing_it_forbids(app):
    office, anon = Browser(app, "王主任"), Browser(app, None)
    for who, path in [(office, p) for p in PAGES] + [(anon, "/login")]:
        r = who.get(path)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp, path
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
        assert not re.search(r"\sstyle=", r.text), (path, re.search(r".{40}\sstyle=.{40}", r.text))
        assert not re.search(r"<script(?![^>]*\bsrc=)", r.text) and "javascript:" not in r.text, path
        assert "<style" not in r.text, path
    assert office.get("/static/console.js").headers["x-content-type-options"] == "nosniff"
    assert office.get("/api/v1/health").headers["x-content-type-options"] == "nosniff"


def _cookies(response) -> list[str]:
    return response.headers.get_list("set-cookie")


def test_cookies_are_httponly_strict_and_secure_under_https(app):
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        c = TestClient(app, base_url=base, follow_redirects=False)
        page = c.get("/login")
        (login_cookie,) = _cookies(page)
        r = c.post("/login", data={"csrf": CSRF.search(page.text)[1], "name": "王主任", "password": PASSWORD,
                                   "next": "/"})
        assert r.status_code == 303
        session = next(x for x in _cookies(r) if x.startswith("mpb_session="))
        for cookie in (login_cookie, session):
            attrs = cookie.lower()
            assert "httponly" in attrs and "samesite=strict" in attrs, cookie
            assert ("; secure" in attrs) is secure, cookie
        home = c.get("/")
        assert home.status_code == 200 and "退出" in home.text     # the cookie works on its own site
