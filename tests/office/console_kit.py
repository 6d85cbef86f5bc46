"""Helpers for console tests: a demo store copy with one user per role, and logged-in clients."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from bank import db, users
from tests.conftest import copy_store

with warnings.catch_warnings():
    # Starlette prefers httpx2; httpx (pinned in pyproject's test extra) works the same here.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

PASSWORD = "test-password-1"
USERS = {  # name: (role, compound, merchant)
    "王主任": ("office", None, None), "李委员": ("council", None, None),
    "钱组员": ("reviewer", 1, None), "小面店": ("merchant", None, 5),
}
# The demo's first review-group member of compound 1 (household account 115) logs in as 钱组员.
REVIEWER_ID = 1


_WITH_USERS: dict[Path, Path] = {}     # demo store -> its copy with the users (hashing them is slow)


def make_store(demo_db, path):
    """A fresh copy of the demo store with one user per role (each test gets its own)."""
    demo_db = Path(demo_db)
    if demo_db not in _WITH_USERS:
        template = copy_store(demo_db, demo_db.with_name("with-users.sqlite"))
        conn = db.connect(template)
        with db.transaction(conn):
            for name, (role, compound, merchant) in USERS.items():
                users.add_user(conn, name=name, role=role, password=PASSWORD, compound_id=compound,
                               merchant_id=merchant, reviewer_id=REVIEWER_ID if role == "reviewer" else None)
        conn.close()
        _WITH_USERS[demo_db] = template
    return copy_store(_WITH_USERS[demo_db], path)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """A TestClient logged in as one user, that adds the CSRF token to every form it posts."""

    def __init__(self, app, name: str | None):
        self.client = TestClient(app, follow_redirects=False)
        self.csrf = ""
        if name:
            page = self.client.get("/login")
            token = CSRF.search(page.text)[1]
            r = self.client.post("/login", data={"csrf": token, "name": name, "password": PASSWORD, "next": "/"})
            assert r.status_code == 303, r.text
            home = self.client.get(r.headers["location"])
            self.csrf = CSRF.search(home.text)[1]

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def post(self, path, data=None, *, csrf=True):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf", self.csrf)
        return self.client.post(path, data=data)

    def follow(self, response):
        assert response.status_code == 303, (response.status_code, response.text[:500])
        return self.client.get(response.headers["location"])


def error_text(response) -> str:
    m = re.search(r'<div class="error">(.*?)</div>', response.text, re.S)
    return m[1].strip() if m else ""


def count(path, table: str) -> int:
    conn = db.connect(path, readonly=True)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def busiest(path) -> int:
    """The account with the most ledger entries (a passbook of several pages)."""
    conn = db.connect(path, readonly=True)
    try:
        return conn.execute("SELECT account_id FROM ledger_entries GROUP BY account_id "
                            "ORDER BY count(*) DESC, account_id LIMIT 1").fetchone()[0]
    finally:
        conn.close()
