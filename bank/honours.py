"""Honours (表彰): yearly nominations from four sources and the council's decision on each."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import accounts, clock, periods
from .errors import InvalidInput, NotFound

HONOURS = {"moral_model": "道德模范", "law_star": "普法达人", "law_learner": "学法标兵", "volunteer": "优秀志愿者"}
SOURCES = {"residents": "居民推荐", "unit": "驻区单位推荐", "council": "道德评议会推荐", "assembly": "居民代表大会推荐"}
DECISIONS = {"awarded": "授予", "declined": "不予授予"}


@dataclass(frozen=True)
class Nomination:
    nomination_id: int
    year: int
    honour: str
    account_id: int
    source: str
    nominator: str
    reason: str
    created_at: str
    created_by: str
    decision: str | None
    decided_at: str | None
    decided_by: str | None


def nominate(conn: sqlite3.Connection, *, year: int, honour: str, account_id: int, source: str,
             nominator: str, reason: str, by: str, now=None) -> int:
    periods.year(year)
    if honour not in HONOURS:
        raise InvalidInput("表彰类别不正确。", f"unknown honour {honour!r}")
    if source not in SOURCES:
        raise InvalidInput("推荐来源不正确。", f"unknown source {source!r}")
    nominator = nominator.strip() if isinstance(nominator, str) else ""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not nominator or len(nominator) > 40:
        raise InvalidInput("推荐人(单位)不能为空,且不超过40个字。", "nominator must be 1-40 characters")
    if not reason or len(reason) > 500:
        raise InvalidInput("推荐理由不能为空,且不超过500个字。", "reason must be 1-500 characters")
    accounts.get(conn, account_id)
    if conn.execute("SELECT 1 FROM honour_nominations WHERE year = ? AND honour = ? AND account_id = ? AND source = ?",
                    (int(year), honour, account_id, source)).fetchone():
        raise InvalidInput("同一来源已推荐过该储户。", "this source already nominated this account for this honour")
    return conn.execute(
        "INSERT INTO honour_nominations (year, honour, account_id, source, nominator, reason, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (int(year), honour, account_id, source, nominator, reason, clock.to_text(now or clock.now_utc()), by)).lastrowid


def decide(conn: sqlite3.Connection, nomination_id: int, *, decision: str, by: str, now=None) -> None:
    if decision not in DECISIONS:
        raise InvalidInput("决定只能是授予或不予授予。", f"unknown decision {decision!r}")
    cur = conn.execute("UPDATE honour_nominations SET decision = ?, decided_at = ?, decided_by = ? "
                       "WHERE nomination_id = ? AND decision IS NULL",
                       (decision, clock.to_text(now or clock.now_utc()), by, nomination_id))
    if cur.rowcount == 0:
        raise NotFound(f"没有待决定的第 {nomination_id} 号推荐。", f"no undecided nomination {nomination_id}")


def nominations(conn: sqlite3.Connection, year: int) -> list[Nomination]:
    return [Nomination(*r) for r in conn.execute(
        "SELECT * FROM honour_nominations WHERE year = ? ORDER BY honour, account_id, nomination_id", (int(year),))]


def candidates(conn: sqlite3.Connection, year: int, limit: int = 20) -> list[tuple[int, str, int]]:
    """(account id, holder name, points earned in the year): the council's starting list."""
    p = periods.year(year)
    return [tuple(r) for r in conn.execute(
        "SELECT e.account_id, a.display_name, sum(e.points) FROM ledger_entries e JOIN accounts a USING (account_id) "
        "WHERE e.kind = 'award' AND e.recorded_at >= ? AND e.recorded_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id) "
        "GROUP BY e.account_id, a.display_name ORDER BY 3 DESC, 1 LIMIT ?", (p.start, p.end, limit))]


__all__ = ["HONOURS", "SOURCES", "nominate", "decide", "nominations", "candidates"]
