"""Request times are real times within [enrolment - 1 day, office time + 1 day]: a request outside
is refused with a reason and writes nothing but a clock alert; a device whose clock was far in the
future recovers at once and is never locked out."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bank import alerts, clock, db, devices
from terminal import redeem as engine
from sync import client, replica, wire

from tests.sync.kit import count, enrol_tablet


@pytest.fixture
def tab(town, hub, tmp_path):
    return enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)


def _row(path, device_id):
    conn = db.connect(path)
    try:
        return conn.execute("SELECT last_request_time, last_pull_at, last_push_at FROM devices WHERE device_id = ?",
                            (device_id,)).fetchone()
    finally:
        conn.close()


def _skew_alerts(path):
    conn = db.connect(path)
    try:
        return alerts.open_alerts(conn, "clock_skew")
    finally:
        conn.close()


def test_times_that_are_not_real_or_out_of_range_are_refused_and_write_nothing(town, hub, tab):
    body = wire.canonical({"cursor": None, "full": True})
    before = _row(town.path, tab.device_id)
    now = clock.now_utc()
    enrolled = clock.from_text(tab.config["enrolled_at"])
    for time_text in ("9999-99-99T99:99:99.999999Z", "2026-02-30T10:00:00.000000Z",
                      clock.to_text(now + dt.timedelta(days=1, minutes=5)),
                      clock.to_text(enrolled - dt.timedelta(days=1, minutes=5)), "0001-01-01T00:00:00.000000Z"):
        headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/pull", tab.device_id, time_text, body)
        r = hub.tc.post("/api/v1/pull", content=body, headers=headers)
        answer = r.json()
        assert r.status_code == 401 and answer["error"] == "request_time_out_of_range", (time_text, answer)
        assert "时钟" in answer["zh"] and answer["server_time"] and "payload" not in answer
        assert answer["last_request_time"] == before[0]
    assert _row(town.path, tab.device_id) == before          # not claimed, no contact noted
    assert count(town.path, "device_events") == 0
    # the clock is flagged once, with the skew of the first real time that was out of range
    (alert,) = _skew_alerts(town.path)
    assert json.loads(alert.detail)["skew_s"] > 86400
    # a time at the edge of the range is accepted
    headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/pull", tab.device_id,
                                clock.to_text(now + dt.timedelta(hours=23)), body)
    assert hub.tc.post("/api/v1/pull", content=body, headers=headers).status_code == 200


def test_a_device_whose_clock_ran_far_ahead_recovers_and_is_never_locked_out(town, hub, tab):
    conn = tab.replica()
    ahead = clock.now_utc() + dt.timedelta(days=400)
    # the clock jumps a year ahead: every sync still works (one refusal, then the office's time)
    for _ in range(3):
        result = client.sync_once(tab, hub, now=ahead)
        assert result.pulled == "delta"
    assert len(_skew_alerts(town.path)) == 1                  # flagged once, not once per request
    office_last = _row(town.path, tab.device_id)[0]
    assert office_last < clock.to_text(clock.now_utc() + dt.timedelta(days=1))
    # redemptions at the wrong clock are pushed all the same
    engine.redeem(tab, town.rich[2], town.bowl, now=ahead, transport=hub)
    assert replica.pending_summary(conn)[0] == 0
    # the clock is set right again
    assert client.sync_once(tab, hub).pulled == "delta"
    # a replica counter left far in the future (times used in requests the office refused)
    replica.set_state(conn, last_request_time=clock.to_text(ahead + dt.timedelta(days=1)))
    assert client.sync_once(tab, hub).pulled == "delta"
    assert replica.state(conn, "last_request_time") < clock.to_text(clock.now_utc() + dt.timedelta(days=1))
    # and one behind its enrolment (a clock reset to 2000) never mattered: the counter is later
    assert client.sync_once(tab, hub, now=dt.datetime(2000, 1, 1, tzinfo=clock.UTC)).pulled == "delta"
    conn.close()


def test_a_replay_stays_refused_after_a_recovery(town, hub, tab):
    """The recovery moves the device's own counter back; the office's counter never goes back."""
    spy = []

    class Spy:
        pin = None

        def post(self, path, body, headers):
            spy.append((path, body, headers))
            return hub.post(path, body, headers)

    client.sync_once(tab, Spy(), now=clock.now_utc() + dt.timedelta(days=3))
    accepted = [(p, b, h) for p, b, h in spy if h[wire.H_TIME] < clock.to_text(clock.now_utc() + dt.timedelta(hours=1))]
    assert accepted
    for path, body, headers in accepted:
        status, content = hub.post(path, body, headers)
        assert status == 401 and json.loads(content)["error"] == "replayed_request"
    conn = db.connect(town.path)
    assert devices.get(conn, tab.device_id).status == "active"
    conn.close()
