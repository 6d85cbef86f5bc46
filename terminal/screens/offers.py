"""Offers: big tiles add to a basket; the basket's lines with -/+, running total, what is left today."""

from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from .base import FlowScreen, load_kv


class BasketRow(BoxLayout):
    """One line of the basket; ``on_change`` with -1 or +1 when its buttons are tapped."""

    offer_id = NumericProperty(0)
    offer_name = StringProperty("")
    qty = NumericProperty(0)
    points = NumericProperty(0)
    most = NumericProperty(0)          # this line's quantity may go up to this
    can_add = BooleanProperty(False)
    __events__ = ("on_change",)

    def on_change(self, delta) -> None:
        """Default handler (the screen binds its own)."""


load_kv(__file__)


class OffersScreen(FlowScreen):
    count = NumericProperty(0)         # lines in the basket
    total = NumericProperty(0)
    balance_after = NumericProperty(0)
    left_today = NumericProperty(0)

    def refresh(self) -> None:
        flow = self.flow
        grid = self.ids.tiles
        grid.clear_widgets()
        for o in flow.offers:
            tile = Factory.OfferTile()
            in_basket = flow.basket.get(o.offer_id, 0)
            tile.offer_id, tile.offer_name, tile.points = o.offer_id, o.name, o.points
            tile.max_qty, tile.in_basket = flow.line_max(o.offer_id), in_basket
            tile.note = self.app.render(flow.offer_note(o.offer_id))
            tile.bind(on_release=lambda t: self.act("choose", t.offer_id))
            grid.add_widget(tile)
        rows = self.ids.lines
        rows.clear_widgets()
        for o, qty, points in flow.lines():
            row = BasketRow()
            most = flow.line_max(o.offer_id)
            row.offer_id, row.offer_name, row.qty, row.points = o.offer_id, o.name, qty, points
            row.most, row.can_add = most, qty < most
            row.bind(on_change=lambda r, d: self.act("change_qty", d, r.offer_id))
            rows.add_widget(row)
        self.count = len(flow.basket)
        self.total, self.balance_after = flow.total, flow.balance_after
        self.left_today = flow.left_after
