"""Redemption windows: open or closed at an instant, the hours in words, and when a closed shop
opens next (in the community's time, Asia/Shanghai)."""

import datetime as dt

from bank import clock, policy


def at(text: str) -> dt.datetime:
    """A local Chongqing time as the UTC instant it is stored as."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=clock.LOCAL_TZ).astimezone(clock.UTC)


WEEKDAYS = policy.Window(1, 7, "店内", "1111100", "09:00", "18:00")
SATURDAY = policy.Window(2, 7, "店内", "0000010", "10:00", "12:00")


def test_open_now_has_no_next_opening():
    assert policy.closed_now([WEEKDAYS], at("2026-03-02 09:00")) is None          # a Monday
    assert policy.next_opening([WEEKDAYS], at("2026-03-02 17:59")) is None
    assert policy.closed_now([], at("2026-03-02 03:00")) is None                   # no hours: always open


def test_closed_says_the_hours_and_when_it_opens_next():
    closed = policy.closed_now([WEEKDAYS, SATURDAY], at("2026-03-02 18:00"))       # Monday, just closed
    assert closed.hours == "周一至周五 09:00-18:00;周六 10:00-12:00"
    assert closed.opens_next == at("2026-03-03 09:00") and closed.opens_text == "明天 09:00"
    early = policy.closed_now([WEEKDAYS], at("2026-03-02 07:30"))
    assert early.opens_text == "今天 09:00"
    weekend = policy.closed_now([WEEKDAYS, SATURDAY], at("2026-03-07 12:30"))      # Saturday after closing
    assert weekend.opens_next == at("2026-03-09 09:00") and weekend.opens_text == "周一 09:00"


def test_the_next_opening_wraps_round_the_week():
    closed = policy.closed_now([SATURDAY], at("2026-03-07 12:00"))                 # Saturday, closes at 12
    assert closed.opens_next == at("2026-03-14 10:00") and closed.opens_text == "下周六 10:00"
