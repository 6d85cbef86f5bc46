"""Sentences on the kiosk's banner: a Chinese msgid (translated by the UI) or a zh/en pair, each with
a stable code that tests decide on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bank.errors import BankError


def N_(text: str) -> str:
    """Mark a msgid for extraction; translated when shown (see device.ui.i18n)."""
    return text




@dataclass(frozen=True)
class Message:
    """A sentence on the banner: a Chinese msgid (translated by the UI) or zh/en given."""

    zh: str
    en: str | None = None
    values: tuple = ()
    level: str = "info"
    code: str = ""              # stable: what tests decide on

    def render(self, translate: Callable[[str], str] = lambda s: s, lang: str = "zh") -> str:
        text = self.zh if lang.startswith("zh") or self.en is None else self.en
        if self.en is None:
            text = translate(self.zh)
        return text.format(**dict(self.values))



def msg(zh: str, level: str = "info", code: str = "", **values) -> Message:
    return Message(zh, None, tuple(values.items()), level, code)


def from_error(exc: BankError) -> Message:
    return Message(exc.zh, exc.en, (), "error", exc.code)
