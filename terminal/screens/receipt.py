"""Receipt: what was redeemed, points, balance after, receipt number; back to scanning soon."""

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from .base import FlowScreen, load_kv

load_kv(__file__)


class ReceiptScreen(FlowScreen):
    number = StringProperty("")
    item = StringProperty("")
    points = NumericProperty(0)
    balance_after = NumericProperty(0)
    holder = StringProperty("")
    at = StringProperty("")
    pushed = BooleanProperty(False)

    def refresh(self) -> None:
        r = self.flow.receipt
        if r is None:
            return
        self.number = f"{r.device_id}-{r.seq}"
        self.item = "\n".join(f"{i.offer} × {i.qty}   {self.tr('{points} 分').format(points=i.points)}"
                              for i in r.items)
        self.points, self.balance_after, self.holder, self.at, self.pushed = (
            r.points, r.balance_after, r.account, r.at, r.pushed)
