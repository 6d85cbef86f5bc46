"""Colours, sizes and touch targets shared by the tablet and kiosk apps.

Sizes are in Kivy dp/sp, so that they keep their physical size: 1 dp is 1/160 inch. The reference
merchant tablet is 10 inches at 1280x800 (about 151 dpi, Android density 1.0), where 1 dp is
one pixel; there 12 mm is 76 px. Colours pass WCAG AA (4.5:1) for their text pairs; the pairs
are checked by tests/terminal/test_theme.py.
"""

from __future__ import annotations

from kivy.metrics import dp, sp

MM_PER_INCH = 25.4
DP_PER_INCH = 160


def mm(value: float) -> float:
    """Millimetres to pixels on this screen (through dp, which Kivy scales to the real density)."""
    return dp(value * DP_PER_INCH / MM_PER_INCH)


def hex_rgba(code: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """'#RRGGBB' to a Kivy colour."""
    code = code.lstrip("#")
    return (*(int(code[i:i + 2], 16) / 255 for i in (0, 2, 4)), alpha)


# --- colours (dark text on light surfaces; white text only on the dark accents) ---------------
BACKGROUND = hex_rgba("#F4F1EA")     # warm paper
SURFACE = hex_rgba("#FFFFFF")
TEXT = hex_rgba("#1B1B1B")
TEXT_MUTED = hex_rgba("#4A4A4A")
PRIMARY = hex_rgba("#B3261E")        # community red (the card's header)
ON_PRIMARY = hex_rgba("#FFFFFF")
ACCENT = hex_rgba("#1F5FAD")         # secondary actions
ON_ACCENT = hex_rgba("#FFFFFF")
OK = hex_rgba("#1E6B34")
ON_OK = hex_rgba("#FFFFFF")
WARN_BG = hex_rgba("#FFF1C2")
WARN_TEXT = hex_rgba("#5C4300")
ERROR_BG = hex_rgba("#FBE0DE")
ERROR_TEXT = hex_rgba("#8C1D18")
INFO_BG = hex_rgba("#DCEBFB")
INFO_TEXT = hex_rgba("#123D6B")
QUIET = hex_rgba("#C9C5BD")          # quiet actions (cancel, back)
ON_QUIET = TEXT
# A disabled control of any kind looks the same: pale, flat, its text still readable (a disabled
# button on its enabled colour read as dark red on red).
DISABLED = hex_rgba("#E6E3DC")
ON_DISABLED = hex_rgba("#555555")
BAR = hex_rgba("#2B2B2B")            # the top bar
ON_BAR = hex_rgba("#FFFFFF")

CONTRAST_PAIRS = {  # name: (text, background), for the contrast test
    "body": (TEXT, BACKGROUND), "surface": (TEXT, SURFACE), "muted": (TEXT_MUTED, BACKGROUND),
    "primary": (ON_PRIMARY, PRIMARY), "accent": (ON_ACCENT, ACCENT), "ok": (ON_OK, OK),
    "warn": (WARN_TEXT, WARN_BG), "error": (ERROR_TEXT, ERROR_BG), "info": (INFO_TEXT, INFO_BG),
    "disabled": (ON_DISABLED, DISABLED), "quiet": (ON_QUIET, QUIET), "bar": (ON_BAR, BAR),
}

BANNER = {"info": (INFO_BG, INFO_TEXT), "warn": (WARN_BG, WARN_TEXT), "error": (ERROR_BG, ERROR_TEXT)}

# --- sizes -------------------------------------------------------------------------------------
TOUCH_MIN_MM = 12          # merchant tablet (kiosks for elderly residents use 15)
KIOSK_TOUCH_MIN_MM = 15
TOUCH = mm(TOUCH_MIN_MM)
KIOSK_TOUCH = mm(KIOSK_TOUCH_MIN_MM)
PAD = dp(16)
GAP = dp(12)
RADIUS = dp(10)

BODY_MIN_PX = 24           # body text at least 24 px on the tablet (kiosk: 32)
FONT_BODY = sp(26)
FONT_SMALL = sp(24)        # nothing smaller is used
FONT_LARGE = sp(34)
FONT_TITLE = sp(44)
FONT_HUGE = sp(72)         # totals and balances


def relative_luminance(rgba) -> float:
    """WCAG relative luminance of a Kivy colour."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    """WCAG contrast ratio of two colours."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
