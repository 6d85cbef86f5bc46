"""Settling a merchant tablet's events: each redemption and void re-checked on the office's data.

The tablet decided offline with the policy it pulled; the office decides again, as a card issuer
re-checks at clearing what a terminal accepted offline. A receipt (the lines of one basket) is
booked or quarantined whole, with the first rule it breaks:

- ``event_time``: not a real time, before the device's enrolment, after the office's clock, or
  before the pull it was made on (a clock set back); ``not_synced`` / ``sync_too_old``: made
  with no pull, or more than ``max_sync_age_hours`` after it;
- ``card_unknown``, ``card_not_presented`` (the event's proof does not match the card's printed
  text: the tablet never read that card), ``staff_card``; ``card_revoked``, ``card_superseded``,
  ``card_account_closed`` (its household was closed or merged into another),
  ``card_on_hold``, ``account_inactive``: the office knew before the tablet's last pull (a change
  after it is booked — the tablet could not know — with a ``revoked_card_used`` alert for a card);
- ``unknown_offer``, ``wrong_merchant``, ``price`` (points differ from the office's price ×
  quantity), ``window_closed`` (outside the merchant's redemption hours at the event's time);
- ``floor_limit``, ``pin_required`` (above the limits without an authorisation the office issued
  online for this card, amount and device), ``auth_invalid``, ``daily_cap`` (the card's points on
  this tablet in the local day), ``unsynced_cap`` (the tablet's points since the office last
  acknowledged it: the events of this push before this one).

A void reverses a booked receipt within ``void_minutes`` (``void_window``, ``void_unknown``
otherwise); a void of a quarantined receipt closes that case as rejected, since the merchant took
it back. An overdraft is booked, flagged and the card held — never a silent clawback.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import NamedTuple

from bank import alerts, cards, clock, ledger, merchants, policy, recorders
from bank.errors import BankError
from sync import events as ev

from . import authorisations
from .batch import SKEW, Batch


class _Card(NamedTuple):
    card_id: str
    version: int
    account_id: int
    role: str
    qr: str
    status: str
    ended_at: str | None
    account_status: str
    status_changed_at: str | None
    has_pin: int
    held_at: str | None


def _cards(conn, card_ids) -> dict[tuple[str, int], _Card]:
    cur = conn.cursor()
    cur.row_factory = None      # plain tuples: sqlite3.Row objects cost more than the query here
    rows = cur.execute(
        "SELECT c.card_id, c.version, c.account_id, c.role, c.qr, c.status, c.ended_at, a.status, "
        "a.status_changed_at, a.pin_hash IS NOT NULL, "
        "(SELECT placed_at FROM card_holds h WHERE h.card_id = c.card_id AND h.cleared_at IS NULL) "
        "FROM cards c JOIN accounts a USING (account_id) WHERE c.card_id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(card_ids)),))
    return {(r[0], r[1]): _Card._make(r) for r in rows}


def _offers(conn, offer_ids) -> dict[int, merchants.Offer]:
    return {r[0]: merchants.Offer(*r) for r in conn.execute(
        "SELECT offer_id, merchant_id, name, points, value_fen, active FROM offers "
        "WHERE offer_id IN (SELECT value FROM json_each(?))", (json.dumps(sorted(offer_ids)),))}


class _Tablet:
    """The state of one tablet batch's settlement (see the module docstring for the rules)."""

    def __init__(self, b: Batch, fresh: list[dict]):
        self.b, self.conn, self.device = b, b.conn, b.device
        conn = b.conn
        row = conn.execute("SELECT last_pull_at FROM devices WHERE device_id = ?", (self.device.device_id,)).fetchone()
        self.last_pull = clock.from_text(row[0]) if row[0] else None
        reds = [e for e in fresh if e["kind"] == "redemption"]
        self.originals = self._originals([e["body"]["reverses_seq"] for e in fresh if e["kind"] == "reversal"],
                                         {e["seq"] for e in fresh})
        self.cards = _cards(conn, {e["body"]["card"] for e in reds})
        self.offers = _offers(conn, {e["body"]["offer"] for e in reds})
        self.windows = policy.windows(conn, self.device.merchant_id)
        self.auths = authorisations.load(conn, [e["body"]["auth"] for e in reds])
        self.tally = self._tally(reds)
        self.unsynced = 0             # the tablet's points in this push before the current event
        self.pending: list[tuple] = []
        self.placed: list[tuple[dict, int, dict]] = []   # (event, account, card row) awaiting their entry
        self.in_batch = {e["seq"]: e for e in fresh}
        self.revoked_used: set[str] = set()
        self.touched: dict[int, tuple[str, int, int]] = {}

    # --- what the office already holds of this device --------------------------------------

    def _originals(self, seqs: list[int], fresh: set[int]) -> dict[int, dict]:
        """Earlier events of this device that this batch's voids name, with how they were settled."""
        wanted = sorted(set(seqs) - fresh)
        if not wanted:
            return {}
        rows = self.conn.execute(
            "SELECT e.seq, e.kind, e.body, e.entry_id, q.status, q.entry_id FROM device_events e "
            "LEFT JOIN quarantine q ON q.device_id = e.device_id AND q.seq = e.seq "
            "WHERE e.device_id = ? AND e.seq IN (SELECT value FROM json_each(?))",
            (self.device.device_id, json.dumps(wanted)))
        return {seq: {"event": json.loads(body), "entry_id": entry_id or q_entry, "quarantine": q_status}
                for seq, _kind, body, entry_id, q_status, q_entry in rows}

    def _tally(self, reds: list[dict]) -> dict[tuple[str, str], int]:
        """Points each card took on this tablet per local day, as booked before this batch."""
        days = {clock.local_date(at) for at in (self.b.at(e["at"]) for e in reds) if at is not None}
        if not days:
            return {}
        lo = clock.to_text(clock.local_midnight(min(days)))
        hi = clock.to_text(clock.local_midnight(max(days) + dt.timedelta(days=1)))
        rows = self.conn.execute(
            "SELECT e.seq, e.kind, e.body, e.device_time FROM device_events e "
            "LEFT JOIN quarantine q ON q.device_id = e.device_id AND q.seq = e.seq "
            "WHERE e.device_id = ? AND e.device_time >= ? AND e.device_time < ? "
            "AND (e.entry_id IS NOT NULL OR q.status = 'posted')", (self.device.device_id, lo, hi)).fetchall()
        tally: dict[tuple[str, str], int] = {}
        taken: dict[int, tuple[tuple[str, str], int]] = {}
        for seq, kind, body, at in rows:
            b = json.loads(body)["body"]
            if kind == "redemption":
                key = (b["card"], self.b.day(at))
                tally[key] = tally.get(key, 0) + b["points"]
                taken[seq] = (key, b["points"])
            elif kind == "reversal" and b["reverses_seq"] in taken:
                key, pts = taken[b["reverses_seq"]]
                tally[key] -= pts
        return tally

    # --- one receipt ------------------------------------------------------------------------

    def _line_rule(self, e: dict) -> tuple[str | None, dict | None, dict]:
        """The first rule a line breaks on its own, its card row, and detail for the council."""
        b, body = self.b, e["body"]
        if b.held:
            return "device_on_hold", None, {}
        rule = b.time_rule(e)
        if rule:
            return rule, None, {}
        at = b.at(e["at"])
        if self.last_pull is None:
            return "not_synced", None, {}
        if at < self.last_pull - SKEW:
            return "event_time", None, {"last_pull": clock.to_text(self.last_pull)}
        if policy.sync_too_old(b.pol, self.last_pull, at):
            return "sync_too_old", None, {"last_pull": clock.to_text(self.last_pull)}
        card = self.cards.get((body["card"], body["card_version"]))
        if card is None:
            return "card_unknown", None, {}
        if ev.card_proof(card.qr, self.device.device_id, e["seq"]) != body["proof"]:
            return "card_not_presented", card, {}
        if card.role != "resident":
            return "staff_card", card, {}
        if card.status != "active":
            if self._known(card.ended_at):
                ended = cards.StoreRegistry(self.conn).card_record(card.card_id)[1] if card.status == "revoked" \
                    else "superseded"
                if ended.startswith(("closed", "merged:")):     # the household closed or merged, not a lost card
                    return "card_account_closed", card, {"ended_at": card.ended_at,
                                                          "merged_into": ended.partition(":")[2] or None}
                return ("card_revoked" if card.status == "revoked" else "card_superseded"), card, \
                    {"ended_at": card.ended_at}
            self.revoked_used.add(card.card_id)
        if card.held_at is not None and self._known(card.held_at):
            return "card_on_hold", card, {}
        if card.account_status == "closed" or (card.account_status != "active"
                                                  and self._known(card.status_changed_at)):
            return "account_inactive", card, {"status": card.account_status}
        offer = self.offers.get(body["offer"])
        if offer is None:
            return "unknown_offer", card, {"offer": body["offer"]}
        if offer.merchant_id != self.device.merchant_id:
            return "wrong_merchant", card, {"offer": offer.offer_id, "merchant": offer.merchant_id}
        if offer.points * body["qty"] != body["points"]:
            return "price", card, {"offer": offer.offer_id, "office_points": offer.points * body["qty"]}
        if not policy.open_at(self.windows, at):
            return "window_closed", card, {}
        return None, card, {}

    def _known(self, changed_at: str | None) -> bool:
        """Whether a change to a card or account happened before the tablet's last pull (so the
        tablet knew of it). A change with no recorded time predates the record: known."""
        return changed_at is None or self.last_pull is None or clock.from_text(changed_at) <= self.last_pull

    def receipt(self, lines: list[dict]) -> None:
        first = lines[0]
        receipt = first["body"]["receipt"]
        total = sum(e["body"]["points"] for e in lines) + self._earlier_lines(receipt, first["seq"])
        rule, detail, card = None, {}, None
        for e in lines:
            rule, card, detail = self._line_rule(e)
            if rule:
                break
            if e["body"]["card"] != first["body"]["card"] or e["body"]["auth"] != first["body"]["auth"]:
                rule, detail = "auth_invalid", {"why": "lines of one receipt name different cards or authorisations"}
                break
        if rule is None:
            rule, detail = self._receipt_rule(first, card, total, receipt)
        self.unsynced += total
        if rule:
            for e in lines:
                offer = self.offers.get(e["body"]["offer"])
                self.b.quarantine(e, rule, card_id=e["body"]["card"], account_id=card.account_id if card else None,
                                  points=-e["body"]["points"],
                                  value_fen=offer.value_fen * e["body"]["qty"] if offer else 0, **detail)
            return
        key = (first["body"]["card"], self.b.day(first["at"]))
        self.tally[key] = self.tally.get(key, 0) + total
        for e in lines:
            body = e["body"]
            self.pending.append((card.account_id, self.offers[body["offer"]], body["qty"], body["points"], e["at"],
                                 f"dev:{self.device.device_id}:{e['seq']}"))
            self.placed.append((e, card.account_id, card))

    def _earlier_lines(self, receipt: int, first_seq: int) -> int:
        """Points of this receipt's lines pushed in an earlier batch (a receipt cut by the batch size)."""
        if receipt >= first_seq:
            return 0
        rows = self.conn.execute("SELECT body FROM device_events WHERE device_id = ? AND seq >= ? AND seq < ? "
                                 "AND kind = 'redemption'", (self.device.device_id, receipt, first_seq))
        return sum(b["body"]["points"] for b in map(json.loads, (r[0] for r in rows))
                   if b["body"]["receipt"] == receipt)

    def _receipt_rule(self, first: dict, card: dict, total: int, receipt: int) -> tuple[str | None, dict]:
        body, pol = first["body"], self.b.pol
        cited = self.auths.get(body["auth"]) if body["auth"] else None
        authorised = authorisations.covers(cited, self.conn, self.device.device_id, "redeem", self.b.at(first["at"]),
                                           SKEW, use=receipt, card_id=body["card"], points=total)
        if body["auth"] and not authorised and policy.needs_authorisation(pol, total, bool(card.has_pin)):
            return "auth_invalid", {"auth": body["auth"], "receipt_points": total}
        rule = policy.redemption_breach(pol, points=total, used_today=self.tally.get((body["card"], self.b.day(first["at"])), 0),
                                        unsynced=self.unsynced, has_pin=bool(card.has_pin), authorised=authorised)
        if rule:
            return rule, {"receipt_points": total}
        if authorised:
            authorisations.mark_used(self.conn, cited, receipt, self.device.device_id, "redeem")
        return None, {}

    def flush(self) -> None:
        """Book the receipts decided so far (one bulk insert)."""
        if not self.pending:
            return
        settled = ledger.settle_redemptions(self.conn, self.pending, recorded_by=recorders.of_device(self.device.device_id),
                                            device_id=self.device.device_id, now=self.b.now)
        for e, account_id, card in self.placed:
            entry_id = settled[f"dev:{self.device.device_id}:{e['seq']}"]
            self.b.entry_ids[e["seq"]] = entry_id
            if entry_id is None:     # closed between the checks and the insert: cannot happen in one transaction
                raise RuntimeError(f"redemption {e['seq']} of a closed account passed the checks")
            self.b.booked += 1
            self.touched[account_id] = (card.card_id, e["seq"], entry_id)
        self.pending, self.placed = [], []

    # --- a void -----------------------------------------------------------------------------

    def void(self, e: dict) -> None:
        self.flush()      # an original booked earlier in this batch now has its entry
        b, body = self.b, e["body"]
        seq = body["reverses_seq"]
        if seq in self.in_batch:
            original, entry_id = self.in_batch[seq], b.entry_ids.get(seq)
            open_case = entry_id is None
        else:
            held = self.originals.get(seq)
            original = held["event"] if held else None
            entry_id = held["entry_id"] if held else None
            open_case = bool(held) and held["quarantine"] == "open"
        if b.held:
            return b.quarantine(e, "device_on_hold")
        rule = b.time_rule(e)
        if rule:
            return b.quarantine(e, rule)
        if original is None or original["kind"] != "redemption":
            return b.quarantine(e, "void_unknown", reverses_seq=seq)
        ob = original["body"]
        self.unsynced -= ob["points"]       # the tablet counts its void against its unsynced points
        if entry_id is None:     # never charged: the merchant took the receipt back, the case is closed
            if open_case:
                by, why = f"device:{self.device.device_id}", "商户已撤销 (voided at the tablet)"
                if not b.close(seq, by=by, reason=why):
                    self.conn.execute("UPDATE quarantine SET status = 'rejected', decided_by = ?, decided_at = ?, "
                                      "reason = ? WHERE device_id = ? AND seq = ? AND status = 'open'",
                                      (by, b.received, why, self.device.device_id, seq))
            b.entry_ids[e["seq"]] = None
            return None
        if policy.void_too_late(b.pol, b.at(original["at"]), b.at(e["at"])):
            return b.quarantine(e, "void_window", card_id=ob["card"], points=ob["points"], reverses_seq=seq)
        try:
            entry = ledger.reverse(self.conn, entry_id, recorded_by=recorders.of_device(self.device.device_id),
                                   note=body["reason"][:200], device_id=self.device.device_id, device_time=e["at"],
                                   now=b.now, ref=f"dev:{self.device.device_id}:{e['seq']}")
        except BankError as exc:
            return b.quarantine(e, "void_unknown", card_id=ob["card"], points=ob["points"], reverses_seq=seq,
                                why=exc.en)
        b.entry_ids[e["seq"]] = entry.entry_id
        b.booked += 1
        key = (ob["card"], b.day(original["at"]))
        self.tally[key] = self.tally.get(key, 0) - ob["points"]
        return None

    # --- after the batch --------------------------------------------------------------------

    def finish(self) -> None:
        self.flush()
        now, device = self.b.now, self.device
        for card_id in sorted(self.revoked_used):
            alerts.raise_alert(self.conn, "revoked_card_used", device_id=device.device_id, card_id=card_id, now=now,
                               detail={"card": card_id, "note": "revoked after the tablet's last pull: booked"})
        if not self.touched:
            return
        hold = alerts.hold_on_overdraft(self.conn)
        for account_id, bal in ledger.negative_balances(self.conn, list(self.touched)):
            card_id, seq, entry_id = self.touched[account_id]
            self.b.overdrafts += 1
            alert_id = alerts.raise_alert(self.conn, "overdraft", device_id=device.device_id, account_id=account_id,
                                          card_id=card_id, now=now,
                                          detail={"seq": seq, "entry_id": entry_id, "balance": bal})
            if hold:
                alerts.place_hold(self.conn, card_id, account_id, reason="overdraft", alert_id=alert_id, now=now)


def settle(b: Batch, fresh: list[dict]) -> None:
    """Decide every new event of a tablet's batch, in order; book what passes (see the module docstring)."""
    t = _Tablet(b, fresh)
    i = 0
    while i < len(fresh):
        e = fresh[i]
        if e["kind"] == "redemption":
            j = i + 1
            while (j < len(fresh) and fresh[j]["kind"] == "redemption"
                   and fresh[j]["body"]["receipt"] == e["body"]["receipt"]):
                j += 1
            t.receipt(fresh[i:j])
            i = j
        else:
            t.void(e)
            i += 1
    t.finish()
