"""Redemptions seen from the office: what an account may spend, and the monthly redemption table.

Office-side redemption goes through :func:`redeem_at_office`, which refuses to spend points held
by an open objection. (A tablet redeeming offline cannot know about a new objection; the sync
pull sends ``held_points`` with the balance so devices can honour it too.)
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import ledger, merchants, money, objections, periods
from .db import transaction
from .errors import InsufficientPoints


def available(conn: sqlite3.Connection, account_id: int) -> int:
    """Balance minus points held by open objections (never below zero)."""
    return max(ledger.balance(conn, account_id) - objections.held_points(conn, account_id), 0)


def redeem_at_office(conn: sqlite3.Connection, account_id: int, offer_id: int, quantity: int = 1, *,
                     recorded_by: str, note: str = "", now=None) -> ledger.Entry:
    with transaction(conn):
        merchants.redeemable(conn, offer_id)
        held = objections.held_points(conn, account_id)
        if held:
            offer = merchants.offer(conn, offer_id)
            need = offer.points * quantity if type(quantity) is int else 0
            have = ledger.balance(conn, account_id) - held
            if need > have:
                raise InsufficientPoints(
                    f"有 {held} 分正在异议处理中,暂不能兑换;可用 {max(have, 0)} 分,需要 {need} 分。",
                    f"{held} points are held by an open objection: {max(have, 0)} available, {need} needed")
        return ledger.record_redemption(conn, account_id, offer_id, quantity, recorded_by=recorded_by,
                                        note=note, now=now)


@dataclass(frozen=True)
class TableRow:
    merchant_id: int
    merchant: str
    offer_id: int
    offer: str
    count: int        # redemptions, net of reversed ones
    quantity: int
    points: int
    value_fen: int

    @property
    def value_yuan(self) -> str:
        return money.yuan(self.value_fen)


def monthly_table(conn: sqlite3.Connection, month: periods.Period,
                  merchant_id: int | None = None) -> list[TableRow]:
    """Per merchant and offer: redemptions in the month, net of reversals, with points and value.

    A reversal counts in the month of the redemption it reverses, so a table once posted only
    changes if a redemption is taken back later (which the council then sees). Each redemption is
    valued at its offer's price when it was recorded (an offer edited later keeps the past)."""
    sql = f"""
        SELECT e.merchant_id, m.name, e.offer_id, o.name,
               count(*), sum(e.quantity), -sum(e.points), sum(e.quantity * {merchants.value_sql()})
        FROM ledger_entries e JOIN merchants m ON m.merchant_id = e.merchant_id
        JOIN offers o ON o.offer_id = e.offer_id
        WHERE e.kind = 'redemption' AND e.recorded_at >= ? AND e.recorded_at < ?
          AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id)
          AND (? IS NULL OR e.merchant_id = ?)
        GROUP BY e.merchant_id, m.name, e.offer_id, o.name ORDER BY e.merchant_id, e.offer_id"""
    return [TableRow(*r) for r in conn.execute(sql, (month.start, month.end, merchant_id, merchant_id))]
