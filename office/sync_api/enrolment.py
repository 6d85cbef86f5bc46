"""Enrolment at the office (protocol 2): a device registers its key with a one-time code that it
never sends.

Two requests. ``challenge``: the device names the code's public id and gets a fresh challenge.
``enrol``: the device sends its new public key, a signature by that key over the request with the
challenge in it (proof of possession), the fingerprint of the TLS certificate it sees, and an
HMAC of all of it keyed from the code. The office checks the HMAC with the key it keeps for the
outstanding code, then the challenge, the certificate, the key and the signature, and only then
uses the code up. Every refusal before that point burns nothing, so a proxy that spoils an
enrolment cannot also use up the code. The answer is MACed with the same key.

Challenges are not stored: a challenge is its expiry, a nonce and an HMAC of both and the code id
under a secret the server process draws at start (``ChallengeKey``). A server restart makes
outstanding challenges stale, and the device asks for a new one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import sqlite3

from bank import cards, clock, community, devices
from bank.db import transaction
from bank.errors import BankError
from sync import wire
from sync.wire import ProtocolError

CHALLENGE_SECONDS = 300
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CODE_ID = re.compile(f"^[{devices.CODE_ALPHABET}]{{{devices.ID_LEN}}}$")


CHALLENGE_SECRET_ENV = "MPB_CHALLENGE_SECRET"


class ChallengeKey:
    """The server's secret for its challenges (never stored, never sent): given, else
    ``$MPB_CHALLENGE_SECRET`` (hex; every worker process of one server has the same, so a
    challenge one worker made is checked by another: office.workers), else random."""

    def __init__(self, secret: bytes | None = None):
        shared = os.environ.get(CHALLENGE_SECRET_ENV, "")
        if secret is None and shared:
            secret = bytes.fromhex(shared)
        self.secret = secret or secrets.token_bytes(32)

    def tag(self, code_id: str, expires: str, nonce: str) -> str:
        mac = hmac.new(self.secret, f"MPB-ENROL-CHALLENGE-2\n{code_id}\n{expires}\n{nonce}".encode("ascii"),
                       hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def make(self, code_id: str, now: dt.datetime) -> str:
        expires = clock.to_text(now + dt.timedelta(seconds=CHALLENGE_SECONDS))
        nonce = secrets.token_urlsafe(16)
        return f"{expires}.{nonce}.{self.tag(code_id, expires, nonce)}"

    def check(self, code_id: str, challenge: str, now: dt.datetime) -> None:
        parts = challenge.split(".")
        if len(parts) == 4:     # the time text has a dot of its own: 2026-…T…:…:…(.)123456Z
            expires, nonce, tag = parts[0] + "." + parts[1], parts[2], parts[3]
            if (wire.REQUEST_TIME.fullmatch(expires) and hmac.compare_digest(tag, self.tag(code_id, expires, nonce))
                    and clock.to_text(now) < expires):
                return
        raise ProtocolError("enrolment_challenge", "登记请求已过期,请重新登记。",
                            "the enrolment challenge is unknown or expired: ask for a new one", status=403)


def _refused(exc: BankError) -> ProtocolError:
    status = 403 if isinstance(exc, devices.EnrolmentRefused) else 400
    return ProtocolError(exc.code, exc.zh, exc.en, status=status)


def _protocol(obj: dict) -> None:
    if obj.get("protocol") != wire.ENROL_PROTOCOL:
        raise ProtocolError("protocol_unsupported", "设备程序版本过旧,请先更新设备程序再登记。",
                            f"enrolment protocol {wire.ENROL_PROTOCOL} is required: update the device app",
                            status=400)


def _code_id(obj: dict) -> str:
    code_id = obj.get("code_id")
    if not isinstance(code_id, str) or not _CODE_ID.fullmatch(code_id):
        raise wire.malformed(f"code_id must be {devices.ID_LEN} characters of the code alphabet")
    return code_id


def challenge(conn: sqlite3.Connection, body: bytes, now: dt.datetime, key: ChallengeKey) -> dict:
    """A fresh challenge for an outstanding code: ``{"protocol": 2, "code_id": "7KQM"}``."""
    obj = wire.parse_json(body, wire.MAX_SMALL_BYTES)
    if not isinstance(obj, dict) or set(obj) != {"protocol", "code_id"}:
        raise wire.malformed("a challenge request has protocol and code_id")
    _protocol(obj)
    code_id = _code_id(obj)
    try:
        devices.check_usable(devices.outstanding_code(conn, code_id), now)
    except BankError as exc:
        raise _refused(exc) from None
    return {"protocol": wire.ENROL_PROTOCOL, "code_id": code_id, "challenge": key.make(code_id, now)}


REQUEST_FIELDS = {"protocol", "code_id", "kind", "challenge", "public_key", "label", "tls", "signature", "mac"}


def enrol(conn: sqlite3.Connection, body: bytes, now: dt.datetime, *, key: ChallengeKey,
          tls_fingerprint: str | None) -> dict:
    """Register a device key; answer with its identity and the community keys, MACed.

    ``tls_fingerprint`` is the SHA-256 of the certificate this server presents (None when it
    serves plain HTTP on this machine): the device must have seen exactly that one.
    """
    obj = wire.parse_json(body, wire.MAX_SMALL_BYTES)
    if isinstance(obj, dict) and "code" in obj and "protocol" not in obj:
        _protocol(obj)          # a protocol 1 device: it would send the code in clear
    if not isinstance(obj, dict) or set(obj) != REQUEST_FIELDS:
        raise wire.malformed(f"an enrolment has exactly {sorted(REQUEST_FIELDS)}")
    _protocol(obj)
    code_id = _code_id(obj)
    label, tls, mac, challenge_text = obj["label"], obj["tls"], obj["mac"], obj["challenge"]
    if obj["kind"] not in devices.KINDS:
        raise wire.malformed(f"kind must be one of {sorted(devices.KINDS)}")
    if not isinstance(label, str) or len(label) > 60:
        raise wire.malformed("label must be text of at most 60 characters")
    if not isinstance(challenge_text, str) or len(challenge_text) > 200:
        raise wire.malformed("challenge must be text")
    if tls is not None and (not isinstance(tls, str) or not _HEX64.fullmatch(tls)):
        raise wire.malformed("tls must be null or the certificate's SHA-256 as 64 lower-case hex digits")
    if not isinstance(mac, str) or not _HEX64.fullmatch(mac):
        raise wire.malformed("mac must be 64 lower-case hex digits")
    public_key = wire.b64d(obj["public_key"], length=32)
    signature = wire.b64d(obj["signature"], length=64)

    # Who knows the code? Nothing below this check tells a stranger anything.
    try:
        code = devices.check_usable(devices.outstanding_code(conn, code_id), now)
    except BankError as exc:
        raise _refused(exc) from None
    if not hmac.compare_digest(mac, wire.enrolment_request_mac(code.key, obj)):
        raise ProtocolError("enrolment_code_wrong", "登记码不正确(或登记请求在途中被改动),未作任何更改。",
                            "the request's MAC does not match this enrolment code", status=403)
    key.check(code_id, challenge_text, now)
    if obj["kind"] != code.kind:
        raise ProtocolError("enrolment_wrong_kind", "这个登记码是给另一类设备的(商户平板/服务点一体机),未作任何更改。",
                            f"this code enrols a {code.kind}, not a {obj['kind']}: nothing was changed", status=403)
    if tls != tls_fingerprint:
        raise ProtocolError("enrolment_channel", "设备连接到的不是本办公室的服务器(中间可能有代理),未登记。",
                            "the device saw another TLS certificate than this office's: a proxy in between?",
                            status=403)
    try:
        devices.check_public_key(public_key)
    except BankError as exc:
        raise _refused(exc) from None
    if not wire.verify(public_key, signature, wire.enrolment_pop_message(obj)):
        raise ProtocolError("enrolment_key_unproven", "登记请求的签名不是所报设备密钥签的,已拒绝。",
                            "the signature is not by the offered device key (no proof of possession)", status=403)
    try:
        with transaction(conn):
            device = devices.enrol_by_id(conn, code_id, public_key, label=label, now=now)
    except BankError as exc:
        raise _refused(exc) from None
    answer = {
        "protocol": wire.ENROL_PROTOCOL, "device_id": device.device_id, "kind": device.kind,
        "merchant_id": device.merchant_id, "service_point_id": device.service_point_id,
        "community": community.code(conn), "community_name": community.name(conn),
        "issuing_keys": {k: wire.b64e(v) for k, v in cards.public_keys(conn).items()},
        "server_time": clock.to_text(now), "public_key": obj["public_key"], "challenge": challenge_text,
        "tls": tls_fingerprint,
    }
    answer["mac"] = wire.enrolment_answer_mac(code.key, answer)
    return answer
