"""An account's life as a household: opened with its card (开户), merged into another (并户) and
undone the same day, members split off into a new account (分户), closed (销户).

The ledger is append-only, so points never move by editing entries: the office's transfer is a
pair of adjustment entries with notes, one out of an account and one into the other, both naming
the move. Members move with their member rows (team memberships go with them). A merge closes the
emptied account and revokes its cards; a split opens a new account and issues its card. Each runs
in one transaction: a refusal writes nothing.

Every change has a ``plan_*`` function that makes all the checks and says what would happen
(both households, their members, points and cards) without writing anything: the console's
confirmation pages and the command line's prompt show it before the office commits.

This lives above :mod:`bank.accounts` (which the ledger and cards import) because it uses both.

Refused while the source household has an open objection (its held points would slip out from
under the hold) or a review-group member among the people who move (their staff card and recusal
are tied to the household account: the office removes them from the group first and adds them
again afterwards).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from . import accounts, cards, clock, ledger, objections, validity
from .db import transaction
from .errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Moved:
    source_id: int
    target_id: int
    points: int
    members: list[str]
    card_id: str | None     # the new account's card (split), the reissued card (undone merge), or None
    change_id: int | None = None


@dataclass(frozen=True)
class Side:
    """One household as a confirmation page shows it."""
    account: accounts.Account
    members: list
    balance: int
    cards: list             # its active resident cards

    @property
    def member_names(self) -> list[str]:
        return [m["name"] for m in self.members]


def side(conn: sqlite3.Connection, account_id: int) -> Side:
    acct = accounts.get(conn, account_id)
    return Side(acct, accounts.members(conn, account_id), ledger.balance(conn, account_id),
                [c for c in cards.cards_of(conn, account_id) if c.status == "active" and c.role == "resident"])


def _open(conn, account_id: int) -> accounts.Account:
    acct = accounts.get(conn, account_id)
    if acct.status == "closed":
        raise InvalidInput(f"储户 {account_id} 已销户,不能办理。", f"account {account_id} is closed")
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
    if len(note) > 100:
        raise InvalidInput("办理原因不能超过100个字。", "the note is limited to 100 characters")
    return note


def _transfer(conn, source: int, target: int, points: int, *, what: str, note: str, by: str, now,
              ref: str) -> None:
    """The paired adjustment entries that move ``points`` (may be negative: a debt) between accounts.

    Moved points keep their validity: they leave the source oldest first (as it would spend them)
    and arrive as one adjustment per last valid day, so a merge or split never extends them.
    Refs ``<ref>:out`` and ``<ref>:in[:<day>]`` name the move, so an undo finds its entries.
    """
    if points == 0:
        return
    out_note, in_note = f"{what}转出至储户 {target}:{note}", f"{what}转入自储户 {source}:{note}"
    if points < 0:
        ledger.record_adjustment(conn, source, -points, recorded_by=by, note=out_note, now=now, ref=f"{ref}:out")
        ledger.record_adjustment(conn, target, points, recorded_by=by, note=in_note, now=now, ref=f"{ref}:in")
        return
    moving: dict = {}
    left = points
    for lot in validity.lots(conn, source)[0]:
        take = min(lot.remaining, left)
        if take:
            moving[lot.last_valid_day] = moving.get(lot.last_valid_day, 0) + take
            left -= take
    ledger.record_adjustment(conn, source, -points, recorded_by=by, note=out_note, now=now, ref=f"{ref}:out")
    for day, amount in sorted(moving.items()):
        ledger.record_adjustment(conn, target, amount, recorded_by=by, note=in_note, now=now, valid_until=day,
                                 ref=f"{ref}:in:{day.isoformat()}")
    if left:  # cannot happen while lots and balance agree; never let points vanish if they do not
        ledger.record_adjustment(conn, target, left, recorded_by=by, note=in_note, now=now, ref=f"{ref}:in")


def _record_change(conn, kind: str, source: accounts.Account, target_id: int, member_ids: list[int],
                   holder_id: int | None, target_kind: str, points: int, note: str, by: str, now) -> int:
    return conn.execute(
        "INSERT INTO household_changes (kind, source_id, target_id, member_ids, holder_id, target_kind, source_status, "
        "points, note, done_by, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, source.account_id, target_id, json.dumps(member_ids), holder_id, target_kind, source.status, points,
         note, by, clock.to_text(now))).lastrowid


def _end_cards(conn, account_id: int, reason: str, now) -> list[str]:
    """Revoke the account's current active cards (devices refuse them after their next pull)."""
    ended = []
    for card in cards.cards_of(conn, account_id):
        if card.status == "active" and cards.current(conn, card.card_id).version == card.version:
            cards.revoke(conn, card.card_id, reason=reason, now=now)
            ended.append(card.card_id)
    return ended


