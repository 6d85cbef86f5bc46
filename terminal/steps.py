"""The tablet's screens, in the order a customer meets them, as the flow's steps."""

from __future__ import annotations

import enum


class Step(enum.StrEnum):
    ENROL = "enrol"
    SCAN = "scan"
    CARD = "card"
    OFFERS = "offers"
    CONFIRM = "confirm"
    RECEIPT = "receipt"
    TODAY = "today"
    SYNC = "sync"
    SETTINGS = "settings"
