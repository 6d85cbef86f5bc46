"""What the tablet's and the kiosk's flows share, in plain Python (no Kivy).

- :class:`Message`: a sentence on a banner, a Chinese msgid (translated by the UI) or a zh/en pair,
  with a stable code that tests and screens decide on; :func:`msg`, :func:`from_error`.
- :func:`pin_after`: the PIN pad's keys (the PIN rule's longest PIN is :data:`bank.accounts.PIN_LENGTHS`).
- :func:`chunks`, :func:`page_of`, :func:`page_count`, :func:`turned`: paging a list with big buttons.
- :class:`DeviceFlow`: the base of both flows: it opens the device home (not enrolled, or a fault
  said in one sentence), starts the background syncer, and says why the device must stop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bank import accounts
from bank.errors import BankError
from sync import client, home as home_mod, replica

from .syncing import Syncer


def N_(text: str) -> str:
    """Mark a msgid for extraction; translated when shown (see device.ui.i18n)."""
    return text


@dataclass(frozen=True)
class Message:
    """A sentence for the person at the device: a Chinese msgid (translated by the UI) or zh/en given."""

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
    """A refusal or fault, with what to do next when its own sentence does not say it."""
    zh, en = exc.zh, exc.en
    if next_step:
        zh, en = zh + next_step, en
    return Message(zh, en, (), "error", exc.code)


# --- the PIN pad ----------------------------------------------------------------------------------

def pin_after(pin: str, key: str) -> str:
    """The PIN being entered after a key of the pad: a digit, 'back' or 'clear'. No more digits
    than the longest PIN the rule allows (the office checks the PIN itself)."""
    if key == "clear":
        return ""
    if key == "back":
        return pin[:-1]
    if key.isdigit() and len(pin) < accounts.PIN_LENGTHS[-1]:
        return pin + key
    return pin


# --- paging: a list is shown a page at a time with big buttons, never cut short -------------------

def chunks(rows: list, n: int) -> list[list]:
    """``rows`` in pieces of at most ``n`` (one empty piece for no rows: a group still has its page)."""
    return [rows[i:i + n] for i in range(0, len(rows), n)] or [[]]


def page_count(n: int, size: int) -> int:
    """How many pages ``n`` rows take, ``size`` a page (one page for none)."""
    return max(1, (n + size - 1) // size)


def page_of(rows: list, page: int, size: int) -> list:
    """Page ``page`` (from 0) of ``rows``."""
    return rows[page * size:(page + 1) * size]


def turned(page: int, delta: int, n: int, size: int) -> int:
    """The page after turning ``delta`` pages, kept within the ``n`` rows' pages."""
    return min(max(0, page + delta), page_count(n, size) - 1)


# --- the base flow --------------------------------------------------------------------------------

class DeviceFlow:
    """What both apps' flows do with their device home: open it, sync it in the background, and
    say why the device must stop. The subclass sets ``now`` and ``transport`` first."""

    now: Callable[[], dt.datetime]
    transport: object = None          # None: HTTP to the enrolled office
    home: home_mod.Home | None = None
    syncer: Syncer | None = None

    def open_home(self, home_dir: Path | str | None) -> None:
        """Open the home: ``self.home`` (None when not enrolled yet) and ``self.fault`` (the
        sentence when it cannot be opened: damaged, another device's)."""
        self.home, self.fault = None, None
        if home_dir is None:
            return
        try:
            self.home = home_mod.open_home(home_dir)
        except home_mod.HomeError:      # not enrolled yet
            pass
        except BankError as exc:
            self.fault = from_error(exc)

    def start_syncer(self, syncer: Syncer | None = None, factory: Callable | None = None) -> None:
        """The background syncer of the open home: the one given, one made by ``factory(home)``,
        or one that syncs over ``self.transport`` (tests and benchmarks: the office in-process)
        or the enrolled office."""
        if syncer is not None:
            self.syncer = syncer
        elif factory is not None:
            self.syncer = factory(self.home)
        else:
            sync_fn = None
            if self.transport is not None:
                sync_fn = lambda h: client.sync_once(h, self.transport, now=self.now())  # noqa: E731
            self.syncer = Syncer(self.home, sync_fn=sync_fn, now=self.now)

    def request_sync(self, reason: str) -> None:
        if self.syncer is not None:
            self.syncer.request(reason)

    def office(self, timeout: float):
        """The transport to the office for an online check (the test's, or the home's server)."""
        return self.transport or client.transport_for(self.home, timeout)

    def replica_fault(self) -> BankError | None:
        """The replica's own fault (behind, forked), on a connection of its own."""
        conn = self.home.replica()
        try:
            return replica.fault(conn)
        finally:
            conn.close()

    def fault_message(self) -> Message | None:
        """Why this device must not redeem or record at all, or None: its home could not be opened,
        the background sync found the replica damaged, or the replica is behind or forked."""
        if self.fault is not None or self.home is None:
            return self.fault
        state = self.syncer.state if self.syncer else None
        if state is not None and state.fault:
            code, zh, en = state.fault
            return Message(zh, en, (), "error", code)
        try:
            found = self.replica_fault()
        except BankError as exc:         # the file went missing or was replaced meanwhile
            return from_error(exc)
        return None if found is None else from_error(found)
