"""What every kiosk screen shares: its .kv of the same name, ``refresh`` from the flow, taps to the app."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

import kiosk.widgets  # noqa: F401 - styles used by the screens' .kv


def load_kv(module_file: str) -> None:
    kv = str(Path(module_file).with_suffix(".kv"))
    if kv not in Builder.files:
        Builder.load_file(kv)


class FlowScreen(Screen):
    @property
    def app(self):
        return App.get_running_app()

    @property
    def flow(self):
        return self.app.flow

    def tr(self, text: str) -> str:
        return self.app.tr(text)

    def refresh(self) -> None:
        """Copy what this screen shows from the flow (after every action)."""

    def act(self, name: str, *args) -> None:
        self.app.act(name, *args)

    def button(self, text: str, action: str, *args, kind: str = "KButton", disabled: bool = False, **props):
        """A button that sends ``action`` to the app when tapped."""
        from kivy.factory import Factory
        b = getattr(Factory, kind)(text=text, disabled=disabled, **props)
        b.bind(on_release=lambda _b: self.act(action, *args))
        return b

    def text(self, text: str, kind: str = "KText", **props):
        from kivy.factory import Factory
        return getattr(Factory, kind)(text=text, **props)
