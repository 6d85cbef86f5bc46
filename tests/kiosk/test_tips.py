"""举报 from the kiosk: an anonymous tip chosen from lists reaches the council's queue of tips in
the console by the next sync; a malformed tip event is refused with a plain error and one the
office cannot place (a category or building it does not know) is quarantined."""

from __future__ import annotations

import json

import pytest

from bank import clock, db, tips, users
from bank.errors import InvalidInput
from kiosk.steps import Step
from office.server import create_app
from office.sync_api import quarantine
from sync import client, events, replica, wire
from tests.office.console_kit import PASSWORD, Browser


def _taps(flow, *actions):
    """Each action is one tap on the kiosk; return how many there were."""
    for name, *args in actions:
        flow.go(*args) if name == "go" else getattr(flow, name)(*args)
    return len(actions)


def test_a_tip_in_three_taps_is_anonymous_and_reaches_the_councils_queue_by_the_next_sync(flow, kt, hub):
    flow.scan(kt.town.poor[2])
    assert [code for code, _ in flow.tip_choices()] == list(tips.CATEGORIES)   # the office's categories
    taps = _taps(flow, ("go", "tip"), ("choose_tip_category", "hallway"), ("send_tip", 1))
    assert taps == 3 and flow.step is Step.HOME and flow.message.zh.startswith("举报已收到")
    sent = json.loads(flow.conn.execute("SELECT event FROM outbox ORDER BY seq DESC LIMIT 1").fetchone()[0])
    assert sent["kind"] == "tip" and sent["body"] == {"category": "hallway", "building": 1}   # nothing of the resident
    flow.scan(kt.town.rich[2])
    _taps(flow, ("go", "tip"), ("choose_tip_category", "noise"), ("send_tip", None))        # no building
    client.sync_once(flow.home, hub)

    conn = db.connect(kt.path)
    with db.transaction(conn):
        users.add_user(conn, name="李委员", role="council", password=PASSWORD)
    queued = tips.search(conn)
    conn.close()
    assert [(t.channel, t.compound_id, t.account_id, t.content, t.status) for t in queued] == [
        ("kiosk", 1, None, "【噪音扰民、深夜喧哗】未指定楼栋", "open"),
        ("kiosk", 1, None, "【占用楼道、私搭乱建】1栋", "open")]
    assert all(t.recorded_by == f"一体机 {flow.home.device_id}" for t in queued)
    page = Browser(create_app(kt.path), "李委员").get("/monthly")
    assert "【占用楼道、私搭乱建】1栋" in page.text and "一体机" in page.text


def test_a_tip_the_office_cannot_place_is_quarantined_and_a_malformed_one_refused(flow, kt, hub):
    flow.scan(kt.town.poor[2])
    h = flow.home
    last = replica.last_seq(flow.conn)
    prev = flow.conn.execute("SELECT hash FROM outbox WHERE seq = ?", (last,)).fetchone()
    bad = {"device": h.device_id, "seq": last + 1, "prev": prev[0] if prev else events.GENESIS, "kind": "tip",
           "at": clock.to_text(clock.now_utc()), "body": {"category": "hallway", "building": 1, "account": 2}}
    body = wire.canonical(events.sign_batch(h.private_key(), h.device_id, [bad]))
    headers = wire.sign_request(h.private_key(), "POST", "/api/v1/push", h.device_id,
                                clock.to_text(clock.now_utc()), body)
    r = hub.tc.post("/api/v1/push", content=body, headers=headers)
    assert r.status_code == 400 and r.json()["error"] == "malformed" and "tip" in r.json()["en"]

    for body in ({"category": "fireworks", "building": None}, {"category": "litter", "building": 99}):
        replica.record(flow.conn, "tip", body, now=clock.now_utc())     # well formed, but not the office's
    client.sync_once(h, hub)
    conn = db.connect(kt.path)
    try:
        cases = [r[0] for r in conn.execute("SELECT quarantine_id FROM quarantine WHERE kind = 'tip' "
                                            "AND rule = 'tip_refused' ORDER BY seq")]
        assert len(cases) == 2 and tips.search(conn) == []
        assert conn.execute("SELECT count(*) FROM device_events WHERE kind = 'tip'").fetchone()[0] == 2
        with pytest.raises(InvalidInput, match="不能放行"):       # the council cannot book it as sent
            quarantine.post(conn, cases[0], by="李委员", reason="")
        assert quarantine.reject(conn, cases[0], by="李委员", reason="类别不明").status == "rejected"
        assert tips.search(conn) == []
    finally:
        conn.close()
    flow.go("tip")
    flow.choose_tip_category("litter")
    flow.send_tip(99)                   # not a building of this compound: the kiosk says so, records nothing
    assert flow.step is Step.TIP and flow.message.code == "bad_tip"
    assert replica.last_seq(flow.conn) == last + 2
