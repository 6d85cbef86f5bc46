"""Enrolled devices (merchant tablets and kiosks) and their one-time enrolment codes.

A device is enrolled with a code the office prints (or shows as a QR image): the code names what
the device will be (a tablet of one merchant, or the kiosk of one service point), expires, and
works once. The printed code is ``IIII-SSSS-SSSS-SSSS-SSSS-FFFF-FFFF``: a public code id (by
which the office finds the code without the code being sent), a 16-character secret (79 bits)
and a check of the office's TLS certificate fingerprint, which the device compares with the
certificate it is shown. The device never sends the code: it proves it knows it with an HMAC
keyed from it (:func:`code_key`). The office keeps that key, not the code, and only while the
code is outstanding (see docs/security.md for what a copy of the store can do with it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import re
import secrets
import sqlite3
from dataclasses import dataclass

from . import clock, merchants, settings
from .errors import BankError, InvalidInput, NotFound

KINDS = ("tablet", "kiosk")
GENESIS = "0" * 64          # the "previous hash" of a device's first event
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed by hand
ID_LEN, SECRET_LEN, CHECK_LEN = 4, 16, 8
FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")     # SHA-256 of the office certificate (DER), hex


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


KIND_NAMES = {"tablet": "商户平板", "kiosk": "一体机"}


def status_name(d: Device) -> str:
    """A device's state as the console and the command line say it."""
    return "已注销" if d.status != "active" else "已暂停" if d.held_at else "有效"


_COLUMNS = ("device_id, kind, merchant_id, service_point_id, public_key, label, status, enrolled_at, "
            "revoked_at, last_seq, last_hash, last_push_at, last_pull_at, clock_skew_s, held_at, hold_reason")


class BadCode(InvalidInput):
    code = "enrolment_code_malformed"


@dataclass(frozen=True)
class EnrolmentCode:
    """A printed enrolment code, parsed: its public id, its secret and, if it carries one, the
    check of the office certificate's fingerprint."""
    code_id: str
    secret: str
    fingerprint_check: str | None

    @property
    def key(self) -> bytes:
        return code_key(self.code_id, self.secret)


@dataclass(frozen=True)
class OutstandingCode:
    code_id: str
    kind: str
    merchant_id: int | None
    service_point_id: int | None
    expires_at: str
    used_at: str | None
    key: bytes | None          # None once used or expired


def normalise_code(code: str) -> str:
    """Upper case without spaces or dashes, so 'abcd-efgh' and 'ABCDEFGH' are the same code."""
    if not isinstance(code, str) or len(code) > 64 or not code.isascii():
        return ""
    return "".join(ch for ch in code.upper() if ch not in " -")


def parse_code(text: str) -> EnrolmentCode:
    """The printed code (with or without the fingerprint check), or a plain refusal."""
    raw = normalise_code(text)
    if len(raw) not in (ID_LEN + SECRET_LEN, ID_LEN + SECRET_LEN + CHECK_LEN) or any(
            ch not in CODE_ALPHABET for ch in raw):
        raise BadCode("登记码格式不正确:应为 7 组(或 5 组)由字母和数字组成的 4 位字符,如 7KQM-N7NA-4YVK-J3QW-36V8-XC9P-RT4M。",
                      "an enrolment code is 7 (or 5) groups of 4 letters and digits, "
                      "e.g. 7KQM-N7NA-4YVK-J3QW-36V8-XC9P-RT4M")
    check = raw[ID_LEN + SECRET_LEN:] or None
    return EnrolmentCode(raw[:ID_LEN], raw[ID_LEN:ID_LEN + SECRET_LEN], check)


def code_key(code_id: str, secret: str) -> bytes:
    """The HMAC key both ends derive from a code: the device's proof and the office's answer are
    MACed with it. Domain-separated so it is never the same bytes as anything else."""
    return hmac.new(b"MPB-ENROL-KEY-2", f"{code_id}{secret}".encode("ascii"), hashlib.sha256).digest()


def fingerprint_check(fingerprint: str) -> str:
    """The 8 characters of the printed code that check the office certificate's fingerprint
    (its first 80 bits in the code alphabet, about 40 bits): short enough to type. The full
    fingerprint travels in the QR and, MACed, in the office's enrolment answer."""
    n = int(fingerprint[:20], 16)
    out = []
    for _ in range(CHECK_LEN):
        n, r = divmod(n, len(CODE_ALPHABET))
        out.append(CODE_ALPHABET[r])
    return "".join(out)


