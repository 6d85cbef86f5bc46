"""Refusals at the office end: tampering, forgery, forks, gaps, revoked devices, other merchants,
enrolment codes, tampered pulls; overdraft across tablets; clock skew."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bank import alerts, clock, db, devices, ledger
from terminal import redeem as engine
from sync import client, events, replica, wire

from tests.sync.kit import count, enrol_tablet, office_balance, redemptions

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _state(path):
    conn = db.connect(path)
    try:
        return (conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0],
                conn.execute("SELECT count(*) FROM device_events").fetchone()[0],
                ",".join(r[0] for r in conn.execute("SELECT device_id || ':' || last_seq || ':' || last_hash FROM devices "
                                                     "ORDER BY device_id")),
                conn.execute("SELECT count(*) FROM card_holds").fetchone()[0])
    finally:
        conn.close()


def _alert_kinds(path):
    conn = db.connect(path)
    try:
        return [a.kind for a in alerts.open_alerts(conn)]
    finally:
        conn.close()


def _redemption(card, offer, points, version=1, qty=1):
    return {"card": card, "card_version": version, "offer": offer, "qty": qty, "points": points}


@pytest.fixture
def make_events(town):
    """Chained redemptions of the town's cards, with their proofs (tests.sync.kit.redemptions)."""
    def make(device_id, bodies, start=1, prev=devices.GENESIS):
        return redemptions(town.path, device_id, bodies, start=start, prev=prev)
    return make


def _send(tc, h, batch_obj, *, private=None, device_id=None):
    private = private or h.private_key()
    body = wire.canonical(batch_obj)
    headers = wire.sign_request(private, "POST", "/api/v1/push", device_id or h.device_id,
                                clock.to_text(clock.now_utc()), body)
    return tc.tc.post("/api/v1/push", content=body, headers=headers)


@pytest.fixture
def tab(town, hub, tmp_path):
    return enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)


def test_same_batch_twice_is_acknowledged_and_changes_nothing(town, hub, tab, make_events):
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6)] * 2)
    batch = events.sign_batch(tab.private_key(), tab.device_id, evs)
    first = _send(hub, tab, batch)
    assert first.status_code == 200 and first.json()["applied"] == 2
    before = _state(town.path)
    second = _send(hub, tab, batch)
    assert second.json()["acked_seq"] == 2 and second.json()["duplicates"] == 2
    assert _state(town.path) == before
    assert office_balance(town.path, town.rich[0]) == 88


def test_altered_event_is_refused_and_nothing_written(town, hub, tab, make_events):
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6)] * 3)
    batch = events.sign_batch(tab.private_key(), tab.device_id, evs)
    before = _state(town.path)
    tampered = json.loads(json.dumps(batch))
    tampered["events"][2]["body"]["qty"] = 5        # the head: signature no longer matches
    assert _send(hub, tab, tampered).status_code == 401
    tampered = json.loads(json.dumps(batch))
    tampered["events"][0]["body"]["qty"] = 5        # inside: the next event's prev no longer matches
    r = _send(hub, tab, tampered)
    assert r.status_code == 409 and r.json()["error"] == "chain_broken"
    assert _state(town.path) == before
    assert "chain_broken" in _alert_kinds(town.path)


def test_event_replayed_from_another_device_is_refused(town, hub, tab, tmp_path, make_events):
    other = enrol_tablet(town.path, hub, tmp_path / "other", town.noodles)
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6)])
    batch = events.sign_batch(tab.private_key(), tab.device_id, evs)
    assert _send(hub, tab, batch).status_code == 200
    before = _state(town.path)
    # the other tablet re-sends it as its own request (its own request signature)
    r = _send(hub, other, batch)
    assert r.status_code == 409 and r.json()["error"] == "foreign_event"
    # ... or re-signs the batch with its own key, still naming the first tablet in the event
    rebatch = events.sign_batch(other.private_key(), other.device_id, evs)
    r = _send(hub, other, rebatch)
    assert r.status_code == 409 and r.json()["error"] == "foreign_event"
    assert _state(town.path) == before
    # one alert for the device and kind, counted twice (a device cannot flood the office)
    conn = db.connect(town.path)
    foreign = alerts.open_alerts(conn, "foreign_event")
    conn.close()
    assert len(foreign) == 1 and foreign[0].count == 2


