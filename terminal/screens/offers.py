"""Offers: big tiles with the price in points, quantity, running total, what is left today."""

from kivy.factory import Factory
from kivy.properties import NumericProperty, StringProperty

from .base import FlowScreen, load_kv

load_kv(__file__)


class OffersScreen(FlowScreen):
    chosen = StringProperty("")
    qty = NumericProperty(0)
    total = NumericProperty(0)
    balance_after = NumericProperty(0)
    left_today = NumericProperty(0)

    def refresh(self) -> None:
        flow = self.flow
        grid = self.ids.tiles
        grid.clear_widgets()
        for o in flow.offers:
            tile = Factory.OfferTile()
            tile.offer_id, tile.offer_name, tile.points, tile.max_qty = o.offer_id, o.name, o.points, o.max_qty
            tile.selected = bool(flow.basket and flow.basket[0] == o.offer_id)
            tile.bind(on_release=lambda t: self.act("choose", t.offer_id))
            grid.add_widget(tile)
        offer = flow.offer(flow.basket[0]) if flow.basket else None
        self.chosen = offer.name if offer else ""
        self.qty = flow.basket[1] if flow.basket else 0
        self.total, self.balance_after = flow.total, flow.balance_after
        self.left_today = flow.card.left_today if flow.card else 0
