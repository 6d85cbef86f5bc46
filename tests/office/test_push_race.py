"""Two push requests of one device racing (a retry sent while the first is still in flight, or two
office workers taking one request each): every event is settled once, in sequence order, and the
answers agree with what the office holds. On both engines, between raw store connections (as two
worker processes hold) and through two office apps serving the same store."""

from __future__ import annotations

import datetime as dt
import threading
import warnings

import pytest

from bank import alerts, clock, db, keystore
from office import server, sync_api
from sync import events, wire
from tests.sync.kit import enrol_tablet, office_balance, redemptions

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.engines("sqlite", "postgresql"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

ROUNDS = 3
PER_ROUND = 3       # 9 bowls of 6 points on one card: within its points and the offline policy's limits


class Device:
    """A tablet's side: its chain of events and a request clock that only moves forward."""

    def __init__(self, town, tab):
        self.town, self.tab = town, tab
        self.chain = redemptions(town.path, tab.device_id,
                                 [{"card": town.rich[1], "offer": town.bowl, "points": 6}] * (ROUNDS * PER_ROUND))
        self.t = clock.now_utc()

    def request(self, first: int, last: int) -> tuple[bytes, dict]:
        batch = events.sign_batch(self.tab.private_key(), self.tab.device_id, self.chain[first - 1:last])
        body = wire.canonical(batch)
        self.t += dt.timedelta(milliseconds=1)
        return body, wire.sign_request(self.tab.private_key(), "POST", "/api/v1/push", self.tab.device_id,
                                       clock.to_text(self.t), body)


def _push_on(path, body: bytes, headers: dict) -> tuple[int, dict]:
    """What a worker does with one push request, on a store connection of its own."""
    at = clock.now_utc()
    conn = db.connect(path, migrate=False, busy_timeout=10)
    try:
        device, skew = sync_api.authenticate(conn, "POST", "/api/v1/push", headers, body, at, claim=False)
        return 200, sync_api.push(conn, device, body, at, skew, request_time=headers[wire.H_TIME])
    except wire.ProtocolError as exc:
        return exc.status, exc.body()
    finally:
        conn.close()


def _race(*calls) -> list:
    """Run the calls at the same moment on threads of their own; their answers in call order."""
    start = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(i, call):
        start.wait()
        answers[i] = call()
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return answers


def _check_answer(status: int, answer: dict, last: int) -> None:
    """An accepted push acknowledges at least its own events; a refused one is a replay (its
    request time is older than the one that won) or a gap (its run starts after events not yet
    held): both write nothing, and the device sends again from the acknowledged sequence."""
    if status == 200:
        assert answer["acked_seq"] >= last
    else:
        assert answer["error"] in ("replayed_request", "chain_gap"), answer


def _settled_once_in_order(town, device_id: str, n: int) -> None:
    conn = db.connect(town.path)
    try:
        rows = conn.execute("SELECT seq, entry_id FROM device_events WHERE device_id = ? ORDER BY seq",
                            (device_id,)).fetchall()
        assert [r[0] for r in rows] == list(range(1, n + 1))                  # every event once
        entries = [r[1] for r in rows]
        assert None not in entries and entries == sorted(entries)             # booked in seq order
        assert conn.execute("SELECT count(*) FROM ledger_entries WHERE kind = 'redemption'").fetchone()[0] == n
        assert conn.execute("SELECT last_seq FROM devices WHERE device_id = ?", (device_id,)).fetchone()[0] == n
        assert {a.kind for a in alerts.open_alerts(conn)} <= {"chain_gap"}   # nothing else looked wrong
    finally:
        conn.close()
    assert office_balance(town.path, town.rich[0]) == 100 - 6 * n


def _rounds(town, device: Device, send) -> None:
    """Each round: two requests racing, overlapping (a retry of the same run, with more) or
    consecutive (the next run sent before the first is answered); then the device sends again
    whatever the office does not hold yet, as sync.client does with the acknowledged sequence."""
    acked = 0
    for r in range(ROUNDS):
        top = acked + PER_ROUND
        if r % 2 == 0:
            runs = [(acked + 1, top), (acked + 1, acked + 2)]
        else:
            runs = [(acked + 1, acked + 1), (acked + 2, top)]
        requests = [device.request(a, b) for a, b in runs]
        answers = _race(*[lambda q=q: send(*q) for q in requests])
        for (_, last), (status, answer) in zip(runs, answers):
            _check_answer(status, answer, last)
        held = max([a["acked_seq"] for s, a in answers if s == 200] + [acked])
        if held < top:
            status, answer = send(*device.request(held + 1, top))
            assert status == 200 and answer["acked_seq"] == top, answer
        acked = top
    _settled_once_in_order(town, device.tab.device_id, ROUNDS * PER_ROUND)


@pytest.fixture
def device(town, hub, tmp_path):
    return Device(town, enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles))


def test_racing_pushes_on_two_store_connections_settle_once_in_order(town, device):
    _rounds(town, device, lambda body, headers: _push_on(town.path, body, headers))


def test_racing_pushes_through_two_office_apps_settle_once_in_order(town, device):
    """Two apps serving one store, as two worker processes do: each keeps its own push queue, so
    only the store can keep the two requests apart."""
    keys = keystore.for_store(town.path)
    clients = [TestClient(server.create_app(town.path, keys)) for _ in range(2)]
    turn = iter(range(10 ** 6))

    def send(body, headers):
        r = clients[next(turn) % 2].post("/api/v1/push", content=body,
                                        headers={"content-type": "application/json", **headers})
        return r.status_code, r.json()
    with clients[0], clients[1]:
        _rounds(town, device, send)
