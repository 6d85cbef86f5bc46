"""Today's receipts on this tablet (with what the office decided about each) and voiding one."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from bank import clock
from device.flowkit import from_error, msg
from sync import replica

from . import redeem as engine


@dataclass(frozen=True)
class DayLine:
    """One receipt of the day (a basket: one or more offers)."""

    seq: int                   # the receipt number (its first event)
    at: str                    # local HH:MM
    card_id: str
    name: str
    offer: str                 # 小面 × 1、豌杂面 × 2
    qty: int                   # all lines together
    points: int
    voided: bool
    can_void: bool
    synced: bool
    seqs: tuple[int, ...] = ()
    office: str = ""           # the office's decision when it did not book it: open, posted, rejected
    office_reason: str = ""    # why (the rule it broke, or the council's reason for a rejection)


class TodaySteps:
    """The today part of :class:`terminal.flow.TerminalFlow`."""

    def today(self) -> list[DayLine]:
        """Today's receipts on this tablet, newest first, with which may still be voided."""
        now = self.now()
        pol = engine.policy(self.home)
        conn = self._replica()
        try:
            names = replica.masked_names(conn)
            voided = replica.reversed_seqs(conn)
            rows = replica.receipt_lines_on(conn, clock.local_date(now).isoformat())
            offer_names = replica.offer_names(conn)
            decisions = {seq: (status, reason if status == "rejected" and reason else rule_text)
                         for seq, (status, rule_text, reason) in replica.decisions(conn).items()}
        finally:
            conn.close()
        receipts: dict[int, list] = {}
        for seq, receipt, *rest in rows:
            receipts.setdefault(receipt, []).append((seq, *rest))
        out = []
        for number, events in sorted(receipts.items(), reverse=True):
            at = clock.from_text(events[0][1])
            bodies = [json.loads(e[5])["body"] for e in events]
            seqs = tuple(e[0] for e in events)
            is_voided = all(seq in voided for seq in seqs)
            out.append(DayLine(
                number, clock.local(at).strftime("%H:%M"), events[0][2], names.get(events[0][3], "?"),
                "、".join(f"{offer_names.get(b.get('offer'), '#' + str(b.get('offer')))} × {b.get('qty', 1)}"
                         for b in bodies),
                sum(b.get("qty", 1) for b in bodies), sum(e[4] for e in events), is_voided,
                not is_voided and now - at <= dt.timedelta(minutes=pol.void_minutes),
                all(e[6] for e in events), seqs, *decisions.get(seqs[0], ("", ""))))
        return out

    def day_totals(self) -> tuple[int, int]:
        """(receipts, points) today, voided and rejected ones left out."""
        lines = [x for x in self.today() if not x.voided and x.office != "rejected"]
        return len(lines), sum(x.points for x in lines)

    def void(self, seq: int) -> bool:
        """Void one of today's receipts, every line of it (reversal events); a message either way."""
        try:
            out = engine.void(self.home, seq, now=self.now(), transport=engine.Deferred())
        except engine.Refusal as exc:
            self.message = from_error(exc)
            return False
        self.message = msg("已撤销第 {seq} 号兑换,退回 {points} 分。", seq=out["reverses_seq"], points=out["points"])
        if self.syncer is not None:
            self.syncer.request("after_void")
        return True
