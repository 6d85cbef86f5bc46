"""Objections (异议) to a posting or an entry, and the points they hold.

A case moves raised -> assigned -> investigated -> ruled (upheld or rejected) -> answered ->
filed (备案), one step at a time. While a case is open (not yet ruled) the points it disputes
are held: :func:`held_points` is what office redemption (``bank.redemptions``) subtracts from
the balance. An upheld objection posts its correcting entries through the ledger (a reversal of
the disputed entry, and optionally the right rule item), each with a ref naming the case so a
replay writes nothing twice.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import accounts, clock, ledger
from .db import transaction
from .errors import InvalidInput, NotFound

STATUSES = {"raised": "已受理", "assigned": "已分派", "investigated": "已调查", "ruled": "已裁定",
            "answered": "已答复", "filed": "已备案"}
OPEN = ("raised", "assigned", "investigated")
RULINGS = {"upheld": "异议成立", "rejected": "异议不成立"}
SOURCES = {"kiosk": "一体机", "office": "办公室"}
MAX_TEXT = 500


@dataclass(frozen=True)
class Objection:
    objection_id: int
    account_id: int
    entry_id: int | None
    points_held: int
    source: str
    reason: str
    raised_by: str
    raised_at: str
    status: str
    assigned_to: str | None
    findings: str | None
    ruling: str | None
    ruling_note: str | None
    ruled_by: str | None
    answer: str | None
    filed_by: str | None
    updated_at: str

    @property
    def status_name(self) -> str:
        return STATUSES[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


_COLUMNS = ("objection_id, account_id, entry_id, points_held, source, reason, raised_by, raised_at, status, "
            "assigned_to, findings, ruling, ruling_note, ruled_by, answer, filed_by, updated_at")


OPEN_STATUSES = "(" + ", ".join(f"'{s}'" for s in OPEN) + ")"     # OPEN as SQL


def _text(value, what_zh: str, what_en: str, *, limit: int = MAX_TEXT) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > limit:
        raise InvalidInput(f"{what_zh}不能为空,且不超过{limit}个字。", f"{what_en} must be 1-{limit} characters")
    return value


def get(conn: sqlite3.Connection, objection_id: int) -> Objection:
    row = conn.execute(f"SELECT {_COLUMNS} FROM objections WHERE objection_id = ?", (objection_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {objection_id} 的异议。", f"no objection {objection_id}")
    return Objection(*row)


def raise_objection(conn: sqlite3.Connection, account_id: int, *, reason: str, raised_by: str,
                    entry_id: int | None = None, source: str = "office", now=None) -> Objection:
    """Record an objection about an account (and one of its entries, if given).

    An objection to an award holds that award's points until the ruling; an objection to a
    deduction or to the account as a whole holds nothing.
    """
    reason = _text(reason, "异议理由", "reason")
    raised_by = _text(raised_by, "提出人", "raised_by", limit=40)
    if source not in SOURCES:
        raise InvalidInput("异议来源不正确。", f"unknown source {source!r}")
    with transaction(conn):
        accounts.get(conn, account_id)
        held = 0
        if entry_id is not None:
            e = ledger.entry(conn, entry_id)
            if e.account_id != account_id:
                raise InvalidInput(f"第 {entry_id} 号记录不属于该储户。", f"entry {entry_id} is not account {account_id}'s")
            if e.kind not in ledger.REVERSIBLE:
                raise InvalidInput("只能对加分、扣分、兑换或调整记录提出异议。", f"cannot object to a {e.kind} entry")
            if conn.execute("SELECT 1 FROM ledger_entries WHERE reverses_entry_id = ?", (entry_id,)).fetchone():
                raise InvalidInput(f"第 {entry_id} 号记录已经冲正。", f"entry {entry_id} is already reversed")
            if conn.execute("SELECT 1 FROM objections WHERE entry_id = ? AND status IN ('raised', 'assigned', "
                            "'investigated')", (entry_id,)).fetchone():
                raise InvalidInput(f"第 {entry_id} 号记录已有未办结的异议。", f"entry {entry_id} already has an open objection")
            held = max(e.points, 0) if e.kind in ("award", "adjustment") else 0
        at = clock.to_text(now or clock.now_utc())
        oid = conn.execute(
            "INSERT INTO objections (account_id, entry_id, points_held, source, reason, raised_by, raised_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account_id, entry_id, held, source, reason, raised_by, at, at)).lastrowid
        return get(conn, oid)


def _step(conn, objection_id: int, expected: str, new: str, now, **cols) -> Objection:
    with transaction(conn):
        case = get(conn, objection_id)
        if case.status != expected:
            raise InvalidInput(f"该异议当前为“{case.status_name}”,不能办理这一步(应为“{STATUSES[expected]}”)。",
                               f"objection {objection_id} is {case.status}, this step needs {expected}")
        sets = ", ".join(f"{k} = ?" for k in cols)
        conn.execute(f"UPDATE objections SET status = ?, {sets}, updated_at = ? WHERE objection_id = ?",
                     (new, *cols.values(), clock.to_text(now or clock.now_utc()), objection_id))
        return get(conn, objection_id)


def assign(conn, objection_id: int, *, to: str, now=None) -> Objection:
    return _step(conn, objection_id, "raised", "assigned", now, assigned_to=_text(to, "承办人", "assignee", limit=40))


def investigate(conn, objection_id: int, *, findings: str, now=None) -> Objection:
    return _step(conn, objection_id, "assigned", "investigated", now,
                 findings=_text(findings, "调查情况", "findings"))


def rule(conn, objection_id: int, *, ruling: str, note: str, by: str, correct_item: str | None = None,
         now=None) -> Objection:
    """Rule on a case. Upheld: reverse the disputed entry and, with ``correct_item``, record the
    rule item that should have been recorded instead (same caps as any entry)."""
    if ruling not in RULINGS:
        raise InvalidInput("裁定结果只能是“异议成立”或“异议不成立”。", f"unknown ruling {ruling!r}")
    note = _text(note, "裁定意见", "ruling note")
    by = _text(by, "裁定人", "ruled_by", limit=40)
    now = now or clock.now_utc()
    with transaction(conn):
        case = get(conn, objection_id)
        if ruling == "upheld":
            if case.entry_id is None and not correct_item:
                raise InvalidInput("该异议未指明台账记录,异议成立时须选择应记的积分项目。",
                                   "an upheld objection without an entry needs the correct rule item")
            if case.entry_id is not None:
                ledger.reverse(conn, case.entry_id, recorded_by=by, now=now, ref=f"objection:{objection_id}:reverse",
                               note=f"异议{objection_id}成立:{note}"[:ledger.MAX_NOTE])
            if correct_item:
                ledger.record_item(conn, case.account_id, correct_item, recorded_by=by, now=now,
                                   ref=f"objection:{objection_id}:item",
                                   note=f"异议{objection_id}成立,改记"[:ledger.MAX_NOTE])
        return _step(conn, objection_id, "investigated", "ruled", now, ruling=ruling, ruling_note=note, ruled_by=by)


def answer(conn, objection_id: int, *, text: str, now=None) -> Objection:
    """Record the answer given to the resident (and the resident's response to it)."""
    return _step(conn, objection_id, "ruled", "answered", now, answer=_text(text, "答复内容", "answer"))


def file_case(conn, objection_id: int, *, by: str, now=None) -> Objection:
    return _step(conn, objection_id, "answered", "filed", now, filed_by=_text(by, "备案人", "filed_by", limit=40))


def corrections(conn: sqlite3.Connection, objection_id: int) -> list[ledger.Entry]:
    """The ledger entries an upheld objection posted."""
    return [ledger.by_ref(conn, ref) for ref in (f"objection:{objection_id}:reverse", f"objection:{objection_id}:item")
            if ledger.by_ref(conn, ref) is not None]


def held_points(conn: sqlite3.Connection, account_id: int) -> int:
    """Points of the account under an open objection: they cannot be redeemed until the ruling."""
    return conn.execute("SELECT coalesce(sum(points_held), 0) FROM objections WHERE account_id = ? "
                        "AND status IN ('raised', 'assigned', 'investigated')", (account_id,)).fetchone()[0]


def search(conn: sqlite3.Connection, *, status: str = "", account_id: int | None = None,
           compound_id: int | None = None, limit: int = 500) -> list[Objection]:
    sql = f"SELECT {', '.join('o.' + c.strip() for c in _COLUMNS.split(','))} FROM objections o " \
          "JOIN accounts a USING (account_id) WHERE 1 = 1"
    args: list = []
    if status == "open":
        sql += f" AND o.status IN {OPEN_STATUSES}"
    elif status:
        sql += " AND o.status = ?"
        args.append(status)
    if account_id is not None:
        sql += " AND o.account_id = ?"
        args.append(account_id)
    if compound_id is not None:
        sql += " AND a.compound_id = ?"
        args.append(compound_id)
    return [Objection(*r) for r in conn.execute(sql + " ORDER BY o.objection_id DESC LIMIT ?", (*args, limit))]


def open_count(conn: sqlite3.Connection) -> int:
    """How many objections are not settled yet (as ``search(status="open")`` lists them)."""
    return conn.execute(f"SELECT count(*) FROM objections WHERE status IN {OPEN_STATUSES}").fetchone()[0]
