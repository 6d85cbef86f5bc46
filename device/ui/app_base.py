"""The base of the tablet and kiosk apps: fonts, theme, language switching, screenshots.

Screens' .kv files translate with ``app.tr('中文原文', app.lang)``: naming ``app.lang`` in the
expression makes Kivy re-evaluate it when the language changes, and ``tr`` is the keyword Babel
extracts (see ``babel.cfg``).
"""

from __future__ import annotations

import os
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import StringProperty

from device.scan.verify import verify_on_replica
from device.ui import theme
from device.ui.fonts import register_fonts
from device.ui.i18n import Translator


class BaseApp(App):
    """An App with the CJK font, the theme, ``lang`` and ``tr``."""

    lang = StringProperty("zh")
    sync_text = StringProperty("")      # the header's sync badge (update_sync)
    sync_level = StringProperty("info")
    banner = StringProperty("")         # the flow's message on the current screen
    banner_level = StringProperty("info")
    domains: tuple[str, ...] = ("mpb",)   # gettext domains, asked in order (device/ui/i18n.py)

    def __init__(self, **kwargs):
        register_fonts()
        self.theme = theme
        self._translators: dict[str, Translator] = {}
        super().__init__(**kwargs)
        Window.clearcolor = theme.BACKGROUND

    def every(self, seconds: float, callback) -> None:
        """Call ``callback`` every ``seconds`` while the app runs (cancelled when it stops: Kivy's
        clock is global, and a stopped app's timers would otherwise fire inside the next app)."""
        self.__dict__.setdefault("_timers", []).append(Clock.schedule_interval(callback, seconds))

    # The life cycle both apps share: the background syncer (``self.flow.syncer``) syncs on start
    # and on resume and stops with the app.

    def _syncer(self):
        return getattr(getattr(self, "flow", None), "syncer", None)

    def on_start(self):
        if self._syncer() is not None:
            self._syncer().start()
            self._syncer().request("start")

    def on_pause(self):
        return True   # Android: keep the app (and its unsynced events) alive in the background

    def on_resume(self):
        if self._syncer() is not None:
            self._syncer().request("resume")

    def on_stop(self):
        for event in self.__dict__.pop("_timers", []):
            event.cancel()
        if self._syncer() is not None:
            self._syncer().stop(0.5)

    def verify_card(self, text: str):
        """The card tracker's check (on the scanner's thread): the flow's home's replica, on a
        connection of its own each time (SQLite connections stay on their thread)."""
        conn = self.flow.home.replica()
        try:
            return verify_on_replica(conn, text)
        finally:
            conn.close()

    def has_sync_badge(self) -> bool:
        """Whether the header shows the flow's sync line (not before the device is enrolled)."""
        return self.flow.home is not None

    def update_sync(self) -> None:
        """The header's sync badge: ``sync_text`` and ``sync_level`` from the flow's sync line."""
        line = self.flow.sync_line() if self.has_sync_badge() else None
        self.sync_text, self.sync_level = self.render(line), line.level if line else "info"

    def tr(self, msgid: str, lang: str | None = None) -> str:
        """Translate a Chinese msgid into ``lang`` (default: the current language)."""
        lang = lang or self.lang
        if lang not in self._translators:
            self._translators[lang] = Translator(lang, self.domains)
        return self._translators[lang].gettext(msgid)

    def render(self, message) -> str:
        """A flow Message (or None) in the current language."""
        return "" if message is None else message.render(self.tr, self.lang)


def screenshot(path: str | os.PathLike) -> Path:
    """Save the whole window (popups included) as a PNG at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Window.screenshot numbers its files (name0001.png); write there, then move into place.
    made = Path(Window.screenshot(name=str(path.with_name(path.stem + "-tmp.png"))))
    os.replace(made, path)
    return path
