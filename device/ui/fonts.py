"""The bundled Chinese font, registered as Kivy's default so every Label renders Chinese."""

from __future__ import annotations

import assets

FONTS = assets.path("fonts")
REGULAR = FONTS / "NotoSansSC-Subset.otf"
BOLD = FONTS / "NotoSansSC-Subset-Bold.otf"
FONT_NAME = "NotoSansSC"


def register_fonts() -> str:
    """Register the CJK subset under its own name and as "Roboto", Kivy's default font name.

    Call before the first Label is drawn (text textures are cached by font name).
    Returns the registered font name.
    """
    from kivy.core.text import LabelBase

    bold = BOLD if BOLD.exists() else REGULAR
    for name in (FONT_NAME, "Roboto"):
        LabelBase.register(name=name, fn_regular=str(REGULAR), fn_italic=str(REGULAR),
                           fn_bold=str(bold), fn_bolditalic=str(bold))
    return FONT_NAME
