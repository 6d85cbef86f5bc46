"""Helpers the kiosk's tests share."""

from __future__ import annotations

from .conftest import STAFF_PIN


def login(flow, qr, pin=STAFF_PIN):
    """A review-group member's card, then their PIN on the pad."""
    flow.scan(qr)
    for key in pin:
        flow.pin_key(key)
    flow.pin_submit()


def kiosk_app(kiosk_home, hub, camera=None, now=None):
    """A kiosk flow and its real app (no camera unless given, a silent speaker)."""
    from kiosk.tts import Speaker
    from kiosk.app import KioskApp
    from kiosk.flow import KioskFlow
    kwargs = {"now": now} if now else {}
    flow = KioskFlow(kiosk_home, transport=hub, camera=camera or "0", **kwargs)
    return flow, KioskApp(kiosk_home, flow=flow, camera=camera, start_camera=camera is not None,
                          speaker=Speaker(engine=""))
