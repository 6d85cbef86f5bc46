"""Online checks a device asks the office for: a PIN, a redemption above the offline limits, a
review-group member's session and a second member's confirmation.

No device holds a PIN verifier (DESIGN invariant 6): a stolen tablet must not let anyone guess
PINs at leisure. The device sends the PIN over the pinned channel; the office checks it with the
attempt limit of :mod:`bank.attempts` (5 wrong in a row lock that card or member for 15
minutes, audited, with an alert) and answers with an authorisation bound to the device, the card
or member, the amount and a short expiry. The device cites the authorisation's id in the events
it then records; settlement accepts an event above the limits only with a valid citation.

Every request also carries a proof that the card was in front of the device
(:func:`sync.events.card_proof` over the request's signed time), so a copied key cannot ask for
authorisations on cards it never saw.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import sqlite3
from dataclasses import dataclass

from bank import accounts, attempts, cardcode, cards, clock, ledger, objections, policy, reviewers
from bank.db import transaction
from sync import events as ev
from sync import wire
from sync.wire import ProtocolError

from .kiosk_settlement import compound_of

PURPOSES = {"tablet": ("redeem",), "kiosk": ("passbook", "staff", "second")}
MINUTES = {"redeem": 5, "staff": 8 * 60, "second": 15}   # a staff session is a working day's shift
_FIELDS = {"purpose", "card", "card_version", "proof", "pin", "points"}


def _refuse(code: str, zh: str, en: str, status: int = 403, **extra) -> ProtocolError:
    return ProtocolError(code, zh, en, status=status, extra=extra)


def _parse(body: bytes) -> dict:
    obj = wire.parse_json(body, wire.MAX_SMALL_BYTES)
    if not isinstance(obj, dict) or set(obj) != _FIELDS:
        raise wire.malformed("an authorisation request has purpose, card, card_version, proof, pin, points")
    if obj["purpose"] not in ("redeem", "passbook", "staff", "second"):
        raise wire.malformed("purpose must be redeem, passbook, staff or second")
    if not (isinstance(obj["card"], str) and len(obj["card"]) == 6 and obj["card"].isdigit()
            and type(obj["card_version"]) is int and 1 <= obj["card_version"] <= 999):
        raise wire.malformed("card and card_version")
    if not (isinstance(obj["proof"], str) and len(obj["proof"]) == 32):
        raise wire.malformed("proof")
    pin = obj["pin"]
    if pin is not None and not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and 1 <= len(pin) <= 12):
        raise wire.malformed("pin must be null or digits")
    points = obj["points"]
    if obj["purpose"] == "redeem":
        if type(points) is not int or not 1 <= points <= 10**6:
            raise wire.malformed("a redemption authorisation names its points")
    elif points is not None:
        raise wire.malformed("only a redemption authorisation names points")
    return obj


def _card(conn, device, obj: dict, request_time: str) -> sqlite3.Row:
    """The card row the request is about, if it is current and was shown to the device."""
    row = conn.execute("SELECT c.card_id, c.version, c.account_id, c.role, c.qr, c.status, a.status AS account_status, "
                       "a.pin_hash, a.compound_id FROM cards c JOIN accounts a USING (account_id) "
                       "WHERE c.card_id = ? AND c.version = ?", (obj["card"], obj["card_version"])).fetchone()
    if row is None or ev.card_proof(row["qr"], device.device_id, f"auth:{request_time}") != obj["proof"]:
        raise _refuse("card_not_presented", "无法确认这张卡,请重新扫码。",
                      "unknown card, or the request does not prove the card was read")
    if row["status"] != "active":
        refused = cardcode.ended(cards.StoreRegistry(conn).card_record(row["card_id"])[1]
                                 if row["status"] == "revoked" else "superseded")
        raise _refuse("card_revoked", refused.zh, refused.en)
    return row


def _check_pin(conn, device, scope: str, subject: int, pin_hash: str, pin: str | None, now: dt.datetime) -> None:
    """The PIN through the attempt limit; a refusal says how many tries are left or how long to wait."""
    if not pin:
        raise _refuse("pin_required", "请输入密码。", "a PIN is required")
    try:
        attempts.check(conn, scope, subject, lambda: accounts.check_pin(pin_hash, pin),
                       actor=f"device:{device.device_id}", now=now, detail={"device": device.device_id})
    except attempts.Locked as exc:
        raise _refuse("pin_locked", exc.zh, exc.en, status=429, retry_after=exc.retry_after) from None
    except attempts.Wrong as exc:
        raise _refuse("pin_wrong", exc.zh, exc.en, left=exc.left) from None


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def _issue(conn, device, purpose: str, now: dt.datetime, **cols) -> dict:
    """Sign an authorisation with the community issuing key and keep a record of it."""
    key_id, private = cards.signing_key(conn)
    nonce = secrets.token_hex(8)
    issued = int(now.timestamp())
    expires = issued + MINUTES[purpose] * 60
    message = wire.authorisation_message(device.device_id, purpose, nonce, issued, expires,
                                         card_id=cols.get("card_id"), reviewer_id=cols.get("reviewer_id"),
                                         points=cols.get("points"))
    signature = base64.urlsafe_b64encode(private.sign(message)).decode("ascii").rstrip("=")
    token = f"{key_id}.{nonce}.{_b36(issued)}.{_b36(expires)}.{signature}"
    expires_at = clock.to_text(dt.datetime.fromtimestamp(expires, clock.UTC))
    with transaction(conn):
        conn.execute("INSERT INTO authorisations (auth_id, device_id, purpose, card_id, account_id, reviewer_id, "
                     "points, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (nonce, device.device_id, purpose, cols.get("card_id"), cols.get("account_id"),
                      cols.get("reviewer_id"), cols.get("points"), clock.to_text(now), expires_at))
    return {"auth": token, "expires_at": expires_at, **cols}


def authorise(conn: sqlite3.Connection, device, body: bytes, now: dt.datetime, request_time: str) -> dict:
    """Answer a device's request for an online check (see the module docstring)."""
    obj = _parse(body)
    if obj["purpose"] not in PURPOSES[device.kind]:
        raise _refuse("kind_not_allowed", "该设备不能申请这类确认。", f"a {device.kind} cannot ask for {obj['purpose']}")
    card = _card(conn, device, obj, request_time)
    if obj["purpose"] in ("staff", "second"):
        return _staff(conn, device, obj, card, now)
    if card["role"] != "resident":
        raise _refuse("staff_card", "工作人员卡不能用于兑换或查询储户明细。", "a staff card is not a resident's card")
    if card["account_status"] != "active":
        raise _refuse("account_inactive", "该储户账户已暂停或销户。", "the account is suspended or closed")
    if obj["purpose"] == "passbook":
        if device.kind != "kiosk" or card["compound_id"] != compound_of(conn, device.service_point_id):
            raise _refuse("other_compound", "这张卡不属于本小区。", "the card is not of this kiosk's compound")
        if card["pin_hash"]:
            _check_pin(conn, device, "card_pin", card["account_id"], card["pin_hash"], obj["pin"], now)
        return {"ok": True, "account_id": card["account_id"]}
    return _redeem(conn, device, obj, card, now)