def test_fork_and_gap_are_refused_with_alerts(town, hub, tab, make_events):
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6)] * 2)
    assert _send(hub, tab, events.sign_batch(tab.private_key(), tab.device_id, evs)).status_code == 200
    before = _state(town.path)
    fork = make_events(tab.device_id, [_redemption(town.rich[1], town.beef, 12)], start=2, prev=events.digest(evs[0]))
    r = _send(hub, tab, events.sign_batch(tab.private_key(), tab.device_id, fork))
    assert r.status_code == 409 and r.json()["error"] == "chain_fork" and r.json()["acked_seq"] == 2
    gap = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6)], start=4, prev=events.digest(evs[1]))
    r = _send(hub, tab, events.sign_batch(tab.private_key(), tab.device_id, gap))
    assert r.status_code == 409 and r.json()["error"] == "chain_gap"
    assert _state(town.path) == before
    assert {"chain_fork", "chain_gap"} <= set(_alert_kinds(town.path))


def test_revoked_device_gets_403_and_nothing_is_written(town, hub, tab, make_events):
    conn = db.connect(town.path)
    with db.transaction(conn):
        devices.revoke(conn, tab.device_id)
    conn.close()
    before = _state(town.path)
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6)])
    r = _send(hub, tab, events.sign_batch(tab.private_key(), tab.device_id, evs))
    assert r.status_code == 403 and r.json()["error"] == "device_revoked"
    with pytest.raises(client.Refused) as info:
        client.sync_once(tab, hub)
    assert info.value.status == 403
    assert _state(town.path)[:3] == before[:3]


def test_a_redemption_of_another_merchants_offer_is_quarantined(town, hub, tab, make_events):
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6), _redemption(town.rich[1], town.masks, 8)])
    r = _send(hub, tab, events.sign_batch(tab.private_key(), tab.device_id, evs))
    # the chain is kept and acknowledged; the noodle shop's bowl is booked, the pharmacy's masks
    # are not charged to the resident but wait for the council
    assert r.status_code == 200 and r.json()["acked_seq"] == 2
    assert (r.json()["booked"], r.json()["quarantined"]) == (1, 1)
    assert office_balance(town.path, town.rich[0]) == 94
    conn = db.connect(town.path)
    rules = [q["rule"] for q in conn.execute("SELECT rule FROM quarantine")]
    conn.close()
    assert rules == ["wrong_merchant"]
    assert "quarantined" in _alert_kinds(town.path)


def test_unsigned_and_wrongly_signed_requests_get_401(town, hub, tab, make_events):
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6)])
    body = wire.canonical(events.sign_batch(tab.private_key(), tab.device_id, evs))
    assert hub.tc.post("/api/v1/push", content=body).status_code == 401
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    stranger = Ed25519PrivateKey.generate()
    assert _send(hub, tab, json.loads(body), private=stranger).status_code == 401
    headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/pull", tab.device_id, "x", b"{}")
    assert hub.tc.post("/api/v1/pull", content=b'{"cursor":null}', headers=headers).status_code == 401
    assert count(town.path, "device_events") == 0


def test_enrolment_codes_expire_and_work_once(town, hub, tmp_path):
    conn = db.connect(town.path)
    with db.transaction(conn):
        old = devices.new_enrolment_code(conn, merchant_id=town.noodles, hours=1,
                                         now=clock.now_utc() - dt.timedelta(hours=2))
        fresh = devices.new_enrolment_code(conn, merchant_id=town.noodles)
    conn.close()
    from device import enrolment
    with pytest.raises(client.Refused) as info:
        enrolment.enrol(tmp_path / "a", "http://x", old, transport=hub)
    assert info.value.code == "enrolment_code_expired"
    enrolment.enrol(tmp_path / "b", "http://x", fresh.lower(), transport=hub)
    with pytest.raises(client.Refused) as info:
        enrolment.enrol(tmp_path / "c", "http://x", fresh, transport=hub)
    assert info.value.code == "enrolment_code_used"
    with pytest.raises(client.Refused) as info:
        enrolment.enrol(tmp_path / "d", "http://x", "2222-XXXX-XXXX-XXXX-XXXX", transport=hub)
    assert info.value.code == "enrolment_code_unknown"
    with pytest.raises(devices.BadCode):        # refused on the device, nothing sent
        enrolment.enrol(tmp_path / "e", "http://x", "NOPE-NOPE", transport=hub)
    assert not (tmp_path / "e").exists()
    assert count(town.path, "devices") == 1


