"""The bundled font can draw every character the tablet shows; the theme meets its own targets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from bank import cardcode, demo
from terminal import redeem as engine
from device.ui import i18n

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "assets" / "fonts" / "NotoSansSC-Subset.otf"


@pytest.fixture(scope="module")
def cmap():
    return set(TTFont(FONT).getBestCmap())


def missing(cmap, texts) -> set[str]:
    return {ch for text in texts for ch in text if not ch.isspace() and ord(ch) not in cmap}


@pytest.mark.parametrize("domain", sorted(i18n.SOURCES))    # the tablet's catalog and the kiosk's
def test_font_covers_the_ui_catalogs(cmap, domain):
    from babel.messages.pofile import read_po
    with open(i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / f"{domain}.po", "rb") as fh:
        texts = [t for m in read_po(fh) if m.id for t in (m.id, m.string)]
    assert len(texts) > 100
    assert missing(cmap, texts) == set()


def test_font_covers_literal_text_in_kv_files_and_refusals(cmap):
    kv = [p.read_text("utf-8") for d in ("terminal", "kiosk", "device") for p in (ROOT / d).rglob("*.kv")]
    literals = [s for text in kv for s in re.findall(r'"([^"\n]*)"', text)]
    refusals = [zh for zh, _en in (*engine.REASONS.values(), *cardcode.REASONS.values())]
    assert missing(cmap, literals + refusals) == set()


def test_font_covers_the_demo_names(cmap):
    texts = [demo.SURNAMES, demo.GIVEN, demo.RARE]
    texts += [str(c) for c in demo.COMPOUNDS] + [str(t) for t in demo.VOLUNTEER_TEAMS]
    for _category, _count, names, offers in demo.MERCHANT_PLAN:
        texts += names + [o[0] for o in offers]
    assert missing(cmap, texts) == set()


@pytest.mark.parametrize("domain", sorted(i18n.SOURCES))
def test_english_catalog_is_complete_and_compiled(domain):
    mo = i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / f"{domain}.mo"
    po = mo.with_suffix(".po")
    # Compare contents, not file times (a fresh clone gives every file the checkout time).
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po
    with po.open("rb") as f:
        source = {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}
    with mo.open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == source, "run: python -m device.ui.i18n compile"
    tr = i18n.Translator("en", (domain,))
    assert all(tr(msgid) != msgid for msgid in i18n.catalog_msgids("en", domain)
               if re.search(r"[\u4e00-\u9fff]", msgid))


def test_theme_contrast_touch_targets_and_text_sizes():
    from kivy.metrics import Metrics
    from device.ui import theme
    for name, (fg, bg) in theme.CONTRAST_PAIRS.items():
        assert theme.contrast(fg, bg) >= 4.5, name
    # On the reference tablet (10", 1280x800, ~151 dpi, density 1.0) 1 dp is one pixel.
    px_per_mm = (1280 ** 2 + 800 ** 2) ** 0.5 / 10 / 25.4
    assert theme.TOUCH / Metrics.density / px_per_mm >= theme.TOUCH_MIN_MM
    assert min(theme.FONT_BODY, theme.FONT_SMALL) / Metrics.density >= theme.BODY_MIN_PX
