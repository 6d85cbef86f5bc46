"""The convention: the four products and their items with points, in plain words; one product per page
(a few of its items at a time), turned with the big 上一页/下一页 buttons: nothing to scroll."""

from kiosk import residents

from .base import KioskScreen, load_kv

load_kv(__file__)


class ConventionScreen(KioskScreen):
    def refresh(self) -> None:
        box = self.ids.rows
        box.clear_widgets()
        pages = self.flow.convention_pages()
        self.ids.pager.show(self.flow, len(pages), self.tr)
        for product, items in self.flow.page_of(pages):
            box.add_widget(self.text(f"{product[1]} · {product[2]}", kind="KLarge", bold=True))
            for code, _p, heading, name, points, cap, _desc in items:
                sign = "+" if points > 0 else ""
                box.add_widget(self.text(f"{name}   {sign}{points} 分   ({residents.cap_text(cap, product[3])})"))
