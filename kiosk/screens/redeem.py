"""到哪里兑换, three taps from the home screen to any shop: the kinds of shop, then that kind's
shops nearest first (this compound's first), then one shop with its address, redemption hours and
what the balance buys there. Big buttons, paged; nothing to scroll."""

from kivy.properties import ListProperty, StringProperty

from bank import merchants
from device.flowkit import N_

from .base import KioskScreen, load_kv

load_kv(__file__)

# The kinds of shop are the office's (bank.merchants.CATEGORIES, in Chinese); marked for the catalog.
KIND_NAMES = (N_("银行"), N_("药店"), N_("健身房"), N_("面馆"), N_("按摩推拿"), N_("小吃店"), N_("美发店"),
              N_("培训学校"), N_("超市"), N_("面包房"), N_("诊所"), N_("洗衣店"), N_("茶馆"), N_("社区兑换点"))


class RedeemScreen(KioskScreen):
    title = StringProperty("")
    again_text = StringProperty("")
    again_action = ListProperty(["choose_shop_kind", None])

    def refresh(self) -> None:
        flow = self.flow
        grid, rows = self.ids.choices, self.ids.rows
        grid.clear_widgets()
        rows.clear_widgets()
        points = flow.account.balance if flow.account else 0
        choices = flow.redeem_choices()
        shop = flow.shop()
        self.ids.pager.show(flow, 0 if shop else len(choices), self.tr)
        if flow.shop_kind is None:
            self.title, self.again_text = self.tr("到哪里兑换"), ""
            self.ids.summary.text = self.tr("您有 {points} 分。请选择想去的商户类别:").format(points=points)
            for kind, name, n in flow.page_of(choices):
                grid.add_widget(self.button(self.tr("{kind}({n}家)").format(kind=self.tr(name), n=n),
                                            "choose_shop_kind", kind, kind="KSecondary"))
            return
        kind_name = self.tr(merchants.CATEGORIES.get(flow.shop_kind, flow.shop_kind))
        if shop is None:
            self.title = kind_name
            self.again_text, self.again_action = self.tr("其他类别"), ["choose_shop_kind", None]
            self.ids.summary.text = self.tr("您有 {points} 分。离本小区近的排在前面:").format(points=points)
            for s in flow.page_of(choices):
                here = self.tr("(本小区)") if s.nearby else ""
                grid.add_widget(self.button(f"{s.name}{here}", "choose_shop", s.merchant_id, kind="KSecondary"))
            return
        self.title = shop.name
        self.again_text, self.again_action = self.tr(N_("其他{kind}")).format(kind=kind_name), ["choose_shop", None]
        self.ids.summary.text = self.tr("您有 {points} 分。").format(points=points)
        rows.add_widget(self.text(self.tr("地址:{address}").format(address=shop.address or self.tr("请问工作人员")),
                                  kind="KLarge"))
        rows.add_widget(self.text(self.tr("兑换时间:{hours}").format(hours=shop.hours), kind="KLarge"))
        offers = "\n".join(
            (self.tr("{name} {points}分(可换{n}份)") if n else self.tr("{name} {points}分")).format(
                name=name, points=p, n=n) for name, p, n in shop.offers)
        rows.add_widget(self.text(offers or self.tr("暂时没有兑换项目。")))
