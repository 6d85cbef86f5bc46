"""Cards (储户卡): issuing keys, issue, reissue after loss, revoke, and verifying a scanned card.

A card is identified by its card id; each printed copy has a version. Reissuing after a loss
prints version + 1 and supersedes the old one, which is refused from then on. The QR text and
its signature are defined in :mod:`bank.cardcode`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import accounts, cardcode, clock, community, keystore
from .cardcode import CardClaim, CardRefused
from .errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Card:
    card_id: str
    version: int
    account_id: int
    role: str
    status: str  # active, superseded or revoked
    qr: str


# --- issuing keys ----------------------------------------------------------------------------
# The store keeps only public keys; each private key is a file of the key store (bank.keystore),
# so a copy of the store cannot print cards or sign pulls.

def create_issuing_key(conn: sqlite3.Connection, *, now=None,
                       private: Ed25519PrivateKey | None = None, endorse: bool = True) -> str:
    """Make a new issuing key pair (or install ``private``); it signs new cards from now on.

    The private key is written to its key file first (0600), then the public key to the store.
    The previous key is retired: it signs nothing more, but the cards it signed stay valid. It
    endorses the new key (signs its id and public key), and pulls carry the endorsements, so a
    device that trusts the old key learns the new one in its next pull. Its key file must
    therefore be usable; ``endorse=False`` (the old key is lost) makes a key that enrolled
    devices cannot learn: they must be enrolled again. Returns the new key id.
    """
    at = clock.to_text(now or clock.now_utc())
    count = conn.execute("SELECT count(*) FROM issuing_keys").fetchone()[0]
    key_id = f"K{count + 1}"
    private = private or Ed25519PrivateKey.generate()
    public = keystore.raw_public(private)
    by = endorsement = None
    has_current = conn.execute("SELECT 1 FROM issuing_keys WHERE retired_at IS NULL").fetchone()
    if has_current and endorse:
        by, old = signing_key(conn)
        endorsement = old.sign(cardcode.endorsement_message(key_id, public))
    keystore.of(conn).save(community.code(conn), key_id, private)
    conn.execute("UPDATE issuing_keys SET retired_at = ? WHERE retired_at IS NULL", (at,))
    conn.execute("INSERT INTO issuing_keys (key_id, public_key, created_at, endorsed_by, endorsement) "
                 "VALUES (?, ?, ?, ?, ?)", (key_id, public, at, by, endorsement))
    return key_id


def endorsements(conn: sqlite3.Connection) -> list[tuple[str, bytes, str, bytes]]:
    """(key id, public key, endorsing key id, signature) of every key vouched for by its predecessor."""
    return [(r[0], bytes(r[1]), r[2], bytes(r[3])) for r in conn.execute(
        "SELECT key_id, public_key, endorsed_by, endorsement FROM issuing_keys WHERE endorsement IS NOT NULL "
        "ORDER BY rowid")]


def public_keys(conn: sqlite3.Connection) -> dict[str, bytes]:
    """Every issuing public key by key id, retired ones included (their cards stay valid)."""
    return {row[0]: bytes(row[1]) for row in conn.execute("SELECT key_id, public_key FROM issuing_keys")}


def signing_key(conn: sqlite3.Connection) -> tuple[str, Ed25519PrivateKey]:
    """The current issuing key id and private key (from its key file): it signs cards and,
    domain-separated, pulls."""
    row = conn.execute("SELECT key_id, public_key, private_key IS NOT NULL FROM issuing_keys "
                       "WHERE retired_at IS NULL").fetchone()
    if row is None:
        raise NotFound("没有可用的发卡密钥。", "no issuing key: create one first")
    key_id, public, still_inside = row[0], bytes(row[1]), row[2]
    keys = keystore.of(conn)
    try:
        return key_id, keys.load(community.code(conn), key_id, public)
    except keystore.KeyFileError:
        if still_inside:   # a store from before key files: the key is still in the database
            raise keystore.KeyFileError(
                "发卡密钥还在数据库文件里,请先运行 python -m office migrate 把它移到单独的密钥文件。",
                "the issuing private key is still in the store: run 'python -m office migrate' to move it "
                "to its key file") from None
        raise


def move_keys_out(conn: sqlite3.Connection) -> list[str]:
    """Move private keys that an older store keeps in ``issuing_keys.private_key`` to key files,
    and empty the column. Each file is written and read back before its column is cleared.
    Returns the key ids moved. Call :func:`bank.db.scrub` afterwards, outside a transaction, so
    the old bytes leave the file's free pages too."""
    moved = []
    code = community.code(conn)
    keys = keystore.of(conn)
    for key_id, public, private_bytes in conn.execute(
            "SELECT key_id, public_key, private_key FROM issuing_keys WHERE private_key IS NOT NULL "
            "ORDER BY rowid").fetchall():
        try:
            private = Ed25519PrivateKey.from_private_bytes(bytes(private_bytes))
        except ValueError:
            raise keystore.KeyFileError(f"数据库中密钥 {key_id} 的私钥已损坏,无法移出。",
                                        f"the stored private key of {key_id} is damaged") from None
        if keystore.raw_public(private) != bytes(public):
            raise keystore.KeyFileError(f"数据库中密钥 {key_id} 的私钥与公钥不符,无法移出。",
                                        f"the stored private key of {key_id} does not match its public key")
        keys.save(code, key_id, private)
        keys.load(code, key_id, bytes(public))     # read back: never clear the only copy
        conn.execute("UPDATE issuing_keys SET private_key = NULL WHERE key_id = ?", (key_id,))
        moved.append(key_id)
    return moved


