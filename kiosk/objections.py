"""A resident's objection (异议) to an entry of a period posted now: which entries may be objected to,
with one of the fixed reasons (no typing at the kiosk), and the objection event the office opens
the case from. No Kivy here."""

from __future__ import annotations

import datetime as dt

from bank import clock
from sync import replica

from . import refusals, residents

OBJECTION_REASONS = (   # what a resident may choose (no typing at the kiosk)
    "我家没有做过这件事",
    "分数记错了",
    "记到了别人家的账上",
    "事情已经说清楚了,不应扣分",
    "其他原因,请评议会联系我",
)


def _posting_of(conn, line: residents.PassLine, today: dt.date) -> dict | None:
    """The open posting whose period holds the entry's day."""
    for p in residents.postings_open(conn, today):
        if p["first_day"] <= line.day <= p["last_day"]:
            return p
    return None


def objectable(conn, account_id: int, today: dt.date) -> list[residents.PassLine]:
    """The household's awards and deductions of the periods posted now that it may object to."""
    if not residents.postings_open(conn, today):
        raise refusals.Refusal("posting_closed")
    objected = {e["body"]["entry"] for _, e, _ in replica.events(conn, kinds=("objection",))}
    return [line for line in residents.passbook(conn, account_id)
            if line.entry_id is not None and line.kind in ("award", "deduction") and not line.reversed
            and line.entry_id not in objected and _posting_of(conn, line, today) is not None]


def object_to(conn, card: residents.Card, entry_id: int, reason: str, now: dt.datetime) -> dict:
    """Record a resident's objection event (the resident's card in front of the kiosk proves it
    is theirs); the office opens the case when it arrives."""
    today = clock.local_date(now)
    if not residents.postings_open(conn, today):
        raise refusals.Refusal("posting_closed")
    if reason not in OBJECTION_REASONS:
        raise refusals.Refusal("not_objectable")
    if entry_id in {e["body"]["entry"] for _, e, _ in replica.events(conn, kinds=("objection",))}:
        raise refusals.Refusal("already_objected")
    line = next((line for line in objectable(conn, card.account_id, today) if line.entry_id == entry_id), None)
    if line is None:
        raise refusals.Refusal("not_objectable")
    p = _posting_of(conn, line, today)
    return replica.record(conn, "objection", {"account": card.account_id, "card": card.card_id, "entry": entry_id,
                                               "posting": p["posting_id"], "proof": "", "reason": reason},
                          now=now, account_id=card.account_id, points=0, card_text=card.text)
