"""The review groups' monthly work recorded from the office: entries under the same caps as
anywhere (``bank.ledger.record_item``), plus who may record them.

Scope: a review-group member records only for accounts of their own compound. Recusal (回避) and
the second member's confirmation are :mod:`bank.reviewers`' rules, the same as at the kiosk: a
console user who is a review-group member is linked to their reviewers row, and recusal compares
that member's household account with the entry's account (never names: two residents may share a
name, and a user name need not be a resident's name).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import accounts, attempts, cards, clock, convention, ledger, recorders, reviewers, users
from .errors import InvalidInput


class NotAllowed(InvalidInput):
    code = "not_allowed"


def check_scope(user: users.User, compound_id: int) -> None:
    if user.role == "merchant":
        raise NotAllowed("商户用户不能查看或记录储户积分。", "merchant users cannot see residents")
    if user.role == "reviewer" and user.compound_id != compound_id:
        raise NotAllowed("您只能办理本小区储户的事项。", "a reviewer acts only in their own compound")


def member_of(conn: sqlite3.Connection, user: users.User) -> reviewers.Reviewer | None:
    """The review-group member behind a console user; a reviewer user without an active one may
    record nothing (they left the group, or the link was never made)."""
    if user.reviewer_id is None:
        if user.role == "reviewer":
            raise NotAllowed("您的账号未关联评议小组成员,不能记录积分,请联系社区办公室。",
                             "the reviewer user is not linked to a review-group member")
        return None
    member = reviewers.get(conn, user.reviewer_id)
    if not member.active and user.role == "reviewer":
        raise NotAllowed("您已不是评议小组成员,不能记录积分。", "the member has left the review group")
    return member if member.active else None


def check_recusal(conn: sqlite3.Connection, user: users.User, account_id: int) -> None:
    member = member_of(conn, user)
    if member is not None and reviewers.recused(member, account_id):
        raise NotAllowed("您是该户成员,应当回避,请由其他人记录。", "recusal: the user's household is this account")


@dataclass(frozen=True)
class Confirmation:
    """A second member's confirmation of one entry, their PIN checked (by :func:`confirm_second`)."""
    second: reviewers.Reviewer
    account_id: int
    item_code: str


def check_second(conn: sqlite3.Connection, user: users.User, account_id: int, points: int,
                 second_id: int | None, second_pin: str | None, *, now=None) -> reviewers.Reviewer | None:
    """A review-group member's weighty entry needs a second member of the same group, present with
    their PIN (as at the kiosk, where they show their staff card and enter it).

    The PIN goes through :mod:`bank.attempts` (``staff_pin``, per member, audited): five wrong
    lock that member's PIN for 15 minutes. The count is committed here, so this is called
    outside a transaction (see :func:`confirm_second`)."""
    member = member_of(conn, user)
    if user.role != "reviewer" or not reviewers.needs_second(points, reviewers.second_confirm_above(conn)):
        return None
    above = reviewers.second_confirm_above(conn)
    if second_id is None or not second_pin:
        raise NotAllowed(f"这一条超过 {above} 分,需要另一位评议小组成员确认(选择成员并输入其密码)。",
                         "needs a second member's confirmation")
    second = reviewers.get(conn, second_id)
    if (not second.active or second.compound_id != member.compound_id
            or second.reviewer_id == member.reviewer_id):
        raise NotAllowed("确认人须是本小区评议小组的另一位成员。", "the second member must be another member of the group")
    if reviewers.recused(second, account_id):
        raise NotAllowed("确认人是该户成员,应当回避,请换一位成员确认。", "recusal: the second member's household")
    attempts.check(conn, "staff_pin", second.reviewer_id, lambda: accounts.check_pin(second.pin_hash, second_pin),
                   actor=user.name, now=now or clock.now_utc(),
                   detail={"via": "console", "account": account_id, "member": second.name})
    return second


def confirm_second(conn: sqlite3.Connection, user: users.User, account_id: int, item_code: str, *,
                   second_id: int | None, second_pin: str | None, now=None) -> Confirmation | None:
    """Check, before the entry's own transaction, everything :func:`record` will refuse and the
    second member's PIN; None when the entry needs no second member."""
    acct = accounts.get(conn, account_id)
    check_scope(user, acct.compound_id)
    check_recusal(conn, user, account_id)
    item = convention.in_force(conn, clock.local_date(now or clock.now_utc())).item(item_code)
    second = check_second(conn, user, account_id, item.points, second_id, second_pin, now=now)
    return Confirmation(second, account_id, item_code) if second else None


