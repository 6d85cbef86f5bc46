"""What travels on the wire: canonical JSON, hashes, signatures, request authentication, errors.

Every signature is over a message that starts with its own domain tag (``MPB-REQ-1``,
``MPB-PUSH-1``, ``MPB-PULL-1``), so a signature made for one purpose can never be replayed as
another, and none of them can be mistaken for a card (whose signed text starts ``MPB1:``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import Any, Mapping, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bank import cardcode
from bank.errors import BankError

PROTOCOL = 2
API = "/api/v1"
MAX_PUSH_BYTES = 2 * 1024 * 1024     # one push request; a batch of 500 events is ~150 KB
MAX_SMALL_BYTES = 16 * 1024          # enrol and pull requests
MAX_BATCH = 1000                     # events per push
CLOCK_SKEW_LIMIT_S = 600             # a device clock further off than this is flagged
# A request's signed time must lie within [enrolment - this, office time + this]: wide enough for
# a tablet clock that is hours off to keep working (flagged above), narrow enough that no request
# can push the device's replay counter out of reach.
REQUEST_TIME_ALLOWANCE_S = 24 * 3600

# A request's signed device time: fixed-width UTC text (bank.clock.to_text), so it sorts as time.
REQUEST_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$")

# Request headers a device sends with every push and pull.
H_DEVICE = "x-mpb-device"
H_TIME = "x-mpb-time"
H_SIGNATURE = "x-mpb-signature"


class ProtocolError(BankError):
    """A request the office refuses. ``status`` is the HTTP status; ``code`` is stable."""

    def __init__(self, code: str, zh: str, en: str, *, status: int = 400, acked_seq: int | None = None,
                 extra: dict | None = None):
        super().__init__(zh, en, code=code)
        self.status = status
        self.acked_seq = acked_seq
        self.extra = extra or {}

    def body(self) -> dict:
        out = {"error": self.code, "zh": self.zh, "en": self.en, **self.extra}
        if self.acked_seq is not None:
            out["acked_seq"] = self.acked_seq
        return out


def malformed(en: str, zh: str = "请求格式不正确。") -> ProtocolError:
    return ProtocolError("malformed", zh, f"malformed request: {en}", status=400)


def canonical(obj: Any) -> bytes:
    """The one byte form of a JSON value that is hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def table(fields: tuple[str, ...], rows) -> dict:
    """A list of records with named fields, the names given once: ``{"fields": [...], "rows": [[...]]}``.

    A pull carries thousands of accounts, cards and passbook lines; naming each field in every
    record doubled a pull's size. The receiver takes the columns it needs by name
    (:func:`columns`), so the order an office query happens to produce decides nothing.
    """
    return {"fields": list(fields), "rows": [list(r) for r in rows]}


