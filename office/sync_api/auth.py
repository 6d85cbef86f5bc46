"""Who sent a request: the device's signature over it, its status, and replay protection."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Mapping

from bank import alerts, clock, devices
from bank.db import transaction
from sync import wire
from sync.wire import ProtocolError


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
        claim_request_time(conn, device_id, time_text)
    try:
        skew = round((clock.from_text(time_text) - now).total_seconds())
    except ValueError:
        skew = None
    return device, skew


def claim_request_time(conn: sqlite3.Connection, device_id: str, time_text: str) -> None:
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


def note_contact(conn: sqlite3.Connection, device: devices.Device, skew: int | None, now: dt.datetime,
                  column: str) -> None:
    """Record when the device was last seen and its clock skew; flag a skew newly over the limit."""
    was_off = device.clock_skew_s is not None and abs(device.clock_skew_s) > wire.CLOCK_SKEW_LIMIT_S
    conn.execute(f"UPDATE devices SET {column} = ?, clock_skew_s = ? WHERE device_id = ?",
                 (clock.to_text(now), skew, device.device_id))
    if skew is not None and abs(skew) > wire.CLOCK_SKEW_LIMIT_S and not was_off:
        alerts.raise_alert(conn, "clock_skew", device_id=device.device_id, now=now,
                           detail={"skew_s": skew, "note": "periods are decided by office time"})


