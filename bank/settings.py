"""The community's settings, each declared once with its default and a sentence (as datasette
declares its own): the office changes them in the store's ``settings`` table; code reads them with
:func:`get`, never with a name and a default of its own. docs/settings.md documents every one
(a test checks it).

The offline redemption policy (caps, limits, hold threshold, retention) is not here: it has its own
table with per-merchant overrides (:mod:`bank.policy`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | int | bool | None
    help: str

    def parse(self, text: str | None):
        """The stored text as this setting's type (the default's); the default when unset."""
        if text is None:
            return self.default
        if isinstance(self.default, bool):
            return text == "1"
        if isinstance(self.default, int):
            return int(text)
        return text


SETTINGS = (
    Setting("community.code", None, "The community's code (2-8 capital letters), printed in every card's QR text."),
    Setting("community.name", None, "The community's name, on pages, postings and printed cards."),
    Setting("review.second_confirm_above", 5,
            "A review-group entry of more points than this (either sign) needs a second member's confirmation."),
    Setting("validity.years_after", 1,
            "Points earned in a year stay valid to the end of the year this many years later."),
    Setting("settlement.hold_on_overdraft", True,
            "A card whose redemption took its account below zero at settlement is put on hold."),
    Setting("volunteering.general_item", "ML02",
            "The rule item the volunteer-service form offers first (the general volunteering item)."),
    Setting("merchants.monthly_commitment_yuan", 30_000,
            "What the community's merchants together commit to donate each month (yuan of goods and services)."),
    Setting("office.tls_fingerprint", None,
            "The SHA-256 of the certificate the office serves; enrolment codes carry it (set by office serve)."),
)
BY_NAME = {s.name: s for s in SETTINGS}


def default(name: str):
    """A setting's default (what a device assumes before its first pull says otherwise)."""
    return BY_NAME[name].default


def get(conn: sqlite3.Connection, name: str):
    """The setting's value in this store, typed; its default when the office never set it."""
    s = BY_NAME[name]
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (name,)).fetchone()
    return s.parse(row[0] if row else None)


def put(conn: sqlite3.Connection, name: str, value) -> None:
    """Store a declared setting (booleans as 1/0)."""
    BY_NAME[name]       # only declared settings are stored
    text = ("1" if value else "0") if isinstance(value, bool) else str(value)
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (name, text))
