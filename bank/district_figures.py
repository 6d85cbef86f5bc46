"""The district view's figures: every community of a district store (bank.district) side by side
for a month.

Each figure is one function over one community's store, and each reuses the rule that defines it
for a community's own console: points awarded, deducted and redeemed are :func:`bank.totals.totals`;
donated value is :func:`bank.merchants.donated_by_month` against the community's setting
``merchants.monthly_commitment_yuan``; the quarterly verification is
:func:`bank.quarterly_check.verification_status`; devices not synced are :func:`bank.devices.silent`.

The whole district is read over one connection, moving it from community to community with the
search path (each community schema is a complete store, so the bank's unqualified queries read that
community alone). A table of 200 communities costs some 2000 small queries: :class:`Cache` keeps it
briefly, and the month's points and donated value of a month that is over are kept for good (the
ledger is append-only and a month's totals never change once it is over).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from typing import Callable

from . import alerts, cards, clock, db, devices, district, merchants, objections, periods, quarterly_check, totals

TTL_SECONDS = 60


@dataclasses.dataclass(frozen=True)
class Row:
    """One community's figures for a month (points are positive numbers, money in fen)."""
    code: str
    name: str
    card_holders: int
    awarded: int
    deducted: int
    redeemed: int
    donated_fen: int
    commitment_fen: int
    quarter: str              # the last quarter that ended before the month, e.g. '2026Q3'
    verification: str         # quarterly_check.STATUS key: done, due, overdue, running
    open_objections: int
    open_alerts: int
    silent_devices: int

    @property
    def donated_pct(self) -> int:
        return round(100 * self.donated_fen / self.commitment_fen) if self.commitment_fen else 0

    @property
    def verification_name(self) -> str:
        return quarterly_check.STATUS[self.verification]


COLUMNS = {   # field -> the heading every page, sheet and report uses
    "code": "代码", "name": "社区", "card_holders": "持卡储户", "awarded": "加分", "deducted": "扣分",
    "redeemed": "兑换积分", "donated_fen": "商户捐赠(元)", "commitment_fen": "承诺(元)",
    "verification": "季度核查", "open_objections": "未办结异议", "open_alerts": "未处理提醒",
    "silent_devices": "未同步设备",
}
SUM_COLUMNS = ("card_holders", "awarded", "deducted", "redeemed", "donated_fen", "commitment_fen",
               "open_objections", "open_alerts", "silent_devices")


# --- one function per figure, over one community's store ---------------------------------------

def card_holders(conn) -> int:
    return cards.holder_count(conn)


def points(conn, month: periods.Period) -> totals.Totals:
    return totals.totals(conn, month.start, month.end).get(None, totals.Totals())


def donated_fen(conn, month: periods.Period) -> int:
    return merchants.donated_by_month(conn, month.start, month.end).get(month.key, 0)


def commitment_fen(conn) -> int:
    return merchants.monthly_commitment_fen(conn)


def verification_quarter(month: periods.Period) -> periods.Period:
    """The quarter whose verification a month's view reports: the last one over before the month's quarter."""
    return periods.previous_quarter(clock.local_midnight(month.first_day))


def verification(conn, month: periods.Period, now: dt.datetime) -> str:
    return quarterly_check.verification_status(conn, verification_quarter(month), now)


def open_objections(conn) -> int:
    return objections.open_count(conn)


def open_alerts(conn) -> int:
    return alerts.open_count(conn)


def silent_devices(conn, now: dt.datetime) -> int:
    return len(devices.silent(conn, now))


def month_is_over(month: periods.Period, now: dt.datetime) -> bool:
    return clock.local_date(now) > month.last_day


# --- the district: every community over one connection ----------------------------------------

def use_community(conn, code: str) -> None:
    """Point a connection on a district store at one community's schema (bank.district)."""
    conn.raw.execute("SELECT set_config('search_path', %s, false)", (district.schema_of(code),))