def test_tampered_pull_is_refused_and_replica_unchanged(town, hub, tab):
    conn = tab.replica()
    before = conn.execute("SELECT * FROM accounts ORDER BY account_id").fetchall()
    body = wire.canonical({"cursor": None, "full": True})
    headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/pull", tab.device_id,
                                clock.to_text(clock.now_utc()), body)
    message = hub.tc.post("/api/v1/pull", content=body, headers=headers).json()
    payload = json.loads(message["payload"])
    payload["accounts"]["rows"][0][1] = 99999
    forged = {**message, "payload": wire.canonical(payload).decode()}
    with pytest.raises(wire.PullRejected):
        replica.apply_pull(conn, forged, now=clock.now_utc())
    other = dict(message, payload=message["payload"].replace(tab.device_id, "T0099"))
    with pytest.raises(wire.PullRejected):
        replica.apply_pull(conn, other, now=clock.now_utc())
    assert conn.execute("SELECT * FROM accounts ORDER BY account_id").fetchall() == before
    replica.apply_pull(conn, message, now=clock.now_utc())    # the genuine one applies


def test_overdraft_across_two_offline_tablets(town, hub, tmp_path):
    a = enrol_tablet(town.path, hub, tmp_path / "a", town.noodles)
    b = enrol_tablet(town.path, hub, tmp_path / "b", town.noodles)
    c = enrol_tablet(town.path, hub, tmp_path / "c", town.noodles)
    hub.up = False
    aid, card, qr = town.poor                      # 20 points; no PIN needed at 18
    engine.redeem(a, qr, town.bowl, qty=3, transport=hub)
    engine.redeem(b, qr, town.bowl, qty=3, transport=hub)
    hub.up = True
    client.sync_once(a, hub)
    result = client.sync_once(b, hub)
    assert result.acked_seq == 1
    assert office_balance(town.path, aid) == -16
    assert "overdraft" in _alert_kinds(town.path)
    client.sync_once(c, hub)
    conn = c.replica()
    assert conn.execute("SELECT reason FROM deny WHERE card_id = ?", (card,)).fetchone() == ("hold",)
    with pytest.raises(engine.Refusal) as info:
        engine.redeem(c, qr, town.bowl, transport=hub)
    assert info.value.reason == "card_on_hold"
    # the office clears it: devices get it at their next pull (a delta)
    oc = db.connect(town.path)
    with db.transaction(oc):
        alerts.clear_hold(oc, card, by="council")
        ledger.record_adjustment(oc, aid, 40, recorded_by="council", note="settled the overdraft")
    oc.close()
    assert client.sync_once(c, hub).pulled == "delta"
    assert conn.execute("SELECT count(*) FROM deny WHERE card_id = ?", (card,)).fetchone()[0] == 0
    assert engine.redeem(c, qr, town.bowl, transport=hub).balance_after == 18


def test_clock_skew_is_flagged_and_periods_use_office_time(town, hub, tab):
    conn = tab.replica()
    slightly = clock.now_utc() + dt.timedelta(minutes=5)     # within the skew allowance
    replica.set_state(conn, last_pull_at=clock.to_text(slightly))
    engine.redeem(tab, town.rich[2], town.bowl, now=slightly, transport=hub)
    oc = db.connect(town.path)
    entry = ledger.by_ref(oc, f"dev:{tab.device_id}:1")
    assert entry.device_time == clock.to_text(slightly)
    assert abs((clock.from_text(entry.recorded_at) - clock.now_utc()).total_seconds()) < 60
    # a clock three hours ahead: flagged, and what it dates in the future is not charged
    skewed = clock.now_utc() + dt.timedelta(hours=3)
    replica.set_state(conn, last_pull_at=clock.to_text(skewed))
    engine.redeem(tab, town.rich[2], town.bowl, now=skewed, transport=hub)
    assert "clock_skew" in _alert_kinds(town.path)
    assert ledger.by_ref(oc, f"dev:{tab.device_id}:2") is None
    assert [r[0] for r in oc.execute("SELECT rule FROM quarantine WHERE seq = 2")] == ["event_time"]
    assert devices.get(oc, tab.device_id).clock_skew_s > 3 * 3600 - 60


