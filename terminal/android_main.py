"""Entry point of the Android build (buildozer.spec ``source.main``): the app on the tablet's
private storage, camera 0 (Kivy's camera provider)."""

from __future__ import annotations

import os

from terminal.app import run

if __name__ == "__main__":
    home = os.path.join(os.environ.get("ANDROID_PRIVATE", os.path.expanduser("~")), "tablet")
    run(home, "0")
