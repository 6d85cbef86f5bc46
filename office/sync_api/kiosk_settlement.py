"""Settling a kiosk's events at the office: awards and deductions by review-group members,
residents' objections and anonymous tips, and a member's same-day undo of their own entry.

The kiosk checks all of this before it records an event, but the office decides again on its
own data and its own clock (a kiosk may be offline for days on an old snapshot). An event that
fails is kept in the device's chain and quarantined with the rule it broke:

- ``event_time`` (see :class:`office.sync_api.batch.Batch`), ``device_on_hold``;
- ``staff_not_verified``: the member's session was not opened online with their own PIN at this
  kiosk (the event cites an authorisation the office issued: :mod:`.authorisations`), or it had
  expired; ``staff_not_member``: not an active member of this compound's review group;
- ``wrong_compound``, ``account_unknown``; ``recusal`` (a member recording for their own
  household); ``second_needed`` / ``second_not_verified``: above the threshold a second member
  must confirm with their own PIN, online, once per entry;
- ``item_points`` (the catalog in force at the office gives the item other points),
  ``item_refused`` (a cap or another ledger rule);
- tips (anonymous, a category and optionally a building): ``tip_refused`` (a category or building
  the office does not know);
- objections: ``card_not_presented`` (the resident's card was not read for it), ``posting_closed``,
  ``objection_refused``; undo: ``undo_refused`` (only the member who recorded an entry, only on the
  day it was recorded, only awards and deductions).
"""

from __future__ import annotations

import json
import sqlite3

from bank import accounts, clock, convention, ledger, objections, postings, recorders, reviewers, tips
from bank.errors import BankError, NotFound
from sync import events as ev

from . import authorisations
from .batch import SKEW, Batch


def compound_of(conn: sqlite3.Connection, service_point_id: int) -> int:
    return conn.execute("SELECT compound_id FROM service_points WHERE service_point_id = ?",
                        (service_point_id,)).fetchone()[0]