def key_states(conn: sqlite3.Connection) -> list[dict]:
    """Every issuing key with its dates and the state of its key file (for listings)."""
    code = community.code(conn)
    keys = keystore.of(conn)
    return [{"key_id": key_id, "created_at": created, "retired_at": retired,
             "file": str(keys.path(code, key_id, bytes(public))),
             "state": keys.state(code, key_id, bytes(public))}
            for key_id, public, created, retired in conn.execute(
                "SELECT key_id, public_key, created_at, retired_at FROM issuing_keys ORDER BY rowid")]


# --- issue, reissue, revoke ------------------------------------------------------------------

def _next_card_id(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT max(CAST(card_id AS INTEGER)) FROM cards").fetchone()
    return f"{(row[0] or 100000) + 1:06d}"


def _print(conn, card_id: str, version: int, account_id: int, role: str, at: str) -> Card:
    key_id, private = signing_key(conn)
    qr = cardcode.sign(private, community=community.code(conn), role=role, card_id=card_id,
                       version=version, key_id=key_id)
    conn.execute("INSERT INTO cards (card_id, version, account_id, role, key_id, qr, status, issued_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, 'active', ?)",
                 (card_id, version, account_id, role, key_id, qr, at))
    return Card(card_id, version, account_id, role, "active", qr)


def issue(conn: sqlite3.Connection, account_id: int, *, role: str = "resident", now=None) -> Card:
    """Issue a new card (version 1) for an account."""
    if role not in cardcode.ROLES.values():
        raise InvalidInput("卡的类型不正确。", f"unknown card role {role!r}")
    accounts.get(conn, account_id)
    return _print(conn, _next_card_id(conn), 1, account_id, role,
                  clock.to_text(now or clock.now_utc()))


def current(conn: sqlite3.Connection, card_id: str) -> Card:
    row = conn.execute("SELECT card_id, version, account_id, role, status, qr FROM cards "
                       "WHERE card_id = ? ORDER BY version DESC LIMIT 1", (card_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有卡号为 {card_id} 的卡。", f"no card {card_id}")
    return Card(*row)


def reissue(conn: sqlite3.Connection, card_id: str, *, reason: str = "lost", now=None) -> Card:
    """Print version + 1 of a card (after a loss); the old version is refused from now on."""
    old = current(conn, card_id)
    at = clock.to_text(now or clock.now_utc())
    conn.execute("UPDATE cards SET status = 'superseded', ended_at = ?, end_reason = ? "
                 "WHERE card_id = ? AND version = ? AND status = 'active'",
                 (at, reason, card_id, old.version))
    return _print(conn, card_id, old.version + 1, old.account_id, old.role, at)


def revoke(conn: sqlite3.Connection, card_id: str, *, reason: str = "revoked", now=None) -> Card:
    """Revoke the current version of a card without printing a new one."""
    card = current(conn, card_id)
    if card.status != "active":
        raise InvalidInput(f"卡号 {card_id} 已经作废。", f"card {card_id} is already revoked")
    conn.execute("UPDATE cards SET status = 'revoked', ended_at = ?, end_reason = ? "
                 "WHERE card_id = ? AND version = ?",
                 (clock.to_text(now or clock.now_utc()), reason, card_id, card.version))
    return current(conn, card_id)


def all_cards(conn: sqlite3.Connection) -> list[Card]:
    return [Card(*row) for row in conn.execute(
        "SELECT card_id, version, account_id, role, status, qr FROM cards ORDER BY card_id, version")]


def cards_of(conn: sqlite3.Connection, account_id: int) -> list[Card]:
    return [Card(*row) for row in conn.execute(
        "SELECT card_id, version, account_id, role, status, qr FROM cards WHERE account_id = ? "
        "ORDER BY card_id, version", (account_id,))]


# How a card version ended, in the words of the deny list and of cardcode.ended: a revoked card of
# a closed account says why it stopped working, and where its points went after a merge.
END_STATUS = """CASE WHEN c.status = 'active' THEN 'active'
    WHEN c.status <> 'revoked' THEN 'superseded'
    WHEN a.status = 'closed' THEN coalesce((SELECT 'merged:' || h.target_id FROM household_changes h
        WHERE h.kind = 'merge' AND h.source_id = c.account_id AND h.undone_at IS NULL
        ORDER BY h.change_id DESC LIMIT 1), 'closed')
    ELSE 'revoked' END"""


def ended_versions(conn: sqlite3.Connection) -> list[tuple[str, int, str]]:
    """Every card version that is no longer active, with how it ended (:data:`END_STATUS`)."""
    return [tuple(row) for row in conn.execute(
        f"SELECT c.card_id, c.version, {END_STATUS} FROM cards c LEFT JOIN accounts a USING (account_id) "
        "WHERE c.status <> 'active' ORDER BY c.card_id, c.version")]


def revoked_versions(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """The deny list: every card version that must be refused although its signature is good."""
    return [tuple(row) for row in conn.execute(
        "SELECT card_id, version FROM cards WHERE status <> 'active' ORDER BY card_id, version")]


# --- verifying a scanned card ----------------------------------------------------------------

class StoreRegistry:
    """The office store as a :class:`bank.cardcode.CardRegistry`."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def card_record(self, card_id: str) -> tuple[int, str] | None:
        row = self.conn.execute(f"SELECT c.version, {END_STATUS} FROM cards c LEFT JOIN accounts a USING (account_id) "
                                "WHERE c.card_id = ? ORDER BY c.version DESC LIMIT 1", (card_id,)).fetchone()
        return None if row is None else (row[0], row[1])


def verify_text(conn: sqlite3.Connection, text: str) -> tuple[CardClaim, Card]:
    """Verify scanned QR text against this store; return the claim and the card, or refuse."""
    claim = cardcode.verify(text, community=community.code(conn), public_keys=public_keys(conn))
    cardcode.check_status(claim, StoreRegistry(conn))
    return claim, current(conn, claim.card_id)


__all__ = ["Card", "CardClaim", "CardRefused", "issue", "reissue", "revoke", "verify_text"]


# --- the office's card desk: report lost, revoke, reissue (rules the console and the CLI share) ---

LOSS_REASONS = {"lost": "遗失", "stolen": "被盗", "damaged": "损坏"}
END_REASONS = {**LOSS_REASONS, "misused": "被冒用", "revoked": "其他原因"}


def _resident_card(conn: sqlite3.Connection, card_id: str, account_id: int | None) -> Card:
    card = current(conn, card_id)
    if account_id is not None and card.account_id != account_id:
        raise InvalidInput(f"卡号 {card_id} 不是储户 {account_id} 的卡。", f"card {card_id} is not account {account_id}'s")
    if card.role != "resident":
        raise InvalidInput("这是评议小组工作卡,请在“评议小组”中办理。", f"card {card_id} is a staff card")
    if accounts.get(conn, card.account_id).status == "closed":
        raise InvalidInput(f"储户 {card.account_id} 已销户,不能办理。", f"account {card.account_id} is closed")
    return card


def report_lost(conn: sqlite3.Connection, card_id: str, *, reason: str = "lost", account_id: int | None = None,
                now=None) -> Card:
    """挂失补办: the active version is refused from now on (devices at their next pull) and
    version + 1 is issued for the office to print."""
    if reason not in LOSS_REASONS:
        raise InvalidInput("请选择挂失原因:遗失、被盗或损坏。", f"reason must be one of {list(LOSS_REASONS)}")
    card = _resident_card(conn, card_id, account_id)
    if card.status != "active":
        raise InvalidInput(f"卡号 {card_id} 当前已作废;如需新卡请办理补办。", f"card {card_id} is not active")
    return reissue(conn, card_id, reason=reason, now=now)


def revoke_resident(conn: sqlite3.Connection, card_id: str, *, reason: str = "revoked", account_id: int | None = None,
                    now=None) -> Card:
    """Revoke a resident's card without a new one (the resident collects a new card later)."""
    if reason not in END_REASONS:
        raise InvalidInput("作废原因不正确。", f"reason must be one of {list(END_REASONS)}")
    _resident_card(conn, card_id, account_id)
    return revoke(conn, card_id, reason=reason, now=now)


def reissue_revoked(conn: sqlite3.Connection, card_id: str, *, account_id: int | None = None, now=None) -> Card:
    """补办: a new version of a revoked card (the old versions stay refused)."""
    card = _resident_card(conn, card_id, account_id)
    if card.status == "active":
        raise InvalidInput(f"卡号 {card_id} 仍然有效;遗失或损坏请办理挂失补办。", f"card {card_id} is still active")
    return reissue(conn, card_id, reason="reissued", now=now)


def holder_count(conn: sqlite3.Connection) -> int:
    """How many accounts hold an active card (card holders, on the dashboard and the district view)."""
    return conn.execute("SELECT count(DISTINCT account_id) FROM cards WHERE status = 'active'").fetchone()[0]
