"""Sentences for the shop owner: a Chinese msgid (translated by the UI) or a zh/en pair, each with
a stable code that tests and screens decide on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bank.errors import BankError


def N_(text: str) -> str:
    """Mark a msgid for extraction; translated when shown (see device.ui.i18n)."""
    return text


@dataclass(frozen=True)
class Message:
    """A sentence for the shop owner: a Chinese msgid (translated by the UI) or zh/en given."""

    zh: str
    en: str | None = None       # None: translate zh through the catalog
    values: tuple = ()          # (name, value) pairs for str.format
    level: str = "info"         # info, warn, error
    code: str = ""              # stable: what tests and the screens decide on, never the Chinese text

    def render(self, translate: Callable[[str], str] = lambda s: s, lang: str = "zh") -> str:
        """The sentence in ``lang``."""
        text = self.zh if lang.startswith("zh") or self.en is None else self.en
        if self.en is None:
            text = translate(self.zh)
        return text.format(**dict(self.values))


def msg(zh: str, level: str = "info", code: str = "", **values) -> Message:
    """A catalog message with format values."""
    return Message(zh, None, tuple(values.items()), level, code)


def from_error(exc: BankError, next_step: str | None = None) -> Message:
    """An engine refusal, with what to do next when the engine's sentence does not say it."""
    zh, en = exc.zh, exc.en
    if next_step:
        zh, en = zh + next_step, en
    return Message(zh, en, (), "error", exc.code)
