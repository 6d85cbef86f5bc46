"""The basket: offer tiles add lines, -/+ keep each line within what the card may still take here
today (every cap at once), and a tile that cannot take more says why."""

from __future__ import annotations

from dataclasses import dataclass

from device.flowkit import Message, msg


@dataclass(frozen=True)
class OfferView:
    offer_id: int
    name: str
    points: int
    max_qty: int               # how many this card can still take today here (0: none)


class BasketSteps:
    """The basket part of :class:`terminal.flow.TerminalFlow`, on its ``card``, ``offers``,
    ``basket`` (offer id -> quantity, in the order added), ``room``, ``unsynced_room`` and
    ``message``."""

    def offer(self, offer_id: int) -> OfferView | None:
        return next((o for o in self.offers if o.offer_id == offer_id), None)

    def line_max(self, offer_id: int) -> int:
        """How many of an offer this basket line may hold, given the other lines and the caps."""
        o = self.offer(offer_id)
        if o is None or o.points <= 0:
            return 0
        others = self.total - o.points * self.basket.get(offer_id, 0)
        return max(0, min(99, (self.room - others) // o.points))

    def offer_note(self, offer_id: int) -> Message:
        """What an offer's tile says under its price: how many more may be added, or why none can
        (closed now, no points, too few points and how many more are needed, the card's daily cap
        here, the tablet's unsynced cap), given the basket's other lines."""
        o = self.offer(offer_id)
        most = self.line_max(offer_id)
        if o is None or self.card is None:
            return Message("", "")
        in_line = self.basket.get(offer_id, 0)
        if most > in_line:
            return msg("今天最多 {n} 份", code="offer_max", n=most)
        if self.card.closed is not None:
            return msg("现在不在兑换时间", "warn", code="window_closed")
        if self.card.available <= 0:
            return msg("没有可用积分", "warn", code="no_points")
        others = self.total - o.points * in_line + o.points * most     # the basket with this line at most
        need = others + o.points                                       # ... and one more of it
        limits = [(self.card.available, "insufficient"),
                  (self.card.daily_cap - self.card.used_today, "daily_cap"), (self.unsynced_room, "unsynced_cap")]
        have, why = min(limits, key=lambda x: x[0])
        if why == "insufficient":
            return msg("积分不足,还差 {n} 分", "warn", code="insufficient", n=need - have)
        if why == "daily_cap":
            return msg("已到本店今天每卡上限", "warn", code="daily_cap")
        return msg("本机未上传额度已满,请先同步", "warn", code="unsynced_cap")

    def choose(self, offer_id: int) -> None:
        """Tap an offer tile: add one of it to the basket (a new line, or one more on its line)."""
        self.set_qty(offer_id, self.basket.get(offer_id, 0) + 1)

    def inc(self, offer_id: int) -> None:
        self.set_qty(offer_id, self.basket.get(offer_id, 0) + 1)

    def dec(self, offer_id: int) -> None:
        """One fewer; the line goes at zero."""
        if offer_id in self.basket:
            self.set_qty(offer_id, self.basket[offer_id] - 1)

    def remove(self, offer_id: int) -> None:
        self.set_qty(offer_id, 0)

    def set_qty(self, offer_id: int, qty: int) -> None:
        """Set a line's quantity, kept within what is still available today with the other lines."""
        o = self.offer(offer_id)
        if o is None:
            return
        if qty <= 0:
            self.basket.pop(offer_id, None)
            self.message = None
            return
        most = self.line_max(offer_id)
        if most == 0:
            self.basket.pop(offer_id, None)
            note = self.offer_note(offer_id)
            self.message = self.card.closed if note.code == "window_closed" and self.card else note
            return
        if qty > most:
            qty = most
            self.message = msg("最多还能兑换 {n} 份“{offer}”。", "warn", n=most, offer=o.name)
        else:
            self.message = None
        self.basket[offer_id] = qty

    def change_qty(self, delta: int, offer_id: int | None = None) -> None:
        """+/- on a line (the last line added when none is named)."""
        if offer_id is None:
            if not self.basket:
                return
            offer_id = next(reversed(self.basket))
        if offer_id in self.basket:
            self.set_qty(offer_id, self.basket[offer_id] + delta)

    def lines(self) -> list[tuple[OfferView, int, int]]:
        """The basket's lines: (offer, qty, points), in the order added."""
        out = []
        for offer_id, qty in self.basket.items():
            o = self.offer(offer_id)
            if o is not None:
                out.append((o, qty, o.points * qty))
        return out

    @property
    def total(self) -> int:
        return sum(points for _o, _q, points in self.lines())

    @property
    def left_after(self) -> int:
        """What this card could still take here today once this basket is redeemed."""
        return max(0, self.room - self.total)

    @property
    def balance_after(self) -> int:
        return (self.card.available if self.card else 0) - self.total

    @property
    def pin_needed(self) -> bool:
        return bool(self.card and self.card.needs_pin_above is not None and self.total > self.card.needs_pin_above)