def test_events_the_ledger_cannot_take_are_kept_in_the_chain_and_quarantined(town, hub, tab, make_events):
    from bank import accounts
    conn = db.connect(town.path)
    with db.transaction(conn):
        accounts.set_status(conn, town.poor[0], "closed")
    conn.close()
    evs = make_events(tab.device_id, [_redemption(town.poor[1], town.bowl, 6), _redemption("999999", town.bowl, 6),
                                  _redemption(town.rich[1], town.bowl, 6)])
    r = _send(hub, tab, events.sign_batch(tab.private_key(), tab.device_id, evs))
    assert r.status_code == 200 and r.json()["acked_seq"] == 3 and r.json()["quarantined"] == 2
    conn = db.connect(town.path)
    assert [tuple(q) for q in conn.execute("SELECT seq, rule FROM quarantine ORDER BY seq")] == \
        [(1, "account_inactive"), (2, "card_unknown")]
    assert count(town.path, "device_events") == 3
    conn.close()
    assert _alert_kinds(town.path).count("quarantined") == 1
    assert office_balance(town.path, town.rich[0]) == 94
    assert office_balance(town.path, town.poor[0]) == 20
    rev = events.make(tab.device_id, 4, events.digest(evs[-1]), "reversal", clock.to_text(clock.now_utc()),
                      {"reverses_seq": 3, "reason": "顾客退回"})
    r = _send(hub, tab, events.sign_batch(tab.private_key(), tab.device_id, [rev]))
    assert r.json()["acked_seq"] == 4
    assert office_balance(town.path, town.rich[0]) == 100


def test_push_body_need_not_be_canonical_but_duplicate_keys_are_refused(town, hub, tab, make_events):
    """The office cuts event texts out of a canonical body; any other body is parsed strictly."""
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6), _redemption(town.rich[1], town.bowl, 6)])
    batch = events.sign_batch(tab.private_key(), tab.device_id, evs)
    dupe = wire.canonical(batch).replace(b'"protocol":2', b'"protocol":2,"protocol":2')
    headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/push", tab.device_id,
                                clock.to_text(clock.now_utc()), dupe)
    r = hub.tc.post("/api/v1/push", content=dupe, headers=headers)
    assert r.status_code == 400 and r.json()["error"] == "malformed"
    assert count(town.path, "device_events") == 0
    pretty = json.dumps(batch, indent=2).encode("utf-8")   # spaces, unsorted keys: not canonical
    headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/push", tab.device_id,
                                clock.to_text(clock.now_utc() + dt.timedelta(seconds=1)), pretty)
    r = hub.tc.post("/api/v1/push", content=pretty, headers=headers)
    assert r.status_code == 200 and r.json()["applied"] == 2
    conn = db.connect(town.path)
    held = conn.execute("SELECT hash, body FROM device_events ORDER BY seq").fetchall()
    assert [h for h, _ in held] == [events.digest(e) for e in evs]
    assert [b for _, b in held] == [wire.canonical(e).decode("utf-8") for e in evs]


def test_event_texts_cut_from_a_canonical_body_equal_their_own_canonical_form(make_events):
    evs = make_events("T0001", [_redemption("100001", 1, 6)] * 3)
    evs.append(events.make("T0001", 4, events.digest(evs[-1]), "reversal", evs[0]["at"],
                           {"reverses_seq": 2, "reason": '顾客退货 },{"at":" 引号'}))
    body = wire.canonical({"protocol": 1, "device": "T0001", "events": evs, "signature": "A" * 86 + "=="})
    texts = events._event_texts(evs, "T0001", body)
    assert texts == [wire.canonical(e) for e in evs]


class _Recorder:
    """The device's transport, keeping a copy of every request it sends (what an eavesdropper sees)."""

    def __init__(self, inner):
        self.inner, self.sent = inner, []

    def post(self, path, body, headers):
        self.sent.append((path, body, dict(headers)))
        return self.inner.post(path, body, headers)


def _device_row(path, device_id):
    conn = db.connect(path)
    try:
        return tuple(conn.execute("SELECT * FROM devices WHERE device_id = ?", (device_id,)).fetchone())
    finally:
        conn.close()


def test_replayed_pull_and_push_are_refused_and_change_nothing(town, hub, tab):
    conn = tab.replica()
    replica.record(conn, "redemption", {**_redemption(town.rich[1], town.bowl, 6), "receipt": None, "proof": "",
                                        "auth": None},
                   now=clock.now_utc(), card_id=town.rich[1], account_id=town.rich[0], points=6, card_text=town.rich[2])
    spy = _Recorder(hub)
    client.sync_once(tab, spy)
    assert [p for p, _, _ in spy.sent] == ["/api/v1/push", "/api/v1/pull"]
    before = (_state(town.path), _device_row(town.path, tab.device_id), _alert_kinds(town.path))
    for path, body, headers in spy.sent:
        status, content = hub.post(path, body, headers)
        answer = json.loads(content)
        assert status == 401 and answer["error"] == "replayed_request", (path, answer)
        assert "accounts" not in answer and "payload" not in answer
    # an older captured request is refused too, not only the latest
    status, _ = hub.post(*spy.sent[0])
    assert status == 401
    assert (_state(town.path), _device_row(town.path, tab.device_id), _alert_kinds(town.path)) == before
    assert office_balance(town.path, town.rich[0]) == 94


