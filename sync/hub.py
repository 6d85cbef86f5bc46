"""The office end of the protocol: enrol, authenticate, push (ingest) and pull, as plain functions.

``office`` mounts these as HTTP routes; they take the store connection, the parsed request parts
and the office's clock, and return JSON-able dicts or raise :class:`sync.wire.ProtocolError`
(which carries the HTTP status). A refused request writes nothing of what it carried; where the
design says so, an alert for the office is recorded in its own transaction after the rollback.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bank import (accounts, alerts, cards, clock, community, convention, devices, ledger, merchants,
                  objections, policy, validity)
from bank.db import transaction
from bank.errors import BankError, NotFound

from . import events as ev
from . import kiosk_events, kiosk_pull
from . import wire
from .wire import ProtocolError


# --- enrolment ----------------------------------------------------------------------------------

def enrol(conn: sqlite3.Connection, body: bytes, now: dt.datetime) -> dict:
    """Register a device key with a one-time code; answer with its identity and the community keys."""
    obj = wire.parse_json(body, wire.MAX_SMALL_BYTES)
    if not isinstance(obj, dict) or not {"code", "public_key"} <= set(obj) <= {"code", "public_key", "label"}:
        raise wire.malformed("an enrolment has code, public_key and optionally label")
    code, label = obj["code"], obj.get("label", "")
    if not isinstance(code, str) or not isinstance(label, str) or len(label) > 60:
        raise wire.malformed("code and label must be text")
    public_key = wire.b64d(obj["public_key"], length=32)
    try:
        with transaction(conn):
            device = devices.enrol(conn, code, public_key, label=label, now=now)
    except devices.EnrolmentRefused as exc:
        raise ProtocolError(exc.code, exc.zh, exc.en, status=403) from None
    except BankError as exc:
        raise ProtocolError(exc.code, exc.zh, exc.en, status=400) from None
    response = {
        "protocol": wire.PROTOCOL, "device_id": device.device_id, "kind": device.kind,
        "merchant_id": device.merchant_id, "service_point_id": device.service_point_id,
        "community": community.code(conn), "community_name": community.name(conn),
        "issuing_keys": {k: wire.b64e(v) for k, v in cards.public_keys(conn).items()},
        "server_time": clock.to_text(now),
    }
    response["mac"] = wire.enrolment_mac(code, response)
    return response


# --- authentication -----------------------------------------------------------------------------

def authenticate(conn: sqlite3.Connection, method: str, path: str, headers: Mapping[str, str],
                 body: bytes, now: dt.datetime, *, claim: bool = True) -> tuple[devices.Device, int | None]:
    """The device that signed this request, and its clock skew in seconds (None if unreadable).

    401 when unsigned, unknown or wrongly signed, or a replay (see :func:`_claim_request_time`);
    403 when the device is revoked. With ``claim=False`` the caller must claim the request time
    itself before it does anything (``push(..., request_time=...)`` does, inside its own
    transaction, which saves a commit per batch).
    """
    device_id, time_text, signature = wire.request_headers(headers)
    device = devices.find(conn, device_id)
    if device is None:
        raise ProtocolError("unknown_device", "设备未登记。", f"unknown device {device_id}", status=401)
    message = wire.request_message(method, path, device_id, time_text, body)
    if not wire.verify(device.public_key, signature, message):
        raise ProtocolError("bad_signature", "设备签名不正确。", "request signature does not verify", status=401)
    if device.status != "active":
        raise ProtocolError("device_revoked", "该设备已被注销,不能同步。请联系社区办公室。",
                            f"device {device_id} is revoked", status=403)
    if claim:
        _claim_request_time(conn, device_id, time_text)
    try:
        skew = round((clock.from_text(time_text) - now).total_seconds())
    except ValueError:
        skew = None
    return device, skew


def _claim_request_time(conn: sqlite3.Connection, device_id: str, time_text: str) -> None:
    """Refuse a replayed request: its signed device time must be strictly later than the last one
    accepted from this device (the time texts are fixed-width UTC, so they compare as text).

    The check and the update are one conditional UPDATE, so two copies of one request sent at
    once cannot both pass. It is committed before the request is handled: a captured request that
    is then refused for another reason cannot be replayed either. The device's own clock is only
    compared with itself, so a wrong clock does no harm as long as the device keeps its request
    times increasing (sync.client does, across clock jumps).
    """
    with transaction(conn):     # joins the caller's transaction if there is one
        claimed = conn.execute(
            "UPDATE devices SET last_request_time = ? WHERE device_id = ? "
            "AND (last_request_time IS NULL OR last_request_time < ?)", (time_text, device_id, time_text)).rowcount
        last = None if claimed else conn.execute("SELECT last_request_time FROM devices WHERE device_id = ?",
                                                 (device_id,)).fetchone()[0]
    if not claimed:
        raise ProtocolError("replayed_request", "请求时间不晚于上一次已接受的请求,可能是重放,已拒收。",
                            f"request time {time_text} is not after the last accepted request of {device_id}",
                            status=401, extra={"last_request_time": last})


def _note_contact(conn: sqlite3.Connection, device: devices.Device, skew: int | None, now: dt.datetime,
                  column: str) -> None:
    """Record when the device was last seen and its clock skew; flag a skew newly over the limit."""
    was_off = device.clock_skew_s is not None and abs(device.clock_skew_s) > wire.CLOCK_SKEW_LIMIT_S
    conn.execute(f"UPDATE devices SET {column} = ?, clock_skew_s = ? WHERE device_id = ?",
                 (clock.to_text(now), skew, device.device_id))
    if skew is not None and abs(skew) > wire.CLOCK_SKEW_LIMIT_S and not was_off:
        alerts.raise_alert(conn, "clock_skew", device_id=device.device_id, now=now,
                           detail={"skew_s": skew, "note": "periods are decided by office time"})


# --- push -----------------------------------------------------------------------------------------

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
            _claim_request_time(conn, device.device_id, request_time)
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
        with transaction(conn):
            if request_time is not None:
                _claim_request_time(conn, device.device_id, request_time)
            result = _settle(conn, device, events, hashes, texts, obj["signature"], now)
            _note_contact(conn, device, skew, now, "last_push_at")
    except _Refusal as exc:
        with transaction(conn):
            if request_time is not None:
                _claim_request_time(conn, device.device_id, request_time)   # a replay raises no alert
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
            entry_ids[event["seq"]] = kiosk_events.settle_objection(conn, device, event, now, _unsettled_fn(out))
        else:
            entry_ids[event["seq"]] = kiosk_events.settle_item(conn, device, event, now, _unsettled_fn(out))
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
        why = kiosk_events.undo_refusal(conn, device, event, original, now, batch or {})
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


# --- pull -------------------------------------------------------------------------------------

def signing_key(conn: sqlite3.Connection) -> tuple[str, Ed25519PrivateKey]:
    """The community's current issuing key: it signs cards and, domain-separated, pulls."""
    row = conn.execute("SELECT key_id, private_key FROM issuing_keys WHERE retired_at IS NULL "
                       "AND private_key IS NOT NULL").fetchone()
    if row is None:
        raise NotFound("没有可用的社区签名密钥。", "the store has no current issuing key with its private part")
    return row[0], Ed25519PrivateKey.from_private_bytes(bytes(row[1]))


