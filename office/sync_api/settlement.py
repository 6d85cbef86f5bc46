"""Settling a device's pushed events: verify the batch, join it to the office's chain, re-check
every new event on the office's own data, then book it or quarantine it — all in one transaction.

The office is the only judge of what is charged to a resident (DESIGN invariant 6): the rules are
in :mod:`.tablet_settlement` and :mod:`.kiosk_settlement`, the bookkeeping of one batch in
:mod:`.batch`. A batch that is not a valid continuation of the device's chain (forged, forked,
a gap, another device's) is refused and writes nothing of what it carried; an alert for the
office is recorded in its own transaction after the rollback. Within a valid chain nothing is
refused: every event is kept, booked or quarantined, and acknowledged.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from bank import alerts, clock, db, devices
from bank.db import transaction
from sync import events as ev
from sync import wire
from sync.wire import ProtocolError

from . import acknowledged, auth, kiosk_settlement, tablet_settlement
from .batch import Batch


class _Refusal(ProtocolError):
    """A refusal that also leaves an alert for the office."""

    def __init__(self, alert_kind: str, code: str, zh: str, en: str, *, status: int = 409, **detail):
        super().__init__(code, zh, en, status=status)
        self.alert_kind = alert_kind
        self.detail = detail


def push(conn: sqlite3.Connection, device: devices.Device, body: bytes, now: dt.datetime,
         skew: int | None = None, request_time: str | None = None) -> dict:
    """Verify a batch of the device's events and settle the new ones, all in one transaction.

    Answers ``{"acked_seq": N, ...}``: N is the highest sequence number the office holds for the
    device, whether or not this batch added to it. Re-sent events that match what the office holds
    are acknowledged again and change nothing.

    ``request_time``: the signed request time, when :func:`authenticate` was told not to claim
    it; it is claimed here on every path before anything is written or answered.
    """
    def claimed_or_replayed(exc: ProtocolError) -> ProtocolError:
        if request_time is None or exc.code == "replayed_request":
            return exc
        try:
            auth.claim_request_time(conn, device.device_id, request_time)
        except ProtocolError as replayed:
            return replayed
        return exc

    try:
        obj, is_canonical = wire.parse_canonical(body, wire.MAX_PUSH_BYTES)
    except ProtocolError as exc:
        raise claimed_or_replayed(exc) from None
    try:
        try:
            device_id, events, hashes, texts, signature = ev.parse_batch(obj, body if is_canonical else None)
        except ev.ProtocolErrorChain as exc:
            raise _Refusal("chain_broken", exc.code, exc.zh, exc.en, seq=exc.seq) from None
        if device_id != device.device_id:
            raise _Refusal("foreign_event", "foreign_event", "这批事件不属于本设备,已拒收。",
                           f"batch of {device_id} sent by {device.device_id}", claimed=device_id)
        if not wire.verify(device.public_key, signature,
                           ev.batch_message(device_id, events[0]["seq"], events[-1]["seq"], hashes[-1])):
            raise ProtocolError("bad_signature", "事件批次的签名不正确。",
                                "batch signature does not verify with the device key", status=401)
        for event in events:
            if event["device"] != device.device_id:
                raise _Refusal("foreign_event", "foreign_event", "事件不属于本设备,已拒收。",
                               f"event {event['device']}:{event['seq']} sent by {device.device_id}",
                               seq=event["seq"], claimed=event["device"])
            if event["kind"] not in ev.DEVICE_KINDS[device.kind]:
                raise ProtocolError("kind_not_allowed", "该设备不能提交这类事件。",
                                    f"a {device.kind} cannot post {event['kind']} events", status=403)
        acknowledged.check_push(conn, device, obj.get("acked_seq"), now)
        with transaction(conn):
            if request_time is not None:
                auth.claim_request_time(conn, device.device_id, request_time)
            result = _settle(conn, device, events, hashes, texts, obj["signature"], now)
            auth.note_contact(conn, device, skew, now, "last_push_at")
    except _Refusal as exc:
        with transaction(conn):
            if request_time is not None:
                auth.claim_request_time(conn, device.device_id, request_time)   # a replay raises no alert
            alerts.raise_alert(conn, exc.alert_kind, device_id=device.device_id, now=now,
                               detail={"code": exc.code, "en": exc.en, **exc.detail})
        exc.acked_seq = devices.get(conn, device.device_id).last_seq
        raise
    except ProtocolError as exc:
        answer = claimed_or_replayed(exc)
        if answer.code != "replayed_request":
            answer.acked_seq = devices.get(conn, device.device_id).last_seq
        raise answer from None
    acked = devices.get(conn, device.device_id).last_seq
    return {"acked_seq": acked, **result, "server_time": clock.to_text(now)}


def _settle(conn, device: devices.Device, events: list[dict], hashes: list[str], texts: list[str],
            signature: str, now: dt.datetime) -> dict:
    row = conn.execute("SELECT status, last_seq, last_hash FROM devices WHERE device_id = ?",
                       (device.device_id,)).fetchone()
    status, last_seq, last_hash = row
    if status != "active":
        raise ProtocolError("device_revoked", "该设备已被注销。", f"device {device.device_id} is revoked", status=403)
    duplicates = 0
    fresh = []
    for event, digest, text in zip(events, hashes, texts):
        if event["seq"] <= last_seq:
            held = conn.execute("SELECT hash FROM device_events WHERE device_id = ? AND seq = ?",
                                (device.device_id, event["seq"])).fetchone()
            if held is None or held[0] != digest:
                raise _Refusal("chain_fork", "chain_fork", "同一序号的事件内容与已收到的不同(事件链分叉),已拒收。",
                               f"event {event['seq']} differs from the one the office holds", seq=event["seq"])
            duplicates += 1
        else:
            fresh.append((event, digest, text))
    result = {"applied": 0, "duplicates": duplicates, "booked": 0, "quarantined": 0, "overdrafts": 0,
              "device_on_hold": False}
    if not fresh:
        result["device_on_hold"] = conn.execute("SELECT held_at IS NOT NULL FROM devices WHERE device_id = ?",
                                                (device.device_id,)).fetchone()[0] == 1
        return result
    first = fresh[0][0]
    if first["seq"] != last_seq + 1:
        raise _Refusal("chain_gap", "chain_gap", "事件序号不连续(缺少事件),已拒收。",
                       f"expected event {last_seq + 1}, got {first['seq']}", expected=last_seq + 1, got=first["seq"])
    if first["prev"] != last_hash:
        raise _Refusal("chain_fork", "chain_fork", "事件链与已收到的不衔接(分叉),已拒收。",
                       f"event {first['seq']} does not follow the office's event {last_seq}", seq=first["seq"])
    batch = Batch.start(conn, device, now)
    new_events = [e for e, _, _ in fresh]
    (tablet_settlement if device.kind == "tablet" else kiosk_settlement).settle(batch, new_events)
    last = events[-1]["seq"]
    db.insert_rows(
        conn, "device_events", ("device_id", "seq", "hash", "prev_hash", "kind", "body", "device_time", "received_at",
                                "entry_id", "signature"),
        [(device.device_id, e["seq"], digest, e["prev"], e["kind"], text, e["at"], batch.received,
          batch.entry_ids.get(e["seq"]), signature if e["seq"] == last else None) for e, digest, text in fresh])
    batch.write()
    conn.execute("UPDATE devices SET last_seq = ?, last_hash = ? WHERE device_id = ?",
                 (fresh[-1][0]["seq"], fresh[-1][1], device.device_id))
    result.update(applied=len(fresh), booked=batch.booked, quarantined=len(batch.quarantine_rows),
                  overdrafts=batch.overdrafts, device_on_hold=batch.held)
    return result
