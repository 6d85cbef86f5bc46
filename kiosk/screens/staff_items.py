"""Staff: pick a rule item for the chosen household, grouped by product (one product per page, a few
items at a time, turned with the big buttons), each with its cap and this period's use."""

from kivy.properties import StringProperty

from .base import KioskScreen, load_kv

load_kv(__file__)


class StaffItemsScreen(KioskScreen):
    target = StringProperty("")

    def refresh(self) -> None:
        flow = self.flow
        t = flow.target
        self.target = self.tr("{name} · {address} · 现有 {points} 分").format(
            name=t.name, address=t.address, points=t.balance) if t else ""
        grid = self.ids.rows
        grid.clear_widgets()
        pages = flow.item_pages()
        self.ids.pager.show(flow, len(pages), self.tr)
        self.ids.product.text = ""
        for product, items in flow.page_of(pages):
            self.ids.product.text = f"{product[1]} · {product[2]}"
            for item in items:
                sign = "+" if item.points > 0 else ""
                used = self.tr("本期已记{used}次").format(used=item.used)
                text = f"{item.name}  {sign}{item.points}分\n{self.tr(item.cap_text)} · {used}"
                b = self.button(text, "choose_item", item.code, kind="KSecondary" if item.points > 0 else "KButton",
                                disabled=item.full)
                b.item_code = item.code
                grid.add_widget(b)
