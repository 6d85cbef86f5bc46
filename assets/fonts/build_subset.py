"""Build the shipped Chinese font: a subset of Noto Sans CJK SC from Debian's fonts-noto-cjk.

Kivy's default font has no Chinese, and the full CJK collection is ~20 MB per weight, too big
for tablets. The subset keeps ASCII, CJK punctuation, fullwidth forms, every GB2312 hanzi and a
handful of rarer characters common in personal names.

    python assets/fonts/build_subset.py [--source-dir /usr/share/fonts/opentype/noto]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTCollection

HERE = Path(__file__).resolve().parent
SOURCES = {"Regular": "NotoSansCJK-Regular.ttc", "Bold": "NotoSansCJK-Bold.ttc"}
OUTPUT = "NotoSansSC-Subset{suffix}.otf"

#: Characters outside GB2312 that residents' names use often enough to matter.
EXTRA_NAME_CHARS = "喆堃玥珺旻昇翀彧昊晞琰祎瑄璟婧妍琪淼焱垚鑫赟玮钰珏瑾"
#: Symbols the apps print beside numbers and dates.
EXTRA_SYMBOLS = "¥￥·—–…“”‘’•×÷±≤≥℃№←→↑↓✓✔✗●○■□▲△★☆"


def gb2312_chars() -> list[str]:
    """Every character that encodes in GB2312 (symbols, kana, Cyrillic, level 1 + 2 hanzi)."""
    chars = []
    for cp in range(0x80, 0x10000):
        ch = chr(cp)
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        chars.append(ch)
    return chars


def wanted_codepoints() -> set[int]:
    """The code points the subset must cover."""
    cps = set(range(0x20, 0x7F))
    cps |= set(range(0xA0, 0x100))  # Latin-1 supplement: ·, ×, accented names of places
    cps |= set(range(0x3000, 0x3040))  # CJK symbols and punctuation
    cps |= set(range(0xFF00, 0xFFF0))  # fullwidth and halfwidth forms
    cps |= set(range(0x2000, 0x2070))  # general punctuation
    cps |= {ord(c) for c in gb2312_chars()}
    cps |= {ord(c) for c in EXTRA_NAME_CHARS + EXTRA_SYMBOLS}
    return cps


def sc_face(collection_path: Path):
    """The Simplified Chinese face of a Noto CJK collection (face 0 is Japanese)."""
    collection = TTCollection(str(collection_path), lazy=True)
    for font in collection.fonts:
        family = font["name"].getDebugName(1) or ""
        if family.endswith(" SC"):
            return font
    raise SystemExit(f"no SC face in {collection_path}")


def build(source_dir: Path, out_dir: Path) -> list[Path]:
    """Subset each weight and write it; return the written paths."""
    written = []
    for weight, filename in SOURCES.items():
        src = source_dir / filename
        if not src.exists():
            print(f"skip {weight}: {src} not found", file=sys.stderr)
            continue
        font = sc_face(src)
        options = Options()
        options.layout_features = ["*"]  # keep vertical forms and locl; they are small
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.hinting = False  # Kivy renders through SDL_ttf at large sizes; hints cost ~30 %
        subsetter = Subsetter(options)
        subsetter.populate(unicodes=sorted(wanted_codepoints()))
        subsetter.subset(font)
        out = out_dir / OUTPUT.format(suffix="" if weight == "Regular" else "-" + weight)
        font.save(str(out))
        written.append(out)
        print(f"{out}: {out.stat().st_size / 1e6:.1f} MB")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, default=Path("/usr/share/fonts/opentype/noto"))
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args(argv)
    return 0 if build(args.source_dir, args.out_dir) else 1


if __name__ == "__main__":
    sys.exit(main())
