"""The kiosk's widgets: text and buttons that carry their background colour, so the accessibility
test can measure contrast on every label, and rows built by screens in Python."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label

from . import style


class KText(Label):
    """A label drawn on ``bg`` (the screen background unless set)."""

    bg = ListProperty(list(style.BACKGROUND))


class KButton(Button):
    """A large button; ``background_color`` is its real colour (no image)."""


class KPager(BoxLayout):
    """上一页 / 第 n 页,共 m 页 / 下一页 under a paged list; the buttons send ``turn`` to the app.

    Hidden when everything fits on one page."""

    page_text = StringProperty("")
    has_prev = BooleanProperty(False)
    has_next = BooleanProperty(False)

    def show(self, flow, total: int, tr) -> None:
        pages = flow.pages(total)
        self.page_text = tr("第 {page} 页,共 {pages} 页").format(page=flow.page + 1, pages=pages)
        self.has_prev, self.has_next = flow.page > 0, flow.page + 1 < pages


_KV = Path(__file__).with_suffix(".kv")
if str(_KV) not in Builder.files:
    Builder.load_file(str(_KV))
