"""Enrolled devices (merchant tablets and kiosks) and their one-time enrolment codes.

A device is enrolled with a code the office prints (or shows as a QR image): the code names what
the device will be (a tablet of one merchant, or the kiosk of one service point), expires, and
works once. Only a hash of the code is stored, so a copy of the office database does not leak
codes that are still valid.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass

from . import clock, merchants
from .errors import BankError, InvalidInput, NotFound

KINDS = ("tablet", "kiosk")
GENESIS = "0" * 64          # the "previous hash" of a device's first event
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed by hand
CODE_GROUPS = 4


class EnrolmentRefused(BankError):
    code = "enrolment_refused"


@dataclass(frozen=True)
class Device:
    device_id: str
    kind: str
    merchant_id: int | None
    service_point_id: int | None
    public_key: bytes
    label: str
    status: str
    enrolled_at: str
    revoked_at: str | None
    last_seq: int
    last_hash: str
    last_push_at: str | None
    last_pull_at: str | None
    clock_skew_s: int | None
    held_at: str | None = None       # on hold after breaking rules: what it sends is quarantined
    hold_reason: str | None = None


_COLUMNS = ("device_id, kind, merchant_id, service_point_id, public_key, label, status, enrolled_at, "
            "revoked_at, last_seq, last_hash, last_push_at, last_pull_at, clock_skew_s, held_at, hold_reason")


def _hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii")).hexdigest()


def normalise_code(code: str) -> str:
    """Upper case without spaces or dashes, so 'abcd-efgh' and 'ABCDEFGH' are the same code."""
    if not isinstance(code, str) or len(code) > 64 or not code.isascii():
        return ""
    return "".join(ch for ch in code.upper() if ch not in " -")


def new_enrolment_code(conn: sqlite3.Connection, *, merchant_id: int | None = None,
                       service_point_id: int | None = None, hours: int = 24, now=None) -> str:
    """Make a one-time code for a tablet of ``merchant_id`` or the kiosk of ``service_point_id``."""
    if (merchant_id is None) == (service_point_id is None):
        raise InvalidInput("请指定商户或服务点(二者选一)。", "give either a merchant or a service point")
    if not isinstance(hours, int) or not 1 <= hours <= 24 * 30:
        raise InvalidInput("有效期须为1到720小时。", "validity must be 1 to 720 hours")
    if merchant_id is not None:
        m = merchants.get(conn, merchant_id)
        if m.status != "active":
            raise InvalidInput("该商户不在营业状态,不能登记设备。", f"merchant {merchant_id} is {m.status}")
    elif conn.execute("SELECT 1 FROM service_points WHERE service_point_id = ?", (service_point_id,)).fetchone() is None:
        raise NotFound(f"没有编号为 {service_point_id} 的服务点。", f"no service point {service_point_id}")
    now = now or clock.now_utc()
    code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(CODE_GROUPS))
    conn.execute("INSERT INTO enrolment_codes (code_hash, kind, merchant_id, service_point_id, created_at, "
                 "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (_hash_code(code), "tablet" if merchant_id is not None else "kiosk", merchant_id,
                  service_point_id, clock.to_text(now), clock.to_text(now + dt.timedelta(hours=hours))))
    return code


def _next_device_id(conn: sqlite3.Connection, kind: str) -> str:
    prefix = "T" if kind == "tablet" else "K"
    row = conn.execute("SELECT count(*) FROM devices WHERE kind = ?", (kind,)).fetchone()
    return f"{prefix}{row[0] + 1:04d}"


def enrol(conn: sqlite3.Connection, code: str, public_key: bytes, *, label: str = "", now=None) -> Device:
    """Use an enrolment code to register a device's public key; the caller holds a transaction."""
    now = now or clock.now_utc()
    row = conn.execute("SELECT kind, merchant_id, service_point_id, expires_at, used_at FROM enrolment_codes "
                       "WHERE code_hash = ?", (_hash_code(code),)).fetchone()
    if row is None:
        raise EnrolmentRefused("登记码不正确。", "unknown enrolment code", code="enrolment_code_unknown")
    kind, merchant_id, service_point_id, expires_at, used_at = row
    if used_at is not None:
        raise EnrolmentRefused("登记码已经用过,每个码只能用一次。", "enrolment code already used",
                               code="enrolment_code_used")
    if clock.to_text(now) >= expires_at:
        raise EnrolmentRefused("登记码已过期,请到社区办公室重新领取。", "enrolment code expired",
                               code="enrolment_code_expired")
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise InvalidInput("设备公钥格式不正确。", "device public key must be 32 bytes (Ed25519)")
    if conn.execute("SELECT 1 FROM devices WHERE public_key = ?", (public_key,)).fetchone():
        raise EnrolmentRefused("该设备密钥已登记过。", "this device key is already enrolled",
                               code="enrolment_key_reused")
    device_id = _next_device_id(conn, kind)
    at = clock.to_text(now)
    conn.execute("INSERT INTO devices (device_id, kind, merchant_id, service_point_id, public_key, label, "
                 "enrolled_at, last_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (device_id, kind, merchant_id, service_point_id, public_key, label[:60], at, GENESIS))
    conn.execute("UPDATE enrolment_codes SET used_at = ?, device_id = ? WHERE code_hash = ?",
                 (at, device_id, _hash_code(code)))
    return get(conn, device_id)


def get(conn: sqlite3.Connection, device_id: str) -> Device:
    row = conn.execute(f"SELECT {_COLUMNS} FROM devices WHERE device_id = ?", (device_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {device_id} 的设备。", f"no device {device_id}")
    return Device(*row[:4], bytes(row[4]), *row[5:])


def find(conn: sqlite3.Connection, device_id: str) -> Device | None:
    try:
        return get(conn, device_id)
    except NotFound:
        return None


def all_devices(conn: sqlite3.Connection) -> list[Device]:
    return [Device(*row[:4], bytes(row[4]), *row[5:])
            for row in conn.execute(f"SELECT {_COLUMNS} FROM devices ORDER BY device_id")]


def revoke(conn: sqlite3.Connection, device_id: str, *, now=None) -> Device:
    """Revoke a device: from now on everything it sends is refused and nothing of it is written."""
    device = get(conn, device_id)
    if device.status == "revoked":
        raise InvalidInput(f"设备 {device_id} 已经注销。", f"device {device_id} is already revoked")
    conn.execute("UPDATE devices SET status = 'revoked', revoked_at = ? WHERE device_id = ?",
                 (clock.to_text(now or clock.now_utc()), device_id))
    return get(conn, device_id)


def release(conn: sqlite3.Connection, device_id: str, *, by: str, now=None) -> Device:
    """Take a device off hold: from now on its events are checked one by one again."""
    from . import audit
    if not by:
        raise InvalidInput("必须写明处理人。", "say who clears the hold")
    device = get(conn, device_id)
    if device.held_at is None:
        raise NotFound(f"设备 {device_id} 没有被暂停。", f"device {device_id} is not on hold")
    conn.execute("UPDATE devices SET held_at = NULL, hold_reason = NULL WHERE device_id = ?", (device_id,))
    audit.record(conn, by, "device_release", f"device:{device_id}", {"held_at": device.held_at,
                                                                      "reason": device.hold_reason}, now=now)
    return get(conn, device_id)


def tablets_by_merchant(conn: sqlite3.Connection) -> dict[int, int]:
    """Active tablets per merchant, for the worst-case exposure of a copied card."""
    return dict(conn.execute("SELECT merchant_id, count(*) FROM devices WHERE kind = 'tablet' "
                             "AND status = 'active' GROUP BY merchant_id").fetchall())


ENROL_QR_PREFIX = "MPB-ENROL:"


def enrol_qr_text(server: str, code: str) -> str:
    """The text of an enrolment QR: the office address and the one-time code, so a tablet enrols
    from one scan (``MPB-ENROL:<server url>#<code>``; the code never contains ``#``)."""
    return f"{ENROL_QR_PREFIX}{server.rstrip('/')}#{code}"