def _redeem(conn, device, obj: dict, card, now: dt.datetime) -> dict:
    if conn.execute("SELECT 1 FROM card_holds WHERE card_id = ? AND cleared_at IS NULL", (card["card_id"],)).fetchone():
        raise _refuse("card_on_hold", "这张卡因积分透支已暂停兑换,请到社区办公室处理。", "the card is on hold")
    pol = policy.offline_policy(conn, device.merchant_id)
    points = obj["points"]
    if card["pin_hash"] and points > pol.pin_above:
        _check_pin(conn, device, "card_pin", card["account_id"], card["pin_hash"], obj["pin"], now)
    have = ledger.balance(conn, card["account_id"]) - objections.held_points(conn, card["account_id"])
    if have < points:
        raise _refuse("insufficient", f"积分不足:需要 {points} 分,可用 {have} 分。",
                      f"not enough points: {points} needed, {have} available", status=409, have=have)
    return _issue(conn, device, "redeem", now, card_id=card["card_id"], account_id=card["account_id"], points=points)


def _staff(conn, device, obj: dict, card, now: dt.datetime) -> dict:
    member = reviewers.by_card(conn, card["card_id"]) if card["role"] == "staff" else None
    if member is None or not member.active or member.compound_id != compound_of(conn, device.service_point_id):
        raise _refuse("not_a_member", "这张卡不是本小区评议小组成员的工作卡。",
                      "not the staff card of an active member of this compound's review group")
    _check_pin(conn, device, "staff_pin", member.reviewer_id, member.pin_hash, obj["pin"], now)
    return _issue(conn, device, obj["purpose"], now, reviewer_id=member.reviewer_id,
                  name=accounts.mask_name(member.name))


