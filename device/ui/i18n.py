"""Translations with stdlib gettext: Simplified Chinese is the source language, English a catalog.

msgids are the Chinese sentences themselves (what the shop owner reads by default), so Chinese
needs no catalog and a missing English entry still shows a correct Chinese sentence. Catalogs live
in ``assets/locale/<lang>/LC_MESSAGES/<domain>.po`` and are compiled to ``.mo`` (committed, and
rebuilt by ``python -m device.ui.i18n compile``). One domain per app, so the tablet's and the
kiosk's catalogs are extracted and translated on their own: ``mpb`` (device/ and terminal/) and
``kiosk`` (kiosk/); the kiosk looks in its own catalog first, then in ``mpb`` for the shared
device/ui texts. No Kivy here: flows may use it.

Extract and update (Babel reads Python and .kv files, see ``babel.cfg``)::

    python -m device.ui.i18n extract [DOMAIN]    # pybabel extract + update the .po files
    python -m device.ui.i18n compile [DOMAIN]    # .po -> .mo
"""

from __future__ import annotations

import gettext
import subprocess
import sys
from pathlib import Path

import assets

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = assets.path("locale")
DOMAIN = "mpb"
SOURCES = {"mpb": ("device", "terminal"), "kiosk": ("kiosk",)}   # domain: the directories it is extracted from
LANGUAGES = ("zh", "en")          # the first is the default
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


class Translator:
    """gettext for one language; ``zh`` returns the msgid unchanged."""

    def __init__(self, lang: str = "zh", domains: tuple[str, ...] = (DOMAIN,)):
        self.lang = lang if lang in LANGUAGES else LANGUAGES[0]
        self._t = gettext.NullTranslations()
        if self.lang != "zh":
            for domain in reversed(domains):    # the first domain is asked first, the others are fallbacks
                t = gettext.translation(domain, LOCALE_DIR, languages=[self.lang], fallback=True)
                t.add_fallback(self._t)
                self._t = t

    def gettext(self, msgid: str) -> str:
        return self._t.gettext(msgid) if msgid else msgid

    __call__ = gettext


def catalog_msgids(lang: str = "en", domain: str = DOMAIN) -> list[str]:
    """Every msgid of a language's .po catalog (for the font coverage test)."""
    from babel.messages.pofile import read_po
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po", "rb") as fh:
        return [m.id for m in read_po(fh) if m.id]


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def extract(*domains: str) -> None:
    """Extract msgids (.py and .kv) of each domain's directories and update its .po files."""
    for domain in domains or tuple(SOURCES):
        pot = LOCALE_DIR / f"{domain}.pot"
        sources = [d for d in SOURCES[domain] if (ROOT / d).is_dir()]
        _pybabel("extract", "-F", "babel.cfg", "-k", "N_", "-k", "tr", "-k", "msg", "--no-location",
                 "--sort-output", "-o", str(pot), *sources)
        for lang in LANGUAGES[1:]:
            po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
            if po.exists():
                _pybabel("update", "-i", str(pot), "-d", str(LOCALE_DIR), "-D", domain, "-l", lang,
                         "--no-fuzzy-matching")
            else:
                _pybabel("init", "-i", str(pot), "-d", str(LOCALE_DIR), "-D", domain, "-l", lang)


def compile_catalogs(*domains: str) -> None:
    """Compile each domain's .po files to .mo."""
    for domain in domains or tuple(SOURCES):
        _pybabel("compile", "-d", str(LOCALE_DIR), "-D", domain, "--statistics")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "compile"
    {"extract": extract, "compile": compile_catalogs}[command](*sys.argv[2:])
