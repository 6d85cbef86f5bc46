"""The residents' convention as data (居民公约): products, rule items, and catalog versions.

The catalog is amended by installing a new version with an effective date; the version in force
on a given local day is the newest one whose ``effective_from`` is on or before that day. Every
ledger entry records the version it was made under, so old entries keep their meaning.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from . import clock
from .errors import InvalidInput, NotFound

DEFAULT_CATALOG = Path(__file__).resolve().parent.parent / "assets" / "convention" / "catalog.json"
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
    latest = conn.execute("SELECT max(effective_from) FROM catalog_versions").fetchone()[0]
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
    row = conn.execute("SELECT max(version) FROM catalog_versions WHERE effective_from <= ?",
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
