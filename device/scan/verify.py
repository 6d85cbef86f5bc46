"""Decoded QR text to a verified card or a clear refusal: the only thing the apps ever see.

The raw text never reaches an app: a forged card, another community's card, a revoked or
superseded card or any other QR code comes back as a :class:`Refused` with the core's reason
and its Chinese/English sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bank import cardcode
from bank.cardcode import CardClaim, CardRefused, CardRegistry


@dataclass(frozen=True)
class Verified:
    """The card is ours, correctly signed, current and not revoked."""

    claim: CardClaim
    ok = True

    @property
    def card_id(self) -> str:
        return self.claim.card_id


@dataclass(frozen=True)
class Refused:
    """The card (or whatever QR code was shown) is not accepted; ``reason`` is the core's."""

    reason: str
    zh: str
    en: str
    ok = False

    def message(self, lang: str = "zh") -> str:
        """The sentence to show at the counter."""
        return self.zh if lang.startswith("zh") else self.en


ScanOutcome = Verified | Refused


def verify_text(text: str, *, community: str,
                keyring: Mapping[str, Ed25519PublicKey | bytes],
                registry: CardRegistry) -> ScanOutcome:
    """Check a decoded text offline (signature) and against the registry (revoked, superseded)."""
    try:
        claim = cardcode.verify(text, community=community, public_keys=keyring)
        cardcode.check_status(claim, registry)
    except CardRefused as refusal:
        return Refused(refusal.reason, refusal.zh, refusal.en)
    return Verified(claim)


class CardVerifier:
    """:func:`verify_text` bound to one device's community, keyring and card registry."""

    def __init__(self, *, community: str, keyring: Mapping[str, Ed25519PublicKey | bytes],
                 registry: CardRegistry):
        self.community, self.keyring, self.registry = community, keyring, registry

    def __call__(self, text: str) -> ScanOutcome:
        return verify_text(text, community=self.community, keyring=self.keyring,
                           registry=self.registry)


def verify_on_replica(conn, text: str) -> ScanOutcome:
    """:func:`verify_text` against a device replica: its community, issuing keys, card versions and
    deny list (the same check the tablet and kiosk engines make, :func:`sync.replica.verify_card`)."""
    from sync import replica  # the scan CLI and benchmarks need no replica
    try:
        claim, _account_id, _on_hold = replica.verify_card(conn, text)
    except CardRefused as refusal:
        return Refused(refusal.reason, refusal.zh, refusal.en)
    return Verified(claim)
