"""The red and black boards (德法红黑榜): per compound and quarter, the residents with the most
points earned (red) and the most points deducted (black). Names are masked like postings."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import periods, postings

DEFAULT_SIZE = 10


@dataclass(frozen=True)
class Boards:
    compound_id: int
    period: str
    red: list[postings.PostingRow]
    black: list[postings.PostingRow]


def boards(conn: sqlite3.Connection, compound_id: int, period: periods.Period, *, size: int = DEFAULT_SIZE) -> Boards:
    rows = postings.summary(conn, compound_id, period)
    red = sorted((r for r in rows if r.awarded > 0), key=lambda r: (-r.awarded, r.account_id))[:size]
    black = sorted((r for r in rows if r.deducted > 0), key=lambda r: (-r.deducted, r.account_id))[:size]
    return Boards(compound_id, period.key, red, black)
