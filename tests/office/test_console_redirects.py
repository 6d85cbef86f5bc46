"""Every form of the console, submitted as a browser would with what the page fills in: the
answer is a redirect (303) after the work, a confirmation page that writes nothing, or a refusal
in Chinese — never a page rendered in answer to a POST that did the work, which a refresh would
submit again (the enrolment code page once was one)."""

from __future__ import annotations

import html.parser

import pytest

from bank import clock
from office import server

from .console_kit import Browser, error_text, make_store

PAGES = ["/residents/7", "/residents/7/edit", "/residents/new", "/merchants", "/merchants/5", "/merchants/new",
         "/merchants/devices", "/monthly", "/quarterly", "/yearly", "/objections", "/teams", "/teams/1", "/reviewers",
         "/users", "/convention", "/quarantine", "/imports"]
# Forms that end the session or change its password are not for a sweep.
SKIP = ("/logout", "/password")


class Forms(html.parser.HTMLParser):
    """The POST forms of a page with the values a browser would send (the first option of a
    select, a checked radio, the value attribute; a required empty field filled plausibly)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {"action": a.get("action", ""), "data": {}, "files": False}
            if "multipart" in (a.get("enctype") or ""):
                self._form["files"] = True
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                self._form["files"] = True
            elif kind in ("checkbox", "radio"):
                if "checked" in a or (kind == "radio" and name not in self._form["data"]):
                    self._form["data"][name] = a.get("value", "on")
            else:
                value = a.get("value") or ""
                if not value and "required" in a:
                    value = {"number": a.get("min") or "1", "date": clock.local_date(clock.now_utc()).isoformat(),
                             "time": "09:00", "tel": "13800000000"}.get(kind, "测试")
                self._form["data"][name] = value
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and self._select not in self._form["data"]:
            self._form["data"][self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._form["data"][name] = "测试" if "required" in a else ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


@pytest.mark.slow
def test_every_console_form_redirects_after_its_work(demo_db, tmp_path):
    office = Browser(server.create_app(make_store(demo_db, tmp_path / "store.sqlite")), "王主任")
    seen, answered = set(), []
    for path in PAGES:
        page = office.get(path)
        assert page.status_code == 200, path
        parser = Forms()
        parser.feed(page.text)
        for form in parser.forms:
            key = form["action"]
            if form["files"] or key in seen or key.startswith(SKIP):
                continue
            seen.add(key)
            r = office.client.post(key, data=form["data"])
            answered.append((key, r.status_code))
            if r.status_code == 200:
                assert 'name="confirm" value="1"' in r.text, (path, key, r.text[:300])
            else:
                assert r.status_code == 303 or (400 <= r.status_code < 500 and error_text(r)), \
                    (path, key, r.status_code, r.text[:300])
    assert len(seen) >= 30 and sum(code == 303 for _, code in answered) >= 20, answered
