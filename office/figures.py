"""Figures for the console's dashboard: points by month, compound and product; merchants'
donated value against the monthly target; card holders and participation; silent devices.

The points totals are those of :mod:`bank.totals` (one definition for every page). Local months
are computed in SQL with a fixed +8 hours: Asia/Shanghai has no daylight saving.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from bank import cards, clock, community, devices, merchants, periods, totals



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
    got = merchants.donated_by_month(conn, start)
    return [(m, got.get(m, 0)) for m in months]


def participation(conn: sqlite3.Connection, now: dt.datetime) -> dict:
    since = clock.to_text(now - dt.timedelta(days=30))
    one = lambda sql, *a: conn.execute(sql, a).fetchone()[0]  # noqa: E731
    return {
        "accounts": one("SELECT count(*) FROM accounts WHERE status <> 'closed'"),
        "card_holders": cards.holder_count(conn),
        "members": one("SELECT count(*) FROM members"),
        "active_30d": one("SELECT count(DISTINCT account_id) FROM ledger_entries WHERE recorded_at >= ? "
                          "AND kind IN ('award', 'redemption')", since),
        "merchants": one("SELECT count(*) FROM merchants WHERE status = 'active'"),
    }


def silent_devices(conn: sqlite3.Connection, now: dt.datetime, hours: int = devices.SILENT_HOURS) -> list[sqlite3.Row]:
    """Active devices whose last sync (push or pull) is older than ``hours`` or that never synced."""
    return devices.silent(conn, now, hours)
