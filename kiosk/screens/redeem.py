"""Where to redeem: merchants, their offers, what my balance buys, and the redemption windows."""

from .base import KioskScreen, load_kv

load_kv(__file__)


class RedeemScreen(KioskScreen):
    def refresh(self) -> None:
        box = self.ids.rows
        box.clear_widgets()
        flow = self.flow
        self.ids.summary.text = self.tr("您有 {points} 分。下面是可以兑换的商户和项目:").format(
            points=flow.account.balance if flow.account else 0)
        shops = flow.shops()       # those where the balance buys something come first
        self.ids.pager.show(flow, len(shops), self.tr)
        for shop in flow.page_of(shops):
            box.add_widget(self.text(f"{shop.name} · {shop.hours}", kind="KLarge", bold=True))
            offers = "   ".join(
                (self.tr("{name} {points}分(可换{n}份)") if n else self.tr("{name} {points}分")).format(
                    name=name, points=points, n=n) for name, points, n in shop.offers)
            box.add_widget(self.text(offers))