# --- opening -------------------------------------------------------------------------------------

def open_household(conn: sqlite3.Connection, *, kind: str, holder: str, compound_id: int, building: int,
                   unit: int, room: str, phone: str = "", members: list[tuple[str, str]] = (),
                   now=None) -> tuple[int, cards.Card]:
    """Open a household (holder and members with their relation) or a single account and issue its
    card at once; returns (account id, card) for the office to print."""
    members = list(members)
    if kind == "single" and members:
        raise InvalidInput("个人账户只有户主一人;有家庭成员请选“家庭”。", "a single account has no other members")
    if len(members) > 20:
        raise InvalidInput("家庭成员最多20人。", "at most 20 members")
    now = now or clock.now_utc()
    with transaction(conn):
        aid = accounts.open_account(conn, kind=kind, holder=holder, compound_id=compound_id, building=building,
                                    unit=unit, room=room, phone=phone, now=now)
        for name, relation in members:
            accounts.add_member(conn, aid, name, relation)
        card = cards.issue(conn, aid, now=now)
        return aid, card


# --- merging -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MergePlan:
    source: Side
    target: Side

    @property
    def points(self) -> int:
        return self.source.balance


def plan_merge(conn: sqlite3.Connection, source_id: int, target_id: int) -> MergePlan:
    """Every check of a merge, and both households as they are now; writes nothing."""
    if source_id == target_id:
        raise InvalidInput("不能把储户并入它自己。", "cannot merge an account into itself")
    _open(conn, source_id)
    _open(conn, target_id)
    _no_open_objection(conn, source_id)
    src = side(conn, source_id)
    _no_reviewer_among(conn, source_id, src.member_names)
    return MergePlan(src, side(conn, target_id))


def merge(conn: sqlite3.Connection, source_id: int, target_id: int, *, note: str, by: str, now=None) -> Moved:
    """Move every member and the whole balance of ``source_id`` into ``target_id``; close the source."""
    note = _note(note)
    now = now or clock.now_utc()
    with transaction(conn):
        plan = plan_merge(conn, source_id, target_id)
        source, target = plan.source.account, plan.target.account
        holder = next((m["member_id"] for m in plan.source.members if m["is_holder"]), None)
        change = _record_change(conn, "merge", source, target_id, [m["member_id"] for m in plan.source.members],
                                holder, target.kind, plan.points, note, by, now)
        _transfer(conn, source_id, target_id, plan.points, what="并户", note=note, by=by, now=now,
                  ref=f"household:{change}")
        conn.execute("UPDATE members SET account_id = ?, is_holder = 0 WHERE account_id = ?", (target_id, source_id))
        if target.kind == "single":
            conn.execute("UPDATE accounts SET kind = 'household' WHERE account_id = ?", (target_id,))
        _end_cards(conn, source_id, "merged", now)
        accounts.set_status(conn, source_id, "closed", now=now)
        return Moved(source_id, target_id, plan.points, plan.source.member_names, None, change)


