"""Settling a kiosk's events at the office: awards and deductions by review-group members,
residents' objections, and a member's same-day undo of their own entry.

The kiosk checks all of this before it records an event, but the office decides again on its
own data and its own clock (a kiosk may be offline for days on an old snapshot): the member must
be an active member of this kiosk's compound, may not record for their own household (recusal),
an entry above the threshold needs a second member, caps are those of the ledger, an objection
needs the compound's posting period open on the office's day. An event that fails is kept in
the device's chain but not settled: an ``unsettled_event`` alert tells the office why.

``unsettled(conn, device, event, now, why, account_id=None, **detail)`` is the hub's reporter.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from bank import accounts, clock, convention, ledger, objections, postings, reviewers
from bank.errors import BankError, NotFound


def compound_of(conn: sqlite3.Connection, service_point_id: int) -> int:
    return conn.execute("SELECT compound_id FROM service_points WHERE service_point_id = ?",
                        (service_point_id,)).fetchone()[0]


def _member(conn, reviewer_id: int, compound_id: int) -> reviewers.Reviewer | None:
    try:
        member = reviewers.get(conn, reviewer_id)
    except NotFound:
        return None
    return member if member.active and member.compound_id == compound_id else None


def recorded_by(member: reviewers.Reviewer, second: reviewers.Reviewer | None) -> str:
    """Who recorded an entry, as the ledger and the monthly table show it."""
    text = f"评议小组成员:{member.name}"
    return text + (f";复核:{second.name}" if second else "")


def settle_item(conn, device, event: dict, now: dt.datetime, unsettled) -> int | None:
    """An award or deduction under a rule item; returns the ledger entry id or None."""
    body = event["body"]
    compound_id = compound_of(conn, device.service_point_id)
    member = _member(conn, body["staff"], compound_id)
    if member is None:
        unsettled(conn, device, event, now, "staff is not an active member of this compound's review group",
                  staff=body["staff"])
        return None
    try:
        acct = accounts.get(conn, body["account"])
    except NotFound:
        unsettled(conn, device, event, now, "unknown account", account=body["account"])
        return None
    if acct.compound_id != compound_id:
        unsettled(conn, device, event, now, "account is not in this kiosk's compound", account_id=acct.account_id)
        return None
    if reviewers.recused(member, acct.account_id):
        unsettled(conn, device, event, now, "recusal: a member recorded for their own household",
                  account_id=acct.account_id, staff=member.reviewer_id)
        return None
    second = None
    if reviewers.needs_second(body["points"], reviewers.second_confirm_above(conn)):
        second = None if body["second"] is None else _member(conn, body["second"], compound_id)
        if second is None or second.reviewer_id == member.reviewer_id or reviewers.recused(second, acct.account_id):
            unsettled(conn, device, event, now, "needs a second member's confirmation",
                      account_id=acct.account_id, second=body["second"])
            return None
    try:
        item = convention.in_force(conn, clock.local_date(now)).item(body["item"])
        if item.points != body["points"]:
            unsettled(conn, device, event, now, "the item's points changed in the catalog in force",
                      account_id=acct.account_id, item=item.code, device_points=body["points"])
            return None
        entry = ledger.record_item(conn, acct.account_id, item.code, recorded_by=recorded_by(member, second),
                                   device_id=device.device_id, device_time=event["at"], note=body["note"],
                                   now=now, ref=f"dev:{device.device_id}:{event['seq']}")
    except BankError as exc:
        unsettled(conn, device, event, now, exc.en, account_id=acct.account_id, code=exc.code)
        return None
    return entry.entry_id


def settle_objection(conn, device, event: dict, now: dt.datetime, unsettled) -> None:
    """A resident's objection to an entry of their own household during a posting period.

    Objections are not ledger entries, so the device event keeps no entry id; the case is found
    by its raiser (``一体机 <device>``) in the council's objection list.
    """
    body = event["body"]
    compound_id = compound_of(conn, device.service_point_id)
    try:
        posting = postings.get(conn, body["posting"])
        acct = accounts.get(conn, body["account"])
    except NotFound as exc:
        unsettled(conn, device, event, now, exc.en, account=body["account"])
        return None
    if acct.compound_id != compound_id or posting.compound_id != compound_id:
        unsettled(conn, device, event, now, "objection from another compound", account_id=acct.account_id)
        return None
    # the posting period is judged by the day the resident objected at the kiosk, bounded by the
    # office's day: a kiosk clock cannot open a period that has not begun at the office
    day = min(clock.local_date(clock.from_text(event["at"])), clock.local_date(now))
    if not posting.is_open(day):
        unsettled(conn, device, event, now, "the posting period is closed", account_id=acct.account_id,
                  posting=posting.posting_id)
        return None
    try:
        objections.raise_objection(conn, acct.account_id, reason=body["reason"], entry_id=body["entry"],
                                   raised_by=f"一体机 {device.device_id}", source="kiosk", now=now)
    except BankError as exc:
        unsettled(conn, device, event, now, exc.en, account_id=acct.account_id, code=exc.code)
    return None


def undo_refusal(conn, device, event: dict, original: ledger.Entry, now: dt.datetime,
                 batch: dict[int, dict]) -> str | None:
    """Why the office refuses a kiosk's undo, or None: only the member who recorded an entry
    undoes it, only on the day it was recorded (office days), and only awards and deductions."""
    if original.kind not in ("award", "deduction"):
        return "a kiosk undoes only awards and deductions"
    seq = event["body"]["reverses_seq"]
    if seq in batch:      # recorded and undone in the same push: not in device_events yet
        staff = batch[seq].get("staff")
    else:
        row = conn.execute("SELECT body FROM device_events WHERE device_id = ? AND seq = ?",
                           (device.device_id, seq)).fetchone()
        staff = json.loads(row[0])["body"].get("staff") if row else None
    if staff is None or event["body"].get("staff") != staff:
        return "only the member who recorded an entry may undo it"
    if clock.local_date(clock.from_text(original.recorded_at)) != clock.local_date(now):
        return "an entry can be undone at the kiosk only on the day it was recorded"
    return None