def office_fingerprint(conn: sqlite3.Connection) -> str | None:
    """The fingerprint of the certificate the office serves (recorded by ``office serve``)."""
    value = settings.get(conn, "office.tls_fingerprint")
    return value if value and FINGERPRINT.fullmatch(value) else None


def record_office_fingerprint(conn: sqlite3.Connection, fingerprint: str) -> None:
    if not FINGERPRINT.fullmatch(fingerprint):
        raise InvalidInput("证书指纹格式不正确。", "a certificate fingerprint is 64 lower-case hex digits")
    settings.put(conn, "office.tls_fingerprint", fingerprint)


def _group(text: str) -> str:
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def _forget_expired_keys(conn: sqlite3.Connection, now: dt.datetime) -> None:
    conn.execute("UPDATE enrolment_codes SET code_key = NULL WHERE code_key IS NOT NULL AND expires_at <= ?",
                 (clock.to_text(now),))


def new_enrolment_code(conn: sqlite3.Connection, *, merchant_id: int | None = None,
                       service_point_id: int | None = None, hours: int = 24, now=None,
                       rng: random.Random | None = None) -> str:
    """Make a one-time code for a tablet of ``merchant_id`` or the kiosk of ``service_point_id``.

    The printed code carries the check of the office's certificate fingerprint when the office
    has recorded one (``office serve`` does; a store never served has none, and its codes work
    only over plain HTTP on this machine). ``rng`` only for the deterministic demo, whose codes
    are used at once; every real code comes from ``secrets``."""
    choice = rng.choice if rng is not None else secrets.choice
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
    _forget_expired_keys(conn, clock.now_utc())
    while True:     # ids are never reused: 31^4 of them, a community makes a few hundred codes
        code_id = "".join(choice(CODE_ALPHABET) for _ in range(ID_LEN))
        if conn.execute("SELECT 1 FROM enrolment_codes WHERE code_id = ?", (code_id,)).fetchone() is None:
            break
    secret = "".join(choice(CODE_ALPHABET) for _ in range(SECRET_LEN))
    conn.execute("INSERT INTO enrolment_codes (code_hash, code_id, code_key, kind, merchant_id, service_point_id, "
                 "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (hashlib.sha256((code_id + secret).encode("ascii")).hexdigest(), code_id,
                  code_key(code_id, secret), "tablet" if merchant_id is not None else "kiosk", merchant_id,
                  service_point_id, clock.to_text(now), clock.to_text(now + dt.timedelta(hours=hours))))
    fingerprint = office_fingerprint(conn)
    return _group(code_id + secret + (fingerprint_check(fingerprint) if fingerprint else ""))


def outstanding_code(conn: sqlite3.Connection, code_id: str) -> OutstandingCode | None:
    row = conn.execute("SELECT code_id, kind, merchant_id, service_point_id, expires_at, used_at, code_key "
                       "FROM enrolment_codes WHERE code_id = ?", (code_id,)).fetchone()
    if row is None:
        return None
    return OutstandingCode(*row[:6], bytes(row[6]) if row[6] is not None else None)


def check_usable(code: OutstandingCode | None, now: dt.datetime) -> OutstandingCode:
    """The code if it can still enrol a device, else the refusal that says why."""
    if code is None:
        raise EnrolmentRefused("登记码不正确。", "unknown enrolment code", code="enrolment_code_unknown")
    if code.used_at is not None:
        raise EnrolmentRefused("登记码已经用过,每个码只能用一次。", "enrolment code already used",
                               code="enrolment_code_used")
    if clock.to_text(now) >= code.expires_at or code.key is None:
        raise EnrolmentRefused("登记码已过期,请到社区办公室重新领取。", "enrolment code expired",
                               code="enrolment_code_expired")
    return code


def check_public_key(public_key: bytes) -> None:
    """A device key must be a canonical encoding of a point of the prime-order group: no
    small-order point (the identity and its seven companions, for which a signature can be
    made without a private key), no non-canonical encoding, no point with a small-order part.
    libsodium's check (through PyNaCl) is the field's; we do not keep our own tables."""
    # only the office checks keys: the tablets do not need libsodium
    from nacl.bindings import crypto_core_ed25519_is_valid_point

    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise InvalidInput("设备公钥格式不正确。", "device public key must be 32 bytes (Ed25519)")
    if not crypto_core_ed25519_is_valid_point(public_key):
        raise EnrolmentRefused("设备公钥不安全(弱密钥),已拒绝登记。",
                               "device public key is not a valid prime-order Ed25519 point (weak key)",
                               code="enrolment_key_weak")


