"""Device events: what a device records, how it is hashed and chained, and batch signatures.

An event is a JSON object::

    {"device": "T0003", "seq": 7, "prev": "<sha256 hex of event 6>", "kind": "redemption",
     "at": "2026-11-26T03:12:45.123456Z", "body": {...}}

Its hash is SHA-256 of its canonical JSON (:func:`sync.wire.canonical`). Because each event
carries the hash of the one before, the hash of the last event of a batch (the head) commits to
the whole chain; the device signs only that head. The office recomputes every hash (cheap) and
checks one Ed25519 signature per batch (about 50 µs), not one per event.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bank.devices import GENESIS

from . import wire
from .wire import malformed

KINDS = ("redemption", "reversal", "award", "deduction", "objection", "tip")
DEVICE_KINDS = {"tablet": ("redemption", "reversal"),
                "kiosk": ("award", "deduction", "objection", "reversal", "tip")}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DEVICE_ID = re.compile(r"^[TK][0-9]{4,6}$")
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$")
_CARD_ID = re.compile(r"^[0-9]{6}$")
_FIELDS = {"device", "seq", "prev", "kind", "at", "body"}
# A push body; ``acked_seq`` (optional): how far the device believes the office has acknowledged.
_BATCH_FIELDS = {"protocol", "device", "events", "signature"}
_REDEMPTION_FIELDS = {"card", "card_version", "offer", "qty", "points", "receipt", "proof", "auth"}
_ITEM_FIELDS = {"account", "item", "points", "staff", "staff_auth", "second", "second_auth", "note"}
_OBJECTION_FIELDS = {"account", "card", "entry", "posting", "proof", "reason"}
_TIP_FIELDS = {"category", "building"}     # anonymous: no card, no account
_TIP_CATEGORY = re.compile(r"^[a-z_]{1,20}$")
_REVERSAL_SHAPES = ({"reverses_seq", "reason"}, {"reverses_seq", "reason", "staff", "staff_auth"})
_PROOF = re.compile(r"^[0-9a-f]{32}$")
_AUTH = wire.AUTH_TOKEN
# In canonical JSON an event's first key is "at" and no string holds an unescaped quote, so in
# the canonical text of a list of events this occurs exactly where one event ends and the next
# begins.
_BETWEEN = b'},{"at":"'
_ITEM = re.compile(r"^[A-Z]{1,4}[0-9]{1,4}$")


def make(device_id: str, seq: int, prev: str, kind: str, at: str, body: dict) -> dict:
    """A new event (validated as the office would validate it)."""
    event = {"device": device_id, "seq": seq, "prev": prev, "kind": kind, "at": at, "body": body}
    check(event)
    return event


def digest(event: dict) -> str:
    return wire.sha256_hex(wire.canonical(event))


def _int(value: Any, lo: int, hi: int) -> bool:
    return type(value) is int and lo <= value <= hi


def _text(value: Any, lo: int, hi: int) -> bool:
    return type(value) is str and lo <= len(value) <= hi


def _auth(value: Any) -> bool:
    return type(value) is str and _AUTH.fullmatch(value) is not None


def card_proof(qr_text: str, device_id: str, seq: int | str) -> str:
    """Proof that the device read the card's printed QR text when it made event ``seq`` (or, with
    ``auth:<request time>``, when it asked the office for an online check).

    HMAC-SHA256 keyed by the QR text over the device and the event's number. The office holds
    every card's text and recomputes it; a device keeps the text only while the card is in front
    of it (never in its replica), so a stolen replica and key cannot charge a card they never saw.
    """
    return hmac.digest(qr_text.encode("utf-8"), f"MPB-CARD-1\n{device_id}\n{seq}".encode("utf-8"), "sha256")[:16].hex()


def check(event: Any) -> dict:
    """Validate an event's shape (not its place in a chain); raise a 400 ProtocolError if wrong."""
    if type(event) is not dict or event.keys() != _FIELDS:
        raise malformed("an event has exactly the fields device, seq, prev, kind, at, body")
    # fullmatch, not match with "$" (which also accepts a trailing newline); the checks of the
    # hot path are written out (no helper calls): the office runs them for every pushed event
    if type(event["device"]) is not str or not _DEVICE_ID.fullmatch(event["device"]):
        raise malformed("event device id")
    seq = event["seq"]
    if type(seq) is not int or not 1 <= seq <= 2**53:
        raise malformed("event seq must be a positive integer")
    if type(event["prev"]) is not str or not _HEX64.fullmatch(event["prev"]):
        raise malformed("event prev must be 64 lowercase hex digits")
    kind = event["kind"]
    if kind not in KINDS:
        raise malformed(f"event kind must be one of {', '.join(KINDS)}")
    if type(event["at"]) is not str or not _TIME.fullmatch(event["at"]):
        raise malformed("event time must be UTC text like 2026-11-26T03:12:45.123456Z")
    body = event["body"]
    if type(body) is not dict:
        raise malformed("event body must be an object")
    if kind == "redemption":
        if body.keys() != _REDEMPTION_FIELDS:
            raise malformed("a redemption body has card, card_version, offer, qty, points, receipt, proof, auth")
        if type(body["card"]) is not str or not _CARD_ID.fullmatch(body["card"]):
            raise malformed("redemption card id")
        version, offer, qty, points = body["card_version"], body["offer"], body["qty"], body["points"]
        if not (type(version) is int and 1 <= version <= 999 and type(offer) is int and 1 <= offer <= 2**31
                and type(qty) is int and 1 <= qty <= 99 and type(points) is int and 1 <= points <= 10**6):
            raise malformed("redemption numbers out of range")
        receipt = body["receipt"]
        if type(receipt) is not int or not 1 <= receipt <= seq:
            raise malformed("a redemption's receipt is the seq of its receipt's first line")
        if type(body["proof"]) is not str or not _PROOF.fullmatch(body["proof"]):
            raise malformed("redemption proof must be 32 lowercase hex digits")
        if body["auth"] is not None and (type(body["auth"]) is not str or not _AUTH.fullmatch(body["auth"])):
            raise malformed("redemption auth must be null or an authorisation id")
    elif kind == "reversal":
        # a kiosk's reversal also names the review-group member undoing their own entry
        if body.keys() not in _REVERSAL_SHAPES or not _int(body["reverses_seq"], 1, 2**53) \
                or not _text(body["reason"], 0, 200) \
                or ("staff" in body and not (_int(body["staff"], 1, 2**31) and _auth(body["staff_auth"]))):
            raise malformed("a reversal body has reverses_seq, reason and, at a kiosk, staff and staff_auth")
        if body["reverses_seq"] >= seq:
            raise malformed("a reversal must reverse an earlier event")
    elif kind in ("award", "deduction"):
        if body.keys() != _ITEM_FIELDS:
            raise malformed("an award or deduction body has account, item, points, staff, staff_auth, second, "
                            "second_auth, note")
        if not (_int(body["account"], 1, 2**31) and _int(body["staff"], 1, 2**31) and _auth(body["staff_auth"])
                and ((body["second"] is None and body["second_auth"] is None)
                     or (_int(body["second"], 1, 2**31) and _auth(body["second_auth"])))
                and _int(body["points"], -1000, 1000) and body["points"] != 0):
            raise malformed("award or deduction numbers out of range")
        if (body["points"] > 0) != (kind == "award"):
            raise malformed("an award has positive points, a deduction negative")
        if not isinstance(body["item"], str) or not _ITEM.fullmatch(body["item"]):
            raise malformed("rule item code")
        if not _text(body["note"], 0, 200):
            raise malformed("a note is text of at most 200 characters")
    elif kind == "objection":
        if body.keys() != _OBJECTION_FIELDS:
            raise malformed("an objection body has account, card, entry, posting, proof, reason")
        if not (_int(body["account"], 1, 2**31) and _int(body["entry"], 1, 2**53) and _int(body["posting"], 1, 2**31)):
            raise malformed("objection numbers out of range")
        if type(body["card"]) is not str or not _CARD_ID.fullmatch(body["card"]) \
                or type(body["proof"]) is not str or not _PROOF.fullmatch(body["proof"]):
            raise malformed("an objection names the resident's card and its proof")
        if not _text(body["reason"], 1, 200):
            raise malformed("an objection reason is 1-200 characters")
    elif kind == "tip":
        if body.keys() != _TIP_FIELDS:
            raise malformed("a tip body has category and building")
        if type(body["category"]) is not str or not _TIP_CATEGORY.fullmatch(body["category"]):
            raise malformed("a tip category is 1-20 lowercase letters")
        if body["building"] is not None and not _int(body["building"], 1, 999):
            raise malformed("a tip's building is null or a building number")
    else:
        if len(wire.canonical(body)) > 2000:
            raise malformed("event body too large")
    return event


