"""The text printed in a card's QR code, its Ed25519 signature, and offline verification.

Format (QR alphanumeric mode: digits, uppercase and `` $%*+-./:`` only)::

    MPB1:LH:R:100123:2:K1:<signature, base45>

fields: format tag, community code, role (``R`` resident, ``S`` staff), card id, card version,
issuing-key id, then the Ed25519 signature of everything before it (including the last ``:``).
Base45 (RFC 9285) packs the 64-byte signature into 96 characters, so a card is at most 120
characters and fits a version-5 QR code at error-correction level M (122 alphanumeric
characters); base32 would need 103 and push it to version 6. The signature is the last field
and may itself contain ``:`` or a space, so the text is split at most six times and never trimmed.

Verification of the text needs only the issuing public keys; whether the card is still the
current, unrevoked one is a question for a registry (the office database or a device replica),
answered by :func:`check_status`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Protocol

import base45
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import BankError

FORMAT_TAG = "MPB1"
ROLES = {"R": "resident", "S": "staff"}
MAX_TEXT = 200  # far above a real card; longer input is refused before any parsing work
_CARD_ID = re.compile(r"^[0-9]{6}$")
_KEY_ID = re.compile(r"^K[0-9]{1,4}$")
_COMMUNITY = re.compile(r"^[A-Z]{2,8}$")
_SIG_LEN = 96  # base45 of a 64-byte Ed25519 signature
KEY_DOMAIN = b"MPB-KEY-1\n"


def endorsement_message(key_id: str, public: bytes) -> bytes:
    """What the retiring issuing key signs at a rotation to vouch for the next one, so that a
    device that trusts the old key can learn the new one from a pull signed with it."""
    return KEY_DOMAIN + key_id.encode("ascii") + b"\n" + bytes(public)


class CardRefused(BankError):
    """The card is not accepted. ``reason`` is one of :data:`REASONS`."""

    code = "card_refused"

    def __init__(self, reason: str, detail: str = "", **values):
        zh, en = REASONS[reason]
        zh, en = zh.format(**values), en.format(**values)
        if detail:
            en = f"{en} ({detail})"
        super().__init__(zh, en, code=f"card_{reason}")
        self.reason = reason


#: reason -> (Chinese, English) sentence for the person at the counter or kiosk.
REASONS: dict[str, tuple[str, str]] = {
    "not_our_format": ("这不是道德积分卡的二维码。", "This QR code is not a points card."),
    "other_community": ("这张卡不是本社区的积分卡。", "This card belongs to another community."),
    "unknown_key": ("无法确认这张卡的签发机构,请到社区办公室核实。",
                    "The card was signed with a key this device does not know; ask the office."),
    "bad_signature": ("这张卡的防伪签名不正确,可能是伪造或被改动过。",
                      "The card's signature is wrong: it may be forged or altered."),
    "revoked": ("这张卡已挂失作废,请到社区办公室补办。",
                "This card was reported lost and revoked; get a new one at the office."),
    "account_closed": ("这户已在社区办公室销户,这张卡已停用。如有疑问请到社区办公室咨询。",
                       "This household's account was closed at the office; the card no longer works."),
    "account_merged": ("这户已并入储户 {into}(并户),积分也已转入,这张卡已停用。请使用储户 {into} 的卡。",
                       "This household was merged into account {into} (its points moved there); this card no "
                       "longer works: use account {into}'s card."),
    "superseded": ("这是旧版本的卡,已换发新卡,请使用新卡。",
                   "This card was replaced by a newer one; please use the new card."),
    "unknown_card": ("系统中没有这张卡的记录,请到社区办公室核实。",
                     "This card is not on record; ask the community office."),
}


@dataclass(frozen=True)
class CardClaim:
    """What a card's text says about itself, after its signature was checked."""

    community: str
    role: str  # "resident" or "staff"
    card_id: str
    version: int
    key_id: str
    text: str


def signed_part(community: str, role: str, card_id: str, version: int, key_id: str) -> str:
    """The prefix of the QR text that the signature covers."""
    role_code = {v: k for k, v in ROLES.items()}[role]
    return f"{FORMAT_TAG}:{community}:{role_code}:{card_id}:{version}:{key_id}:"


