"""Staff: pick a rule item for the chosen household, grouped by product, with cap and this period's use."""

from kivy.properties import StringProperty

from kiosk import style

from .base import KioskScreen, load_kv

load_kv(__file__)


class StaffItemsScreen(KioskScreen):
    target = StringProperty("")

    def refresh(self) -> None:
        flow = self.flow
        t = flow.target
        self.target = self.tr("{name} · {address} · 现有 {points} 分").format(
            name=t.name, address=t.address, points=t.balance) if t else ""
        box = self.ids.rows
        box.clear_widgets()
        for product, items in flow.items():
            box.add_widget(self.text(f"{product[1]} · {product[2]}", kind="KLarge", bold=True))
            from kivy.factory import Factory
            grid = Factory.GridLayout(cols=2, spacing=style.GAP, size_hint_y=None)
            grid.bind(minimum_height=grid.setter("height"))
            for item in items:
                sign = "+" if item.points > 0 else ""
                used = self.tr("本期已记{used}次").format(used=item.used)
                text = f"{item.name}  {sign}{item.points}分\n{self.tr(item.cap_text)} · {used}"
                b = self.button(text, "choose_item", item.code, kind="KSecondary" if item.points > 0 else "KButton",
                                disabled=item.full)
                b.item_code = item.code
                grid.add_widget(b)
            box.add_widget(grid)
