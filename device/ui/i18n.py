"""Translations with stdlib gettext: Simplified Chinese is the source language, English a catalog.

msgids are the Chinese sentences themselves (what the shop owner reads by default), so Chinese
needs no catalog and a missing English entry still shows a correct Chinese sentence. Catalogs live
in ``assets/locale/<lang>/LC_MESSAGES/mpb.po`` and are compiled to ``.mo`` (committed, and
rebuilt by ``python -m device.ui.i18n compile``). No Kivy here: flows may use it.

Extract and update (Babel reads Python and .kv files, see ``babel.cfg``)::

    python -m device.ui.i18n extract     # pybabel extract + update the .po files
    python -m device.ui.i18n compile     # .po -> .mo
"""

from __future__ import annotations

import gettext
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "assets" / "locale"
DOMAIN = "mpb"
LANGUAGES = ("zh", "en")          # the first is the default
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


class Translator:
    """gettext for one language; ``zh`` returns the msgid unchanged."""

    def __init__(self, lang: str = "zh"):
        self.lang = lang if lang in LANGUAGES else LANGUAGES[0]
        if self.lang == "zh":
            self._t = gettext.NullTranslations()
        else:
            self._t = gettext.translation(DOMAIN, LOCALE_DIR, languages=[self.lang], fallback=True)

    def gettext(self, msgid: str) -> str:
        return self._t.gettext(msgid) if msgid else msgid

    __call__ = gettext


def catalog_msgids(lang: str = "en") -> list[str]:
    """Every msgid of a language's .po catalog (for the font coverage test)."""
    from babel.messages.pofile import read_po
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as fh:
        return [m.id for m in read_po(fh) if m.id]


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def extract() -> None:
    """Extract msgids from device/ui, terminal and kiosk (.py and .kv) and update each .po."""
    pot = LOCALE_DIR / f"{DOMAIN}.pot"
    sources = [d for d in ("device", "terminal", "kiosk") if (ROOT / d).is_dir()]
    _pybabel("extract", "-F", "babel.cfg", "-k", "N_", "-k", "tr", "-k", "msg", "--no-location",
             "--sort-output", "-o", str(pot), *sources)
    for lang in LANGUAGES[1:]:
        po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.exists():
            _pybabel("update", "-i", str(pot), "-d", str(LOCALE_DIR), "-D", DOMAIN, "-l", lang, "--no-fuzzy-matching")
        else:
            _pybabel("init", "-i", str(pot), "-d", str(LOCALE_DIR), "-D", DOMAIN, "-l", lang)


def compile_catalogs() -> None:
    """Compile every .po to .mo."""
    _pybabel("compile", "-d", str(LOCALE_DIR), "-D", DOMAIN, "--statistics")


if __name__ == "__main__":
    {"extract": extract, "compile": compile_catalogs}[sys.argv[1] if len(sys.argv) > 1 else "compile"]()
