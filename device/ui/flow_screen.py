"""The screen base shared by the tablet and the kiosk: a screen shows part of its app's flow.

A screen is a class and a .kv of the same name beside it (``load_kv(__file__)`` loads that once);
``refresh`` copies what it shows from ``app.flow`` after every action, and taps go to
``app.act``. Both apps run in one test process, and Kivy's Factory and Builder are global: apps
subclass this under their own names and keep their own widget names (the first class registered
under a name wins in the Factory, a kv rule applies to every class of its name).
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.uix.screenmanager import Screen


def load_kv(module_file: str) -> None:
    """Load the .kv next to a screen module, once."""
    kv = str(Path(module_file).with_suffix(".kv"))
    if kv not in Builder.files:
        Builder.load_file(kv)


class FlowScreen(Screen):
    """A screen of a flow; ``BUTTON`` and ``TEXT`` name the app's widgets for rows built in Python."""

    BUTTON = "BigButton"    # device/ui/widgets.kv
    TEXT = "Body"

    @property
    def app(self):
        return App.get_running_app()

    @property
    def flow(self):
        return self.app.flow

    def tr(self, text: str) -> str:
        return self.app.tr(text)

    def refresh(self) -> None:
        """Copy what this screen shows from the flow (called after every action)."""

    def act(self, name: str, *args) -> None:
        self.app.act(name, *args)

    def button(self, text: str, action: str, *args, kind: str | None = None, disabled: bool = False, **props):
        """A button that sends ``action`` to the app when tapped."""
        b = getattr(Factory, kind or self.BUTTON)(text=text, disabled=disabled, **props)
        b.bind(on_release=lambda _b: self.act(action, *args))
        return b

    def text(self, text: str, kind: str | None = None, **props):
        return getattr(Factory, kind or self.TEXT)(text=text, **props)
