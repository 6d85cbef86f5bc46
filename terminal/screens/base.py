"""What every tablet screen shares: its .kv of the same name, and ``refresh`` from the flow."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

import device.ui.widgets  # noqa: F401 - shared styles used by the screens' .kv


def load_kv(module_file: str) -> None:
    """Load the .kv next to a screen module, once."""
    kv = str(Path(module_file).with_suffix(".kv"))
    if kv not in Builder.files:
        Builder.load_file(kv)


class FlowScreen(Screen):
    """A screen showing part of :class:`terminal.flow.TerminalFlow`; taps go to ``app.act``."""

    @property
    def app(self):
        return App.get_running_app()

    @property
    def flow(self):
        return self.app.flow

    def refresh(self) -> None:
        """Copy what this screen shows from the flow (called after every action)."""

    def act(self, name: str, *args) -> None:
        self.app.act(name, *args)
