"""Policies the office sets: offline redemption limits and redemption windows (兑换时限).

The offline policy bounds what a copied card can cost while tablets are offline: the worst case
is (number of tablets) x (per-card daily cap), shown to the council by :func:`worst_case_exposure`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, fields, replace

from . import clock
from .errors import InvalidInput, NotFound


@dataclass(frozen=True)
class OfflinePolicy:
    per_card_daily_cap: int = 60      # points one card may redeem per day on one tablet
    floor_limit: int = 40             # a single redemption above this needs the office online
    unsynced_cap: int = 600           # a tablet's total points not yet acknowledged by the office
    max_sync_age_hours: int = 72      # stop redeeming when the last good sync is older than this
    void_minutes: int = 15            # a redemption can be voided on the tablet this long
    pin_above: int = 20               # ask for the PIN (if the account has one) above this total
    breaches_to_hold: int = 3         # events one device may send in an office day that break a rule
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


# --- the rules of one redemption: the tablet decides with them offline, the office re-checks ---

def redemption_breach(pol: OfflinePolicy, *, points: int, used_today: int, unsynced: int, has_pin: bool,
                      authorised: bool) -> str | None:
    """The first offline rule a redemption (a receipt's total ``points``) breaks, or None.

    ``used_today``: what the card already took on this tablet on this local day; ``unsynced``:
    the tablet's points not yet acknowledged by the office, before this one; ``authorised``: the
    office authorised this card and amount online (which it does only after checking the PIN
    where one is needed). Codes: ``floor_limit``, ``pin_required``, ``daily_cap``, ``unsynced_cap``.
    """
    if points > pol.floor_limit and not authorised:
        return "floor_limit"
    if has_pin and points > pol.pin_above and not authorised:
        return "pin_required"
    if used_today + points > pol.per_card_daily_cap:
        return "daily_cap"
    if unsynced + points > pol.unsynced_cap:
        return "unsynced_cap"
    return None


def needs_authorisation(pol: OfflinePolicy, points: int, has_pin: bool) -> bool:
    """Whether a receipt of ``points`` must be authorised by the office online."""
    return points > pol.floor_limit or (has_pin and points > pol.pin_above)


def sync_too_old(pol: OfflinePolicy, last_pull: dt.datetime | None, at: dt.datetime) -> bool:
    """A tablet redeems only within ``max_sync_age_hours`` of its last good pull."""
    return last_pull is None or at - last_pull > dt.timedelta(hours=pol.max_sync_age_hours)


def void_too_late(pol: OfflinePolicy, redeemed_at: dt.datetime, at: dt.datetime) -> bool:
    """A tablet voids its own receipt only within ``void_minutes``."""
    return at - redeemed_at > dt.timedelta(minutes=pol.void_minutes)


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
    """A window for a merchant, or (merchant_id None) for the community's own redemption point."""
    place = place.strip() if isinstance(place, str) else ""
    if not place or len(place) > 60:
        raise InvalidInput("兑换地点不能为空,且不超过60个字。", "a place is 1-60 characters")
    if not isinstance(weekdays, str) or not isinstance(opens, str) or not isinstance(closes, str):
        raise InvalidInput("营业日和时间格式不正确。", "weekdays and times are text")
    if weekdays == "0000000":
        raise InvalidInput("请至少选择一天。", "a window needs at least one day")
    if len(weekdays) != 7 or set(weekdays) - {"0", "1"}:
        raise InvalidInput("营业日须为7位0或1(周一在前)。", "weekdays must be seven 0/1 flags, Monday first")
    if not (_valid_hhmm(opens) and _valid_hhmm(closes)) or opens >= closes:
        raise InvalidInput("时间须为 HH:MM,且开始早于结束。", "times must be HH:MM with opens before closes")
    return conn.execute("INSERT INTO redemption_windows (merchant_id, place, weekdays, opens, closes) "
                        "VALUES (?, ?, ?, ?, ?)", (merchant_id, place, weekdays, opens, closes)).lastrowid


def window(conn: sqlite3.Connection, window_id: int) -> Window:
    row = conn.execute("SELECT * FROM redemption_windows WHERE window_id = ?", (window_id,)).fetchone() \
        if type(window_id) is int else None
    if row is None:
        raise NotFound(f"没有编号为 {window_id} 的兑换时间。", f"no redemption window {window_id}")
    return Window(*row)


def remove_window(conn: sqlite3.Connection, window_id: int) -> Window:
    """Remove a window; a merchant left with none may redeem at any time (devices learn at their
    next pull)."""
    w = window(conn, window_id)
    conn.execute("DELETE FROM redemption_windows WHERE window_id = ?", (window_id,))
    return w


def windows(conn: sqlite3.Connection, merchant_id: int | None) -> list[Window]:
    """A merchant's windows; without any of its own, a merchant may redeem at any time."""
    if merchant_id is None:
        rows = conn.execute("SELECT * FROM redemption_windows WHERE merchant_id IS NULL ORDER BY window_id")
    else:
        rows = conn.execute("SELECT * FROM redemption_windows WHERE merchant_id = ? ORDER BY window_id",
                            (merchant_id,))
    return [Window(*row) for row in rows]


def open_at(ws: list[Window], instant: dt.datetime) -> bool:
    """Redemption is open at ``instant``: a merchant without windows of its own is always open."""
    return not ws or any(w.is_open(instant) for w in ws)


def next_opening(ws: list[Window], instant: dt.datetime) -> dt.datetime | None:
    """When redemption opens next after ``instant`` (UTC), or None when it is open now (or a
    merchant has no windows: always open)."""
    if open_at(ws, instant):
        return None
    here = clock.local(instant)
    starts = []
    for days in range(8):
        day = here.date() + dt.timedelta(days=days)
        for w in ws:
            if w.weekdays[day.weekday()] == "1":
                start = dt.datetime.combine(day, dt.time.fromisoformat(w.opens), clock.LOCAL_TZ)
                if start > here:
                    starts.append(start)
    return min(starts).astimezone(clock.UTC) if starts else None


def hours_text(ws: list[Window]) -> str:
    """A merchant's redemption hours in plain words ('周一至周五 09:00-18:00;周六 10:00-12:00')."""
    return ";".join(w.describe() for w in ws) if ws else "全天"


def opening_text(opens: dt.datetime, now: dt.datetime) -> str:
    """When redemption opens next, as a person there says it: '今天 17:00', '明天 09:00', '周一 09:00',
    '下周六 10:00' (a shop open on Saturdays only, on a Saturday after closing)."""
    day, today = clock.local_date(opens), clock.local_date(now)
    at = clock.local(opens).strftime("%H:%M")
    if day == today:
        return f"今天 {at}"
    if day == today + dt.timedelta(days=1):
        return f"明天 {at}"
    week = "下周" if (day - today).days >= 7 else "周"      # a week on: not to be read as today
    return f"{week}{'一二三四五六日'[day.weekday()]} {at}"


@dataclass(frozen=True)
class Closed:
    """Redemption is closed now: the merchant's hours and when it opens next (None: not this week)."""

    hours: str
    opens_next: dt.datetime | None
    opens_text: str


def closed_now(ws: list[Window], instant: dt.datetime) -> Closed | None:
    """None when redemption is open at ``instant``; otherwise what a closed shop tells its customer."""
    if open_at(ws, instant):
        return None
    opens = next_opening(ws, instant)
    return Closed(hours_text(ws), opens, "" if opens is None else opening_text(opens, instant))