def batch_message(device_id: str, first_seq: int, last_seq: int, head: str) -> bytes:
    return f"MPB-PUSH-1\n{device_id}\n{first_seq}\n{last_seq}\n{head}".encode("ascii")


def sign_batch(private: Ed25519PrivateKey, device_id: str, events: list[dict]) -> dict:
    """The push body for a run of consecutive events: the events and the signature of their head."""
    head = digest(events[-1])
    sig = private.sign(batch_message(device_id, events[0]["seq"], events[-1]["seq"], head))
    return {"protocol": wire.PROTOCOL, "device": device_id, "events": events, "signature": wire.b64e(sig)}


def parse_batch(obj: Any, body: bytes | None = None) -> tuple[str, list[dict], list[str], list[str], bytes]:
    """Check a push body's shape and internal chain.

    Returns (device, events, hashes, canonical texts of the events, batch signature). ``body``:
    the request bytes when they are known to be the canonical JSON of ``obj``
    (:func:`sync.wire.parse_canonical`); each event's canonical text is then a slice of it
    rather than a fresh serialisation.

    The chain inside the batch must be consecutive and linked; where it joins the office's copy
    is the hub's business.
    """
    if not isinstance(obj, dict) or not _BATCH_FIELDS <= set(obj) <= _BATCH_FIELDS | {"acked_seq"}:
        raise malformed("a push body has protocol, device, events, signature and optionally acked_seq")
    if type(obj["protocol"]) is not int or obj["protocol"] != wire.PROTOCOL:
        raise malformed(f"unsupported protocol {obj['protocol']!r}")
    if "acked_seq" in obj and not (type(obj["acked_seq"]) is int and 0 <= obj["acked_seq"] <= 2**53):
        raise malformed("acked_seq must be a non-negative integer")
    device_id, events = obj["device"], obj["events"]
    if not isinstance(device_id, str) or not _DEVICE_ID.fullmatch(device_id):
        raise malformed("device id")
    if not isinstance(events, list) or not 1 <= len(events) <= wire.MAX_BATCH:
        raise malformed(f"events must be a list of 1 to {wire.MAX_BATCH}")
    signature = wire.b64d(obj["signature"], length=64)
    for event in events:
        check(event)
    raw = _event_texts(events, device_id, body)
    hashes, texts = [], []
    previous = None
    for i, (event, text) in enumerate(zip(events, raw)):
        if i and event["seq"] != previous["seq"] + 1:
            raise malformed("events in a batch must have consecutive sequence numbers")
        if i and event["prev"] != hashes[-1]:
            raise ProtocolErrorChain(event["device"], event["seq"])
        hashes.append(wire.sha256_hex(text))
        texts.append(text.decode("utf-8"))
        previous = event
    return device_id, events, hashes, texts, signature