# --- what settlement asks ------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """An authorisation as an event cites it: verified against the community's public keys."""

    text: str
    nonce: str
    issued: int
    expires: int
    signature: bytes
    key_id: str


def load(conn: sqlite3.Connection, tokens) -> dict[str, Token]:
    """The well-formed tokens a batch cites, parsed (their signatures are checked by :func:`covers`)."""
    out = {}
    for text in {t for t in tokens if t}:
        key_id, nonce, issued, expires, sig = text.split(".")
        try:
            raw = base64.urlsafe_b64decode(sig + "==")
        except (ValueError, TypeError):
            continue
        out[text] = Token(text, nonce, int(issued, 36), int(expires, 36), raw, key_id)
    return out


def covers(token: Token | None, conn: sqlite3.Connection, device_id: str, purpose: str, at: dt.datetime,
           skew: dt.timedelta, *, use: int | None = None, card_id: str | None = None,
           reviewer_id: int | None = None, points: int | None = None) -> bool:
    """Whether ``token`` lets this event stand: signed by the community for this device, purpose,
    card or member and at least these points; valid at the event's time; and unused or used by
    ``use``. A signature, not a table lookup: an office restored from an older backup accepts
    what a device re-sends."""
    if token is None:
        return False
    public = cards.public_keys(conn).get(token.key_id)
    if public is None:
        return False
    issued_points = None
    if points is not None:      # the office authorised a receipt of at least the event's total
        row = conn.execute("SELECT points FROM authorisations WHERE auth_id = ?", (token.nonce,)).fetchone()
        issued_points = row[0] if row else _signed_points(token, public, device_id, purpose, card_id, points)
        if issued_points is None or issued_points < points:
            return False
    message = wire.authorisation_message(device_id, purpose, token.nonce, token.issued, token.expires,
                                         card_id=card_id, reviewer_id=reviewer_id, points=issued_points)
    if not wire.verify(public, token.signature, message):
        return False
    if not (token.issued - skew.total_seconds() <= at.timestamp() <= token.expires + skew.total_seconds()):
        return False
    if use is not None:
        row = conn.execute("SELECT used_seq FROM authorisations WHERE auth_id = ?", (token.nonce,)).fetchone()
        if row is not None and row[0] is not None and row[0] != use:
            return False
    return True


def _signed_points(token: Token, public: bytes, device_id: str, purpose: str, card_id, at_least: int) -> int | None:
    """The points an authorisation was signed for when the office no longer has its record (a
    restore): the receipt's own total is the one a device asks for."""
    message = wire.authorisation_message(device_id, purpose, token.nonce, token.issued, token.expires,
                                         card_id=card_id, points=at_least)
    return at_least if wire.verify(public, token.signature, message) else None


def mark_used(conn: sqlite3.Connection, token: Token, seq: int, device_id: str, purpose: str) -> None:
    """An authorisation for one receipt or one confirmation is used once (recorded again if the
    store was restored from a copy older than the authorisation)."""
    conn.execute("INSERT OR IGNORE INTO authorisations (auth_id, device_id, purpose, issued_at, expires_at) "
                 "VALUES (?, ?, ?, ?, ?)",
                 (token.nonce, device_id, purpose, clock.to_text(dt.datetime.fromtimestamp(token.issued, clock.UTC)),
                  clock.to_text(dt.datetime.fromtimestamp(token.expires, clock.UTC))))
    conn.execute("UPDATE authorisations SET used_seq = ? WHERE auth_id = ? AND used_seq IS NULL", (seq, token.nonce))
