"""The period's totals: points awarded, deducted, redeemed and expired in a time range, by
compound, by local month or by product — the one definition the monthly page, the dashboard and
the reports share.

A reversal counts against the kind of the entry it reverses, in the period the reversal was
posted: a month's totals, once the month is over, never change (the ledger is append-only), and
an award reversed this month takes its points out of this month's awards. ``entries`` counts the
entries of a kind net of their reversals in the same way.
"""

from __future__ import annotations

import dataclasses
import sqlite3

KINDS = ("award", "deduction", "redemption", "expiry")

# Local months in SQL with a fixed +8 hours: Asia/Shanghai has no daylight saving.
_KEYS = {
    "compound": "a.compound_id",
    "month": "strftime('%Y-%m', e.recorded_at, '+8 hours')",
    "product": "ri.product_code",
    "all": "NULL",
}


@dataclasses.dataclass
class Totals:
    """Positive numbers: points awarded, deducted, redeemed, expired; ``entries`` awards and
    deductions recorded (net of those reversed)."""
    award: int = 0
    deduction: int = 0
    redemption: int = 0
    expiry: int = 0
    entries: int = 0


def totals(conn: sqlite3.Connection, start: str, end: str, *, by: str = "all") -> dict:
    """{key: Totals} for entries recorded in [start, end) (UTC texts), keyed by compound id, local
    month ("2026-11"), product code, or ``None`` for ``by="all"``. Keys with nothing are absent."""
    key = _KEYS[by]
    join = ("JOIN rule_items ri ON ri.catalog_version = coalesce(o.catalog_version, e.catalog_version) "
            "AND ri.code = coalesce(o.item_code, e.item_code) ") if by == "product" else ""
    out: dict = {}
    for k, kind, points, count in conn.execute(
            f"SELECT {key}, coalesce(o.kind, e.kind) AS k, sum(e.points), "
            "sum(CASE WHEN e.kind = 'reversal' THEN -1 ELSE 1 END) "
            "FROM ledger_entries e JOIN accounts a ON a.account_id = e.account_id "
            "LEFT JOIN ledger_entries o ON o.entry_id = e.reverses_entry_id "
            f"{join}WHERE e.recorded_at >= ? AND e.recorded_at < ? "
            "AND coalesce(o.kind, e.kind) IN ('award', 'deduction', 'redemption', 'expiry') "
            "GROUP BY 1, 2", (start, end)):
        t = out.setdefault(k, Totals())
        setattr(t, kind, points if kind == "award" else -points)
        if kind in ("award", "deduction"):
            t.entries += count
    return out
