"""A store locked by another writer (a second process holding a write transaction on the real
file): the sync API answers 503 with Retry-After within 5 s, in JSON; the console a page in
Chinese; the device takes it as "try later"; nothing is written; all works once it is free."""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from bank import clock
from office import server
from sync import client, wire

from tests.sync.kit import count, enrol_tablet

from .console_kit import Browser, make_store

LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE settings SET value = value")
print("locked", flush=True)
sys.stdin.read()          # hold the write lock until the test closes our stdin
conn.execute("ROLLBACK")
"""


@contextmanager
def locked(path):
    proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield
    finally:
        proc.stdin.close()
        proc.wait(10)
        proc.stdout.close()


def _timed(call):
    started = time.monotonic()
    r = call()
    return r, time.monotonic() - started


def test_the_sync_api_answers_busy_within_5_seconds_and_the_device_tries_later(town, hub, tmp_path):
    tab = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    before = [count(town.path, t) for t in ("devices", "device_events", "ledger_entries", "alerts")]
    with locked(town.path):
        body = wire.canonical({"cursor": None, "full": True})
        headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/pull", tab.device_id,
                                    clock.to_text(clock.now_utc()), body)
        r, took = _timed(lambda: hub.tc.post("/api/v1/pull", content=body, headers=headers))
        assert r.status_code == 503 and took < 5, (r.status_code, took)
        assert r.headers["retry-after"] == "5" and r.json()["error"] == "busy" and "正忙" in r.json()["zh"]
        r, took = _timed(lambda: hub.tc.post("/api/v1/enrol", content=b"{}"))
        assert r.status_code == 400            # refusing a malformed body needs no lock
        with pytest.raises(client.Unreachable) as info:
            client.sync_once(tab, hub)
        assert "正忙" in info.value.zh and "503" in info.value.en
        assert [count(town.path, t) for t in ("devices", "device_events", "ledger_entries", "alerts")] == before
    assert client.sync_once(tab, hub).pulled in ("full", "delta")


def test_the_console_shows_a_busy_page_in_chinese(demo_db, tmp_path):
    store = make_store(demo_db, tmp_path / "store.sqlite")
    app = server.create_app(store)
    office = Browser(app, "王主任")
    entries = count(store, "ledger_entries")
    with locked(store):
        r, took = _timed(lambda: office.post("/residents/13/entries", {"item": "YC02", "note": "献血"}))
        assert r.status_code == 503 and took < 5
        assert r.headers["retry-after"] == "5" and r.headers["content-type"].startswith("text/html")
        assert "请稍后再试" in r.text and "没有办理" in r.text and "Traceback" not in r.text
        # logging in writes a session: the same page, not a 500
        anon = Browser(app, None)
        page = anon.get("/login")
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = anon.client.post("/login", data={"csrf": token, "name": "李委员", "password": "x", "next": "/"})
        assert r.status_code == 503 and "请稍后再试" in r.text
    assert count(store, "ledger_entries") == entries
    assert office.post("/residents/13/entries", {"item": "YC02", "note": "献血"}).status_code == 303
