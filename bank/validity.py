"""The validity period of points (积分时限) and the expiry run.

By default points earned in a calendar year stay valid to the end of the following year
(``validity.years_after`` = 1). Points moved in from another account (households merged or
split) keep the last valid day they had there (the adjustment's ``valid_until``). Points are spent oldest first: every negative entry (redemption,
deduction, expiry) consumes the oldest lots; a reversal of an award takes back the points of that
award's own lot first. A balance that goes negative is a debt that later points pay off first.

The expiry run is idempotent: each (account, last valid day) gets at most one expiry entry, keyed
by its ``ref``, and replaying the ledger after a run finds nothing left to expire.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from . import clock, ledger, recorders, settings
from .db import transaction

SYSTEM = recorders.EXPIRY


@dataclass
class Lot:
    source_entry_id: int
    earned_on: dt.date
    last_valid_day: dt.date
    remaining: int


EXPIRY_WARN_DAYS = 60     # residents are told of points that expire within this many days


def years_after(conn: sqlite3.Connection) -> int:
    return settings.get(conn, "validity.years_after")


def last_valid_day(earned_on: dt.date, years: int) -> dt.date:
    return dt.date(earned_on.year + years, 12, 31)


def lots(conn: sqlite3.Connection, account_id: int) -> tuple[list[Lot], int]:
    """Replay the account's ledger: (lots with points left, oldest first; debt)."""
    return _replay(ledger.entries(conn, account_id), years_after(conn))


def lots_of_many(conn: sqlite3.Connection, account_ids: list[int]) -> dict[int, tuple[list[Lot], int]]:
    """:func:`lots` for many accounts with one query (a full pull of 100,000)."""
    by_account: dict[int, list] = {a: [] for a in account_ids}
    for e in ledger.entries_of_many(conn, account_ids):
        by_account[e.account_id].append(e)
    years = years_after(conn)
    return {a: _replay(entries, years) for a, entries in by_account.items()}


def _replay(entries, years: int) -> tuple[list[Lot], int]:
    open_lots: list[Lot] = []
    by_source: dict[int, Lot] = {}
    debt = 0
    for e in entries:
        if e.points > 0:
            amount = e.points
            paid = min(debt, amount)
            debt -= paid
            amount -= paid
            if amount:
                earned = clock.local_date(clock.from_text(e.recorded_at))
                until = (dt.date.fromisoformat(e.valid_until) if e.valid_until
                         else last_valid_day(earned, years))
                lot = Lot(e.entry_id, earned, until, amount)
                open_lots.append(lot)
                by_source[e.entry_id] = lot
            continue
        need = -e.points
        if e.kind == "reversal" and e.reverses_entry_id in by_source:
            own = by_source[e.reverses_entry_id]
            take = min(own.remaining, need)
            own.remaining -= take
            need -= take
        open_lots.sort(key=lambda lot: (lot.last_valid_day, lot.source_entry_id))
        for lot in open_lots:
            if not need:
                break
            take = min(lot.remaining, need)
            lot.remaining -= take
            need -= take
        debt += need
        open_lots = [lot for lot in open_lots if lot.remaining]
    open_lots.sort(key=lambda lot: (lot.last_valid_day, lot.source_entry_id))
    return open_lots, debt


def expiring(day_points, today: dt.date, days: int = EXPIRY_WARN_DAYS) -> list[tuple[dt.date, int]]:
    """The warning rule on its own: of ``(last valid day, points)`` pairs (dates or ISO text),
    those that expire within ``days`` of ``today``, summed per day. A device applies it to the
    lots its replica holds; the office to the lots it replays."""
    horizon = today + dt.timedelta(days=days)
    totals: dict[dt.date, int] = {}
    for day, points in day_points:
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        if today <= day <= horizon and points:
            totals[day] = totals.get(day, 0) + points
    return sorted(totals.items())


def expiring_within(conn: sqlite3.Connection, account_id: int, today: dt.date,
                    days: int = EXPIRY_WARN_DAYS) -> list[tuple[dt.date, int]]:
    """Points that expire within ``days`` of ``today``: [(last valid day, points)]."""
    return expiring(((lot.last_valid_day, lot.remaining) for lot in lots(conn, account_id)[0]), today, days)


@dataclass(frozen=True)
class Due:
    account_id: int
    last_valid_day: dt.date
    points: int


def _accounts_with_entries(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT DISTINCT account_id FROM ledger_entries ORDER BY account_id")]


def due_before(conn: sqlite3.Connection, today: dt.date) -> list[Due]:
    """What an expiry run on ``today`` would post, without writing: every account's points whose
    last valid day is before ``today``, per (account, day)."""
    out = []
    for account_id, (open_lots, _debt) in lots_of_many(conn, _accounts_with_entries(conn)).items():
        totals: dict[dt.date, int] = {}
        for lot in open_lots:
            if lot.last_valid_day < today:
                totals[lot.last_valid_day] = totals.get(lot.last_valid_day, 0) + lot.remaining
        out += [Due(account_id, d, p) for d, p in sorted(totals.items())]
    return out


def lost_in(conn: sqlite3.Connection, first_day: dt.date, last_day: dt.date) -> list[Due]:
    """Who loses points on a day from ``first_day`` to ``last_day``: lots whose last valid day is
    the day before (the expiry run of the next morning takes them), by day then account."""
    out = []
    for account_id, (open_lots, _debt) in lots_of_many(conn, _accounts_with_entries(conn)).items():
        totals: dict[dt.date, int] = {}
        for lot in open_lots:
            if first_day <= lot.last_valid_day + dt.timedelta(days=1) <= last_day:
                totals[lot.last_valid_day] = totals.get(lot.last_valid_day, 0) + lot.remaining
        out += [Due(account_id, d, p) for d, p in sorted(totals.items())]
    return sorted(out, key=lambda d: (d.last_valid_day, d.account_id))


def run_expiry(conn: sqlite3.Connection, today: dt.date, *, now: dt.datetime | None = None) -> list[ledger.Entry]:
    """Post an expiry entry for every lot whose last valid day is before ``today`` (local)."""
    now = now or clock.now_utc()
    posted = []
    with transaction(conn):
        candidates = [row[0] for row in conn.execute(
            "SELECT account_id FROM ledger_entries GROUP BY account_id HAVING min(recorded_at) < ? "
            "OR min(valid_until) < ?",
            (clock.to_text(clock.local_midnight(dt.date(today.year - years_after(conn), 1, 1))),
             today.isoformat()))]
        for account_id in candidates:
            expired: dict[dt.date, int] = {}
            for lot in lots(conn, account_id)[0]:
                if lot.last_valid_day < today:
                    expired[lot.last_valid_day] = expired.get(lot.last_valid_day, 0) + lot.remaining
            for day, points in sorted(expired.items()):
                # Replaying the ledger already counts earlier expiry entries, so what is left is new
                # (points moved in later with an old validity): a second entry for the same day.
                ref = f"expiry:{account_id}:{day.isoformat()}"
                earlier = conn.execute("SELECT count(*) FROM ledger_entries WHERE ref = ? OR ref LIKE ?",
                                       (ref, ref + ":%")).fetchone()[0]
                if earlier:
                    ref = f"{ref}:{earlier + 1}"
                posted.append(ledger.append(
                    conn, account_id=account_id, kind="expiry", points=-points, recorded_by=SYSTEM,
                    device_id="office", device_time=None, now=now,
                    note=f"{day.year - years_after(conn)}年所得积分于{day.isoformat()}到期", ref=ref))
    return posted