def undoable_merges(conn: sqlite3.Connection, account_id: int, now=None) -> list[sqlite3.Row]:
    """Merges into or out of this account made today (local) and not undone: they can be undone."""
    today = clock.local_date(now or clock.now_utc())
    return conn.execute(
        "SELECT * FROM household_changes WHERE kind = 'merge' AND undone_at IS NULL AND done_at >= ? "
        "AND (source_id = ? OR target_id = ?) ORDER BY change_id DESC",
        (clock.to_text(clock.local_midnight(today)), account_id, account_id)).fetchall()


def _change(conn, change_id) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM household_changes WHERE change_id = ?", (change_id,)).fetchone() \
        if type(change_id) is int else None
    if row is None:
        raise NotFound(f"没有编号为 {change_id} 的并户记录。", f"no household change {change_id}")
    return row


@dataclass(frozen=True)
class UndoPlan:
    change: sqlite3.Row
    source: Side        # the closed account that comes back
    target: Side        # the account the members and points leave again
    member_names: list[str]


def plan_undo_merge(conn: sqlite3.Connection, change_id: int, now=None) -> UndoPlan:
    """Every check of undoing a merge (the same local day, nothing moved since); writes nothing."""
    now = now or clock.now_utc()
    row = _change(conn, change_id)
    if row["kind"] != "merge":
        raise InvalidInput("只有并户可以撤销。", "only a merge can be undone")
    if row["undone_at"] is not None:
        raise InvalidInput("这次并户已经撤销过了。", "this merge was undone already")
    if clock.local_date(clock.from_text(row["done_at"])) != clock.local_date(now):
        raise InvalidInput("并户只能在办理当天撤销;之后请办理分户。", "a merge can be undone only on its day")
    source, target = accounts.get(conn, row["source_id"]), accounts.get(conn, row["target_id"])
    if source.status != "closed":
        raise InvalidInput(f"储户 {source.account_id} 已不是销户状态,不能撤销。", "the source is no longer closed")
    if target.status == "closed":
        raise InvalidInput(f"储户 {target.account_id} 已销户,不能撤销并户。", "the target is closed")
    moved = json.loads(row["member_ids"])
    here = {m["member_id"]: m["name"] for m in accounts.members(conn, target.account_id)}
    if any(mid not in here for mid in moved):
        raise InvalidInput("并入的成员已有变动,不能撤销;请办理分户。", "a moved member has left the target since")
    names = [here[mid] for mid in moved]
    _no_reviewer_among(conn, target.account_id, names)
    _no_open_objection(conn, target.account_id)
    balance = ledger.balance(conn, target.account_id)
    if row["points"] > 0 and balance < row["points"]:
        raise InvalidInput(f"并入的 {row['points']} 分已部分使用(现余额 {balance} 分),不能撤销;请办理分户。",
                           "points moved in were spent since")
    return UndoPlan(row, side(conn, source.account_id), side(conn, target.account_id), names)


