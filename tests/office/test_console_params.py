"""Every console GET route, from the app's own route list, with out-of-range and malformed path and
query parameters: a 404 page or a form error, never a 500 or a traceback."""

from __future__ import annotations

import inspect
import re
import sys
import urllib.parse

import pytest

from office import server

from .console_kit import Browser, count, make_store

BAD = ["999999", "0", "-1", "abc", "1.5", "9" * 40, "2026-13", "2026-Q9", "%ED%A0%80", "%00", "", "%E6%98%AF"]
QUERY_NAME = re.compile(r'(?:web\.\w+\((?:q|ctx\.request\.query_params), "(\w+)")|(?:(?:q|query_params)\.get\("(\w+)")'
                        r'|web\.(compound)\(ctx\.conn, q')


@pytest.fixture
def store(demo_db, tmp_path):
    return make_store(demo_db, tmp_path / "store.sqlite")


@pytest.fixture
def app(store):
    return server.create_app(store)


def console_get_routes(app):
    for route in app.routes:
        path = getattr(route, "path", "")
        if "GET" not in (getattr(route, "methods", None) or ()) or path.startswith(("/api/", "/docs", "/openapi",
                                                                                    "/redoc", "/static")):
            continue
        yield path, sorted(_query_names(inspect.unwrap(route.endpoint)))


def _query_names(func) -> set[str]:
    """The query parameters a route reads: in its own source and in the module's helpers it calls."""
    module = sys.modules[func.__module__]
    source = inspect.getsource(func)
    closure = dict(zip(func.__code__.co_freevars, (c.cell_contents for c in func.__closure__ or ())))
    for name in set(re.findall(r"\b(\w+)\(", source)):
        helper = closure.get(name, getattr(module, name, None))
        if inspect.isfunction(helper) and helper.__module__.startswith("office.console"):
            source += inspect.getsource(helper)
    return {a or b or c for a, b, c in QUERY_NAME.findall(source)}


def _check(client, url):
    r = client.get(url)
    assert r.status_code != 500 and r.status_code < 500, (url, r.status_code, r.text[:300])
    assert "Traceback" not in r.text, url
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("text/html"), url
    return r.status_code


def test_every_console_get_route_with_bad_parameters_is_never_a_500(app):
    office = Browser(app, "王主任")
    routes = list(console_get_routes(app))
    assert len(routes) >= 15 and any(p == "/monthly" for p, _ in routes)
    seen = set()
    for path, names in routes:
        params = re.findall(r"{(\w+)}", path)
        for value in BAD if params else [None]:
            url = path
            for p in params:
                url = url.replace("{" + p + "}", value or "x")
            seen.add(_check(office.client, url))
            for name in names:
                for bad in BAD:
                    seen.add(_check(office.client, f"{url}?{name}={bad}"))
            if names:
                seen.add(_check(office.client, url + "?" + "&".join(f"{n}=%ED%A0%80" for n in names)))
    assert 404 in seen and 400 in seen


def test_the_monthly_page_with_a_compound_that_does_not_exist(app):
    office = Browser(app, "王主任")
    r = office.get("/monthly?compound=999")
    assert r.status_code in (400, 404) and "Traceback" not in r.text
    assert "小区" in r.text
    r = office.get("/residents?q=" + urllib.parse.quote("张") + "%ED%A0%80")
    assert r.status_code == 400 and "乱码" in r.text


def test_undecodable_text_in_a_form_field_is_a_form_error_and_writes_nothing(app, store):
    office = Browser(app, "王主任")
    before = count(store, "ledger_entries")
    bodies = [
        ("application/x-www-form-urlencoded", f"csrf={office.csrf}&item=YC02&note=%ED%A0%80".encode()),
        ("application/x-www-form-urlencoded", f"csrf={office.csrf}&item=YC02&note=ok%FF".encode()),
        ("application/x-www-form-urlencoded", f"csrf={office.csrf}&item=YC02&n%ED%A0%80=1".encode()),
    ]
    for ctype, body in bodies:
        r = office.client.post("/residents/13/entries", content=body, headers={"content-type": ctype})
        assert r.status_code == 400 and "乱码" in r.text and "Traceback" not in r.text, (body, r.status_code)
    assert count(store, "ledger_entries") == before
    anon = Browser(app, None)
    token = anon.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    r = anon.client.post("/login", content=f"csrf={token}&name=%ED%A0%80&password=x&next=/".encode(),
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "乱码" in r.text
