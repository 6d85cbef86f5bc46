"""Shared helpers for sync, office API, device engine and end-to-end tests: a small community
store built through the bank's API, an in-process transport to the office app, and tablets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import warnings

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2; httpx (pinned in pyproject's test extra) works the same here.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from bank import accounts, cards, clock, community, convention, db, devices, ledger, merchants, policy
from device import enrolment
from office.server import create_app
from sync import client, events, home

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=clock.UTC)  # Monday 10:00 in Chongqing


@dataclass
class Community:
    path: Path | str      # a SQLite file, or a postgresql:// URL (tests marked engines)
    noodles: int          # merchant ids
    pharmacy: int
    bowl: int             # offers: 小面 6 points at the noodle shop
    beef: int             # 牛肉面 12
    feast: int            # 宴席 50 (above the floor limit)
    masks: int            # 口罩 8 at the pharmacy
    rich: tuple[int, str, str]   # (account id, card id, card QR) with 100 points
    poor: tuple[int, str, str]   # 20 points, PIN 1234
    lost: tuple[int, str, str]   # a card reissued: this is the old (superseded) QR; account has 30


def build(path: Path | str) -> Community:
    """A store with two merchants, three accounts with cards and balances, the default policy: a new
    SQLite file, or on a fresh (migrated, empty) PostgreSQL database given by its URL."""
    conn = db.connect(path) if db.is_url(path) else db.connect(path, create=True)
    with db.transaction(conn):
        community.found(conn, code="LH", name="龙海社区")
        cards.create_issuing_key(conn, now=T0)
        convention.install(conn, convention.load_file(), effective_from=dt.date(2025, 1, 1), now=T0)
        cid = community.add_compound(conn, "龙海花园", 9, service_point="龙海花园党群服务点")
        noodles = merchants.add_merchant(conn, "老街小面", "noodles", compound_id=cid)
        pharmacy = merchants.add_merchant(conn, "康健大药房", "pharmacy", compound_id=cid)
        bowl = merchants.add_offer(conn, noodles, "小面", 6, 700)
        beef = merchants.add_offer(conn, noodles, "牛肉面", 12, 1500)
        feast = merchants.add_offer(conn, noodles, "宴席", 50, 6000)
        masks = merchants.add_offer(conn, pharmacy, "口罩一盒", 8, 1000)
        policy.set_policy(conn, None, **vars(policy.OfflinePolicy()))
        people = []
        for name, pts in (("张喆明", 100), ("李四", 20), ("王秀英", 30)):
            aid = accounts.open_account(conn, kind="household", holder=name, compound_id=cid, building=1,
                                        unit=1, room="101", now=T0)
            card = cards.issue(conn, aid, now=T0)
            ledger.record_adjustment(conn, aid, pts, recorded_by="test", note="opening balance", now=T0)
            people.append((aid, card.card_id, card.qr))
        accounts.set_pin(conn, people[1][0], "1234")
        cards.reissue(conn, people[2][1], now=T0)
    conn.close()
    return Community(path, noodles, pharmacy, bowl, beef, feast, masks, *people)


def redemptions(path: Path, device_id: str, lines: list[dict], *, start: int = 1, prev: str = devices.GENESIS,
                at: str | None = None) -> list[dict]:
    """Chained redemption events as a tablet makes them: each line's ``proof`` computed from the
    card's printed text in the store (a line with ``proof`` given keeps it: a forged event), each
    line its own receipt unless it names one."""
    conn = db.connect(path)
    try:
        qrs = dict(conn.execute("SELECT card_id || ':' || version, qr FROM cards"))
    finally:
        conn.close()
    out = []
    for i, line in enumerate(lines):
        seq = start + i
        body = {"card_version": 1, "qty": 1, "receipt": seq, "auth": None, **line}
        if "proof" not in body:
            qr = qrs.get(f"{body['card']}:{body['card_version']}", "")
            body["proof"] = events.card_proof(qr, device_id, seq) if qr else "0" * 32
        e = events.make(device_id, seq, prev, "redemption", at or clock.to_text(clock.now_utc()), body)
        prev = events.digest(e)
        out.append(e)
    return out


def current_qr(path: Path, card_id: str) -> str:
    conn = db.connect(path)
    try:
        return cards.current(conn, card_id).qr
    finally:
        conn.close()


class AppTransport:
    """The office app in-process, behind the device client's transport interface (no TLS: no pin)."""

    pin = None

    def __init__(self, test_client: TestClient):
        self.tc = test_client
        self.up = True

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        if not self.up:
            raise client.Unreachable("无法连接社区办公室。", "office unreachable (test: down)")
        r = self.tc.post(path, content=body, headers={"content-type": "application/json", **headers})
        return r.status_code, r.content


def office(path: Path, now=clock.now_utc) -> tuple[TestClient, AppTransport]:
    tc = TestClient(create_app(path, now=now))
    return tc, AppTransport(tc)


def enrol_tablet(store_path: Path, transport, home_dir: Path, merchant_id: int) -> home.Home:
    conn = db.connect(store_path)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, merchant_id=merchant_id)
    conn.close()
    h, pulled = enrolment.enrol(home_dir, "http://office.test", code, transport=transport)
    assert pulled
    return h


def office_balance(path: Path, account_id: int) -> int:
    conn = db.connect(path)
    try:
        return ledger.balance(conn, account_id)
    finally:
        conn.close()


def count(path: Path, table: str) -> int:
    conn = db.connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()
