"""What a kiosk pulls beyond what every device gets: its compound's households, their passbook
entries and points lots, the whole convention in plain words, every merchant with its offers and
redemption windows, the boards, every posting open now or later, and the review group.

Passbook entries and lots follow the pull's delta cursor (entries after the device's last entry
id, lots of the accounts that changed); the rest is small and sent whole each time. Names are
masked here, at the office: the kiosk never holds a full name, nor any PIN verifier.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from bank import accounts, boards, clock, convention, merchants, periods, policy, postings, recorders, reviewers, validity

from sync import wire

from .kiosk_settlement import compound_of

BOARD_SIZE = 10
POSTING_FIELDS = ("account", "name", "building", "unit", "awarded", "deducted", "redeemed", "balance")


def _entries(conn, compound_id: int, since_entry: int | None) -> dict:
    rows = conn.execute(
        "SELECT e.entry_id, e.account_id, e.kind, e.points, e.item_code, "
        "coalesce(ri.name, m.name || ' · ' || o.name, ''), e.recorded_at, e.reverses_entry_id, "
        "e.period_key, e.device_id, e.recorded_by, e.ref "
        "FROM ledger_entries e JOIN accounts a ON a.account_id = e.account_id "
        "LEFT JOIN rule_items ri ON ri.catalog_version = e.catalog_version AND ri.code = e.item_code "
        "LEFT JOIN offers o ON o.offer_id = e.offer_id LEFT JOIN merchants m ON m.merchant_id = e.merchant_id "
        "WHERE a.compound_id = ? AND e.entry_id > ? ORDER BY e.entry_id", (compound_id, since_entry or 0))
    return wire.table(("entry", "account", "kind", "points", "item", "title", "recorded_at", "reverses", "period",
                       "device", "recorded_by", "ref"),
                      (r[:10] + (recorders.masked(r[10]), r[11]) for r in rows))


def _catalog(conn, now: dt.datetime) -> dict:
    cat = convention.in_force(conn, clock.local_date(now))
    return {"version": cat.version,
            "products": [{"code": p.code, "name": p.name, "slogan": p.slogan, "cadence": p.cadence}
                         for p in cat.products],
            "items": [{"code": i.code, "product": i.product.code, "heading": i.heading, "name": i.name,
                       "points": i.points, "cap": i.cap, "description": i.description} for i in cat.items]}


def _merchants(conn) -> dict:
    ms = [m for m in merchants.all_merchants(conn) if m.status == "active"]
    return {"merchants": [{"merchant": m.merchant_id, "name": m.name, "category": m.category, "address": m.address}
                          for m in ms],
            "offers": [{"offer": o.offer_id, "merchant": m.merchant_id, "name": o.name, "points": o.points}
                       for m in ms for o in merchants.offers_of(conn, m.merchant_id)],
            "windows": [{"merchant": w.merchant_id, "place": w.place, "weekdays": w.weekdays, "opens": w.opens,
                         "closes": w.closes} for m in ms for w in policy.windows(conn, m.merchant_id)]}


def _boards(conn, compound_id: int, now: dt.datetime) -> dict:
    """The last finished quarter's boards: what the council posts for the quarter."""
    period = periods.previous_quarter(now)
    b = boards.boards(conn, compound_id, period, size=BOARD_SIZE)
    return {"period": period.key, "label": period.label,
            "red": [{"name": r.masked_name, "building": r.building, "unit": r.unit, "points": r.awarded}
                    for r in b.red],
            "black": [{"name": r.masked_name, "building": r.building, "unit": r.unit, "points": r.deducted}
                      for r in b.black]}


def _postings(conn, compound_id: int, today: dt.date) -> list[dict]:
    """Every posting of the compound that is open today or opens later, with its rows: a later
    one never hides one still open (a quarterly and a yearly posting may overlap)."""
    out = []
    for (posting_id,) in conn.execute("SELECT posting_id FROM postings WHERE compound_id = ? AND closes_on >= ? "
                                      "ORDER BY opens_on, posting_id", (compound_id, today.isoformat())):
        p = postings.get(conn, posting_id)
        period = periods.quarter(p.period) if p.kind == "quarterly" else periods.year(p.period)
        out.append({"posting_id": p.posting_id, "kind": p.kind, "period": p.period, "label": period.label,
                    "first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat(),
                    "opens_on": p.opens_on, "closes_on": p.closes_on,
                    "rows": wire.table(POSTING_FIELDS, ((r.account_id, r.masked_name, r.building, r.unit, r.awarded,
                                                         r.deducted, r.redeemed, r.balance)
                                                        for r in postings.summary(conn, compound_id, period)))})
    return out


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
    replayed = validity.lots_of_many(conn, [h[0] for h in households])
    lots = []
    for h in households:
        totals: dict[str, int] = {}
        for lot in replayed[h[0]][0]:
            totals[lot.last_valid_day.isoformat()] = totals.get(lot.last_valid_day.isoformat(), 0) + lot.remaining
        lots += [(h[0], d, p) for d, p in sorted(totals.items())]
    return {
        "compound": {"compound_id": compound_id, "name": name, "service_point": sp_name},
        "households": wire.table(("account", "kind", "building", "unit", "room"), households),
        "entries": _entries(conn, compound_id, since_entry),
        # points per last valid day, for the households of the pull (every one of them, so a
        # household whose points are all spent has its old lots removed)
        "lots": wire.table(("account", "day", "points"), lots),
        "lots_of": [h[0] for h in households],
        "catalog": _catalog(conn, now),
        **_merchants(conn),
        "boards": _boards(conn, compound_id, now),
        "postings": _postings(conn, compound_id, clock.local_date(now)),
        # masked names and staff-card ids only: staff PINs are checked by the office, online
        "reviewers": [{"reviewer": r.reviewer_id, "name": accounts.mask_name(r.name), "account": r.account_id,
                       "card": r.card_id} for r in reviewers.of_compound(conn, compound_id)],
        "second_confirm_above": reviewers.second_confirm_above(conn),
    }