def undo_merge(conn: sqlite3.Connection, change_id: int, *, by: str, now=None) -> Moved:
    """Undo a merge of today: the closed account reopens with its members, holder and status,
    the points go back with the validity they had, and its card is reissued (version + 1: the old
    version is on every device's deny list already)."""
    now = now or clock.now_utc()
    with transaction(conn):
        plan = plan_undo_merge(conn, change_id, now=now)
        row = plan.change
        source_id, target_id, points = row["source_id"], row["target_id"], row["points"]
        accounts.set_status(conn, source_id, row["source_status"], now=now)
        moved = json.loads(row["member_ids"])
        conn.execute(f"UPDATE members SET account_id = ?, is_holder = 0 WHERE member_id IN ({','.join('?' * len(moved))})",
                     (source_id, *moved))
        if row["holder_id"] is not None:
            conn.execute("UPDATE members SET is_holder = 1 WHERE member_id = ?", (row["holder_id"],))
        if row["target_kind"] == "single" and len(accounts.members(conn, target_id)) == 1:
            conn.execute("UPDATE accounts SET kind = 'single' WHERE account_id = ?", (target_id,))
        note = f"撤销当天的并户(储户 {source_id} 并入 {target_id})"
        ref = f"household:{change_id}"
        incoming = [ledger.entry(conn, r[0]) for r in conn.execute(
            "SELECT entry_id FROM ledger_entries WHERE ref = ? OR ref LIKE ? ORDER BY entry_id",
            (f"{ref}:in", f"{ref}:in:%"))]
        for e in incoming:
            # the reversal takes back the incoming lot itself; the source gets it with its validity
            ledger.reverse(conn, e.entry_id, recorded_by=by, note=note, now=now, ref=f"{ref}:undo:{e.entry_id}")
            if e.points > 0:
                ledger.record_adjustment(conn, source_id, e.points, recorded_by=by, note=note, now=now,
                                         ref=f"{ref}:back:{e.entry_id}",
                                         valid_until=dt.date.fromisoformat(e.valid_until) if e.valid_until else None)
        if points < 0:   # a debt moved: reverse its outgoing entry too
            out = ledger.by_ref(conn, f"{ref}:out")
            ledger.reverse(conn, out.entry_id, recorded_by=by, note=note, now=now, ref=f"{ref}:undo:{out.entry_id}")
        reissued = None
        for card_id in [r[0] for r in conn.execute(
                "SELECT card_id FROM cards WHERE account_id = ? AND role = 'resident' AND status = 'revoked' "
                "AND end_reason = 'merged' AND ended_at >= ? ORDER BY card_id", (source_id, row["done_at"]))]:
            if cards.current(conn, card_id).status == "revoked":
                reissued = cards.reissue(conn, card_id, reason="merge undone", now=now).card_id
        conn.execute("UPDATE household_changes SET undone_at = ?, undone_by = ? WHERE change_id = ?",
                     (clock.to_text(now), by, change_id))
        return Moved(target_id, source_id, points, plan.member_names, reissued, change_id)


# --- splitting -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SplitPlan:
    source: Side
    chosen: list            # member rows that move, the first is the new holder
    points: int
    compound_id: int
    building: int
    unit: int
    room: str

    @property
    def names(self) -> list[str]:
        return [m["name"] for m in self.chosen]


def plan_split(conn: sqlite3.Connection, source_id: int, member_ids: list[int], *, points: int,
               building: int | None = None, unit: int | None = None, room: str | None = None) -> SplitPlan:
    """Every check of a split, and what it would do; writes nothing."""
    source = _open(conn, source_id)
    _no_open_objection(conn, source_id)
    src = side(conn, source_id)
    everyone = {m["member_id"]: m for m in src.members}
    chosen = list(dict.fromkeys(member_ids))
    if not chosen:
        raise InvalidInput("请选择要分出的家庭成员。", "no members chosen")
    if any(mid not in everyone for mid in chosen):
        raise InvalidInput("所选成员不属于该储户。", "a chosen member is not in this account")
    if len(chosen) == len(everyone):
        raise InvalidInput("不能把全部成员都分出去;如整户迁出,请办理并户或销户。", "cannot split off every member")
    if any(everyone[mid]["is_holder"] for mid in chosen):
        raise InvalidInput("户主不能分出;请分出其他成员。", "the holder stays in the account")
    rows = [everyone[mid] for mid in chosen]
    _no_reviewer_among(conn, source_id, [m["name"] for m in rows])
    if type(points) is not int or points < 0 or points > max(src.balance, 0):
        raise InvalidInput(f"分出的积分须在0到{max(src.balance, 0)}之间。", f"points must be 0..{max(src.balance, 0)}")
    building = source.building if building is None else building
    unit = source.unit if unit is None else unit
    room = accounts.check_address(conn, source.compound_id, building, unit, source.room if room is None else room)
    return SplitPlan(src, rows, points, source.compound_id, building, unit, room)


