"""Helpers the kiosk's tests share."""

from __future__ import annotations

from .conftest import STAFF_PIN


def login(flow, qr, pin=STAFF_PIN):
    """A review-group member's card, then their PIN on the pad."""
    flow.scan(qr)
    for key in pin:
        flow.pin_key(key)
    flow.pin_submit()
