"""The flow kit both apps' screens rest on: what a PIN pad and a paged list do under a finger."""

from __future__ import annotations

from bank import accounts
from bank.errors import BankError
from device.flowkit import Message, chunks, from_error, msg, page_count, page_of, pin_after, turned


def _typed(keys: str, pin: str = "") -> str:
    for key in keys:
        pin = pin_after(pin, {"<": "back", "C": "clear"}.get(key, key))
    return pin


def test_the_pin_pad_takes_no_more_digits_than_the_longest_pin():
    longest = accounts.PIN_LENGTHS[-1]
    assert _typed("1234567890") == "1234567890"[:longest]
    assert _typed("12<3") == "13" and _typed("123C4") == "4" and _typed("<<") == ""
    assert _typed("1a2 ") == "12"          # only digits are keys


def test_a_long_list_is_paged_never_cut_short_and_turning_stops_at_the_ends():
    rows = list(range(12))
    assert [page_of(rows, p, 5) for p in range(page_count(len(rows), 5))] == [rows[:5], rows[5:10], rows[10:]]
    assert page_count(0, 5) == 1 and page_of([], 0, 5) == []
    assert turned(0, -1, 12, 5) == 0 and turned(2, 1, 12, 5) == 2 and turned(0, 1, 12, 5) == 1
    assert chunks([1, 2, 3], 2) == [[1, 2], [3]] and chunks([], 4) == [[]]


def test_a_sentence_keeps_its_code_in_either_language():
    m = msg("待上传 {n} 条", "warn", code="pending", n=3)
    assert m.render() == "待上传 3 条" and m.render(lambda s: "{n} waiting", "en") == "3 waiting"
    refused = from_error(BankError("不能兑换。", "Refused.", code="x"), "请重试。")
    assert refused == Message("不能兑换。请重试。", "Refused.", (), "error", "x")
    assert refused.render(lang="en") == "Refused."
