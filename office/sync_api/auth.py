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

    401 when unsigned, unknown or wrongly signed, its time out of range (:func:`check_request_time`)
    or a replay (:func:`claim_request_time`);
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
    skew = check_request_time(conn, device, time_text, now)
    if claim:
        claim_request_time(conn, device_id, time_text)
    return device, skew


def check_request_time(conn: sqlite3.Connection, device: devices.Device, time_text: str,
                       now: dt.datetime) -> int:
    """The request's signed time must be a real time within [the device's enrolment − allowance,
    office time + allowance]; return the device's clock skew in seconds.

    Without the bound one request signed with a time far ahead (a clock set to 2099, or the text
    ``9999-99-99T99:99:99.999999Z``) would become the device's last request time for good, and
    every later request would be refused as a replay. A refusal names the office's time and the
    last time it accepted, so the device can move its request times back into range
    (``sync.client``); it also flags the clock (once while the alert is open), because the retry
    will carry the office's time instead of the device's.
    """
    allowance = dt.timedelta(seconds=wire.REQUEST_TIME_ALLOWANCE_S)
    try:
        at = clock.from_text(time_text)
    except ValueError:
        at = None
    low = clock.from_text(device.enrolled_at) - allowance
    if at is not None and low <= at <= now + allowance:
        return round((at - now).total_seconds())
    with transaction(conn):
        last = conn.execute("SELECT last_request_time FROM devices WHERE device_id = ?",
                            (device.device_id,)).fetchone()[0]
        if at is not None and conn.execute("SELECT 1 FROM alerts WHERE kind = 'clock_skew' AND device_id = ? "
                                           "AND cleared_at IS NULL", (device.device_id,)).fetchone() is None:
            skew = round((at - now).total_seconds())
            conn.execute("UPDATE devices SET clock_skew_s = ? WHERE device_id = ?", (skew, device.device_id))
            alerts.raise_alert(conn, "clock_skew", device_id=device.device_id, now=now,
                               detail={"skew_s": skew, "note": "request refused: device clock out of range"})
    raise ProtocolError("request_time_out_of_range", "设备时钟与办公室相差太多,请求已拒收;设备会按办公室时间重试。请校准设备时钟。",
                        f"request time {time_text} is not a real time within [enrolment - {allowance}, "
                        f"office time + {allowance}]", status=401,
                        extra={"server_time": clock.to_text(now), "last_request_time": last})


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


