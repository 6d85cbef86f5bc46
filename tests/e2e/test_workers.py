"""``python -m office serve --db postgresql://... --workers 2``: two real uvicorn worker processes
on 127.0.0.1 over HTTPS against the real PostgreSQL store. Every request here opens a connection
of its own, so the kernel hands them to either worker: an enrolment's challenge and its answer
land on different workers about half the time, and succeed only because the challenge key is
shared; many devices pushing at once settle every event exactly once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from bank import clock, db, devices, ledger, policy
from device import enrolment
from sync import events, wire
from tests.sync.kit import redemptions

from .conftest import Server

pytestmark = [pytest.mark.slow, pytest.mark.engines("postgresql")]

TABLETS = 4
EVENTS = 40         # per tablet, pushed in batches of BATCH, the tablets at once
BATCH = 5


class FreshConnections:
    """A device transport that opens a new connection for every request (no keep-alive)."""

    def __init__(self, server: Server):
        self.server = server
        self.pin = server.fingerprint

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        transport = self.server.transport()
        try:
            return transport.post(path, body, headers)
        finally:
            transport.session.close()

    def get(self, path: str):
        transport = self.server.transport()
        try:
            return transport.get(path)
        finally:
            transport.session.close()


@pytest.fixture
def served(town, tmp_path):
    conn = db.connect(town.path)
    with db.transaction(conn):     # enough points and daily room for every tablet's redemptions
        ledger.record_adjustment(conn, town.rich[0], 10_000, recorded_by="test", note="plenty")
        policy.set_policy(conn, None, per_card_daily_cap=100_000)
    conn.close()
    s = Server(town.path, tmp_path / "server.log", extra=["--workers", "2"]).start()
    yield s
    s.stop()


def test_two_workers_share_enrolment_and_settle_concurrent_pushes_once(town, served, tmp_path):
    transport = FreshConnections(served)
    homes = []
    for i in range(TABLETS):       # challenge and answer: two requests, two connections, either worker
        conn = db.connect(town.path)
        with db.transaction(conn):
            code = devices.new_enrolment_code(conn, merchant_id=town.noodles)
        conn.close()
        h, pulled = enrolment.enrol(tmp_path / f"tab{i}", served.url, code, transport=transport,
                                    fingerprint=served.fingerprint)
        assert pulled
        homes.append(h)

    answers: list = []

    def tablet(h):
        chain = redemptions(town.path, h.device_id, [{"card": town.rich[1], "offer": town.bowl, "points": 6}] * EVENTS)
        t = clock.now_utc()
        for first in range(0, EVENTS, BATCH):
            batch = events.sign_batch(h.private_key(), h.device_id, chain[first:first + BATCH])
            body = wire.canonical(batch)
            t = max(t + dt.timedelta(milliseconds=1), clock.now_utc())
            headers = wire.sign_request(h.private_key(), "POST", "/api/v1/push", h.device_id, clock.to_text(t), body)
            status, raw = transport.post("/api/v1/push", body, headers)
            answers.append((h.device_id, status, raw))
    started = time.perf_counter()
    threads = [threading.Thread(target=tablet, args=(h,)) for h in homes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.perf_counter() - started
    assert all(status == 200 for _, status, _ in answers), [a for a in answers if a[1] != 200][:3]

    conn = db.connect(town.path)
    try:
        for h in homes:
            seqs = [r[0] for r in conn.execute("SELECT seq FROM device_events WHERE device_id = ? ORDER BY seq",
                                               (h.device_id,))]
            assert seqs == list(range(1, EVENTS + 1))
        assert conn.execute("SELECT count(*) FROM ledger_entries WHERE kind = 'redemption'").fetchone()[0] \
            == TABLETS * EVENTS
    finally:
        conn.close()
    print(f"\n{TABLETS * EVENTS} events settled in {elapsed:.2f} s over 2 workers: "
          f"{TABLETS * EVENTS / elapsed:.0f} events/s")