def columns(data, fields: tuple[str, ...]) -> list[tuple]:
    """The rows of a :func:`table` as tuples of ``fields``, in that order (PullRejected if one is missing)."""
    try:
        index = [data["fields"].index(f) for f in fields]
        return [tuple(r[i] for i in index) for r in data["rows"]]
    except (KeyError, TypeError, ValueError, IndexError):
        raise PullRejected("收到的数据格式不正确,未作任何更改。",
                           f"pull refused: a table lacks the fields {fields}") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: Any, *, length: int | None = None) -> bytes:
    """Decode strict base64 (or raise a 400 ProtocolError)."""
    if not isinstance(text, str) or len(text) > 200:
        raise malformed("expected a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise malformed("bad base64") from None
    if length is not None and len(raw) != length:
        raise malformed(f"expected {length} bytes")
    return raw


def parse_json(body: bytes, limit: int) -> Any:
    """Parse a request body, refusing oversized, non-UTF-8, non-JSON, NaN and duplicate keys."""
    if len(body) > limit:
        raise ProtocolError("too_large", "请求太大。", f"request body over {limit} bytes", status=413)
    def no_dupes(pairs):
        out = dict(pairs)
        if len(out) != len(pairs):
            raise ValueError("duplicate key")
        return out
    def no_constants(name):
        raise ValueError(f"{name} is not JSON")
    try:
        obj = json.loads(body.decode("utf-8"), object_pairs_hook=no_dupes, parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise malformed(f"not valid JSON ({type(exc).__name__})") from None
    check_text(obj)
    return obj


def check_text(obj: Any) -> None:
    """Refuse a JSON value with a string that is not Unicode text: JSON may escape a lone UTF-16
    surrogate (``"\\ud800"``), which Python decodes into a str that cannot be encoded again, so
    it could be neither hashed nor stored. Encoding the whole value once finds any of them."""
    try:
        canonical(obj)
    except UnicodeEncodeError:
        raise malformed("a text field holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text",
                        "请求中有无法识别的文字。") from None
    except (ValueError, RecursionError):
        raise malformed("not valid JSON") from None


def parse_canonical(body: bytes, limit: int) -> tuple[Any, bool]:
    """Parse a body that is usually canonical JSON already (devices send it so): ``(obj, True)``.

    Fast path: a plain parse, then one re-serialisation compared with the body. Equal bytes prove
    the body is canonical UTF-8 JSON, so it had no duplicate keys (a duplicate is dropped by the
    parse and the text would come out shorter) and no NaN (``canonical`` refuses it), and the
    caller may hash slices of the body instead of re-serialising each part. Anything else goes
    through the strict :func:`parse_json`: ``(obj, False)``.
    """
    if len(body) > limit:
        raise ProtocolError("too_large", "请求太大。", f"request body over {limit} bytes", status=413)
    try:
        obj = json.loads(body.decode("utf-8"))
        if canonical(obj) == body:
            return obj, True
    except (UnicodeDecodeError, ValueError, RecursionError):
        pass
    return parse_json(body, limit), False


def load_public(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(public: Ed25519PublicKey | bytes, signature: bytes, message: bytes) -> bool:
    if isinstance(public, (bytes, bytearray)):
        public = load_public(bytes(public))
    try:
        public.verify(signature, message)
        return True
    except InvalidSignature:
        return False


# --- request authentication -----------------------------------------------------------------

def request_message(method: str, path: str, device_id: str, time_text: str, body: bytes) -> bytes:
    """What a device signs for each request: method, path, who, when, and the body's hash."""
    return (f"MPB-REQ-1\n{method.upper()}\n{path}\n{device_id}\n{time_text}\n".encode("utf-8")
            + sha256_hex(body).encode("ascii"))


def sign_request(private: Ed25519PrivateKey, method: str, path: str, device_id: str, time_text: str,
                 body: bytes) -> dict[str, str]:
    sig = private.sign(request_message(method, path, device_id, time_text, body))
    return {H_DEVICE: device_id, H_TIME: time_text, H_SIGNATURE: b64e(sig)}


def request_headers(headers: Mapping[str, str]) -> tuple[str, str, bytes]:
    """(device id, device time, signature) from request headers, or 401."""
    device_id, time_text, sig = (headers.get(H_DEVICE), headers.get(H_TIME), headers.get(H_SIGNATURE))
    if not device_id or not time_text or not sig:
        raise ProtocolError("unsigned", "请求没有设备签名。", "request is not signed by a device", status=401)
    if len(device_id) > 16 or len(time_text) > 40:
        raise ProtocolError("bad_signature", "设备签名不正确。", "malformed signature headers", status=401)
    if not REQUEST_TIME.fullmatch(time_text):
        # fixed-width UTC text sorts as time, which the replay check relies on
        raise ProtocolError("bad_signature", "设备签名不正确。",
                            "request time must be UTC text like 2026-11-26T03:12:45.123456Z", status=401)
    try:
        raw = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 64:
        raise ProtocolError("bad_signature", "设备签名不正确。", "signature header is not 64 bytes of base64",
                            status=401)
    return device_id, time_text, raw


# --- enrolment (protocol 2) -------------------------------------------------------------------
#
# The device never sends the code. It asks for a challenge naming the code's public id, signs the
# request with its new key (proof of possession, over the office's challenge) and MACs the whole
# request with the key derived from the code (bank.devices.code_key). The office answers with
# everything it says MACed with the same key. Both sides put the fingerprint of the TLS
# certificate the device sees ("tls") under the MACs: a proxy with its own certificate is
# caught by the office (it is not the office's certificate) and by the device (the office's
# MACed answer names another one).

ENROL_PROTOCOL = 2
ENROL_POP_DOMAIN = b"MPB-ENROL-POP-2\n"
ENROL_REQUEST_DOMAIN = b"MPB-ENROL-REQ-2\n"
ENROL_ANSWER_DOMAIN = b"MPB-ENROL-ANS-2\n"


def _without(obj: dict, *keys: str) -> dict:
    return {k: v for k, v in obj.items() if k not in keys}


def enrolment_pop_message(request: dict) -> bytes:
    """What the new device key signs: the request (with the office's challenge) but its proofs."""
    return ENROL_POP_DOMAIN + canonical(_without(request, "signature", "mac"))


def enrolment_request_mac(key: bytes, request: dict) -> str:
    return hmac.new(key, ENROL_REQUEST_DOMAIN + canonical(_without(request, "mac")), hashlib.sha256).hexdigest()


def enrolment_answer_mac(key: bytes, answer: dict) -> str:
    """HMAC of the office's answer keyed from the one-time code: the device knows the code, so it
    can tell the real office's answer (and the issuing keys in it) from a stranger's."""
    return hmac.new(key, ENROL_ANSWER_DOMAIN + canonical(_without(answer, "mac")), hashlib.sha256).hexdigest()


# --- authorisations (office -> device, cited back in events) ------------------------------------

# An authorisation the office issues online (a redemption above the limits, a review-group
# member's session or second confirmation): ``<key id>.<nonce>.<issued>.<expires>.<signature>``,
# times in seconds since 1970 (base 36), the signature by the community issuing key over
# :func:`authorisation_message`. Settlement verifies it with the public key alone, so an office
# restored from an older backup still accepts the events a device re-sends that cite one.
AUTH_TOKEN = re.compile(r"K[0-9]{1,4}\.[0-9a-f]{16}\.[0-9a-z]{1,8}\.[0-9a-z]{1,8}\.[A-Za-z0-9_-]{86}")
AUTH_DOMAIN = "MPB-AUTH-1"


def authorisation_message(device_id: str, purpose: str, nonce: str, issued: int, expires: int, *,
                          card_id: str | None = None, reviewer_id: int | None = None, points: int | None = None) -> bytes:
    return "\n".join([AUTH_DOMAIN, device_id, purpose, card_id or "", str(reviewer_id or ""), str(points or ""),
                      nonce, str(issued), str(expires)]).encode("utf-8")


# --- pull signatures (office -> device) --------------------------------------------------------

PULL_DOMAIN = b"MPB-PULL-1\n"
_PULL_KEY_ID = re.compile(r"K[0-9]{1,6}")


def sign_pull(private: Ed25519PrivateKey, key_id: str, payload: dict,
              endorsements: Sequence[tuple[str, bytes, str, bytes]] = ()) -> dict:
    """Wrap a pull payload: the exact payload text, the community key id and its signature, and
    the endorsements of rotated keys (key id, public key, endorsing key id, signature), each
    signed by its predecessor, so a device that trusts an older key can follow the chain."""
    text = canonical(payload).decode("utf-8")
    sig = private.sign(PULL_DOMAIN + key_id.encode("ascii") + b"\n" + text.encode("utf-8"))
    message = {"key_id": key_id, "payload": text, "signature": b64e(sig)}
    if endorsements:
        message["endorsements"] = [{"key_id": k, "public_key": b64e(pub), "by": by, "signature": b64e(es)}
                                   for k, pub, by, es in endorsements]
    return message


def _endorsed_keys(message: dict, public_keys: Mapping[str, bytes]) -> dict[str, bytes]:
    """The trusted keys plus those that a trusted key endorsed, following the chain."""
    trusted = dict(public_keys)
    chain = message.get("endorsements")
    if not isinstance(chain, list) or len(chain) > 100:
        return trusted
    for item in chain:      # in rotation order: K2 by K1, then K3 by K2, ...
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str)
                                                 for k in ("key_id", "public_key", "by", "signature")):
            continue
        if not _PULL_KEY_ID.fullmatch(item["key_id"]) or item["key_id"] in trusted or item["by"] not in trusted:
            continue
        try:
            public = base64.b64decode(item["public_key"], validate=True)
            sig = base64.b64decode(item["signature"], validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(public) == 32 and len(sig) == 64 and verify(
                bytes(trusted[item["by"]]), sig, cardcode.endorsement_message(item["key_id"], public)):
            trusted[item["key_id"]] = public
    return trusted


class PullRejected(BankError):
    code = "pull_rejected"


def open_pull(message: Any, public_keys: Mapping[str, bytes], device_id: str) -> dict:
    """Verify a signed pull with the community's public keys; return the payload or refuse."""
    def bad(en: str):
        return PullRejected("收到的数据签名不正确,未作任何更改。", f"pull refused: {en}")
    if not isinstance(message, dict) or not all(isinstance(message.get(k), str)
                                                for k in ("key_id", "payload", "signature")):
        raise bad("not a signed pull message")
    key = public_keys.get(message["key_id"]) or _endorsed_keys(message, public_keys).get(message["key_id"])
    if key is None:
        raise bad(f"unknown key {message['key_id']!r}")
    try:
        sig = base64.b64decode(message["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise bad("signature is not base64") from None
    signed = PULL_DOMAIN + message["key_id"].encode("ascii", "replace") + b"\n" + message["payload"].encode("utf-8")
    if len(sig) != 64 or not verify(bytes(key), sig, signed):
        raise bad("signature does not verify")
    payload = json.loads(message["payload"])
    if payload.get("device_id") != device_id:
        raise bad("pull is for another device")
    return payload
