"""Merchants (商户) and their offers: what a resident's points buy, priced in points.

Offer values are kept in fen (integer), so the donated-value ledger never touches floats.

A merchant joins (active), may be suspended (暂停: its offers are not redeemable, its tablets
get none at their next pull, redemptions already made still settle) and reinstated, and leaves
(退出: its offers are withdrawn). An offer is edited in place (the price it had is kept in
``offer_price_history``, so a month already posted keeps its values), withdrawn (撤下) and listed
again under its name. The scheme promises that a point is worth at least ¥1: an offer whose
estimated value is below that is allowed, but the office is warned first.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import accounts, clock, money
from .errors import InvalidInput, NotFound

STATUSES = {"active": "正常", "suspended": "暂停", "left": "已退出"}
PROMISE_FEN_PER_POINT = 100     # 1 point is worth at least ¥1 (the scheme's promise to merchants' customers)
MAX_OFFER_POINTS = 10_000

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
    withdrawn_at: str | None = None

    @property
    def value_yuan(self) -> str:
        return money.yuan(self.value_fen)


@dataclass(frozen=True)
class Merchant:
    merchant_id: int
    name: str
    category: str
    compound_id: int | None
    address: str
    status: str
    contact: str = ""
    phone: str = ""
    left_at: str | None = None


_MERCHANT_COLUMNS = "merchant_id, name, category, compound_id, address, status, contact, phone, left_at"
_OFFER_COLUMNS = "offer_id, merchant_id, name, points, value_fen, active, withdrawn_at"


def _offer(row) -> Offer:
    return Offer(*row[:5], bool(row[5]), row[6])


def _text(value, what: str, limit: int, *, required: bool = False) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if (required and not value) or len(value) > limit or not value.isprintable():
        need = "不能为空,且" if required else ""
        raise InvalidInput(f"{what}{need}不超过{limit}个字。", f"{what} must be at most {limit} characters")
    return value


def _compound(conn, compound_id) -> int | None:
    if compound_id is None:
        return None
    if type(compound_id) is not int or conn.execute("SELECT 1 FROM compounds WHERE compound_id = ?",
                                                    (compound_id,)).fetchone() is None:
        raise InvalidInput(f"没有编号为 {compound_id} 的小区。", f"no compound {compound_id}")
    return compound_id


def _merchant_fields(conn, merchant_id, *, name, category, compound_id, address, contact, phone) -> dict:
    if category not in CATEGORIES:
        raise InvalidInput("商户类别不正确。", f"unknown merchant category {category!r}")
    name = _text(name, "商户名称", 40, required=True)
    other = conn.execute("SELECT merchant_id FROM merchants WHERE name = ? AND merchant_id IS NOT ?",
                         (name, merchant_id)).fetchone()
    if other is not None:
        raise InvalidInput(f"已有名为“{name}”的商户(编号 {other[0]})。", f"merchant {name!r} exists already")
    return {"name": name, "category": category, "compound_id": _compound(conn, compound_id),
            "address": _text(address, "地址", 100), "contact": _text(contact, "联系人", 20),
            "phone": accounts.check_phone(phone)}


def add_merchant(conn: sqlite3.Connection, name: str, category: str, *, compound_id: int | None = None,
                 address: str = "", contact: str = "", phone: str = "") -> int:
    f = _merchant_fields(conn, None, name=name, category=category, compound_id=compound_id, address=address,
                         contact=contact, phone=phone)
    return conn.execute("INSERT INTO merchants (name, category, compound_id, address, contact, phone) "
                        "VALUES (?, ?, ?, ?, ?, ?)", tuple(f.values())).lastrowid


def edit_merchant(conn: sqlite3.Connection, merchant_id: int, **changes) -> dict:
    """Change a merchant's name, category, compound, address, contact or phone (keys left out stay).
    Returns {field: [before, after]} for what changed."""
    m = get(conn, merchant_id)
    unknown = set(changes) - {"name", "category", "compound_id", "address", "contact", "phone"}
    if unknown:
        raise InvalidInput("商户信息中没有这些项目。", f"unknown merchant fields {sorted(unknown)}")
    if m.status == "left":
        raise InvalidInput(f"{m.name}已退出,不能修改;如重新加入请先恢复。", f"merchant {merchant_id} has left")
    before = {k: getattr(m, k) for k in ("name", "category", "compound_id", "address", "contact", "phone")}
    after = _merchant_fields(conn, merchant_id, **{**before, **changes})
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changed:
        conn.execute("UPDATE merchants SET name = ?, category = ?, compound_id = ?, address = ?, contact = ?, phone = ? "
                     "WHERE merchant_id = ?", (*after.values(), merchant_id))
    return changed


def suspend(conn: sqlite3.Connection, merchant_id: int) -> Merchant:
    """Suspend (暂停) a merchant: its offers stop being redeemable (its tablets get none from their
    next pull); redemptions made before still settle. Reinstate undoes it."""
    m = get(conn, merchant_id)
    if m.status != "active":
        raise InvalidInput(f"{m.name}当前为“{STATUSES[m.status]}”,不能暂停。", f"merchant {merchant_id} is {m.status}")
    conn.execute("UPDATE merchants SET status = 'suspended' WHERE merchant_id = ?", (merchant_id,))
    return get(conn, merchant_id)


def leave(conn: sqlite3.Connection, merchant_id: int, *, now=None) -> list[Offer]:
    """The merchant leaves the scheme (退出): every offer is withdrawn; returns them. Its tablets
    keep their unsent redemptions and still sync them: the office revokes them when they have."""
    m = get(conn, merchant_id)
    if m.status == "left":
        raise InvalidInput(f"{m.name}已经退出。", f"merchant {merchant_id} has left already")
    at = clock.to_text(now or clock.now_utc())
    withdrawn = offers_of(conn, merchant_id, active_only=False)
    withdrawn = [o for o in withdrawn if o.active]
    conn.execute("UPDATE offers SET active = 0, withdrawn_at = ? WHERE merchant_id = ? AND active = 1", (at, merchant_id))
    conn.execute("UPDATE merchants SET status = 'left', left_at = ? WHERE merchant_id = ?", (at, merchant_id))
    return withdrawn


def reinstate(conn: sqlite3.Connection, merchant_id: int) -> Merchant:
    """Back to active after a suspension, or a merchant that left joining again (its offers stay
    withdrawn until the office lists them again)."""
    m = get(conn, merchant_id)
    if m.status == "active":
        raise InvalidInput(f"{m.name}已经是正常状态。", f"merchant {merchant_id} is active")
    conn.execute("UPDATE merchants SET status = 'active', left_at = NULL WHERE merchant_id = ?", (merchant_id,))
    return get(conn, merchant_id)


# --- offers --------------------------------------------------------------------------------------

def below_promise(points: int, value_fen: int) -> bool:
    """True if a point of this offer is worth less than ¥1 (the scheme's promise)."""
    return value_fen < points * PROMISE_FEN_PER_POINT


def promise_warning(points: int, value_fen: int) -> str | None:
    """The office's warning for an offer below the promise, or None."""
    if not below_promise(points, value_fen):
        return None
    return (f"按此定价每分只值 {money.yuan(value_fen // points)} 元,低于积分银行“1分至少值1元”的承诺"
            f"({points} 分应至少值 {money.yuan(points * PROMISE_FEN_PER_POINT)} 元)。")


def _offer_name(name) -> str:
    return _text(name, "项目名称", 30, required=True)


def _price(points, value_fen) -> None:
    if type(points) is not int or points <= 0 or points > MAX_OFFER_POINTS:
        raise InvalidInput("兑换所需积分须为1到10000的整数。", "offer points must be an integer 1-10000")
    if type(value_fen) is not int or value_fen < 0 or value_fen > 100_000_000:
        raise InvalidInput("价值须为非负整数(分)。", "offer value must be a non-negative integer (fen)")


def check_new_offer(conn: sqlite3.Connection, merchant_id: int, name: str, points: int, value_fen: int) -> int | None:
    """Every check of adding an offer; returns the id of a withdrawn offer of that name (it is
    listed again) or None (a new offer). Writes nothing."""
    m = get(conn, merchant_id)
    if m.status == "left":
        raise InvalidInput(f"{m.name}已退出,不能添加兑换项目。", f"merchant {merchant_id} has left")
    name = _offer_name(name)
    _price(points, value_fen)
    row = conn.execute("SELECT offer_id, active FROM offers WHERE merchant_id = ? AND name = ?",
                       (merchant_id, name)).fetchone()
    if row is not None and row[1]:
        raise InvalidInput(f"该商户已有“{name}”。", f"merchant {merchant_id} has an offer {name!r} already")
    return None if row is None else row[0]


def add_offer(conn: sqlite3.Connection, merchant_id: int, name: str, points: int, value_fen: int, *,
              now=None) -> int:
    """Add an offer, or list a withdrawn one of the same name again at this price; returns its id."""
    relist = check_new_offer(conn, merchant_id, name, points, value_fen)
    if relist is None:
        return conn.execute("INSERT INTO offers (merchant_id, name, points, value_fen) VALUES (?, ?, ?, ?)",
                            (merchant_id, name.strip(), points, value_fen)).lastrowid
    _record_price_change(conn, offer(conn, relist), points, value_fen, now)
    conn.execute("UPDATE offers SET points = ?, value_fen = ?, active = 1, withdrawn_at = NULL WHERE offer_id = ?",
                 (points, value_fen, relist))
    return relist


def _record_price_change(conn, o: Offer, points: int, value_fen: int, now) -> None:
    if (points, value_fen) != (o.points, o.value_fen):
        conn.execute("INSERT INTO offer_price_history (offer_id, points, value_fen, until_at) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT DO NOTHING", (o.offer_id, o.points, o.value_fen, clock.to_text(now or clock.now_utc())))


def check_offer_edit(conn: sqlite3.Connection, offer_id: int, *, name: str | None = None, points: int | None = None,
                     value_fen: int | None = None) -> dict:
    """Every check of editing an offer; returns {field: [before, after]} of what would change.
    Writes nothing."""
    o = offer(conn, offer_id)
    if not o.active:
        raise InvalidInput(f"“{o.name}”已撤下,请先重新上架。", f"offer {offer_id} is withdrawn")
    after = {"name": o.name if name is None else _offer_name(name),
             "points": o.points if points is None else points,
             "value_fen": o.value_fen if value_fen is None else value_fen}
    _price(after["points"], after["value_fen"])
    if after["name"] != o.name and conn.execute("SELECT 1 FROM offers WHERE merchant_id = ? AND name = ?",
                                                (o.merchant_id, after["name"])).fetchone():
        raise InvalidInput(f"该商户已有“{after['name']}”。", f"offer name {after['name']!r} exists")
    before = {"name": o.name, "points": o.points, "value_fen": o.value_fen}
    return {k: [before[k], after[k]] for k in before if before[k] != after[k]}


def edit_offer(conn: sqlite3.Connection, offer_id: int, *, name: str | None = None, points: int | None = None,
               value_fen: int | None = None, now=None) -> dict:
    """Change an offer's name, points or estimated value (None: unchanged); returns what changed.
    The price it had is kept until now, so redemptions already made keep their value. Devices
    get the new price at their next pull (until then a redemption at the old price is settled
    as charged and flagged for the council)."""
    changed = check_offer_edit(conn, offer_id, name=name, points=points, value_fen=value_fen)
    if changed:
        o = offer(conn, offer_id)
        after = {k: v[1] for k, v in changed.items()}
        _record_price_change(conn, o, after.get("points", o.points), after.get("value_fen", o.value_fen), now)
        conn.execute("UPDATE offers SET name = ?, points = ?, value_fen = ? WHERE offer_id = ?",
                     (after.get("name", o.name), after.get("points", o.points), after.get("value_fen", o.value_fen),
                      offer_id))
    return changed


def withdraw_offer(conn: sqlite3.Connection, offer_id: int, *, now=None) -> Offer:
    """Take an offer off the list (撤下): devices drop it at their next pull; redemptions made
    before still settle. Adding an offer of the same name lists it again."""
    o = offer(conn, offer_id)
    if not o.active:
        raise InvalidInput(f"“{o.name}”已经撤下。", f"offer {offer_id} is withdrawn already")
    conn.execute("UPDATE offers SET active = 0, withdrawn_at = ? WHERE offer_id = ?",
                 (clock.to_text(now or clock.now_utc()), offer_id))
    return offer(conn, offer_id)


def value_sql(entry: str = "e", offer: str = "o") -> str:
    """SQL for the value in fen of one unit of a redemption entry ``entry`` of offer ``offer``: the
    offer's price when the entry was recorded (before any later edit)."""
    return (f"coalesce((SELECT h.value_fen FROM offer_price_history h WHERE h.offer_id = {entry}.offer_id "
            f"AND h.until_at > {entry}.recorded_at ORDER BY h.until_at LIMIT 1), {offer}.value_fen)")


def price_history(conn: sqlite3.Connection, offer_id: int) -> list[sqlite3.Row]:
    return conn.execute("SELECT points, value_fen, until_at FROM offer_price_history WHERE offer_id = ? "
                        "ORDER BY until_at DESC", (offer_id,)).fetchall()


def get(conn: sqlite3.Connection, merchant_id: int) -> Merchant:
    row = conn.execute(f"SELECT {_MERCHANT_COLUMNS} FROM merchants WHERE merchant_id = ?",
                       (merchant_id,)).fetchone() if type(merchant_id) is int else None
    if row is None:
        raise NotFound(f"没有编号为 {merchant_id} 的商户。", f"no merchant {merchant_id}")
    return Merchant(*row)


def all_merchants(conn: sqlite3.Connection) -> list[Merchant]:
    return [Merchant(*row) for row in conn.execute(f"SELECT {_MERCHANT_COLUMNS} FROM merchants ORDER BY merchant_id")]


def offer(conn: sqlite3.Connection, offer_id: int) -> Offer:
    row = conn.execute(f"SELECT {_OFFER_COLUMNS} FROM offers WHERE offer_id = ?",
                       (offer_id,)).fetchone() if type(offer_id) is int else None
    if row is None:
        raise NotFound(f"没有编号为 {offer_id} 的兑换项目。", f"no offer {offer_id}")
    return _offer(row)


def redeemable(conn: sqlite3.Connection, offer_id: int) -> Offer:
    """The offer, if it can be redeemed now: listed, and its merchant active."""
    o = offer(conn, offer_id)
    if not o.active:
        raise InvalidInput(f"“{o.name}”已撤下,不能兑换。", f"offer {offer_id} is withdrawn")
    m = get(conn, o.merchant_id)
    if m.status != "active":
        raise InvalidInput(f"{m.name}当前“{STATUSES[m.status]}”,不能兑换。", f"merchant {m.merchant_id} is {m.status}")
    return o


def offers_of(conn: sqlite3.Connection, merchant_id: int, *, active_only: bool = True) -> list[Offer]:
    """A merchant's offers. ``active_only``: what can be redeemed now, i.e. listed offers of an
    active merchant (a suspended merchant's tablets get none at their pull)."""
    sql = f"SELECT {_OFFER_COLUMNS} FROM offers WHERE merchant_id = ?"
    if active_only:
        sql += " AND active = 1 AND (SELECT status FROM merchants m WHERE m.merchant_id = offers.merchant_id) = 'active'"
    return [_offer(row) for row in conn.execute(sql + " ORDER BY offer_id", (merchant_id,))]


def donated_by_month(conn: sqlite3.Connection, start: str, end: str | None = None) -> dict[str, int]:
    """{local month "2026-11": value in fen of the goods and services redeemed} for redemptions
    recorded in [start, end) (UTC texts), net of reversed redemptions: what merchants donated."""
    sql = ("SELECT strftime('%Y-%m', e.recorded_at, '+8 hours'), sum(e.quantity * " + value_sql() + ") "
           "FROM ledger_entries e JOIN offers o USING (offer_id) WHERE e.kind = 'redemption' AND e.recorded_at >= ? ")
    args: list = [start]
    if end is not None:
        sql += "AND e.recorded_at < ? "
        args.append(end)
    sql += "AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id) GROUP BY 1"
    return {m: v for m, v in conn.execute(sql, args).fetchall()}


def monthly_commitment_fen(conn: sqlite3.Connection) -> int:
    """What the community's merchants together commit to donate a month, in fen (a setting)."""
    from . import settings
    return settings.get(conn, "merchants.monthly_commitment_yuan") * 100
