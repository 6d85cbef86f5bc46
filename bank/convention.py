"""The residents' convention as data (居民公约): products, rule items, and catalog versions.

The catalog is amended by installing a new version with an effective date; the version in force
on a given local day is the newest one whose ``effective_from`` is on or before that day. Every
ledger entry records the version it was made under, so old entries keep their meaning.

The council amends it (:func:`amend`): items added (each gets a new code, never one used before,
so caps and passbooks never mix two meanings), renamed, retired, their points and caps changed.
Turning an award into a deduction or back changes what the item means to residents: it needs an
explicit confirmation. A version scheduled for a later day can be withdrawn before it takes
effect (:func:`withdraw`); a withdrawn version is never in force.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import assets

from . import clock
from .errors import InvalidInput, NotFound

DEFAULT_CATALOG = assets.path("convention", "catalog.json")
HEADINGS = ("家庭和睦", "邻里团结", "发扬正气", "遵守秩序", "信守公德")
CADENCE_NAMES = {"daily": "天", "weekly": "周", "monthly": "月", "yearly": "年"}


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    slogan: str
    cadence: str


@dataclass(frozen=True)
class RuleItem:
    code: str
    product: Product
    heading: str
    name: str
    points: int
    cap: int | None  # entries per account per period of the product's cadence; None = no cap
    description: str
    catalog_version: int

    @property
    def cap_text(self) -> str:
        """'每周最多1次' or '不限次数'."""
        if self.cap is None:
            return "不限次数"
        return f"每{CADENCE_NAMES[self.product.cadence]}最多{self.cap}次"


@dataclass(frozen=True)
class Catalog:
    version: int
    effective_from: dt.date
    products: tuple[Product, ...]
    items: tuple[RuleItem, ...]

    def item(self, code: str) -> RuleItem:
        for item in self.items:
            if item.code == code:
                return item
        raise NotFound(f"积分细则中没有编号为 {code} 的项目。", f"no rule item {code} in catalog v{self.version}")


def load_file(path: str | Path = DEFAULT_CATALOG) -> dict:
    """Read and validate a catalog file; raise InvalidInput with the first problem found."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"无法读取积分细则文件:{exc}", f"cannot read catalog file: {exc}") from None
    validate(data)
    return data


def validate(data: dict) -> None:
    def bad(en: str):
        raise InvalidInput(f"积分细则文件有误:{en}", f"catalog file is invalid: {en}")

    if not isinstance(data, dict) or not isinstance(data.get("products"), list) \
            or not isinstance(data.get("items"), list):
        bad("needs 'products' and 'items' lists")
    products = {}
    for p in data["products"]:
        if not isinstance(p, dict) or p.get("cadence") not in clock.CADENCES \
                or not all(isinstance(p.get(k), str) and p.get(k) for k in ("code", "name", "slogan")):
            bad(f"product {p!r} needs code, name, slogan and a cadence in {clock.CADENCES}")
        products[p["code"]] = p
    codes = set()
    for it in data["items"]:
        if not isinstance(it, dict):
            bad(f"item {it!r} is not an object")
        code = it.get("code")
        if not isinstance(code, str) or not code or code in codes:
            bad(f"item code {code!r} missing or repeated")
        codes.add(code)
        if it.get("product") not in products:
            bad(f"item {code}: unknown product {it.get('product')!r}")
        if it.get("heading") not in HEADINGS:
            bad(f"item {code}: heading must be one of {HEADINGS}")
        points = it.get("points")
        if type(points) is not int or points == 0:
            bad(f"item {code}: points must be a non-zero integer")
        cap = it.get("cap")
        if cap is not None and (type(cap) is not int or cap <= 0):
            bad(f"item {code}: cap must be a positive integer or null")
        if not isinstance(it.get("name"), str) or not it["name"] or not isinstance(it.get("description"), str):
            bad(f"item {code}: needs a name and a description")


