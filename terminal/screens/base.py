"""The tablet's screens: the shared screen base (device/ui/flow_screen.py) with the shared widget styles."""

from __future__ import annotations

import device.ui.widgets  # noqa: F401 - shared styles used by the screens' .kv
from device.ui.flow_screen import FlowScreen, load_kv

__all__ = ["FlowScreen", "load_kv"]
