"""Figures for the console's dashboard: points by month, compound and product; merchants'
donated value against the monthly target; card holders and participation; silent devices.

The points totals are those of :mod:`bank.totals` (one definition for every page). Local months
are computed in SQL with a fixed +8 hours: Asia/Shanghai has no daylight saving.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from bank import clock, community, merchants, periods, totals

MONTHLY_DONATION_TARGET_FEN = 30_000 * 100
_LOCAL_MONTH = "strftime('%Y-%m', recorded_at, '+8 hours')"


def last_months(today: dt.date, count: int = 12) -> list[str]:
    out, y, m = [], today.year, today.month
    for _ in range(count):
        out.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def points_by_month(conn: sqlite3.Connection, months: list[str]) -> list[dict]:
    """Per local month: awarded, deducted, redeemed, expired (positive numbers, as
    :func:`bank.totals.totals` defines them)."""
    start = clock.to_text(clock.local_midnight(dt.date.fromisoformat(months[0] + "-01")))
    end = periods.month(months[-1]).end
    got = totals.totals(conn, start, end, by="month")
    return [dict(month=m, **{k: getattr(got.get(m, totals.Totals()), k) for k in totals.KINDS}) for m in months]


def awarded_by_compound(conn: sqlite3.Connection, start: str, end: str) -> list[tuple[str, int, int]]:
    """(compound, awarded, deducted) in a time range."""
    got = totals.totals(conn, start, end, by="compound")
    return [(c.name, got.get(c.compound_id, totals.Totals()).award, got.get(c.compound_id, totals.Totals()).deduction)
            for c in community.compounds(conn)]


def awarded_by_product(conn: sqlite3.Connection, start: str, end: str) -> list[tuple[str, int]]:
    names = dict(conn.execute("SELECT code, name FROM products ORDER BY catalog_version").fetchall())
    got = totals.totals(conn, start, end, by="product")
    return [(names.get(code, code), t.award) for code, t in sorted(got.items()) if t.award]


def donated_by_month(conn: sqlite3.Connection, months: list[str]) -> list[tuple[str, int]]:
    """(month, value in fen of redeemed goods and services, net of reversed redemptions)."""
    start = clock.to_text(clock.local_midnight(dt.date.fromisoformat(months[0] + "-01")))
    got = dict(conn.execute(
        f"SELECT {_LOCAL_MONTH}, sum(e.quantity * {merchants.value_sql()}) FROM ledger_entries e JOIN offers o USING (offer_id) "
        "WHERE e.kind = 'redemption' AND e.recorded_at >= ? AND NOT EXISTS "
        "(SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id) GROUP BY 1", (start,)).fetchall())
    return [(m, got.get(m, 0)) for m in months]


def participation(conn: sqlite3.Connection, now: dt.datetime) -> dict:
    since = clock.to_text(now - dt.timedelta(days=30))
    one = lambda sql, *a: conn.execute(sql, a).fetchone()[0]  # noqa: E731
    return {
        "accounts": one("SELECT count(*) FROM accounts WHERE status <> 'closed'"),
        "card_holders": one("SELECT count(DISTINCT account_id) FROM cards WHERE status = 'active'"),
        "members": one("SELECT count(*) FROM members"),
        "active_30d": one("SELECT count(DISTINCT account_id) FROM ledger_entries WHERE recorded_at >= ? "
                          "AND kind IN ('award', 'redemption')", since),
        "merchants": one("SELECT count(*) FROM merchants WHERE status = 'active'"),
    }


def silent_devices(conn: sqlite3.Connection, now: dt.datetime, hours: int = 24) -> list[sqlite3.Row]:
    """Active devices whose last sync (push or pull) is older than ``hours`` or that never synced."""
    limit = clock.to_text(now - dt.timedelta(hours=hours))
    # The later of two times, written as CASE: SQLite's two-argument max() is PostgreSQL's greatest().
    push, pull = "coalesce(last_push_at, '')", "coalesce(last_pull_at, '')"
    last_sync = f"CASE WHEN {push} > {pull} THEN {push} ELSE {pull} END"
    return conn.execute(
        f"SELECT device_id, kind, label, merchant_id, service_point_id, {last_sync} AS last_sync FROM devices "
        f"WHERE status = 'active' AND {last_sync} < ? ORDER BY device_id", (limit,)).fetchall()
