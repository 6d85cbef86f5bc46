"""Whether this process is the Android build of an app (python-for-android).

``sys.platform`` is "linux" there (before Python 3.13), so it cannot tell; p4a's Python has
``sys.getandroidapilevel`` and its launcher sets ``ANDROID_ARGUMENT``.
"""

from __future__ import annotations

import os
import sys


def is_android() -> bool:
    return hasattr(sys, "getandroidapilevel") or "ANDROID_ARGUMENT" in os.environ
