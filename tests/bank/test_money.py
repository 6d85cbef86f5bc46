import pytest

from bank import money
from bank.errors import InvalidInput


@pytest.mark.parametrize("fen, text", [(0, "0.00"), (5, "0.05"), (1250, "12.50"), (-150, "-1.50"),
                                       (-5, "-0.05"), (None, "0.00"), (300_000_000, "3000000.00")])
def test_yuan_reads_as_a_person_writes_it_negative_amounts_included(fen, text):
    assert money.yuan(fen) == text


@pytest.mark.parametrize("raw, fen", [("12", 1200), ("12.5", 1250), (" 12.50 ", 1250), ("0.05", 5)])
def test_typed_yuan_become_fen_without_floats(raw, fen):
    assert money.parse_yuan(raw) == fen


@pytest.mark.parametrize("raw", ["", "12.505", "-3", "1e3", "十二", None, "1234567"])
def test_anything_else_is_refused_in_plain_words(raw):
    with pytest.raises(InvalidInput, match="价值须为金额"):
        money.parse_yuan(raw)
