"""Community settings: declared once with a default and a sentence, read typed, each documented."""

import re
from pathlib import Path

import pytest

from bank import settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [s.name for s in settings.SETTINGS if f"`{s.name}`" not in doc]
    assert missing == [], f"describe these in docs/settings.md: {missing}"


def test_every_setting_the_code_reads_is_declared():
    read = set()
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in ("tests", ".venv", "bench"):
            continue
        read |= set(re.findall(r'settings\.(?:get|put|default)\([^"]*"([a-z_.]+)"', path.read_text(encoding="utf-8")))
    assert read and read <= set(settings.BY_NAME), read - set(settings.BY_NAME)


def test_values_are_typed_and_fall_back_to_the_default(store):
    assert settings.get(store, "review.second_confirm_above") == 5
    assert settings.get(store, "settlement.hold_on_overdraft") is True
    settings.put(store, "review.second_confirm_above", 8)
    settings.put(store, "settlement.hold_on_overdraft", False)
    assert settings.get(store, "review.second_confirm_above") == 8
    assert settings.get(store, "settlement.hold_on_overdraft") is False
    assert settings.get(store, "community.code") == "LH"
    with pytest.raises(KeyError):
        settings.put(store, "no.such.setting", 1)
