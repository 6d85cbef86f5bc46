"""Volunteer teams (志愿服务队): a team's registration (登记备案) with its date, name and what it
does, and its members (residents, each a member of a household account) coming in and going out.

A resident is in at most one team (``members.team_id``). What a team's service earns is in
:mod:`bank.volunteering`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from . import clock
from .errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Team:
    team_id: int
    name: str
    description: str
    registered_on: dt.date | None


def _team(row) -> Team:
    return Team(row[0], row[1], row[2], dt.date.fromisoformat(row[3]) if row[3] else None)


def _fields(conn, team_id, *, name, description, registered_on, today: dt.date) -> dict:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 30 or not name.isprintable():
        raise InvalidInput("队伍名称不能为空,且不超过30个字。", "a team name is 1-30 characters")
    other = conn.execute("SELECT team_id FROM volunteer_teams WHERE name = ? AND team_id IS NOT ?",
                         (name, team_id)).fetchone()
    if other is not None:
        raise InvalidInput(f"已有名为“{name}”的志愿服务队。", f"team {name!r} exists already")
    description = description.strip() if isinstance(description, str) else ""
    if len(description) > 100 or not description.isprintable():
        raise InvalidInput("服务内容简介不超过100个字。", "a description is at most 100 characters")
    if registered_on is not None:
        if not isinstance(registered_on, dt.date):
            raise InvalidInput("登记备案日期格式不正确。", "registered_on must be a date")
        if registered_on > today:
            raise InvalidInput("登记备案日期不能晚于今天。", "the registration date cannot be in the future")
    return {"name": name, "description": description,
            "registered_on": registered_on.isoformat() if registered_on else None}


def add(conn: sqlite3.Connection, name: str, description: str = "", *, registered_on: dt.date | None = None,
        now=None) -> int:
    """Register a team; returns its id."""
    f = _fields(conn, None, name=name, description=description, registered_on=registered_on,
                today=clock.local_date(now or clock.now_utc()))
    return conn.execute("INSERT INTO volunteer_teams (name, description, registered_on) VALUES (?, ?, ?)",
                        tuple(f.values())).lastrowid


_UNCHANGED = object()


def edit(conn: sqlite3.Connection, team_id: int, *, name: str | None = None, description: str | None = None,
         registered_on=_UNCHANGED, now=None) -> dict:
    """Change a team's name, description or registration date (``registered_on=None`` clears it);
    returns {field: [before, after]}."""
    t = get(conn, team_id)
    before = {"name": t.name, "description": t.description,
              "registered_on": t.registered_on.isoformat() if t.registered_on else None}
    after = _fields(conn, team_id, name=t.name if name is None else name,
                    description=t.description if description is None else description,
                    registered_on=t.registered_on if registered_on is _UNCHANGED else registered_on,
                    today=clock.local_date(now or clock.now_utc()))
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changed:
        conn.execute("UPDATE volunteer_teams SET name = ?, description = ?, registered_on = ? WHERE team_id = ?",
                     (*after.values(), team_id))
    return changed


def get(conn: sqlite3.Connection, team_id: int) -> Team:
    row = conn.execute("SELECT team_id, name, description, registered_on FROM volunteer_teams WHERE team_id = ?",
                       (team_id,)).fetchone() if type(team_id) is int else None
    if row is None:
        raise NotFound(f"没有编号为 {team_id} 的志愿服务队。", f"no volunteer team {team_id}")
    return _team(row)


def all_teams(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every team with how many members and member households (open accounts) it has."""
    return conn.execute(
        "SELECT t.team_id, t.name, t.description, t.registered_on, count(a.account_id) AS members, "
        "count(DISTINCT a.account_id) AS accounts FROM volunteer_teams t LEFT JOIN members m ON m.team_id = t.team_id "
        "LEFT JOIN accounts a ON a.account_id = m.account_id AND a.status <> 'closed' "
        "GROUP BY t.team_id ORDER BY t.team_id").fetchall()


def members(conn: sqlite3.Connection, team_id: int) -> list[sqlite3.Row]:
    get(conn, team_id)
    return conn.execute(
        "SELECT m.member_id, m.name, m.account_id, a.display_name AS holder, a.compound_id, a.status "
        "FROM members m JOIN accounts a USING (account_id) WHERE m.team_id = ? AND a.status <> 'closed' "
        "ORDER BY a.compound_id, m.account_id, m.member_id", (team_id,)).fetchall()


def _member(conn, member_id) -> sqlite3.Row:
    row = conn.execute("SELECT m.member_id, m.name, m.account_id, m.team_id, a.status FROM members m "
                       "JOIN accounts a USING (account_id) WHERE m.member_id = ?",
                       (member_id,)).fetchone() if type(member_id) is int else None
    if row is None:
        raise NotFound(f"没有编号为 {member_id} 的居民。", f"no member {member_id}")
    return row


def add_member(conn: sqlite3.Connection, team_id: int, member_id: int) -> sqlite3.Row:
    """A resident joins the team; refused if their account is closed or they are in another team."""
    t = get(conn, team_id)
    m = _member(conn, member_id)
    if m["status"] == "closed":
        raise InvalidInput(f"{m['name']}所在储户已销户。", f"account {m['account_id']} is closed")
    if m["team_id"] == team_id:
        raise InvalidInput(f"{m['name']}已是{t.name}队员。", f"member {member_id} is in the team already")
    if m["team_id"] is not None:
        other = get(conn, m["team_id"]).name
        raise InvalidInput(f"{m['name']}已是{other}队员,请先退出该队。", f"member {member_id} is in team {m['team_id']}")
    conn.execute("UPDATE members SET team_id = ? WHERE member_id = ?", (team_id, member_id))
    return m


def remove_member(conn: sqlite3.Connection, team_id: int, member_id: int) -> sqlite3.Row:
    t = get(conn, team_id)
    m = _member(conn, member_id)
    if m["team_id"] != team_id:
        raise InvalidInput(f"{m['name']}不是{t.name}队员。", f"member {member_id} is not in team {team_id}")
    conn.execute("UPDATE members SET team_id = NULL WHERE member_id = ?", (member_id,))
    return m
