"""An anonymous tip (举报) from the kiosk: a category the office knows and, optionally, a building.
No Kivy here."""

from __future__ import annotations

import datetime as dt

from bank import tips
from sync import replica

from . import refusals, residents, status


def tip_categories() -> list[tuple[str, str]]:
    """(code, name) of what a resident may report: the categories the office knows (bank.tips)."""
    return list(tips.CATEGORIES.items())


def report_tip(conn, category: str, building: int | None, now: dt.datetime) -> dict:
    """Record an anonymous tip event: a category and, optionally, a building of this compound.
    Nothing of the resident goes into it (no card, no account), even when a card was scanned."""
    status.ready(conn)
    if category not in tips.CATEGORIES or (building is not None and building not in residents.buildings(conn)):
        raise refusals.Refusal("bad_tip")
    return replica.record(conn, "tip", {"category": category, "building": building}, now=now)
