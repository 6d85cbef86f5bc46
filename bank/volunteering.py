"""Volunteer teams' service (志愿服务) recorded as points: one award per member account.

A service is recorded once for the team and each member's account gets the rule item's points,
with the same caps as any entry. All or nothing: if one account is refused (cap, closed
account) nothing is written and the message names the account.

A team's service is recorded under the convention's general volunteering item (setting
``volunteering.general_item``, default ML02 参加志愿服务) unless the office picks another: a
specific deed (a free haircut, a mediated dispute) is what one resident did, not what a team's
morning of service was, so a form never starts on one.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from . import clock, convention, ledger, settings, teams
from .db import transaction
from .errors import BankError, InvalidInput



def general_item(conn: sqlite3.Connection, catalog: convention.Catalog) -> str | None:
    """The code of the general volunteering item in ``catalog`` (the service form's default), or
    None if that catalog has no such award item (then the form starts on no item at all)."""
    code = settings.get(conn, "volunteering.general_item")
    return next((i.code for i in catalog.items if i.code == code and i.points > 0), None)


def service_items(catalog: convention.Catalog) -> list[convention.RuleItem]:
    """The items a team's service may be recorded under: every award item."""
    return [i for i in catalog.items if i.points > 0]


def team_accounts(conn: sqlite3.Connection, team_id: int) -> list[int]:
    teams.get(conn, team_id)
    return [r[0] for r in conn.execute("SELECT DISTINCT m.account_id FROM members m JOIN accounts a USING (account_id) "
                                       "WHERE m.team_id = ? AND a.status = 'active' ORDER BY 1", (team_id,))]


def record_service(conn: sqlite3.Connection, team_id: int, *, item_code: str, description: str,
                   served_on: dt.date, recorded_by: str, account_ids: list[int] | None = None,
                   now=None) -> list[ledger.Entry]:
    description = description.strip() if isinstance(description, str) else ""
    if not description or len(description) > 100:
        raise InvalidInput("服务内容不能为空,且不超过100个字。", "description must be 1-100 characters")
    now = now or clock.now_utc()
    if served_on > clock.local_date(now):
        raise InvalidInput("服务日期不能晚于今天。", "the service date cannot be in the future")
    item = convention.in_force(conn, clock.local_date(now)).item(item_code)
    if item.points <= 0:
        raise InvalidInput("志愿服务只能记加分项目。", "volunteer service is recorded with an award item")
    members = team_accounts(conn, team_id)
    chosen = members if account_ids is None else account_ids
    if not chosen:
        raise InvalidInput("该队没有可记分的队员。", "the team has no member accounts to record")
    if set(chosen) - set(members):
        raise InvalidInput("所选储户不是该队队员。", "some accounts are not members of the team")
    team = teams.get(conn, team_id).name
    with transaction(conn):
        sid = conn.execute("INSERT INTO team_services (team_id, served_on, item_code, description, recorded_by, "
                           "recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
                           (team_id, served_on.isoformat(), item_code, description, recorded_by,
                            clock.to_text(now))).lastrowid
        posted = []
        for aid in chosen:
            try:
                posted.append(ledger.record_item(conn, aid, item_code, recorded_by=recorded_by, now=now,
                                                 ref=f"team:{sid}:{aid}",
                                                 note=f"{team}:{description}({served_on})"[:ledger.MAX_NOTE]))
            except BankError as exc:
                raise type(exc)(f"储户 {aid}:{exc.zh}", f"account {aid}: {exc.en}") from None
        return posted