def install(conn: sqlite3.Connection, data: dict, *, effective_from: dt.date, note: str = "",
            now=None) -> int:
    """Install ``data`` as the next catalog version, in force from ``effective_from``."""
    validate(data)
    latest = conn.execute("SELECT max(effective_from) FROM catalog_versions WHERE withdrawn_at IS NULL").fetchone()[0]
    if latest is not None and effective_from.isoformat() <= latest:
        raise InvalidInput(f"新版本的生效日期须晚于 {latest}。",
                           f"a new version must take effect after {latest}")
    version = conn.execute(
        "INSERT INTO catalog_versions (effective_from, created_at, note) VALUES (?, ?, ?)",
        (effective_from.isoformat(), clock.to_text(now or clock.now_utc()), note)).lastrowid
    conn.executemany(
        "INSERT INTO products (catalog_version, code, name, slogan, cadence) VALUES (?, ?, ?, ?, ?)",
        [(version, p["code"], p["name"], p["slogan"], p["cadence"]) for p in data["products"]])
    conn.executemany(
        "INSERT INTO rule_items (catalog_version, code, product_code, heading, name, points, cap, "
        "description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(version, i["code"], i["product"], i["heading"], i["name"], i["points"], i.get("cap"),
          i["description"]) for i in data["items"]])
    return version


def version_on(conn: sqlite3.Connection, day: dt.date) -> int:
    row = conn.execute("SELECT max(version) FROM catalog_versions WHERE effective_from <= ? AND withdrawn_at IS NULL",
                       (day.isoformat(),)).fetchone()
    if row[0] is None:
        raise NotFound(f"{day} 没有生效的积分细则。", f"no catalog in force on {day}")
    return row[0]


def load(conn: sqlite3.Connection, version: int) -> Catalog:
    """Catalog version ``version``. Versions never change once installed, so a store connection
    keeps them in its cache (keyed with the install time, in case an install was rolled back)."""
    head = conn.execute("SELECT effective_from, created_at FROM catalog_versions WHERE version = ?",
                        (version,)).fetchone()
    if head is None:
        raise NotFound(f"没有第 {version} 版积分细则。", f"no catalog version {version}")
    cache = getattr(conn, "cache", {})
    key = ("catalog", version, head[1])
    if key not in cache:
        cache[key] = _read(conn, version, head[0])
    return cache[key]


def _read(conn: sqlite3.Connection, version: int, effective_from: str) -> Catalog:
    products = {row[0]: Product(*row) for row in conn.execute(
        "SELECT code, name, slogan, cadence FROM products WHERE catalog_version = ? ORDER BY rowid",
        (version,))}
    items = tuple(
        RuleItem(row[0], products[row[1]], *row[2:], catalog_version=version)
        for row in conn.execute(
            "SELECT code, product_code, heading, name, points, cap, description FROM rule_items "
            "WHERE catalog_version = ? ORDER BY rowid", (version,)))
    return Catalog(version, dt.date.fromisoformat(effective_from), tuple(products.values()), items)


def in_force(conn: sqlite3.Connection, day: dt.date | None = None) -> Catalog:
    """The catalog in force on local ``day`` (default: today)."""
    return load(conn, version_on(conn, day or clock.local_date(clock.now_utc())))


# --- amendments ----------------------------------------------------------------------------------

MAX_ITEM_POINTS = 100
MAX_CAP = 100