def table(url: str, month: periods.Period, *, now: dt.datetime | None = None,
          frozen: dict | None = None) -> list[Row]:
    """Every community's :class:`Row` for ``month``, by code. ``frozen`` ({(code, month): (awarded,
    deducted, redeemed, donated)}) holds the figures of months that are over, read once."""
    now = now or clock.now_utc()
    entries = district.communities(url)
    if not entries:
        return []
    over = month_is_over(month, now)
    out = []
    conn = db.connect(district.directory_url(url), migrate=False)
    try:
        for e in entries:
            use_community(conn, e.code)
            key = (e.code, month.key)
            if over and frozen is not None and key in frozen:
                fixed = frozen[key]
            else:
                t = points(conn, month)
                fixed = (t.award, t.deduction, t.redemption, donated_fen(conn, month))
                if over and frozen is not None:
                    frozen[key] = fixed
            out.append(Row(e.code, e.name, card_holders(conn), *fixed, commitment_fen(conn),
                           verification_quarter(month).key, verification(conn, month, now), open_objections(conn),
                           open_alerts(conn), silent_devices(conn, now)))
    finally:
        conn.close()
    return out


def total(rows: list[Row]) -> dict:
    """The totals row: the sum of every countable column; verification counts done and overdue."""
    out = {c: sum(getattr(r, c) for r in rows) for c in SUM_COLUMNS}
    out["done"] = sum(r.verification == "done" for r in rows)
    out["overdue"] = sum(r.verification == "overdue" for r in rows)
    return out


class Cache:
    """The district table, computed at most once per ``ttl`` seconds per month (one computation at
    a time: 200 communities are not read twice over by simultaneous page views). With
    ``background`` a table older than ``ttl`` is still served while a thread reads the new one,
    so only the very first view of a month waits for the whole district (about a second for 200
    communities)."""

    def __init__(self, url: str, *, ttl: float = TTL_SECONDS, now: Callable[[], dt.datetime] = clock.now_utc,
                 background: bool = False):
        self.url = url
        self.ttl = ttl
        self.now = now
        self.background = background
        self._tables: dict[str, tuple[float, list[Row]]] = {}
        self._frozen: dict = {}
        self._lock = threading.Lock()          # the dictionaries
        self._computing = threading.Lock()     # one read of the district at a time
        self._refreshing: set[str] = set()

    def table(self, month: periods.Period) -> list[Row]:
        with self._lock:
            hit = self._tables.get(month.key)
            if hit is not None and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
            if hit is not None and self.background:
                if month.key not in self._refreshing:
                    self._refreshing.add(month.key)
                    threading.Thread(target=self._refresh, args=(month,), daemon=True,
                                     name=f"district-figures-{month.key}").start()
                return hit[1]
        return self._compute(month)

    def _compute(self, month: periods.Period) -> list[Row]:
        with self._computing:
            with self._lock:                   # another view may have read it while this one waited
                hit = self._tables.get(month.key)
                if hit is not None and time.monotonic() - hit[0] < self.ttl:
                    return hit[1]
            rows = table(self.url, month, now=self.now(), frozen=self._frozen)
            with self._lock:
                self._tables[month.key] = (time.monotonic(), rows)
            return rows

    def _refresh(self, month: periods.Period) -> None:
        try:
            self._compute(month)
        except Exception:   # noqa: BLE001 - the stale table stays; the next view tries again
            import logging
            logging.getLogger("bank.district_figures").exception("district table %s not refreshed", month.key)
        finally:
            with self._lock:
                self._refreshing.discard(month.key)

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()


# --- one community's drill-down (read-only) ---------------------------------------------------

def by_month(conn, months: list[periods.Period]) -> list[dict]:
    """One community's points and donated value for each month (oldest first)."""
    got = totals.totals(conn, months[0].start, months[-1].end, by="month")
    donated = merchants.donated_by_month(conn, months[0].start, months[-1].end)
    commitment = commitment_fen(conn)
    return [dict(month=m.key, label=m.label, awarded=got.get(m.key, totals.Totals()).award,
                 deducted=got.get(m.key, totals.Totals()).deduction,
                 redeemed=got.get(m.key, totals.Totals()).redemption, donated_fen=donated.get(m.key, 0),
                 commitment_fen=commitment) for m in months]


def last_months(month: periods.Period, count: int = 12) -> list[periods.Period]:
    y, m = month.first_day.year, month.first_day.month
    out = []
    for _ in range(count):
        out.append(periods.month(f"{y}-{m:02d}"))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


__all__ = ["Row", "COLUMNS", "Cache", "table", "total", "by_month", "last_months", "use_community",
           "card_holders", "points", "donated_fen", "commitment_fen", "verification", "verification_quarter",
           "open_objections", "open_alerts", "silent_devices"]
