"""The kiosk's widgets: text and buttons that carry their background colour, so the accessibility
test can measure contrast on every label, and rows built by screens in Python."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ListProperty
from kivy.uix.button import Button
from kivy.uix.label import Label

from . import style


class KText(Label):
    """A label drawn on ``bg`` (the screen background unless set)."""

    bg = ListProperty(list(style.BACKGROUND))


class KButton(Button):
    """A large button; ``background_color`` is its real colour (no image)."""


_KV = Path(__file__).with_suffix(".kv")
if str(_KV) not in Builder.files:
    Builder.load_file(str(_KV))
