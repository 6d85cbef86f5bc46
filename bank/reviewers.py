"""Review-group members (评议小组成员): who may record awards and deductions at a compound's kiosk.

A member belongs to one compound's review group and to a resident account (their own household),
holds a staff card (a card with role 'staff', signed like residents' cards, issued on that
account) and a PIN. Two rules of the review group live here because both the kiosk and the
office apply them:

- recusal: a member never records for their own household;
- a second member confirms any entry whose points are above the policy threshold
  (setting ``review.second_confirm_above``, default 5: fighting -10 or the six-have families
  +5 are weighty enough for two pairs of eyes; the everyday +1/+2 items are not).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import accounts, cards, clock, settings
from .errors import InvalidInput, NotFound



@dataclass(frozen=True)
class Reviewer:
    reviewer_id: int
    compound_id: int
    account_id: int
    name: str
    card_id: str
    pin_hash: str
    active: bool
    created_at: str


_COLUMNS = "reviewer_id, compound_id, account_id, name, card_id, pin_hash, active, created_at"


def _row(row) -> Reviewer:
    return Reviewer(*row[:6], bool(row[6]), row[7])


def add(conn: sqlite3.Connection, *, compound_id: int, account_id: int, name: str, pin: str,
        now=None, salt: bytes | None = None) -> tuple[Reviewer, cards.Card]:
    """Make a resident of the compound a member of its review group; issue their staff card."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 20:
        raise InvalidInput("成员姓名不能为空,且不超过20个字。", "a member's name is 1-20 characters")
    acct = accounts.get(conn, account_id)
    if acct.compound_id != compound_id:
        raise InvalidInput("评议小组成员须是本小区的居民。", "a review-group member must live in the compound")
    pin_hash = accounts.hash_pin(pin, salt=salt)  # salt given: the deterministic demo
    at = clock.to_text(now or clock.now_utc())
    card = cards.issue(conn, account_id, role="staff", now=now)
    rid = conn.execute("INSERT INTO reviewers (compound_id, account_id, name, card_id, pin_hash, active, created_at) "
                       "VALUES (?, ?, ?, ?, ?, 1, ?)",
                       (compound_id, account_id, name, card.card_id, pin_hash, at)).lastrowid
    return get(conn, rid), card


def get(conn: sqlite3.Connection, reviewer_id: int) -> Reviewer:
    row = conn.execute(f"SELECT {_COLUMNS} FROM reviewers WHERE reviewer_id = ?", (reviewer_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {reviewer_id} 的评议小组成员。", f"no reviewer {reviewer_id}")
    return _row(row)


def by_card(conn: sqlite3.Connection, card_id: str) -> Reviewer | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM reviewers WHERE card_id = ?", (card_id,)).fetchone()
    return _row(row) if row else None


def of_compound(conn: sqlite3.Connection, compound_id: int, *, active_only: bool = True) -> list[Reviewer]:
    sql = f"SELECT {_COLUMNS} FROM reviewers WHERE compound_id = ?" + (" AND active = 1" if active_only else "")
    return [_row(r) for r in conn.execute(sql + " ORDER BY reviewer_id", (compound_id,))]


def deactivate(conn: sqlite3.Connection, reviewer_id: int) -> Reviewer:
    """A member leaves the group: their staff card is revoked and they record nothing more."""
    member = get(conn, reviewer_id)
    conn.execute("UPDATE reviewers SET active = 0 WHERE reviewer_id = ?", (reviewer_id,))
    if cards.current(conn, member.card_id).status == "active":
        cards.revoke(conn, member.card_id, reason="left review group")
    return get(conn, reviewer_id)


def set_pin(conn: sqlite3.Connection, reviewer_id: int, pin: str) -> Reviewer:
    """A new kiosk PIN for a member (kiosks get it at their next pull)."""
    member = get(conn, reviewer_id)
    if not member.active:
        raise InvalidInput("该成员已退出评议小组。", f"reviewer {reviewer_id} is not active")
    conn.execute("UPDATE reviewers SET pin_hash = ? WHERE reviewer_id = ?", (accounts.hash_pin(pin), reviewer_id))
    return get(conn, reviewer_id)


def all_members(conn: sqlite3.Connection) -> list[Reviewer]:
    return [_row(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM reviewers ORDER BY compound_id, reviewer_id")]


def second_confirm_above(conn: sqlite3.Connection) -> int:
    return settings.get(conn, "review.second_confirm_above")


def needs_second(points: int, threshold: int) -> bool:
    """Whether an entry of ``points`` needs a second member's confirmation."""
    return abs(points) > threshold


def recused(member: Reviewer, account_id: int) -> bool:
    """A member may not record for their own household."""
    return member.account_id == account_id
