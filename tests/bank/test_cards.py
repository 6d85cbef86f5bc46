"""Cards in the store: issue, reissue after loss, revoke, key rotation, and verifying scanned text."""

import pytest

from bank import cards
from bank.cardcode import CardRefused
from bank.errors import InvalidInput

from ..conftest import T0

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def refusal(store, text):
    with pytest.raises(CardRefused) as exc:
        cards.verify_text(store, text)
    return exc.value.reason


def test_issued_card_verifies_to_its_account(store, account):
    card = cards.issue(store, account, now=T0)
    claim, found = cards.verify_text(store, card.qr)
    assert (claim.card_id, found.account_id, found.version, found.status) == (card.card_id, account, 1, "active")


def test_reissue_after_loss_supersedes_the_old_version(store, account):
    old = cards.issue(store, account, now=T0)
    new = cards.reissue(store, old.card_id, now=T0)
    assert (new.card_id, new.version) == (old.card_id, 2)
    assert refusal(store, old.qr) == "superseded"
    assert cards.verify_text(store, new.qr)[1].version == 2
    assert [c.status for c in cards.cards_of(store, account)] == ["superseded", "active"]
    assert (old.card_id, 1) in cards.revoked_versions(store)


def test_revoked_card_is_refused(store, account):
    card = cards.issue(store, account, now=T0)
    cards.revoke(store, card.card_id, reason="stolen", now=T0)
    assert refusal(store, card.qr) == "revoked"
    with pytest.raises(InvalidInput):
        cards.revoke(store, card.card_id, now=T0)
    replacement = cards.reissue(store, card.card_id, now=T0)  # found the thief, print a new one
    assert cards.verify_text(store, replacement.qr)[1].version == 2
    assert refusal(store, card.qr) == "superseded"


def test_card_from_another_store_is_unknown_or_forged(store, account, tmp_path):
    from bank import community, db
    other = db.connect(tmp_path / "other.sqlite", create=True)
    community.found(other, code="LH", name="copy")
    cards.create_issuing_key(other, now=T0)
    from bank import accounts
    community.add_compound(other, "x", 1, service_point="x")
    aid = accounts.open_account(other, kind="single", holder="李四", compound_id=1, building=1, unit=1, room="101")
    forged = cards.issue(other, aid, now=T0)  # same community code and key id, different key
    assert refusal(store, forged.qr) == "bad_signature"


def test_key_rotation_keeps_old_cards_valid(store, account):
    old = cards.issue(store, account, now=T0)
    assert cards.create_issuing_key(store, now=T0) == "K2"
    new = cards.issue(store, account, now=T0)
    assert ":K2:" in new.qr and ":K1:" in old.qr
    assert cards.verify_text(store, old.qr)[1].card_id == old.card_id
    assert cards.verify_text(store, new.qr)[1].card_id == new.card_id
    assert set(cards.public_keys(store)) == {"K1", "K2"}


def test_unknown_card_id_signed_by_our_key(store, account):
    card = cards.issue(store, account, now=T0)
    from bank import cardcode
    _, key = cards.signing_key(store)
    ghost = cardcode.sign(key, community="LH", role="resident", card_id="999999", version=1, key_id="K1")
    assert refusal(store, ghost) == "unknown_card"
    assert card.card_id != "999999"


def test_a_closed_or_merged_households_card_says_so_and_the_deny_list_carries_why(store, account):
    from bank import accounts, alerts, households
    card = cards.issue(store, account, now=T0)
    other = accounts.open_account(store, kind="household", holder="李四", compound_id=1, building=3, unit=2,
                                  room="1602", now=T0)
    other_card = cards.issue(store, other, now=T0)
    households.merge(store, account, other, note="两户合并", by="office", now=T0)
    with pytest.raises(CardRefused) as exc:
        cards.verify_text(store, card.qr)
    assert exc.value.reason == "account_merged" and f"已并入储户 {other}" in exc.value.zh
    assert (card.card_id, card.version, f"merged:{other}") in alerts.deny_list(store)
    households.close(store, other, note="迁出", by="office", now=T0)
    assert refusal(store, other_card.qr) == "account_closed"
    assert (other_card.card_id, other_card.version, "closed") in alerts.deny_list(store)
