"""Stored times: one exact UTC text form; periods in the community's local time."""

import datetime as dt

import pytest

from bank import clock


def test_roundtrip_of_the_storage_form():
    instant = dt.datetime(2026, 11, 26, 3, 12, 45, 123456, tzinfo=clock.UTC)
    text = clock.to_text(instant)
    assert text == "2026-11-26T03:12:45.123456Z"
    assert clock.from_text(text) == instant and clock.from_text(text).tzinfo == clock.UTC


@pytest.mark.parametrize("text", [
    "2026-11-26T03:12:45Z", "2026-11-26 03:12:45.123456Z", "2026-11-26T03:12:45.123456",
    "2026-11-26T03:12:45.123456+00:00", "2026-13-26T03:12:45.123456Z", "２０26-11-26T03:12:45.123456Z",
    "", "x" * 27, None])
def test_other_forms_are_refused(text):
    with pytest.raises(ValueError):
        clock.from_text(text)


def test_period_keys_are_local():
    late_sunday = dt.datetime(2026, 3, 8, 15, 30, tzinfo=clock.UTC)    # 23:30 Sunday in Chongqing
    early_monday = dt.datetime(2026, 3, 8, 16, 10, tzinfo=clock.UTC)   # 00:10 Monday in Chongqing
    assert clock.period_key("weekly", late_sunday) == "W2026-10"
    assert clock.period_key("weekly", early_monday) == "W2026-11"
    assert clock.period_key("daily", early_monday) == "D2026-03-09"
    assert clock.period_key("monthly", early_monday) == "M2026-03"
    assert clock.period_key("yearly", early_monday) == "Y2026"