def versions(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every version, newest first, with its effective date, note and withdrawal time."""
    return conn.execute("SELECT version, effective_from, created_at, note, withdrawn_at FROM catalog_versions "
                        "ORDER BY version DESC").fetchall()


def latest(conn: sqlite3.Connection) -> Catalog:
    """The newest version not withdrawn (in force or scheduled): what an amendment starts from."""
    row = conn.execute("SELECT max(version) FROM catalog_versions WHERE withdrawn_at IS NULL").fetchone()
    if row[0] is None:
        raise NotFound("数据库中还没有积分细则。", "no catalog installed")
    return load(conn, row[0])


def as_data(cat: Catalog) -> dict:
    """A catalog as the data :func:`install` takes."""
    return {"products": [{"code": p.code, "name": p.name, "slogan": p.slogan, "cadence": p.cadence}
                         for p in cat.products],
            "items": [{"code": i.code, "product": i.product.code, "heading": i.heading, "name": i.name,
                       "points": i.points, "cap": i.cap, "description": i.description} for i in cat.items]}


def _item_points(points, code: str) -> int:
    if type(points) is not int or points == 0 or abs(points) > MAX_ITEM_POINTS:
        raise InvalidInput(f"{code} 的分值须为 -{MAX_ITEM_POINTS} 到 {MAX_ITEM_POINTS} 之间且不为0的整数。",
                           f"{code}: points must be a non-zero integer within ±{MAX_ITEM_POINTS}")
    return points


def _item_cap(cap, code: str) -> int | None:
    if cap is not None and (type(cap) is not int or not 1 <= cap <= MAX_CAP):
        raise InvalidInput(f"{code} 的次数上限须为1到{MAX_CAP}的整数,或不限。", f"{code}: cap must be 1-{MAX_CAP} or none")
    return cap


def _item_text(value, what: str, limit: int, code: str) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > limit or not value.isprintable():
        raise InvalidInput(f"{code} 的{what}不能为空,且不超过{limit}个字。", f"{code}: {what} must be 1-{limit} characters")
    return value


def next_code(conn: sqlite3.Connection, product_code: str, taken: set[str] = frozenset()) -> str:
    """A code for a new item of a product, never used in any version: XS08 after XS07."""
    used = {r[0] for r in conn.execute("SELECT DISTINCT code FROM rule_items WHERE product_code = ?", (product_code,))}
    used |= set(taken)
    numbers = [int(c[len(product_code):]) for c in used if c.startswith(product_code) and c[len(product_code):].isdigit()]
    n = max(numbers, default=0) + 1
    while f"{product_code}{n:02d}" in used:
        n += 1
    return f"{product_code}{n:02d}"


@dataclass(frozen=True)
class Amendment:
    """What an amendment changes, item by item (the confirmation page and the audit show it)."""
    base: int
    data: dict                                   # the new catalog, as install takes it
    changed: list[str]                           # codes whose name, points or cap changed
    added: list[str]
    retired: list[str]
    sign_changes: list[tuple[str, str, int, int]]   # (code, name, old points, new points)

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.retired)


def plan_amendment(conn: sqlite3.Connection, *, changes: dict | None = None, retire=(), add=()) -> Amendment:
    """Check an amendment against the latest version and say what it does; writes nothing.

    ``changes``: code -> {"name", "points", "cap"} (any of them; cap None = no cap);
    ``retire``: codes that the new version drops; ``add``: dicts with product, heading, name,
    points, cap, description (each gets a new code)."""
    base = latest(conn)
    data = as_data(base)
    by_code = {i["code"]: i for i in data["items"]}
    changes, retire = dict(changes or {}), list(dict.fromkeys(retire))
    unknown = sorted((set(changes) | set(retire)) - set(by_code))
    if unknown:
        raise InvalidInput(f"第 {base.version} 版中没有项目 {'、'.join(unknown)}。", f"unknown items {unknown}")
    changed, signs = [], []
    for code, new in changes.items():
        item = by_code[code]
        if set(new) - {"name", "points", "cap"}:
            raise InvalidInput("只能修改项目名称、分值和次数上限。", "only name, points and cap can change")
        name = _item_text(new.get("name", item["name"]), "名称", 30, code)
        points = _item_points(new.get("points", item["points"]), code)
        cap = _item_cap(new.get("cap", item["cap"]), code)
        if (name, points, cap) != (item["name"], item["points"], item["cap"]):
            changed.append(code)
            if (points > 0) != (item["points"] > 0):
                signs.append((code, name, item["points"], points))
        item.update(name=name, points=points, cap=cap)
    for code in retire:
        if code in changed:
            raise InvalidInput(f"{code} 不能同时修改和停用。", f"{code} is both changed and retired")
    data["items"] = [i for i in data["items"] if i["code"] not in retire]
    products = {p["code"] for p in data["products"]}
    added = []
    for new in add:
        product = new.get("product")
        if product not in products:
            raise InvalidInput("请选择新项目的积分产品。", f"unknown product {product!r}")
        if new.get("heading") not in HEADINGS:
            raise InvalidInput("请选择新项目对应的公约条目。", f"heading must be one of {HEADINGS}")
        code = next_code(conn, product, set(added))
        item = {"code": code, "product": product, "heading": new["heading"],
                "name": _item_text(new.get("name"), "名称", 30, "新项目"),
                "points": _item_points(new.get("points"), "新项目"), "cap": _item_cap(new.get("cap"), "新项目"),
                "description": _item_text(new.get("description") or new.get("name"), "说明", 200, "新项目")}
        data["items"].append(item)
        added.append(code)
    if not data["items"]:
        raise InvalidInput("不能停用全部项目。", "a catalog needs at least one item")
    names = [i["name"] for i in data["items"]]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidInput(f"项目名称重复:{'、'.join(twice)}。", f"item names repeat: {twice}")
    return Amendment(base.version, data, changed, added, retire, signs)


def check_effective(effective_from, *, now=None) -> None:
    """A new version takes effect after today (local): entries already made today keep theirs."""
    if not isinstance(effective_from, dt.date) or effective_from <= clock.local_date(now or clock.now_utc()):
        raise InvalidInput("新版本的生效日期须晚于今天。", "a new version takes effect after today")


def amend(conn: sqlite3.Connection, *, effective_from: dt.date, note: str, changes: dict | None = None,
          retire=(), add=(), confirm_sign_change: bool = False, now=None) -> tuple[int, Amendment]:
    """Install the amended catalog as a new version in force from ``effective_from`` (after
    today); returns (version, what changed). A sign change needs ``confirm_sign_change``."""
    now = now or clock.now_utc()
    check_effective(effective_from, now=now)
    note = note.strip() if isinstance(note, str) else ""
    if not note or len(note) > 200:
        raise InvalidInput("请填写修订说明(不超过200个字)。", "an amendment needs a note of 1-200 characters")
    plan = plan_amendment(conn, changes=changes, retire=retire, add=add)
    if plan.empty:
        raise InvalidInput("没有修改任何项目。", "nothing changed")
    if plan.sign_changes and not confirm_sign_change:
        flips = "、".join(f"{c} {n}({o:+d}→{p:+d})" for c, n, o, p in plan.sign_changes)
        raise InvalidInput(f"{flips} 在加分和扣分之间改变,须确认后才能保存。",
                           "a sign change (award <-> deduction) needs an explicit confirmation",
                           code="sign_change_unconfirmed")
    return install(conn, plan.data, effective_from=effective_from, note=note, now=now), plan


def withdraw(conn: sqlite3.Connection, version: int, *, now=None) -> None:
    """Withdraw a scheduled version before it takes effect; it is never in force."""
    now = now or clock.now_utc()
    row = conn.execute("SELECT effective_from, withdrawn_at FROM catalog_versions WHERE version = ?",
                       (version,)).fetchone() if type(version) is int else None
    if row is None:
        raise NotFound(f"没有第 {version} 版积分细则。", f"no catalog version {version}")
    if row[1] is not None:
        raise InvalidInput(f"第 {version} 版已经撤回。", f"version {version} was withdrawn already")
    if dt.date.fromisoformat(row[0]) <= clock.local_date(now):
        raise InvalidInput(f"第 {version} 版已于 {row[0]} 生效,不能撤回;请另行修订。",
                           f"version {version} is in force since {row[0]}")
    conn.execute("UPDATE catalog_versions SET withdrawn_at = ? WHERE version = ?", (clock.to_text(now), version))
