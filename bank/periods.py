"""Named reporting periods: a month '2026-10', a quarter '2026Q3', a year '2026'.

Each is a range of local days (Asia/Shanghai) turned into UTC text bounds, so a query compares
``recorded_at`` (stored UTC text) against them directly and an index can be used.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from . import clock
from .errors import InvalidInput


@dataclass(frozen=True)
class Period:
    key: str           # '2026-10', '2026Q3' or '2026'
    first_day: dt.date
    last_day: dt.date

    @property
    def start(self) -> str:
        """UTC text of the first instant (inclusive)."""
        return clock.to_text(clock.local_midnight(self.first_day))

    @property
    def end(self) -> str:
        """UTC text of the instant after the last day (exclusive)."""
        return clock.to_text(clock.local_midnight(self.last_day + dt.timedelta(days=1)))

    @property
    def label(self) -> str:
        if "Q" in self.key:
            return f"{self.first_day.year}年第{(self.first_day.month - 1) // 3 + 1}季度"
        if "-" in self.key:
            return f"{self.first_day.year}年{self.first_day.month}月"
        return f"{self.first_day.year}年"


def _last_of_month(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def month(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip() if isinstance(text, str) else "")
    if not m or not 1 <= int(m[2]) <= 12 or not 2000 <= int(m[1]) <= 2100:
        raise InvalidInput(f"“{text}”不是月份,格式如 2026-10。", f"{text!r} is not a month like 2026-10")
    y, mo = int(m[1]), int(m[2])
    return Period(f"{y}-{mo:02d}", dt.date(y, mo, 1), _last_of_month(y, mo))


def quarter(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})Q([1-4])", text.strip().upper() if isinstance(text, str) else "")
    if not m or not 2000 <= int(m[1]) <= 2100:
        raise InvalidInput(f"“{text}”不是季度,格式如 2026Q3。", f"{text!r} is not a quarter like 2026Q3")
    y, q = int(m[1]), int(m[2])
    return Period(f"{y}Q{q}", dt.date(y, 3 * q - 2, 1), _last_of_month(y, 3 * q))


def year(text: str | int) -> Period:
    text = str(text).strip()
    if not re.fullmatch(r"\d{4}", text) or not 2000 <= int(text) <= 2100:
        raise InvalidInput(f"“{text}”不是年份。", f"{text!r} is not a year")
    y = int(text)
    return Period(text, dt.date(y, 1, 1), dt.date(y, 12, 31))


def current_quarter(now: dt.datetime | None = None) -> Period:
    return quarter(clock.quarter_of(clock.local_date(now or clock.now_utc())))


def previous_quarter(now: dt.datetime | None = None) -> Period:
    first = current_quarter(now).first_day - dt.timedelta(days=1)
    return quarter(clock.quarter_of(first))


def current_month(now: dt.datetime | None = None) -> Period:
    day = clock.local_date(now or clock.now_utc())
    return month(f"{day.year}-{day.month:02d}")