def sign(private_key: Ed25519PrivateKey, *, community: str, role: str, card_id: str,
         version: int, key_id: str) -> str:
    """Return the complete QR text for a card, signed by the issuing key."""
    if not _CARD_ID.match(card_id) or not _KEY_ID.match(key_id) or not _COMMUNITY.match(community):
        raise ValueError("card id, key id or community code out of format")
    if not 1 <= version <= 999:
        raise ValueError("card version out of range")
    head = signed_part(community, role, card_id, version, key_id)
    return head + base45.b45encode(private_key.sign(head.encode("ascii"))).decode("ascii")


def parse(text: str) -> tuple[CardClaim, bytes, bytes]:
    """Split QR text into (claim, signed bytes, signature) or refuse it as not our format."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise CardRefused("not_our_format")
    parts = text.split(":", 6)
    if len(parts) != 7 or parts[0] != FORMAT_TAG:
        raise CardRefused("not_our_format")
    _, community, role_code, card_id, version_s, key_id, sig_s = parts
    if (not _COMMUNITY.match(community) or role_code not in ROLES or not _CARD_ID.match(card_id)
            or not version_s.isascii() or not version_s.isdigit() or len(version_s) > 3
            or version_s.startswith("0") or not _KEY_ID.match(key_id) or len(sig_s) != _SIG_LEN):
        raise CardRefused("not_our_format")
    try:
        sig = base45.b45decode(sig_s)
    except (ValueError, KeyError):
        raise CardRefused("not_our_format") from None
    # Canonical form only: one card, one text (a different spelling of the same bytes is refused).
    if len(sig) != 64 or base45.b45encode(sig).decode("ascii") != sig_s:
        raise CardRefused("not_our_format")
    claim = CardClaim(community, ROLES[role_code], card_id, int(version_s), key_id, text)
    return claim, text[: len(text) - _SIG_LEN].encode("ascii"), sig


def verify(text: str, *, community: str,
           public_keys: Mapping[str, Ed25519PublicKey | bytes]) -> CardClaim:
    """Check the card text offline: format, community, issuing key and signature.

    ``public_keys`` maps key id to the issuing public key (object or 32 raw bytes); keys that were
    rotated out stay in the map so that the cards they signed remain valid until revoked.
    Raises :class:`CardRefused` with the reason; it does not consult any registry.
    """
    claim, message, sig = parse(text)
    if claim.community != community:
        raise CardRefused("other_community")
    key = public_keys.get(claim.key_id)
    if key is None:
        raise CardRefused("unknown_key")
    if isinstance(key, (bytes, bytearray)):
        key = Ed25519PublicKey.from_public_bytes(bytes(key))
    try:
        key.verify(sig, message)
    except InvalidSignature:
        raise CardRefused("bad_signature") from None
    return claim


class CardRegistry(Protocol):
    """Anything that knows the current version and status of cards (office store, device replica)."""

    def card_record(self, card_id: str) -> tuple[int, str] | None:
        """(current version, status) with status 'active' or how it ended (:func:`ended`), or None
        if unknown."""


def ended(status: str) -> CardRefused:
    """The refusal for a card version that ended, by the word the deny list and the registries
    use for it: 'superseded', 'revoked' (reported lost, or revoked at the desk), 'closed' (its
    account was closed) or 'merged:<account>' (its household was merged into that account)."""
    kind, _, into = status.partition(":")
    if kind == "merged" and into.isdigit():
        return CardRefused("account_merged", into=into)
    if kind == "closed":
        return CardRefused("account_closed")
    if kind == "superseded":
        return CardRefused("superseded")
    return CardRefused("revoked")


def check_status(claim: CardClaim, registry: CardRegistry) -> CardClaim:
    """Refuse a verified claim that is unknown, superseded by a newer version, or revoked."""
    record = registry.card_record(claim.card_id)
    if record is None:
        raise CardRefused("unknown_card")
    version, status = record
    if claim.version < version:
        raise CardRefused("superseded")
    if claim.version > version:
        raise CardRefused("unknown_card", "version newer than any issued")
    if status != "active":
        raise ended(status)
    return claim