def _next_device_id(conn: sqlite3.Connection, kind: str) -> str:
    prefix = "T" if kind == "tablet" else "K"
    row = conn.execute("SELECT count(*) FROM devices WHERE kind = ?", (kind,)).fetchone()
    return f"{prefix}{row[0] + 1:04d}"


def enrol_by_id(conn: sqlite3.Connection, code_id: str, public_key: bytes, *, label: str = "", now=None) -> Device:
    """Register a device key with the outstanding code ``code_id``, whose knowledge the caller has
    checked (the sync API checks the device's HMAC); the caller holds a transaction. The code is
    used up and its key forgotten."""
    now = now or clock.now_utc()
    code = check_usable(outstanding_code(conn, code_id), now)
    check_public_key(public_key)
    if conn.execute("SELECT 1 FROM devices WHERE public_key = ?", (public_key,)).fetchone():
        raise EnrolmentRefused("该设备密钥已登记过。", "this device key is already enrolled",
                               code="enrolment_key_reused")
    device_id = _next_device_id(conn, code.kind)
    at = clock.to_text(now)
    conn.execute("INSERT INTO devices (device_id, kind, merchant_id, service_point_id, public_key, label, "
                 "enrolled_at, last_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (device_id, code.kind, code.merchant_id, code.service_point_id, public_key, label[:60], at, GENESIS))
    conn.execute("UPDATE enrolment_codes SET used_at = ?, device_id = ?, code_key = NULL WHERE code_id = ?",
                 (at, device_id, code_id))
    return get(conn, device_id)


def enrol(conn: sqlite3.Connection, code: str, public_key: bytes, *, label: str = "", now=None) -> Device:
    """Use a whole code (as printed) to register a device's public key, at the office itself
    (benchmarks, tests, tools with the store open); the caller holds a transaction."""
    now = now or clock.now_utc()
    try:
        parsed = parse_code(code)
    except BadCode:
        raise EnrolmentRefused("登记码不正确。", "unknown enrolment code", code="enrolment_code_unknown") from None
    found = check_usable(outstanding_code(conn, parsed.code_id), now)
    if not hmac.compare_digest(found.key, parsed.key):
        raise EnrolmentRefused("登记码不正确。", "wrong enrolment code", code="enrolment_code_wrong")
    return enrol_by_id(conn, parsed.code_id, public_key, label=label, now=now)


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


def enrol_qr_text(server: str, code: str, fingerprint: str | None = None) -> str:
    """The text of an enrolment QR: the office address, the one-time code and the full SHA-256
    fingerprint of the office's certificate, so a device enrols and pins from one scan
    (``MPB-ENROL:<server url>#<code>#<fingerprint>``; neither code nor fingerprint contains ``#``)."""
    return f"{ENROL_QR_PREFIX}{server.rstrip('/')}#{code}" + (f"#{fingerprint}" if fingerprint else "")


def parse_enrol_qr(text: str) -> tuple[str, str, str | None]:
    """(server, code, fingerprint or None) from an enrolment QR's text, or a plain refusal."""
    if not isinstance(text, str) or not text.startswith(ENROL_QR_PREFIX) or "#" not in text or len(text) > 400:
        raise BadCode("这不是登记二维码。请扫描社区办公室打印的登记码,或手工输入。", "this is not an enrolment QR code")
    rest, _, last = text[len(ENROL_QR_PREFIX):].rpartition("#")
    fingerprint = None
    if FINGERPRINT.fullmatch(last.lower()) and "#" in rest:
        fingerprint = last.lower()
        rest, _, last = rest.rpartition("#")
    parse_code(last)
    return rest, last, fingerprint


SILENT_HOURS = 24


def silent(conn: sqlite3.Connection, now: dt.datetime, hours: int = SILENT_HOURS) -> list[sqlite3.Row]:
    """Active devices whose last sync (push or pull) is older than ``hours`` or that never synced."""
    limit = clock.to_text(now - dt.timedelta(hours=hours))
    # The later of two times, written as CASE: SQLite's two-argument max() is PostgreSQL's greatest().
    push, pull = "coalesce(last_push_at, '')", "coalesce(last_pull_at, '')"
    last_sync = f"CASE WHEN {push} > {pull} THEN {push} ELSE {pull} END"
    return conn.execute(
        f"SELECT device_id, kind, label, merchant_id, service_point_id, {last_sync} AS last_sync FROM devices "
        f"WHERE status = 'active' AND {last_sync} < ? ORDER BY device_id", (limit,)).fetchall()
