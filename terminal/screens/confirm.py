"""Confirm: total and balance after; the PIN pad when the account's PIN is needed."""

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from .base import FlowScreen, load_kv

load_kv(__file__)


class ConfirmScreen(FlowScreen):
    summary = StringProperty("")       # the holder
    items = StringProperty("")         # one basket line a row
    total = NumericProperty(0)
    balance_after = NumericProperty(0)
    pin_asked = BooleanProperty(False)
    pin_dots = StringProperty("")

    def refresh(self) -> None:
        flow = self.flow
        self.summary = flow.card.name if flow.card else ""
        self.items = "\n".join(f"{o.name} × {qty}   {self.tr('{points} 分').format(points=points)}"
                               for o, qty, points in flow.lines())
        self.total, self.balance_after = flow.total, flow.balance_after
        self.pin_asked = flow.pin_asked
        self.pin_dots = "●" * len(flow.pin)
