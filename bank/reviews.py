"""The review groups' monthly work recorded from the office: entries under the same caps as
anywhere (``bank.ledger.record_item``), plus who may record them.

Scope: a review-group member records only for accounts of their own compound. Recusal (回避):
nobody records an award or a deduction for a household they are a member of.
"""

from __future__ import annotations

import sqlite3

from . import accounts, ledger, users
from .errors import InvalidInput


class NotAllowed(InvalidInput):
    code = "not_allowed"


def check_scope(user: users.User, compound_id: int) -> None:
    if user.role == "merchant":
        raise NotAllowed("商户用户不能查看或记录储户积分。", "merchant users cannot see residents")
    if user.role == "reviewer" and user.compound_id != compound_id:
        raise NotAllowed("您只能办理本小区储户的事项。", "a reviewer acts only in their own compound")


def check_recusal(conn: sqlite3.Connection, user: users.User, account_id: int) -> None:
    names = {m["name"] for m in accounts.members(conn, account_id)}
    if user.name in names:
        raise NotAllowed("您是该户成员,应当回避,请由其他人记录。", "recusal: the user is a member of this household")


def record(conn: sqlite3.Connection, user: users.User, account_id: int, item_code: str, *,
           note: str = "", now=None) -> ledger.Entry:
    if user.role not in ("office", "council", "reviewer"):
        raise NotAllowed("您没有记录积分的权限。", f"role {user.role} cannot record entries")
    acct = accounts.get(conn, account_id)
    check_scope(user, acct.compound_id)
    check_recusal(conn, user, account_id)
    label = {"reviewer": "评议小组成员", "council": "道德评议会", "office": "社区办公室"}[user.role]
    return ledger.record_item(conn, account_id, item_code, recorded_by=f"{label}:{user.name}", note=note, now=now)


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