def test_syncing_survives_a_device_clock_jumping_back_and_a_restored_replica(town, hub, tab):
    conn = tab.replica()
    later = clock.now_utc() + dt.timedelta(hours=5)
    client.sync_once(tab, hub, now=later)                          # clock far ahead
    engine.redeem(tab, town.rich[2], town.bowl, now=clock.now_utc(), transport=hub)   # then set right
    assert replica.pending_summary(conn)[0] == 0                   # pushed at once all the same
    result = client.sync_once(tab, hub, now=clock.now_utc() - dt.timedelta(days=2))  # and behind
    assert result.pulled == "delta" and not result.errors
    assert replica.state(conn, "last_request_time") > clock.to_text(later)
    # the replica restored from an older copy forgets its request times: the office names its
    # last one and the device moves past it once
    replica.set_state(conn, last_request_time=None)
    assert client.sync_once(tab, hub).pulled == "delta"
    assert office_balance(town.path, town.rich[0]) == 94


def test_a_price_other_than_the_offices_is_quarantined(town, hub, tab, make_events):
    """The tablet's own price is not charged on its word: the council sees the difference."""
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 12, qty=2),    # office price
                                      _redemption(town.rich[1], town.bowl, 5),            # stale tablet price
                                      _redemption(town.rich[1], town.beef, 20, qty=2)])   # 2 x 12 = 24
    r = _send(hub, tab, events.sign_batch(tab.private_key(), tab.device_id, evs))
    assert r.status_code == 200 and r.json()["applied"] == 3 and r.json()["quarantined"] == 2
    conn = db.connect(town.path)
    assert ledger.by_ref(conn, f"dev:{tab.device_id}:1").points == -12
    assert [ledger.by_ref(conn, f"dev:{tab.device_id}:{s}") for s in (2, 3)] == [None, None]
    assert office_balance(town.path, town.rich[0]) == 100 - 12
    cases = [(q["seq"], q["rule"], q["points"], json.loads(q["detail"])["office_points"])
             for q in conn.execute("SELECT * FROM quarantine ORDER BY seq")]
    assert cases == [(2, "price", -5, 6), (3, "price", -20, 24)]
    # the same batch again: acknowledged, no second entry, no second case
    again = _send(hub, tab, events.sign_batch(tab.private_key(), tab.device_id, evs))
    assert again.json()["duplicates"] == 3 and again.json()["quarantined"] == 0
    assert count(town.path, "quarantine") == 2


def test_a_replayed_refused_or_malformed_push_is_refused_as_a_replay_without_a_new_alert(town, hub, tab, make_events):
    evs = make_events(tab.device_id, [_redemption(town.rich[1], town.bowl, 6)], start=3)   # a gap: refused
    body = wire.canonical(events.sign_batch(tab.private_key(), tab.device_id, evs))
    headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/push", tab.device_id,
                                clock.to_text(clock.now_utc()), body)
    assert hub.tc.post("/api/v1/push", content=body, headers=headers).json()["error"] == "chain_gap"
    alerts_before = _alert_kinds(town.path)
    again = hub.tc.post("/api/v1/push", content=body, headers=headers)
    assert again.status_code == 401 and again.json()["error"] == "replayed_request" and "acked_seq" not in again.json()
    assert _alert_kinds(town.path) == alerts_before
    bad = b'{"not": "a push"}'
    headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/push", tab.device_id,
                                clock.to_text(clock.now_utc()), bad)
    assert hub.tc.post("/api/v1/push", content=bad, headers=headers).json()["error"] == "malformed"
    assert hub.tc.post("/api/v1/push", content=bad, headers=headers).json()["error"] == "replayed_request"
    assert count(town.path, "device_events") == 0


def test_event_fields_with_a_trailing_newline_are_malformed():
    e = events.make("T0001", 1, devices.GENESIS, "redemption", clock.to_text(clock.now_utc()),
                    {**_redemption("100001", 1, 6), "receipt": 1, "proof": "0" * 32, "auth": None})
    for bad in (dict(e, at=e["at"] + "\n"), dict(e, device="T0001\n"), dict(e, body=dict(e["body"], card="100001\n"))):
        with pytest.raises(wire.ProtocolError):
            events.check(bad)
