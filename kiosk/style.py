"""The kiosk's sizes and colours: larger and stronger than the tablet's, for elderly residents.

The kiosk is a 21.5-inch 1920x1080 touch screen (102 px per inch: 15 mm is 61 px); a few
service points have a 15.6-inch 1280x800 one (97 px per inch: 15 mm is 57 px). Both are desktop
screens where Kivy's dp is one pixel, so sizes here are pixels: body text 34 px (the target is
32), touch targets at least 72 px (above 15 mm on both screens). Colour pairs reach 7:1 (WCAG
AAA); tests/kiosk/test_accessibility.py measures all three on every screen at both sizes.
"""

from __future__ import annotations

from kivy.metrics import dp

from device.ui.theme import hex_rgba

SCREENS = {  # window size: diagonal in inches of the kiosk model with that resolution
    (1920, 1080): 21.5,
    (1280, 800): 15.6,
}
TOUCH_MIN_MM = 15
BODY_MIN_PX = 32


def px_per_mm(width: int, height: int) -> float:
    return (width ** 2 + height ** 2) ** 0.5 / SCREENS[(width, height)] / 25.4


BACKGROUND = hex_rgba("#F4F1EA")
SURFACE = hex_rgba("#FFFFFF")
TEXT = hex_rgba("#1B1B1B")
MUTED = hex_rgba("#3A3A3A")
PRIMARY = hex_rgba("#8C1D18")          # deep community red: white on it is 9:1
ON_PRIMARY = hex_rgba("#FFFFFF")
ACCENT = hex_rgba("#123D6B")
ON_ACCENT = hex_rgba("#FFFFFF")
QUIET = hex_rgba("#E2DED5")
ON_QUIET = hex_rgba("#1B1B1B")
OK = hex_rgba("#14532A")
RED_BOARD = hex_rgba("#7A1410")
BLACK_BOARD = hex_rgba("#1B1B1B")
BAR = hex_rgba("#1B1B1B")
ON_BAR = hex_rgba("#FFFFFF")
DISABLED = hex_rgba("#D6D2CA")
ON_DISABLED = hex_rgba("#2E2E2E")
BANNER = {"info": (hex_rgba("#DCEBFB"), hex_rgba("#0E2F52")), "warn": (hex_rgba("#FFF1C2"), hex_rgba("#4A3600")),
          "error": (hex_rgba("#FBE0DE"), hex_rgba("#6E1410"))}

FONT_BODY = dp(34)
FONT_LARGE = dp(42)
FONT_TITLE = dp(52)
FONT_HUGE = dp(160)       # the balance
TOUCH = dp(84)
PAD = dp(24)
GAP = dp(16)