def _event_texts(events: list[dict], device_id: str, body: bytes | None) -> list[bytes]:
    """Each event's canonical bytes, cut from one canonical text of the whole list.

    The cut is exact by construction (a JSON list is its items joined by commas); and a wrong cut
    could only make a hash differ from the device's, which the chain and the batch signature then
    refuse, never accept. If the count does not come out right, fall back to one event at a time.
    """
    blob = None
    if body is not None:
        # canonical key order: acked_seq (optional), device, events, protocol, signature
        head = b'"device":' + wire.canonical(device_id) + b',"events":'
        at = body.find(head, 0, 64)
        start = at + len(head) if at >= 0 else -1
        end = body.rfind(b',"protocol":')
        if 0 < start < end and body[start:start + 1] == b"[" and body[end - 1:end] == b"]":
            blob = body[start:end]
    if blob is None:
        blob = wire.canonical(events)
    parts = blob[1:-1].split(_BETWEEN)
    if len(parts) != len(events):
        return [wire.canonical(e) for e in events]
    if len(parts) == 1:
        return parts
    last = len(parts) - 1
    return [parts[0] + b"}"] + [b'{"at":"' + p + b"}" for p in parts[1:last]] + [b'{"at":"' + parts[last]]


class ProtocolErrorChain(wire.ProtocolError):
    """An event inside a batch does not carry the hash of the one before it."""

    def __init__(self, device_id: str, seq: int):
        super().__init__("chain_broken", "设备事件链不连续,已拒收。",
                         f"event {seq} of {device_id} does not carry the hash of event {seq - 1}", status=409)
        self.seq = seq


__all__ = ["GENESIS", "make", "digest", "check", "sign_batch", "parse_batch", "batch_message", "card_proof"]
