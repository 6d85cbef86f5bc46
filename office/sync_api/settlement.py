"""Settling a device's pushed events: verify the batch, join it to the office's chain, book it.

A batch is settled in one transaction. A refused batch writes nothing of what it carried; where
the design says so, an alert for the office is recorded in its own transaction after the rollback.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from bank import alerts, clock, devices, ledger, merchants
from bank.db import transaction
from bank.errors import BankError, NotFound
from sync import events as ev
from sync import wire
from sync.wire import ProtocolError

from . import acknowledged, auth, kiosk_settlement


class _Refusal(ProtocolError):
    """A refusal that also leaves an alert for the office."""

    def __init__(self, alert_kind: str, code: str, zh: str, en: str, *, status: int = 409, **detail):
        super().__init__(code, zh, en, status=status)
        self.alert_kind = alert_kind
        self.detail = detail


@dataclass
class _Settled:
    applied: int = 0
    duplicates: int = 0
    unsettled: int = 0
    overdrafts: int = 0
    price_mismatches: int = 0


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
    return {"acked_seq": acked, "applied": result.applied, "duplicates": result.duplicates,
            "unsettled": result.unsettled, "overdrafts": result.overdrafts,
            "price_mismatches": result.price_mismatches, "server_time": clock.to_text(now)}


def _settle(conn, device: devices.Device, events: list[dict], hashes: list[str], texts: list[str],
            signature: str, now: dt.datetime) -> _Settled:
    row = conn.execute("SELECT status, last_seq, last_hash FROM devices WHERE device_id = ?",
                       (device.device_id,)).fetchone()
    status, last_seq, last_hash = row
    if status != "active":
        raise ProtocolError("device_revoked", "该设备已被注销。", f"device {device.device_id} is revoked", status=403)
    out = _Settled()
    fresh = []
    for event, digest, text in zip(events, hashes, texts):
        if event["seq"] <= last_seq:
            held = conn.execute("SELECT hash FROM device_events WHERE device_id = ? AND seq = ?",
                                (device.device_id, event["seq"])).fetchone()
            if held is None or held[0] != digest:
                raise _Refusal("chain_fork", "chain_fork", "同一序号的事件内容与已收到的不同(事件链分叉),已拒收。",
                               f"event {event['seq']} differs from the one the office holds", seq=event["seq"])
            out.duplicates += 1
        else:
            fresh.append((event, digest, text))
    if not fresh:
        return out
    first = fresh[0][0]
    if first["seq"] != last_seq + 1:
        raise _Refusal("chain_gap", "chain_gap", "事件序号不连续(缺少事件),已拒收。",
                       f"expected event {last_seq + 1}, got {first['seq']}", expected=last_seq + 1, got=first["seq"])
    if first["prev"] != last_hash:
        raise _Refusal("chain_fork", "chain_fork", "事件链与已收到的不衔接(分叉),已拒收。",
                       f"event {first['seq']} does not follow the office's event {last_seq}", seq=first["seq"])
    received = clock.to_text(now)
    touched: dict[int, tuple[str, int, int]] = {}  # account -> (card, seq, entry) of its last redemption
    offers: dict[int, merchants.Offer | None] = {}
    entry_ids: dict[int, int | None] = {}
    run: list[dict] = []
    for event, _, _ in fresh:
        if event["kind"] == "redemption":
            run.append(event)      # redemptions are settled in bulk; a reversal flushes them first
            continue
        _settle_run(conn, device, run, now, offers, touched, entry_ids, out)
        run = []
        if event["kind"] == "reversal":
            entry_ids[event["seq"]] = _reverse(conn, device, event, now, out,
                                               {e["seq"]: e["body"] for e, _, _ in fresh})
        elif event["kind"] == "objection":
            entry_ids[event["seq"]] = kiosk_settlement.settle_objection(conn, device, event, now, _unsettled_fn(out))
        else:
            entry_ids[event["seq"]] = kiosk_settlement.settle_item(conn, device, event, now, _unsettled_fn(out))
    _settle_run(conn, device, run, now, offers, touched, entry_ids, out)
    last = events[-1]["seq"]
    conn.executemany(
        "INSERT INTO device_events (device_id, seq, hash, prev_hash, kind, body, device_time, received_at, "
        "entry_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(device.device_id, e["seq"], digest, e["prev"], e["kind"], text, e["at"], received, entry_ids[e["seq"]],
          signature if e["seq"] == last else None) for e, digest, text in fresh])
    out.applied = len(fresh)
    conn.execute("UPDATE devices SET last_seq = ?, last_hash = ? WHERE device_id = ?",
                 (fresh[-1][0]["seq"], fresh[-1][1], device.device_id))
    _flag_overdrafts(conn, device, touched, now, out)
    return out


def _unsettled(conn, device, event: dict, now: dt.datetime, out: _Settled, why: str,
               account_id: int | None = None, **detail) -> None:
    """An event accepted into the chain that the ledger cannot take: the office must look."""
    out.unsettled += 1
    alerts.raise_alert(conn, "unsettled_event", device_id=device.device_id, now=now, account_id=account_id,
                       card_id=event["body"].get("card"), detail={"seq": event["seq"], "why": why, **detail})


def _settle_run(conn, device, run: list[dict], now: dt.datetime, offers: dict, touched: dict,
                entry_ids: dict, out: _Settled) -> None:
    """Settle consecutive redemptions with a few queries for the whole run."""
    if not run:
        return
    for event in run:
        offer_id = event["body"]["offer"]
        if offer_id not in offers:
            try:
                offers[offer_id] = merchants.offer(conn, offer_id)
            except NotFound:
                offers[offer_id] = None
        offer = offers[offer_id]
        if offer is not None and offer.merchant_id != device.merchant_id:
            raise _Refusal("wrong_merchant", "wrong_merchant", "商户设备只能记录本商户的兑换,已拒收。",
                           f"offer {offer.offer_id} belongs to merchant {offer.merchant_id}, not {device.merchant_id}",
                           status=403, seq=event["seq"], offer=offer.offer_id)
    card_ids = sorted({e["body"]["card"] for e in run})
    holders: dict[tuple[str, int], int] = {}
    for chunk in range(0, len(card_ids), 900):
        part = card_ids[chunk:chunk + 900]
        for card_id, version, account_id in conn.execute(
                f"SELECT card_id, version, account_id FROM cards WHERE card_id IN ({','.join('?' * len(part))})", part):
            holders[(card_id, version)] = account_id
    items, placed = [], []
    for event in run:
        body = event["body"]
        offer, account_id = offers[body["offer"]], holders.get((body["card"], body["card_version"]))
        if offer is None or account_id is None:
            _unsettled(conn, device, event, now, out, "unknown offer" if offer is None else "unknown card",
                       offer=body["offer"])
            entry_ids[event["seq"]] = None
            continue
        ref = f"dev:{device.device_id}:{event['seq']}"
        # the ledger takes the points the resident paid at the counter (the device's), see
        # _price_mismatch for a price that differs from the office's
        items.append((account_id, offer, body["qty"], body["points"], event["at"], ref))
        placed.append((event, account_id, ref))
    settled = ledger.settle_redemptions(conn, items, recorded_by=f"device:{device.device_id}",
                                        device_id=device.device_id, now=now)
    for event, account_id, ref in placed:
        entry_id = settled[ref]
        entry_ids[event["seq"]] = entry_id
        if entry_id is None:
            _unsettled(conn, device, event, now, out, "account closed", account_id=account_id)
        else:
            touched[account_id] = (event["body"]["card"], event["seq"], entry_id)
            body = event["body"]
            office_points = offers[body["offer"]].points * body["qty"]
            if body["points"] != office_points:
                _price_mismatch(conn, device, event, account_id, entry_id, office_points, now, out)


def _price_mismatch(conn, device, event: dict, account_id: int, entry_id: int, office_points: int,
                    now: dt.datetime, out: _Settled) -> None:
    """A redemption whose points differ from the office's price x quantity.

    The goods were handed over for the points shown at the counter, so the ledger records what
    the resident actually paid (the device's points); the council looks at why the prices
    differed (a stale price on the tablet after the office changed the offer, or a tablet that
    charges its own prices).
    """
    out.price_mismatches += 1
    body = event["body"]
    alerts.raise_alert(conn, "price_mismatch", device_id=device.device_id, account_id=account_id,
                       card_id=body["card"], now=now,
                       detail={"seq": event["seq"], "entry_id": entry_id, "offer": body["offer"], "qty": body["qty"],
                               "device_points": body["points"], "office_points": office_points})


def _unsettled_fn(out: _Settled):
    """``_unsettled`` bound to this batch's tally, for the kiosk settlers."""
    def unsettled(conn, device, event, now, why, account_id=None, **detail):
        _unsettled(conn, device, event, now, out, why, account_id, **detail)
    return unsettled


def _reverse(conn, device, event: dict, now: dt.datetime, out: _Settled, batch: dict | None = None) -> int | None:
    """Settle a reversal of one of this device's own earlier events."""
    body = event["body"]
    original = ledger.by_ref(conn, f"dev:{device.device_id}:{body['reverses_seq']}")
    if original is None:
        _unsettled(conn, device, event, now, out, "reverses an event with no ledger entry",
                   reverses_seq=body["reverses_seq"])
        return None
    if device.kind == "kiosk":
        why = kiosk_settlement.undo_refusal(conn, device, event, original, now, batch or {})
        if why:
            _unsettled(conn, device, event, now, out, why, account_id=original.account_id)
            return None
    try:
        entry = ledger.reverse(conn, original.entry_id, recorded_by=f"device:{device.device_id}",
                               note=body["reason"][:200], device_id=device.device_id, device_time=event["at"],
                               now=now, ref=f"dev:{device.device_id}:{event['seq']}")
    except BankError as exc:
        _unsettled(conn, device, event, now, out, exc.en, account_id=original.account_id)
        return None
    return entry.entry_id


def _flag_overdrafts(conn, device, touched: dict, now: dt.datetime, out: _Settled) -> None:
    """An account this batch took below zero: alert the council and hold the card (policy)."""
    if not touched:
        return
    hold = alerts.hold_on_overdraft(conn)
    for account_id, bal in ledger.negative_balances(conn, list(touched)):
        card_id, seq, entry_id = touched[account_id]
        out.overdrafts += 1
        alert_id = alerts.raise_alert(conn, "overdraft", device_id=device.device_id, account_id=account_id,
                                      card_id=card_id, now=now,
                                      detail={"seq": seq, "entry_id": entry_id, "balance": bal})
        if hold:
            alerts.place_hold(conn, card_id, account_id, reason="overdraft", alert_id=alert_id, now=now)