def second_candidates(conn: sqlite3.Connection, user: users.User) -> list[reviewers.Reviewer]:
    """Who may confirm a review-group member's weighty entry: the other active members of the group."""
    if user.role != "reviewer" or user.reviewer_id is None:
        return []
    return [m for m in reviewers.of_compound(conn, user.compound_id) if m.reviewer_id != user.reviewer_id]


def record(conn: sqlite3.Connection, user: users.User, account_id: int, item_code: str, *,
           note: str = "", confirmation: Confirmation | None = None, now=None) -> ledger.Entry:
    """Record an entry from the office; a weighty one by a review-group member needs the
    ``confirmation`` that :func:`confirm_second` gave (its PIN check must commit first)."""
    if user.role not in ("office", "council", "reviewer"):
        raise NotAllowed("您没有记录积分的权限。", f"role {user.role} cannot record entries")
    acct = accounts.get(conn, account_id)
    check_scope(user, acct.compound_id)
    check_recusal(conn, user, account_id)
    item = convention.in_force(conn, clock.local_date(now or clock.now_utc())).item(item_code)
    second = None
    if user.role == "reviewer" and reviewers.needs_second(item.points, reviewers.second_confirm_above(conn)):
        if confirmation is None or (confirmation.account_id, confirmation.item_code) != (account_id, item_code):
            raise NotAllowed(f"这一条超过 {reviewers.second_confirm_above(conn)} 分,需要另一位评议小组成员确认"
                             "(选择成员并输入其密码)。", "needs a second member's confirmation")
        second = confirmation.second
    by = recorders.of_user(user.role, user.name, second.name if second else None)
    return ledger.record_item(conn, account_id, item_code, recorded_by=by, note=note, now=now)


def compound_entries(conn: sqlite3.Connection, compound_id: int, start: str, end: str, limit: int = 300):
    """The awards and deductions of a compound in a time range, newest first (rows for screens)."""
    return conn.execute(
        "SELECT e.entry_id, e.recorded_at, e.account_id, a.display_name, e.kind, e.points, "
        "coalesce(ri.name, e.item_code) AS item, e.recorded_by, e.device_id, "
        "EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id) AS reversed "
        "FROM ledger_entries e JOIN accounts a USING (account_id) "
        "LEFT JOIN rule_items ri ON ri.catalog_version = e.catalog_version AND ri.code = e.item_code "
        "WHERE a.compound_id = ? AND e.kind IN ('award', 'deduction') AND e.recorded_at >= ? AND e.recorded_at < ? "
        "ORDER BY e.entry_id DESC LIMIT ?", (compound_id, start, end, limit)).fetchall()


def leave_group(conn: sqlite3.Connection, reviewer_id: int) -> reviewers.Reviewer:
    """A member leaves the review group: staff card revoked, and their console log-in (if any) is
    disabled with it, so neither the kiosk nor the office takes entries from them any more."""
    member = reviewers.get(conn, reviewer_id)
    if not member.active:
        raise InvalidInput("该成员已退出评议小组。", f"reviewer {reviewer_id} already left")
    member = reviewers.deactivate(conn, reviewer_id)
    user = users.by_reviewer(conn, reviewer_id)
    if user is not None and user.role == "reviewer" and user.active:
        users.set_active(conn, user.user_id, False)
    return member


def join_group(conn: sqlite3.Connection, *, compound_id: int, account_id: int, name: str, pin: str,
               now=None) -> tuple[reviewers.Reviewer, cards.Card]:
    """The office adds a resident to their compound's review group: the name must be a member of
    that household (recusal is decided by this account), the account open, and the person not in
    the group already. Issues their staff card."""
    name = name.strip() if isinstance(name, str) else ""
    acct = accounts.get(conn, account_id)
    if acct.status != "active":
        raise InvalidInput("该储户不是正常状态,不能加入评议小组。", f"account {account_id} is {acct.status}")
    if name not in {m["name"] for m in accounts.members(conn, account_id)}:
        raise InvalidInput(f"“{name}”不是储户 {account_id} 的家庭成员。", f"{name!r} is not a member of account {account_id}")
    if conn.execute("SELECT 1 FROM reviewers WHERE account_id = ? AND name = ? AND active = 1",
                    (account_id, name)).fetchone():
        raise InvalidInput(f"{name}已是评议小组成员。", f"{name!r} is already a member")
    return reviewers.add(conn, compound_id=compound_id, account_id=account_id, name=name, pin=pin, now=now)
