"""Card QR text: signing, offline verification, and 10,000 mutations that must all be refused."""

import random
import string

import base45
import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bank import cardcode
from bank.cardcode import CardRefused

KEY = Ed25519PrivateKey.generate()
KEYS = {"K1": KEY.public_key()}


def signed(card_id="100123", version=2, role="resident", key_id="K1", key=KEY, community="LH"):
    return cardcode.sign(key, community=community, role=role, card_id=card_id, version=version, key_id=key_id)


def test_roundtrip_gives_the_claim():
    text = signed()
    claim = cardcode.verify(text, community="LH", public_keys=KEYS)
    assert (claim.card_id, claim.version, claim.role, claim.key_id) == ("100123", 2, "resident", "K1")


def test_text_fits_a_version_5_qr_at_level_m_in_alphanumeric_mode():
    text = signed(version=999, role="staff")
    assert text.isascii() and len(text) <= 122
    qr = segno.make_qr(text, error="m", boost_error=False)
    assert qr.version <= 5
    assert qr.mode == "alphanumeric"


def test_raw_public_key_bytes_are_accepted():
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    raw = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert cardcode.verify(signed(), community="LH", public_keys={"K1": raw}).card_id == "100123"


@pytest.mark.parametrize("text,reason", [
    ("", "not_our_format"),
    ("https://example.com/card/123", "not_our_format"),
    ("MPB1:LH:R:100123:2:K1", "not_our_format"),
    ("x" * 5000, "not_our_format"),
    ("MPB1:LH:R:100123:2:K1:" + "A" * 96, "bad_signature"),
])
def test_obviously_wrong_texts(text, reason):
    with pytest.raises(CardRefused) as exc:
        cardcode.verify(text, community="LH", public_keys=KEYS)
    assert exc.value.reason == reason
    assert exc.value.zh and exc.value.en


def test_other_community_unknown_key_and_forged_key():
    with pytest.raises(CardRefused, match="another community"):
        cardcode.verify(signed(community="XH"), community="LH", public_keys=KEYS)
    with pytest.raises(CardRefused) as exc:
        cardcode.verify(signed(key_id="K7"), community="LH", public_keys=KEYS)
    assert exc.value.reason == "unknown_key"
    forged = signed(key=Ed25519PrivateKey.generate())  # right format and key id, wrong key
    with pytest.raises(CardRefused) as exc:
        cardcode.verify(forged, community="LH", public_keys=KEYS)
    assert exc.value.reason == "bad_signature"


class Registry:
    def __init__(self, records):
        self.records = records

    def card_record(self, card_id):
        return self.records.get(card_id)


@pytest.mark.parametrize("record,reason", [
    (None, "unknown_card"), ((3, "active"), "superseded"), ((2, "revoked"), "revoked"), ((1, "active"), "unknown_card"),
])
def test_status_refusals(record, reason):
    claim = cardcode.verify(signed(version=2), community="LH", public_keys=KEYS)
    registry = Registry({} if record is None else {"100123": record})
    with pytest.raises(CardRefused) as exc:
        cardcode.check_status(claim, registry)
    assert exc.value.reason == reason


def test_current_active_card_passes_status_check():
    claim = cardcode.verify(signed(version=2), community="LH", public_keys=KEYS)
    assert cardcode.check_status(claim, Registry({"100123": (2, "active")})) is claim


# --- 10,000 random mutations, each refused with the reason its position and character imply ----

B45 = set(string.digits + string.ascii_uppercase + " $%*+-./:")
ALPHABET = string.ascii_letters + string.digits + ":/-. $%*+" + "中"


def canonical_b45(sig: str) -> bool:
    try:
        raw = base45.b45decode(sig)
    except (ValueError, KeyError):
        return False
    return len(raw) == 64 and base45.b45encode(raw).decode() == sig


def expected_reason(original: str, mutated: str, pos: int) -> str:
    """The oracle: what a mutation at ``pos`` must be refused for."""
    fields = original.split(":", 6)
    starts, at = [], 0
    for f in fields:
        starts.append(at)
        at += len(f) + 1
    field = max(i for i, s in enumerate(starts) if s <= pos)
    if field < 6 and pos == starts[field] + len(fields[field]):  # a separator was replaced
        return "not_our_format"
    new = mutated[pos]
    offset = pos - starts[field]
    if field == 0:
        return "not_our_format"
    if field == 1:
        return "other_community" if new in string.ascii_uppercase else "not_our_format"
    if field == 2:
        return "bad_signature" if new in "RS" else "not_our_format"
    if field == 3:
        return "bad_signature" if new in string.digits else "not_our_format"
    if field == 4:
        if new not in string.digits or (offset == 0 and new == "0"):
            return "not_our_format"
        return "bad_signature"
    if field == 5:
        if offset == 0 or new not in string.digits or (offset == 1 and new == "0"):
            # 'K01' is still a well-formed key id, merely unknown
            return "unknown_key" if offset > 0 and new in string.digits else "not_our_format"
        return "unknown_key"
    sig = mutated.split(":", 6)[6]
    if new not in B45 or not canonical_b45(sig):
        return "not_our_format"
    return "bad_signature"


def test_ten_thousand_mutations_are_all_refused_with_the_right_reason():
    rng = random.Random(20261126)
    texts = [signed(card_id=f"{rng.randint(100000, 999999)}", version=rng.randint(1, 9)) for _ in range(50)]
    counts = {}
    for n in range(10_000):
        original = rng.choice(texts)
        # half the changes hit the short header, where the rarer reasons live
        pos = rng.randrange(len(original) - 96) if n % 2 else rng.randrange(len(original))
        new = rng.choice(ALPHABET)
        while new == original[pos]:
            new = rng.choice(ALPHABET)
        mutated = original[:pos] + new + original[pos + 1:]
        want = expected_reason(original, mutated, pos)
        with pytest.raises(CardRefused) as exc:
            cardcode.verify(mutated, community="LH", public_keys=KEYS)
        assert exc.value.reason == want, (n, original, mutated, pos)
        counts[want] = counts.get(want, 0) + 1
    # every reason class that a single-character change can produce was exercised
    assert set(counts) == {"not_our_format", "other_community", "unknown_key", "bad_signature"}
    assert min(counts.values()) >= 20


def test_truncations_and_extensions_are_refused():
    text = signed()
    for cut in range(len(text)):
        with pytest.raises(CardRefused):
            cardcode.verify(text[:cut], community="LH", public_keys=KEYS)
    for extra in (":", "A", ":EXTRA", " X"):
        with pytest.raises(CardRefused):
            cardcode.verify(text + extra, community="LH", public_keys=KEYS)
