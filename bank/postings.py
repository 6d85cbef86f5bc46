"""Postings (公示): each compound's results for a quarter (or the year-end summary), names masked.

A posting row per account: masked holder name, building and unit, points awarded, deducted and
redeemed in the period (net of reversals) and the balance at the period's end. A posting has a
posting period (opens_on..closes_on) during which residents may object.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from . import accounts, clock, periods
from .db import transaction
from .errors import InvalidInput, NotFound

KINDS = {"quarterly": "季度公示", "yearly": "年度汇总公示"}
DEFAULT_DAYS = 7
MAX_DAYS = 60


@dataclass(frozen=True)
class PostingRow:
    account_id: int
    masked_name: str
    building: int
    unit: int
    awarded: int
    deducted: int
    redeemed: int
    balance: int


@dataclass(frozen=True)
class Posting:
    posting_id: int
    kind: str
    period: str
    compound_id: int
    opens_on: str
    closes_on: str
    created_at: str
    created_by: str

    def is_open(self, day: dt.date) -> bool:
        return self.opens_on <= day.isoformat() <= self.closes_on


# awarded: awards and their reversals; deducted: deductions and theirs; redeemed: redemptions and theirs.
_SUMMARY = """
SELECT a.account_id, a.display_name, a.building, a.unit,
  coalesce(sum(CASE WHEN e.item_code IS NOT NULL AND e.offer_id IS NULL
                     AND (e.kind = 'award' OR (e.kind = 'reversal' AND e.points < 0)) THEN e.points END), 0),
  coalesce(-sum(CASE WHEN e.item_code IS NOT NULL AND e.offer_id IS NULL
                     AND (e.kind = 'deduction' OR (e.kind = 'reversal' AND e.points > 0)) THEN e.points END), 0),
  coalesce(-sum(CASE WHEN e.offer_id IS NOT NULL THEN e.points END), 0),
  (SELECT coalesce(sum(points), 0) FROM ledger_entries b WHERE b.account_id = a.account_id AND b.recorded_at < :end)
FROM accounts a
LEFT JOIN ledger_entries e ON e.account_id = a.account_id AND e.recorded_at >= :start AND e.recorded_at < :end
WHERE a.compound_id = :compound AND a.status <> 'closed'
GROUP BY a.account_id ORDER BY a.building, a.unit, a.account_id
"""


def summary(conn: sqlite3.Connection, compound_id: int, period: periods.Period) -> list[PostingRow]:
    """Every open account of the compound with its points in the period (names masked)."""
    rows = conn.execute(_SUMMARY, {"start": period.start, "end": period.end, "compound": compound_id})
    return [PostingRow(r[0], accounts.mask_name(r[1]), *r[2:]) for r in rows]


def compound_name(conn: sqlite3.Connection, compound_id: int) -> str:
    row = conn.execute("SELECT name FROM compounds WHERE compound_id = ?", (compound_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {compound_id} 的小区。", f"no compound {compound_id}")
    return row[0]


def publish(conn: sqlite3.Connection, *, kind: str, period: periods.Period, compound_id: int,
            opens_on: dt.date, days: int = DEFAULT_DAYS, by: str, now=None) -> Posting:
    """Open the posting period of a compound's posting (once per kind, period and compound)."""
    if kind not in KINDS:
        raise InvalidInput("公示类型不正确。", f"unknown posting kind {kind!r}")
    if type(days) is not int or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"公示期须为1到{MAX_DAYS}天。", f"a posting period is 1-{MAX_DAYS} days")
    if opens_on <= period.last_day:
        raise InvalidInput(f"公示须在{period.label}结束后开始。", "a posting opens after its period has ended")
    compound_name(conn, compound_id)
    with transaction(conn):
        if conn.execute("SELECT 1 FROM postings WHERE kind = ? AND period = ? AND compound_id = ?",
                        (kind, period.key, compound_id)).fetchone():
            raise InvalidInput("该小区这一期已经公示过。", "this compound's posting for the period exists")
        pid = conn.execute(
            "INSERT INTO postings (kind, period, compound_id, opens_on, closes_on, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, period.key, compound_id, opens_on.isoformat(),
             (opens_on + dt.timedelta(days=days - 1)).isoformat(), clock.to_text(now or clock.now_utc()), by)).lastrowid
        return get(conn, pid)


def get(conn: sqlite3.Connection, posting_id: int) -> Posting:
    row = conn.execute("SELECT * FROM postings WHERE posting_id = ?", (posting_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {posting_id} 的公示。", f"no posting {posting_id}")
    return Posting(*row)


def find(conn: sqlite3.Connection, kind: str, period: str, compound_id: int) -> Posting | None:
    row = conn.execute("SELECT * FROM postings WHERE kind = ? AND period = ? AND compound_id = ?",
                       (kind, period, compound_id)).fetchone()
    return Posting(*row) if row else None


def all_postings(conn: sqlite3.Connection) -> list[Posting]:
    return [Posting(*r) for r in conn.execute("SELECT * FROM postings ORDER BY posting_id DESC")]
