"""Confirm: total and balance after; the PIN pad when the account's PIN is needed."""

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from .base import FlowScreen, load_kv

load_kv(__file__)


class ConfirmScreen(FlowScreen):
    summary = StringProperty("")
    total = NumericProperty(0)
    balance_after = NumericProperty(0)
    pin_asked = BooleanProperty(False)
    pin_dots = StringProperty("")

    def refresh(self) -> None:
        flow = self.flow
        offer = flow.offer(flow.basket[0]) if flow.basket else None
        self.summary = f"{flow.card.name if flow.card else ''} · {offer.name if offer else ''} × {flow.basket[1] if flow.basket else 0}"
        self.total, self.balance_after = flow.total, flow.balance_after
        self.pin_asked = flow.pin_asked
        self.pin_dots = "●" * len(flow.pin)
