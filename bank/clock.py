"""Time: instants are stored as UTC text; days, weeks, months, quarters and years are local.

The community's calendar is Asia/Shanghai. Every period key is computed from a UTC instant by
converting it to local time first, so that an entry made at 23:30 on a Sunday evening in
Chongqing belongs to that week, not the next one.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
CADENCES = ("daily", "weekly", "monthly", "yearly")


def now_utc() -> dt.datetime:
    return dt.datetime.now(UTC)


def to_text(instant: dt.datetime) -> str:
    """Canonical storage form: UTC, microseconds, 'Z' suffix (sorts as text)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: give a time zone")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_STORED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


def from_text(text: str) -> dt.datetime:
    """Parse the storage form exactly (ValueError otherwise, also for a shape that is not a real
    time, such as month 99). ``fromisoformat`` (which reads the ``Z`` as UTC) after a shape
    check, because ``strptime`` was most of the time of a full pull for 100,000 accounts and
    settlement parses every event's time."""
    if type(text) is not str or not _STORED.fullmatch(text):
        raise ValueError(f"not a stored UTC time: {text!r}")
    return dt.datetime.fromisoformat(text)


def local(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(LOCAL_TZ)


def local_date(instant: dt.datetime) -> dt.date:
    return local(instant).date()


def local_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant at which local ``day`` begins."""
    return dt.datetime.combine(day, dt.time(), LOCAL_TZ).astimezone(UTC)


def period_key(cadence: str, instant: dt.datetime) -> str:
    """Key of the local period containing ``instant``: D2026-11-26, W2026-48, M2026-11, Y2026."""
    day = local_date(instant)
    if cadence == "daily":
        return f"D{day.isoformat()}"
    if cadence == "weekly":
        year, week, _ = day.isocalendar()
        return f"W{year}-{week:02d}"
    if cadence == "monthly":
        return f"M{day.year}-{day.month:02d}"
    if cadence == "yearly":
        return f"Y{day.year}"
    raise ValueError(f"unknown cadence {cadence!r}")


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def parse_date(text: str) -> dt.date:
    """A YYYY-MM-DD date, or ValueError with a plain message."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a date in the form YYYY-MM-DD: {text!r}") from None
