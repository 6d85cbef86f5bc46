"""The kiosk's screen base: the shared one (device/ui/flow_screen.py) with the kiosk's widgets."""

from __future__ import annotations

import kiosk.widgets  # noqa: F401 - styles used by the screens' .kv
from device.ui.flow_screen import FlowScreen, load_kv

__all__ = ["KioskScreen", "load_kv"]


class KioskScreen(FlowScreen):
    """Rows built in Python use the kiosk's larger widgets (kiosk/widgets.kv)."""

    BUTTON = "KButton"
    TEXT = "KText"
