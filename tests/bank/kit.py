"""Helpers the core's tests share."""

from __future__ import annotations

import datetime as dt

from bank import clock


def local(y, m, d, hh, mm):
    """A Chongqing wall-clock time as the UTC instant the bank stores."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=clock.LOCAL_TZ).astimezone(clock.UTC)
