"""The bundled CJK font covers every character the apps may show."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from bank.cardcode import REASONS

FONTS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
RARE_NAME_CHARS = "喆堃玥珺旻昇翀彧"
UI_SAMPLES = "龙海社区 道德积分储户卡 修身 润家 睦邻 怡城 兑换成功！余额：１２３分（¥）"


def gb2312_text() -> str:
    """Every character encodable in GB2312 (the national standard set of hanzi and symbols)."""
    out = []
    for cp in range(0x80, 0x10000):
        try:
            chr(cp).encode("gb2312")
        except UnicodeEncodeError:
            continue
        out.append(chr(cp))
    return "".join(out)


def missing(font_path: Path, text: str) -> list[str]:
    """Characters of ``text`` (spaces and controls aside) that the font has no glyph for."""
    with TTFont(font_path, lazy=True) as f:
        cmap = f.getBestCmap()
    return sorted({c for c in text if c.isprintable() and not c.isspace() and ord(c) not in cmap})


@pytest.fixture(scope="module", params=["NotoSansSC-Subset.otf", "NotoSansSC-Subset-Bold.otf"])
def font(request):
    return FONTS / request.param


@pytest.mark.parametrize("text", [
    pytest.param("".join(map(chr, range(0x21, 0x7F))), id="ascii"),
    pytest.param(RARE_NAME_CHARS, id="rare-name-chars"),
    pytest.param(UI_SAMPLES, id="ui-samples"),
    pytest.param("".join(zh + en for zh, en in REASONS.values()), id="card-refusals"),
    pytest.param(gb2312_text(), id="gb2312"),
])
def test_font_covers(font, text):
    assert missing(font, text) == []


def test_font_is_the_simplified_chinese_face(font):
    with TTFont(font, lazy=True) as f:
        name = f["name"].getDebugName(1)
    assert name.endswith("SC"), name


def test_license_ships_with_the_font():
    assert "SIL OPEN FONT LICENSE" in (FONTS / "OFL.txt").read_text()
