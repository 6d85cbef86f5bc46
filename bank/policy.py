"""Policies the office sets: offline redemption limits and redemption windows (兑换时限).

The offline policy bounds what a copied card can cost while tablets are offline: the worst case
is (number of tablets) x (per-card daily cap), shown to the council by :func:`worst_case_exposure`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, fields, replace

from . import clock
from .errors import InvalidInput


@dataclass(frozen=True)
class OfflinePolicy:
    per_card_daily_cap: int = 60      # points one card may redeem per day on one tablet
    floor_limit: int = 40             # a single redemption above this needs the office online
    unsynced_cap: int = 600           # a tablet's total points not yet acknowledged by the office
    max_sync_age_hours: int = 72      # stop redeeming when the last good sync is older than this
    void_minutes: int = 15            # a redemption can be voided on the tablet this long
    pin_above: int = 20               # ask for the PIN (if the account has one) above this total
    retention_days: int = 30          # a device keeps events the office acknowledged this long, to send
                                      # them again to an office restored from an older backup


POLICY_FIELDS = tuple(f.name for f in fields(OfflinePolicy))


def _row_overrides(row) -> dict:
    return {name: row[name] for name in POLICY_FIELDS if row[name] is not None}


def set_policy(conn: sqlite3.Connection, merchant_id: int | None = None, **values: int | None) -> None:
    """Set the community default (merchant_id None) or a merchant's overrides (None = inherit)."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise InvalidInput("离线策略中没有这些项目。", f"unknown policy settings: {sorted(unknown)}")
    for name, value in values.items():
        if value is not None and (type(value) is not int or value < 0):
            raise InvalidInput("策略数值须为非负整数。", f"{name} must be a non-negative integer")
    if merchant_id is None:
        row = conn.execute("SELECT policy_id FROM offline_policy WHERE merchant_id IS NULL").fetchone()
    else:
        row = conn.execute("SELECT policy_id FROM offline_policy WHERE merchant_id = ?", (merchant_id,)).fetchone()
    if row is None:
        row = (conn.execute("INSERT INTO offline_policy (merchant_id) VALUES (?)", (merchant_id,)).lastrowid,)
    for name, value in values.items():
        conn.execute(f"UPDATE offline_policy SET {name} = ? WHERE policy_id = ?", (value, row[0]))


def offline_policy(conn: sqlite3.Connection, merchant_id: int | None = None) -> OfflinePolicy:
    """The effective policy: built-in defaults < community row < the merchant's row."""
    policy = OfflinePolicy()
    row = conn.execute("SELECT * FROM offline_policy WHERE merchant_id IS NULL").fetchone()
    if row is not None:
        policy = replace(policy, **_row_overrides(row))
    if merchant_id is not None:
        row = conn.execute("SELECT * FROM offline_policy WHERE merchant_id = ?", (merchant_id,)).fetchone()
        if row is not None:
            policy = replace(policy, **_row_overrides(row))
    return policy


def worst_case_exposure(conn: sqlite3.Connection, tablets_by_merchant: dict[int, int]) -> int:
    """Points one copied card could take in a day if every tablet is offline."""
    return sum(count * offline_policy(conn, mid).per_card_daily_cap
               for mid, count in tablets_by_merchant.items())


# --- redemption windows ----------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    window_id: int
    merchant_id: int | None
    place: str
    weekdays: str  # seven 0/1 flags, Monday first
    opens: str     # local HH:MM
    closes: str

    def is_open(self, instant: dt.datetime) -> bool:
        t = clock.local(instant)
        return self.weekdays[t.weekday()] == "1" and self.opens <= t.strftime("%H:%M") < self.closes

    def describe(self) -> str:
        """'周一至周五 09:00-18:00' in plain words."""
        names = "一二三四五六日"
        days = [names[i] for i, f in enumerate(self.weekdays) if f == "1"]
        if self.weekdays == "1111111":
            span = "每天"
        elif len(days) > 2 and "".join(days) in names:
            span = f"周{days[0]}至周{days[-1]}"
        else:
            span = "、".join(f"周{d}" for d in days)
        return f"{span} {self.opens}-{self.closes}"


def _valid_hhmm(text: str) -> bool:
    try:
        return len(text) == 5 and dt.time.fromisoformat(text) is not None
    except ValueError:
        return False


def add_window(conn: sqlite3.Connection, *, merchant_id: int | None, place: str, weekdays: str,
               opens: str, closes: str) -> int:
    if len(weekdays) != 7 or set(weekdays) - {"0", "1"}:
        raise InvalidInput("营业日须为7位0或1(周一在前)。", "weekdays must be seven 0/1 flags, Monday first")
    if not (_valid_hhmm(opens) and _valid_hhmm(closes)) or opens >= closes:
        raise InvalidInput("时间须为 HH:MM,且开始早于结束。", "times must be HH:MM with opens before closes")
    return conn.execute("INSERT INTO redemption_windows (merchant_id, place, weekdays, opens, closes) "
                        "VALUES (?, ?, ?, ?, ?)", (merchant_id, place, weekdays, opens, closes)).lastrowid


def windows(conn: sqlite3.Connection, merchant_id: int | None) -> list[Window]:
    """A merchant's windows; without any of its own, a merchant may redeem at any time."""
    if merchant_id is None:
        rows = conn.execute("SELECT * FROM redemption_windows WHERE merchant_id IS NULL ORDER BY window_id")
    else:
        rows = conn.execute("SELECT * FROM redemption_windows WHERE merchant_id = ? ORDER BY window_id",
                            (merchant_id,))
    return [Window(*row) for row in rows]


def redemption_open(conn: sqlite3.Connection, merchant_id: int, instant: dt.datetime) -> bool:
    ws = windows(conn, merchant_id)
    return not ws or any(w.is_open(instant) for w in ws)