def split(conn: sqlite3.Connection, source_id: int, member_ids: list[int], *, points: int, note: str, by: str,
          building: int | None = None, unit: int | None = None, room: str | None = None, now=None) -> Moved:
    """Move the chosen members into a new account (the first of them its holder) with a new card,
    and ``points`` of the source's balance with them, as the office decided."""
    note = _note(note)
    now = now or clock.now_utc()
    with transaction(conn):
        plan = plan_split(conn, source_id, member_ids, points=points, building=building, unit=unit, room=room)
        new_id = accounts.open_account(
            conn, kind="household" if len(plan.chosen) > 1 else "single", holder=plan.names[0],
            compound_id=plan.compound_id, building=plan.building, unit=plan.unit, room=plan.room, now=now)
        # open_account wrote the holder as a new member row; the person's own row moves instead.
        conn.execute("DELETE FROM members WHERE account_id = ?", (new_id,))
        ids = [m["member_id"] for m in plan.chosen]
        for n, mid in enumerate(ids):
            conn.execute("UPDATE members SET account_id = ?, is_holder = ?, relation = CASE WHEN ? = 1 THEN '本人' "
                         "ELSE relation END WHERE member_id = ?", (new_id, int(n == 0), int(n == 0), mid))
        change = _record_change(conn, "split", plan.source.account, new_id, ids, None, "household", points, note,
                                by, now)
        _transfer(conn, source_id, new_id, points, what="分户", note=note, by=by, now=now, ref=f"household:{change}")
        card = cards.issue(conn, new_id, now=now)
        return Moved(source_id, new_id, points, plan.names, card.card_id, change)


# --- closing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClosePlan:
    side: Side

    @property
    def points(self) -> int:
        """What closing does to the balance: this many points lapse (a debt, if negative, is written off)."""
        return self.side.balance

    def consequences(self) -> list[str]:
        """What happens, in the words the confirmation page and the command line show."""
        s, out = self.side, []
        if s.balance > 0:
            out.append(f"余额 {s.balance} 分作废(记一笔“调整” -{s.balance} 分,原记录不改动);如需保留积分,请改为办理并户。")
        elif s.balance < 0:
            out.append(f"欠分 {-s.balance} 分核销(记一笔“调整” +{-s.balance} 分)。")
        else:
            out.append("余额为 0,积分不受影响。")
        if s.cards:
            out.append(f"卡 {'、'.join(c.card_id for c in s.cards)} 立即作废,各平板和一体机下次同步后拒收。")
        else:
            out.append("该储户没有有效的卡。")
        out.append("销户后不能再记分、兑换或修改;台账和操作记录永久保留。")
        return out


def plan_close(conn: sqlite3.Connection, account_id: int) -> ClosePlan:
    """Every check of closing an account, and what it would do; writes nothing."""
    _open(conn, account_id)
    _no_open_objection(conn, account_id)
    staff = [r[0] for r in conn.execute("SELECT name FROM reviewers WHERE account_id = ? AND active = 1 ORDER BY name",
                                        (account_id,))]
    if staff:
        raise InvalidInput(f"{'、'.join(staff)}是评议小组成员(工作卡在本户),请先在“评议小组”中办理退出。",
                           "a review-group member's staff card is on this account")
    return ClosePlan(side(conn, account_id))


def close(conn: sqlite3.Connection, account_id: int, *, note: str, by: str, now=None) -> ClosePlan:
    """Close an account (销户): its balance lapses by one adjustment entry (a debt is written off
    the same way), its cards are revoked, it takes part in nothing more. Returns the plan it carried
    out."""
    note = _note(note)
    now = now or clock.now_utc()
    with transaction(conn):
        plan = plan_close(conn, account_id)
        if plan.points:
            what = f"余额 {plan.points} 分作废" if plan.points > 0 else f"欠分 {-plan.points} 分核销"
            ledger.record_adjustment(conn, account_id, -plan.points, recorded_by=by, note=f"销户,{what}:{note}",
                                     now=now, ref=f"close:{account_id}")
        _end_cards(conn, account_id, "closed", now)
        accounts.set_status(conn, account_id, "closed", now=now)
        return plan