def _parse_cursor(cursor) -> tuple[int, int] | None:
    if not isinstance(cursor, str) or len(cursor) > 40:
        return None
    try:
        e, c = cursor.split(".")
        if e[0] != "E" or c[0] != "C":
            return None
        return int(e[1:]), int(c[1:])
    except (ValueError, IndexError):
        return None


def pull(conn: sqlite3.Connection, device: devices.Device, body: bytes, now: dt.datetime,
         skew: int | None = None) -> dict:
    """A signed snapshot (no or unusable cursor) or delta since the device's cursor."""
    obj = wire.parse_json(body, wire.MAX_SMALL_BYTES)
    if not isinstance(obj, dict) or set(obj) - {"cursor", "full"}:
        raise wire.malformed("a pull body has cursor and optionally full")
    cursor = None if obj.get("full") is True else _parse_cursor(obj.get("cursor"))
    key_id, private = signing_key(conn)
    with transaction(conn):
        _note_contact(conn, device, skew, now, "last_pull_at")
    conn.execute("BEGIN")  # one read snapshot: balances, deny list and applied_seq agree
    try:
        payload = snapshot(conn, device, cursor, now)
    finally:
        conn.execute("COMMIT")
    return wire.sign_pull(private, key_id, payload)


def snapshot(conn: sqlite3.Connection, device: devices.Device, since: tuple[int, int] | None,
             now: dt.datetime) -> dict:
    """What the device needs (unsigned), as a full snapshot or, with ``since``, a delta."""
    top_entry = conn.execute("SELECT coalesce(max(entry_id), 0) FROM ledger_entries").fetchone()[0]
    top_change = conn.execute("SELECT coalesce(max(change_id), 0) FROM replica_changes").fetchone()[0]
    if since is not None and (since[0] > top_entry or since[1] > top_change):
        since = None   # the office store was restored from an older copy: start over
    applied_seq = conn.execute("SELECT last_seq FROM devices WHERE device_id = ?", (device.device_id,)).fetchone()[0]
    if since is None:
        acct_rows = conn.execute(
            "SELECT a.account_id, coalesce(b.bal, 0), a.status, a.display_name, a.pin_hash FROM accounts a "
            "LEFT JOIN (SELECT account_id, sum(points) AS bal FROM ledger_entries GROUP BY account_id) b "
            "ON b.account_id = a.account_id ORDER BY a.account_id").fetchall()
        card_rows = conn.execute("SELECT card_id, version, account_id FROM cards WHERE status = 'active' "
                                 "ORDER BY card_id").fetchall()
    else:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS pull_changed (account_id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM temp.pull_changed")
        conn.execute("INSERT OR IGNORE INTO temp.pull_changed SELECT account_id FROM ledger_entries "
                     "WHERE entry_id > ?", (since[0],))
        conn.execute("INSERT OR IGNORE INTO temp.pull_changed SELECT account_id FROM replica_changes "
                     "WHERE change_id > ?", (since[1],))
        acct_rows = conn.execute(
            "SELECT a.account_id, (SELECT coalesce(sum(points), 0) FROM ledger_entries e "
            "WHERE e.account_id = a.account_id), a.status, a.display_name, a.pin_hash "
            "FROM temp.pull_changed p JOIN accounts a ON a.account_id = p.account_id ORDER BY a.account_id").fetchall()
        card_rows = conn.execute(
            "SELECT c.card_id, c.version, c.account_id FROM temp.pull_changed p JOIN cards c "
            "ON c.account_id = p.account_id WHERE c.status = 'active' ORDER BY c.card_id").fetchall()
    deny = alerts.deny_list(conn)
    payload = {
        "protocol": wire.PROTOCOL, "device_id": device.device_id, "kind": "full" if since is None else "delta",
        "since": None if since is None else f"E{since[0]}.C{since[1]}",
        "cursor": f"E{top_entry}.C{top_change}", "server_time": clock.to_text(now),
        "applied_seq": applied_seq, "community": community.code(conn),
        "issuing_keys": {k: wire.b64e(v) for k, v in cards.public_keys(conn).items()},
        "accounts": [[r[0], r[1], r[2], accounts.mask_name(r[3]), r[4]] for r in acct_rows],
        "cards": [list(r) for r in card_rows],
        "deny_list": {"version": wire.sha256_hex(wire.canonical(deny))[:16], "cards": [list(d) for d in deny]},
    }
    payload.update(_device_config(conn, device))
    if device.kind == "tablet":
        payload["tablet"] = _tablet_accounts(conn, acct_rows)
    if device.kind == "kiosk":
        changed = None if since is None else [r[0] for r in acct_rows]
        payload["kiosk"] = kiosk_pull.kiosk_data(conn, device, None if since is None else since[0], changed, now)
    return payload


def _tablet_accounts(conn: sqlite3.Connection, acct_rows: list) -> dict:
    """What the card screen shows besides the balance, for the accounts in this pull.

    ``households`` (kind, member count) and ``lots`` (points per last valid day) follow the
    accounts of the pull, so a delta carries them exactly when it carries the balance. Lots, not
    "expiring soon", because the tablet judges "within 60 days" by its own date between pulls.
    ``held`` (points under an open objection) is sent whole every time: an objection raised or
    ruled leaves no trace the delta cursor sees, and open cases are few.
    """
    ids = [r[0] for r in acct_rows]
    households, lots = [], []
    for chunk in range(0, len(ids), 900):
        part = ids[chunk:chunk + 900]
        marks = ",".join("?" * len(part))
        households += [list(r) for r in conn.execute(
            f"SELECT a.account_id, a.kind, (SELECT count(*) FROM members m WHERE m.account_id = a.account_id) "
            f"FROM accounts a WHERE a.account_id IN ({marks}) ORDER BY a.account_id", part)]
    # No open lots without a positive balance: only those accounts are replayed, in bulk.
    replayed = validity.lots_of_many(conn, [r[0] for r in acct_rows if r[1] > 0])
    for account_id, (open_lots, _debt) in replayed.items():
        totals: dict[str, int] = {}
        for lot in open_lots:
            day = lot.last_valid_day.isoformat()
            totals[day] = totals.get(day, 0) + lot.remaining
        lots.append([account_id, sorted(totals.items())])
    held = conn.execute(
        f"SELECT account_id, sum(points_held) FROM objections WHERE status IN ({','.join('?' * len(objections.OPEN))}) "
        "GROUP BY account_id HAVING sum(points_held) > 0 ORDER BY account_id", objections.OPEN).fetchall()
    return {"households": households, "lots": [[a, [list(d) for d in days]] for a, days in lots],
            "held": [list(r) for r in held]}


def _device_config(conn: sqlite3.Connection, device: devices.Device) -> dict:
    """Offers, catalog, offline policy and windows: small, so sent whole with every pull."""
    catalog = convention.in_force(conn, clock.local_date(clock.now_utc()))
    out = {"catalog": {"version": catalog.version,
                       "items": [[i.code, i.product.code, i.name, i.points, i.cap] for i in catalog.items]}}
    if device.kind == "tablet":
        m = merchants.get(conn, device.merchant_id)
        out["merchant"] = {"merchant_id": m.merchant_id, "name": m.name, "category": m.category, "status": m.status}
        out["offers"] = [[o.offer_id, o.name, o.points, o.value_fen] for o in merchants.offers_of(conn, m.merchant_id)]
        out["policy"] = vars(policy.offline_policy(conn, m.merchant_id))
        out["windows"] = [[w.place, w.weekdays, w.opens, w.closes] for w in policy.windows(conn, m.merchant_id)]
    else:
        out["merchant"] = None
        out["offers"] = []
        out["policy"] = vars(policy.offline_policy(conn, None))
        out["windows"] = []
    return out