class _Kiosk:
    def __init__(self, b: Batch, fresh: list[dict]):
        self.b, self.conn, self.device = b, b.conn, b.device
        self.compound_id = compound_of(b.conn, self.device.service_point_id)
        cited = [e["body"].get(k) for e in fresh for k in ("staff_auth", "second_auth")]
        self.auths = authorisations.load(b.conn, cited)
        self.in_batch = {e["seq"]: e for e in fresh}

    def _member(self, reviewer_id: int) -> reviewers.Reviewer | None:
        try:
            member = reviewers.get(self.conn, reviewer_id)
        except NotFound:
            return None
        return member if member.active and member.compound_id == self.compound_id else None

    def _verified(self, event: dict, purpose: str, reviewer_id: int, auth_id: str, *, once: bool) -> bool:
        token = self.auths.get(auth_id)
        ok = authorisations.covers(token, self.conn, self.device.device_id, purpose, self.b.at(event["at"]), SKEW,
                                   use=event["seq"] if once else None, reviewer_id=reviewer_id)
        if ok and once:
            authorisations.mark_used(self.conn, token, event["seq"], self.device.device_id, purpose)
        return ok

    def _staff(self, event: dict) -> tuple[str | None, reviewers.Reviewer | None]:
        body = event["body"]
        member = self._member(body["staff"])
        if member is None:
            return "staff_not_member", None
        if not self._verified(event, "staff", member.reviewer_id, body["staff_auth"], once=False):
            return "staff_not_verified", member
        return None, member

    def item(self, event: dict) -> None:
        """An award or deduction under a rule item."""
        b, body = self.b, event["body"]
        acct = self._account(body["account"])
        q = dict(account_id=acct.account_id if acct else None, points=body["points"])
        if b.held:
            return b.quarantine(event, "device_on_hold", **q)
        rule = b.time_rule(event)
        if rule:
            return b.quarantine(event, rule, **q)
        rule, member = self._staff(event)
        if rule:
            return b.quarantine(event, rule, staff=body["staff"], **q)
        if acct is None:
            return b.quarantine(event, "account_unknown", account=body["account"], **q)
        if acct.compound_id != self.compound_id:
            return b.quarantine(event, "wrong_compound", **q)
        if reviewers.recused(member, acct.account_id):
            return b.quarantine(event, "recusal", staff=member.reviewer_id, **q)
        second = None
        if reviewers.needs_second(body["points"], reviewers.second_confirm_above(self.conn)):
            second = None if body["second"] is None else self._member(body["second"])
            if second is None or second.reviewer_id == member.reviewer_id or reviewers.recused(second, acct.account_id):
                return b.quarantine(event, "second_needed", second=body["second"], **q)
            if not self._verified(event, "second", second.reviewer_id, body["second_auth"], once=True):
                return b.quarantine(event, "second_not_verified", second=second.reviewer_id, **q)
        try:
            item = convention.in_force(self.conn, clock.local_date(b.now)).item(body["item"])
            if item.points != body["points"]:
                return b.quarantine(event, "item_points", item=item.code, office_points=item.points, **q)
            entry = ledger.record_item(self.conn, acct.account_id, item.code, recorded_by=recorders.of_member(member.name, second.name if second else None),
                                       device_id=self.device.device_id, device_time=event["at"], note=body["note"],
                                       now=b.now, ref=f"dev:{self.device.device_id}:{event['seq']}")
        except BankError as exc:
            return b.quarantine(event, "item_refused", code=exc.code, why=exc.en, **q)
        b.entry_ids[event["seq"]] = entry.entry_id
        b.booked += 1
        return None

    def _account(self, account_id: int) -> accounts.Account | None:
        try:
            return accounts.get(self.conn, account_id)
        except NotFound:
            return None

    def objection(self, event: dict) -> None:
        """A resident's objection to an entry of their own household during a posting period.

        Objections are not ledger entries, so the device event keeps no entry id; the case is
        found by its raiser (``一体机 <device>``) in the council's objection list.
        """
        b, body = self.b, event["body"]
        self.b.entry_ids[event["seq"]] = None
        acct = self._account(body["account"])
        q = dict(account_id=acct.account_id if acct else None, card_id=body["card"])
        if b.held:
            return b.quarantine(event, "device_on_hold", **q)
        rule = b.time_rule(event)
        if rule:
            return b.quarantine(event, rule, **q)
        card = self.conn.execute("SELECT qr, account_id FROM cards WHERE card_id = ? AND status = 'active'",
                                 (body["card"],)).fetchone()
        if acct is None or card is None or card["account_id"] != acct.account_id \
                or ev.card_proof(card["qr"], self.device.device_id, event["seq"]) != body["proof"]:
            return b.quarantine(event, "card_not_presented", **q)
        try:
            posting = postings.get(self.conn, body["posting"])
        except NotFound:
            return b.quarantine(event, "posting_closed", posting=body["posting"], **q)
        if acct.compound_id != self.compound_id or posting.compound_id != self.compound_id:
            return b.quarantine(event, "wrong_compound", **q)
        # the posting period is judged by the day the resident objected at the kiosk, bounded by
        # the office's day: a kiosk clock cannot open a period that has not begun at the office
        day = min(clock.local_date(clock.from_text(event["at"])), clock.local_date(b.now))
        if not posting.is_open(day):
            return b.quarantine(event, "posting_closed", posting=posting.posting_id, **q)
        try:
            objections.raise_objection(self.conn, acct.account_id, reason=body["reason"], entry_id=body["entry"],
                                       raised_by=f"一体机 {self.device.device_id}", source="kiosk", now=b.now)
        except BankError as exc:
            return b.quarantine(event, "objection_refused", code=exc.code, why=exc.en, **q)
        b.booked += 1
        return None

    def tip(self, event: dict) -> None:
        """An anonymous tip: it joins the council's queue of tips (channel 一体机) for the kiosk's compound."""
        b, body = self.b, event["body"]
        self.b.entry_ids[event["seq"]] = None
        if b.held:
            return b.quarantine(event, "device_on_hold")
        rule = b.time_rule(event)
        if rule:
            return b.quarantine(event, rule)
        try:
            tips.record_from_kiosk(self.conn, category=body["category"], building=body["building"],
                                   compound_id=self.compound_id, device_id=self.device.device_id, now=b.now)
        except BankError as exc:
            return b.quarantine(event, "tip_refused", code=exc.code, why=exc.en)
        b.booked += 1
        return None

    def undo(self, event: dict) -> None:
        """A member's undo of their own entry, on the day it was recorded (office days)."""
        b, body = self.b, event["body"]
        original = ledger.by_ref(self.conn, f"dev:{self.device.device_id}:{body['reverses_seq']}")
        q = dict(account_id=original.account_id if original else None,
                 points=-original.points if original else 0)
        if b.held:
            return b.quarantine(event, "device_on_hold", **q)
        rule = b.time_rule(event)
        if rule:
            return b.quarantine(event, rule, **q)
        if "staff" not in body:
            return b.quarantine(event, "undo_refused", why="a kiosk's undo names its member", **q)
        rule, member = self._staff(event)
        if rule:
            return b.quarantine(event, rule, staff=body["staff"], **q)
        why = self._undo_refusal(event, original)
        if why:
            return b.quarantine(event, "undo_refused", why=why, **q)
        try:
            entry = ledger.reverse(self.conn, original.entry_id, recorded_by=recorders.of_member(member.name),
                                   note=body["reason"][:200], device_id=self.device.device_id,
                                   device_time=event["at"], now=b.now, ref=f"dev:{self.device.device_id}:{event['seq']}")
        except BankError as exc:
            return b.quarantine(event, "undo_refused", why=exc.en, **q)
        b.entry_ids[event["seq"]] = entry.entry_id
        b.booked += 1
        return None

    def _undo_refusal(self, event: dict, original: ledger.Entry | None) -> str | None:
        if original is None:
            return "reverses an event with no ledger entry"
        if original.kind not in ("award", "deduction"):
            return "a kiosk undoes only awards and deductions"
        seq = event["body"]["reverses_seq"]
        if seq in self.in_batch:      # recorded and undone in the same push: not in device_events yet
            staff = self.in_batch[seq]["body"].get("staff")
        else:
            row = self.conn.execute("SELECT body FROM device_events WHERE device_id = ? AND seq = ?",
                                    (self.device.device_id, seq)).fetchone()
            staff = json.loads(row[0])["body"].get("staff") if row else None
        if staff is None or event["body"]["staff"] != staff:
            return "only the member who recorded an entry may undo it"
        if clock.local_date(clock.from_text(original.recorded_at)) != clock.local_date(self.b.now):
            return "an entry can be undone at the kiosk only on the day it was recorded"
        return None


def settle(b: Batch, fresh: list[dict]) -> None:
    """Decide every new event of a kiosk's batch, in order (see the module docstring)."""
    k = _Kiosk(b, fresh)
    for event in fresh:
        if event["kind"] in ("award", "deduction"):
            k.item(event)
        elif event["kind"] == "objection":
            k.objection(event)
        elif event["kind"] == "tip":
            k.tip(event)
        else:
            k.undo(event)
