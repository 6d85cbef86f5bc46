"""Keys, card texts and a card registry for scanner tests (real Ed25519, no database)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bank import cardcode
from device.scan.verify import CardVerifier


class Registry:
    """A card registry as a dict: card_id -> (current version, status)."""

    def __init__(self, records=None):
        self.records = dict(records or {})

    def card_record(self, card_id):
        return self.records.get(card_id)


class Issuer:
    """An issuing key with helpers to sign cards and build the matching verifier."""

    def __init__(self, community: str = "LH", key_id: str = "K1"):
        self.key = Ed25519PrivateKey.generate()
        self.community, self.key_id = community, key_id
        self.registry = Registry()

    def card(self, card_id: str, version: int = 1, status: str = "active", register=True) -> str:
        if register:
            self.registry.records[card_id] = (version, status)
        return cardcode.sign(self.key, community=self.community, role="resident", card_id=card_id,
                             version=version, key_id=self.key_id)

    def verifier(self) -> CardVerifier:
        return CardVerifier(community=self.community, keyring={self.key_id: self.key.public_key()},
                            registry=self.registry)
