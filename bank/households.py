"""Households change: merge two accounts into one (并户), or split members off into a new
account (分户).

The ledger is append-only, so points never move by editing entries: the office's transfer is a
pair of adjustment entries with notes, one out of an account and one into the other, both naming
the move. Members move with their member rows (team memberships go with them). A merge closes the
emptied account and revokes its cards; a split opens a new account and issues its card. Each runs
in one transaction: a refusal writes nothing.

This lives above :mod:`bank.accounts` (which the ledger and cards import) because it uses both.

Refused while the source household has an open objection (its held points would slip out from
under the hold) or a review-group member among the people who move (their staff card and recusal
are tied to the household account: the office removes them from the group first and adds them
again afterwards).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import accounts, cards, clock, ledger, objections, validity
from .db import transaction
from .errors import InvalidInput


@dataclass(frozen=True)
class Moved:
    source_id: int
    target_id: int
    points: int
    members: list[str]
    card_id: str | None     # the new account's card (split), or None (merge)


def _open(conn, account_id: int) -> accounts.Account:
    acct = accounts.get(conn, account_id)
    if acct.status == "closed":
        raise InvalidInput(f"储户 {account_id} 已销户,不能办理并户或分户。", f"account {account_id} is closed")
    return acct


def _no_open_objection(conn, account_id: int) -> None:
    if objections.search(conn, status="open", account_id=account_id):
        raise InvalidInput(f"储户 {account_id} 有未办结的异议,请裁定后再办理。",
                           f"account {account_id} has an open objection")


def _no_reviewer_among(conn, account_id: int, names: list[str]) -> None:
    rows = conn.execute("SELECT name FROM reviewers WHERE account_id = ? AND active = 1", (account_id,)).fetchall()
    inside = sorted({r[0] for r in rows} & set(names))
    if inside:
        raise InvalidInput(f"{'、'.join(inside)}是评议小组成员,请先在“评议小组”中办理退出,完成后再重新加入。",
                           "a review-group member is among those who move")


def _note(note: str) -> str:
    note = note.strip() if isinstance(note, str) else ""
    if not note:
        raise InvalidInput("请写明办理原因。", "a household change needs a note saying why")
    return note


def _transfer(conn, source: int, target: int, points: int, *, what: str, note: str, by: str, now) -> None:
    """The paired adjustment entries that move ``points`` (may be negative: a debt) between accounts.

    Moved points keep their validity: they leave the source oldest first (as it would spend them)
    and arrive as one adjustment per last valid day, so a merge or split never extends them.
    """
    if points == 0:
        return
    out_note, in_note = f"{what}转出至储户 {target}:{note}", f"{what}转入自储户 {source}:{note}"
    if points < 0:
        ledger.record_adjustment(conn, source, -points, recorded_by=by, note=out_note, now=now)
        ledger.record_adjustment(conn, target, points, recorded_by=by, note=in_note, now=now)
        return
    moving: dict = {}
    left = points
    for lot in validity.lots(conn, source)[0]:
        take = min(lot.remaining, left)
        if take:
            moving[lot.last_valid_day] = moving.get(lot.last_valid_day, 0) + take
            left -= take
    ledger.record_adjustment(conn, source, -points, recorded_by=by, note=out_note, now=now)
    for day, amount in sorted(moving.items()):
        ledger.record_adjustment(conn, target, amount, recorded_by=by, note=in_note, now=now, valid_until=day)
    if left:  # cannot happen while lots and balance agree; never let points vanish if they do not
        ledger.record_adjustment(conn, target, left, recorded_by=by, note=in_note, now=now)


def merge(conn: sqlite3.Connection, source_id: int, target_id: int, *, note: str, by: str, now=None) -> Moved:
    """Move every member and the whole balance of ``source_id`` into ``target_id``; close the source."""
    if source_id == target_id:
        raise InvalidInput("不能把储户并入它自己。", "cannot merge an account into itself")
    note = _note(note)
    now = now or clock.now_utc()
    with transaction(conn):
        _open(conn, source_id)
        target = _open(conn, target_id)
        _no_open_objection(conn, source_id)
        moving = [m["name"] for m in accounts.members(conn, source_id)]
        _no_reviewer_among(conn, source_id, moving)
        points = ledger.balance(conn, source_id)
        _transfer(conn, source_id, target_id, points, what="并户", note=note, by=by, now=now)
        conn.execute("UPDATE members SET account_id = ?, is_holder = 0 WHERE account_id = ?", (target_id, source_id))
        if target.kind == "single":
            conn.execute("UPDATE accounts SET kind = 'household' WHERE account_id = ?", (target_id,))
        for card in cards.cards_of(conn, source_id):
            if card.status == "active" and cards.current(conn, card.card_id).version == card.version:
                cards.revoke(conn, card.card_id, reason="merged", now=now)
        accounts.set_status(conn, source_id, "closed")
        return Moved(source_id, target_id, points, moving, None)


def split(conn: sqlite3.Connection, source_id: int, member_ids: list[int], *, points: int, note: str, by: str,
          building: int | None = None, unit: int | None = None, room: str | None = None, now=None) -> Moved:
    """Move the chosen members into a new account (the first of them its holder) with a new card,
    and ``points`` of the source's balance with them, as the office decided."""
    note = _note(note)
    now = now or clock.now_utc()
    with transaction(conn):
        source = _open(conn, source_id)
        _no_open_objection(conn, source_id)
        everyone = {m["member_id"]: m for m in accounts.members(conn, source_id)}
        chosen = list(dict.fromkeys(member_ids))
        if not chosen:
            raise InvalidInput("请选择要分出的家庭成员。", "no members chosen")
        if any(mid not in everyone for mid in chosen):
            raise InvalidInput("所选成员不属于该储户。", "a chosen member is not in this account")
        if len(chosen) == len(everyone):
            raise InvalidInput("不能把全部成员都分出去;如整户迁出,请办理并户或销户。", "cannot split off every member")
        if any(everyone[mid]["is_holder"] for mid in chosen):
            raise InvalidInput("户主不能分出;请分出其他成员。", "the holder stays in the account")
        names = [everyone[mid]["name"] for mid in chosen]
        _no_reviewer_among(conn, source_id, names)
        balance = ledger.balance(conn, source_id)
        if type(points) is not int or points < 0 or points > max(balance, 0):
            raise InvalidInput(f"分出的积分须在0到{max(balance, 0)}之间。", f"points must be 0..{max(balance, 0)}")
        new_id = accounts.open_account(
            conn, kind="household" if len(chosen) > 1 else "single", holder=names[0], compound_id=source.compound_id,
            building=source.building if building is None else building, unit=source.unit if unit is None else unit,
            room=(source.room if room is None else room.strip())[:10] or source.room, now=now)
        # open_account wrote the holder as a new member row; the person's own row moves instead.
        conn.execute("DELETE FROM members WHERE account_id = ?", (new_id,))
        for n, mid in enumerate(chosen):
            conn.execute("UPDATE members SET account_id = ?, is_holder = ?, relation = CASE WHEN ? THEN '本人' "
                         "ELSE relation END WHERE member_id = ?", (new_id, int(n == 0), int(n == 0), mid))
        _transfer(conn, source_id, new_id, points, what="分户", note=note, by=by, now=now)
        card = cards.issue(conn, new_id, now=now)
        return Moved(source_id, new_id, points, names, card.card_id)
