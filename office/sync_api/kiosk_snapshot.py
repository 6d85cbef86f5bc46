"""What a kiosk pulls beyond what every device gets: its compound's households, their passbook
entries and points about to expire, the whole convention in plain words, every merchant with its
offers and redemption windows, the boards and the current posting, and the review group.

Passbook entries and expiring lots follow the pull's delta cursor (entries after the device's
last entry id, lots of the accounts that changed); the rest is small and sent whole each time.
Names on boards and postings are masked here, at the office: the kiosk never holds a full name
(review-group members' own names excepted: they record under them).
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from bank import accounts, boards, clock, convention, merchants, periods, policy, postings, reviewers, validity

from .kiosk_settlement import compound_of

BOARD_SIZE = 10


def _entries(conn, compound_id: int, since_entry: int | None) -> list[list]:
    rows = conn.execute(
        "SELECT e.entry_id, e.account_id, e.kind, e.points, e.item_code, "
        "coalesce(ri.name, m.name || ' · ' || o.name, ''), e.recorded_at, e.reverses_entry_id, "
        "e.period_key, e.device_id, e.recorded_by, e.ref "
        "FROM ledger_entries e JOIN accounts a ON a.account_id = e.account_id "
        "LEFT JOIN rule_items ri ON ri.catalog_version = e.catalog_version AND ri.code = e.item_code "
        "LEFT JOIN offers o ON o.offer_id = e.offer_id LEFT JOIN merchants m ON m.merchant_id = e.merchant_id "
        "WHERE a.compound_id = ? AND e.entry_id > ? ORDER BY e.entry_id", (compound_id, since_entry or 0))
    return [list(r) for r in rows]


def _catalog(conn, now: dt.datetime) -> dict:
    cat = convention.in_force(conn, clock.local_date(now))
    return {"version": cat.version,
            "products": [[p.code, p.name, p.slogan, p.cadence] for p in cat.products],
            "items": [[i.code, i.product.code, i.heading, i.name, i.points, i.cap, i.description] for i in cat.items]}


def _merchants(conn) -> dict:
    ms = [m for m in merchants.all_merchants(conn) if m.status == "active"]
    return {"merchants": [[m.merchant_id, m.name, m.category, m.address] for m in ms],
            "offers": [[o.offer_id, o.merchant_id, o.name, o.points] for m in ms for o in merchants.offers_of(conn, m.merchant_id)],
            "windows": [[w.merchant_id, w.place, w.weekdays, w.opens, w.closes]
                        for m in ms for w in policy.windows(conn, m.merchant_id)]}


def _boards(conn, compound_id: int, now: dt.datetime) -> dict:
    """The last finished quarter's boards: what the council posts for the quarter."""
    period = periods.previous_quarter(now)
    b = boards.boards(conn, compound_id, period, size=BOARD_SIZE)
    return {"period": period.key, "label": period.label,
            "red": [[r.masked_name, r.building, r.unit, r.awarded] for r in b.red],
            "black": [[r.masked_name, r.building, r.unit, r.deducted] for r in b.black]}


def _posting(conn, compound_id: int) -> dict | None:
    """The compound's latest posting, with its rows: open or not, the kiosk judges by its day."""
    row = conn.execute("SELECT posting_id FROM postings WHERE compound_id = ? ORDER BY opens_on DESC, posting_id DESC "
                       "LIMIT 1", (compound_id,)).fetchone()
    if row is None:
        return None
    p = postings.get(conn, row[0])
    period = periods.quarter(p.period) if p.kind == "quarterly" else periods.year(p.period)
    return {"posting_id": p.posting_id, "kind": p.kind, "period": p.period, "label": period.label,
            "opens_on": p.opens_on, "closes_on": p.closes_on,
            "rows": [[r.account_id, r.masked_name, r.building, r.unit, r.awarded, r.deducted, r.redeemed, r.balance]
                     for r in postings.summary(conn, compound_id, period)]}


def kiosk_data(conn: sqlite3.Connection, device, since_entry: int | None, changed: list[int] | None,
               now: dt.datetime) -> dict:
    """The kiosk part of a pull; ``since_entry``/``changed`` None for a full snapshot."""
    compound_id = compound_of(conn, device.service_point_id)
    name, sp_name = conn.execute("SELECT c.name, s.name FROM compounds c JOIN service_points s USING (compound_id) "
                                 "WHERE c.compound_id = ?", (compound_id,)).fetchone()
    if changed is None:
        households = conn.execute("SELECT account_id, kind, building, unit, room FROM accounts WHERE compound_id = ? "
                                  "ORDER BY account_id", (compound_id,)).fetchall()
    else:
        households = [r for r in (conn.execute("SELECT account_id, kind, building, unit, room FROM accounts "
                                               "WHERE account_id = ? AND compound_id = ?", (a, compound_id)).fetchone()
                                  for a in changed) if r]
    lots = []
    for h in households:
        open_lots, _debt = validity.lots(conn, h[0])
        totals: dict[str, int] = {}
        for lot in open_lots:
            totals[lot.last_valid_day.isoformat()] = totals.get(lot.last_valid_day.isoformat(), 0) + lot.remaining
        lots.append([h[0], sorted(totals.items())])
    return {
        "compound": {"compound_id": compound_id, "name": name, "service_point": sp_name},
        "households": [list(h) for h in households],
        "entries": _entries(conn, compound_id, since_entry),
        "lots": lots,
        "catalog": _catalog(conn, now),
        **_merchants(conn),
        "boards": _boards(conn, compound_id, now),
        "posting": _posting(conn, compound_id),
        "reviewers": [[r.reviewer_id, r.name, r.account_id, r.card_id, r.pin_hash]
                      for r in reviewers.of_compound(conn, compound_id)],
        "second_confirm_above": reviewers.second_confirm_above(conn),
    }
