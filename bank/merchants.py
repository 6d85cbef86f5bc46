"""Merchants (商户) and their offers: what a resident's points buy, priced in points.

Offer values are kept in fen (integer), so the donated-value ledger never touches floats.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .errors import InvalidInput, NotFound

CATEGORIES = {
    "bank": "银行", "pharmacy": "药店", "gym": "健身房", "noodles": "面馆", "massage": "按摩推拿",
    "snacks": "小吃店", "hairdresser": "美发店", "training": "培训学校", "supermarket": "超市",
    "bakery": "面包房", "clinic": "诊所", "laundry": "洗衣店", "tea": "茶馆", "redemption_point": "社区兑换点",
}


@dataclass(frozen=True)
class Offer:
    offer_id: int
    merchant_id: int
    name: str
    points: int
    value_fen: int
    active: bool

    @property
    def value_yuan(self) -> str:
        return f"{self.value_fen // 100}.{self.value_fen % 100:02d}"


@dataclass(frozen=True)
class Merchant:
    merchant_id: int
    name: str
    category: str
    compound_id: int | None
    address: str
    status: str


def add_merchant(conn: sqlite3.Connection, name: str, category: str, *, compound_id: int | None = None,
                 address: str = "") -> int:
    if category not in CATEGORIES:
        raise InvalidInput("商户类别不正确。", f"unknown merchant category {category!r}")
    if not name.strip() or len(name) > 40:
        raise InvalidInput("商户名称不能为空,且不超过40个字。", "merchant name must be 1-40 characters")
    return conn.execute("INSERT INTO merchants (name, category, compound_id, address) VALUES (?, ?, ?, ?)",
                        (name.strip(), category, compound_id, address)).lastrowid


def add_offer(conn: sqlite3.Connection, merchant_id: int, name: str, points: int, value_fen: int) -> int:
    get(conn, merchant_id)
    if type(points) is not int or points <= 0 or points > 10_000:
        raise InvalidInput("兑换所需积分须为1到10000的整数。", "offer points must be an integer 1-10000")
    if type(value_fen) is not int or value_fen < 0:
        raise InvalidInput("价值须为非负整数(分)。", "offer value must be a non-negative integer (fen)")
    return conn.execute("INSERT INTO offers (merchant_id, name, points, value_fen) VALUES (?, ?, ?, ?)",
                        (merchant_id, name, points, value_fen)).lastrowid


def get(conn: sqlite3.Connection, merchant_id: int) -> Merchant:
    row = conn.execute("SELECT merchant_id, name, category, compound_id, address, status FROM merchants "
                       "WHERE merchant_id = ?", (merchant_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {merchant_id} 的商户。", f"no merchant {merchant_id}")
    return Merchant(*row)


def all_merchants(conn: sqlite3.Connection) -> list[Merchant]:
    return [Merchant(*row) for row in conn.execute(
        "SELECT merchant_id, name, category, compound_id, address, status FROM merchants ORDER BY merchant_id")]


def offer(conn: sqlite3.Connection, offer_id: int) -> Offer:
    row = conn.execute("SELECT offer_id, merchant_id, name, points, value_fen, active FROM offers "
                       "WHERE offer_id = ?", (offer_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {offer_id} 的兑换项目。", f"no offer {offer_id}")
    return Offer(*row[:5], bool(row[5]))


def offers_of(conn: sqlite3.Connection, merchant_id: int, *, active_only: bool = True) -> list[Offer]:
    sql = "SELECT offer_id, merchant_id, name, points, value_fen, active FROM offers WHERE merchant_id = ?"
    if active_only:
        sql += " AND active = 1"
    return [Offer(*row[:5], bool(row[5])) for row in conn.execute(sql + " ORDER BY offer_id", (merchant_id,))]
