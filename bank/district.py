"""A district store: many communities in one PostgreSQL database, one schema each.

A district store has a directory schema ``district`` and one schema per community, ``c_<code in
lower case>`` (``c_lh``). Each community schema is a complete, normally migrated store (its own
tables, triggers, functions and ``mpb_store`` version row), and a community is opened by a URL
whose libpq ``options`` put that schema alone on the search path (:func:`community_url`): every
bank function, command and server app then works on one community exactly as on a store of its
own, and nothing of another community is reachable through an unqualified name. That is the
isolation: by construction, not by a community column every query must remember to filter on
(docs/architecture.md, "Many communities in one store").

The ``district`` schema is itself a migrated store with no community founded (so bank.users
works there unchanged for the district's own console users), plus the directory table
``communities`` (code, name, schema, created_at).

A community's issuing keys are files in the key directory (bank.keystore), named by community
code, so one directory serves every community of the district.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from . import clock, community, db
from .errors import DatabaseError, InvalidInput

DIRECTORY = "district"
CODE = re.compile(r"[A-Z]{2,8}")      # what a card's QR text accepts (bank.cardcode._COMMUNITY)
_SEARCH_PATH = re.compile(r"\s*-c\s*search_path\s*=\s*\S+")
MAX_COMPOUNDS = 200
MAX_NAME = 60


@dataclass(frozen=True)
class Entry:
    """One community of a district (or a store of its own): what a district view works on."""
    code: str
    name: str
    url: str


@dataclass(frozen=True)
class CompoundPlan:
    """A compound to add to a new community: its name, building count and service point."""
    name: str
    buildings: int
    service_point: str


def schema_of(code: str) -> str:
    return f"c_{check_code(code).lower()}"


def check_code(code: str) -> str:
    """The community code, or a plain refusal: 2 to 8 capital letters (it is printed in every
    card's QR text, which allows nothing else)."""
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise InvalidInput(f"社区代码“{code}”不合格式:须为2到8个大写英文字母,如 LH。",
                           f"community code {code!r} must be 2 to 8 capital letters A-Z, e.g. LH")
    return code


def _with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = " ".join(v for k, v in query if k == "options")
    options = (_SEARCH_PATH.sub("", options).strip() + f" -c search_path={schema}").strip()
    query = [(k, v) for k, v in query if k != "options"] + [("options", options)]
    out = urlunsplit(parts._replace(query=urlencode(query, safe="/", quote_via=quote)))
    # urlunsplit drops the "//" of an empty host ("postgresql:///db": libpq's default host),
    # which libpq then cannot read: put it back
    if not out.startswith(f"{parts.scheme}://"):
        out = f"{parts.scheme}://{out[len(parts.scheme) + 1:]}"
    return out


def community_url(url: str, code: str) -> str:
    """The store URL of one community of the district store at ``url``: ``bank.db.connect`` on it
    opens that community's schema only."""
    _check_url(url)
    return _with_search_path(url, schema_of(code))


def directory_url(url: str) -> str:
    """The URL of the district's own store (the ``district`` schema)."""
    _check_url(url)
    return _with_search_path(url, DIRECTORY)


def _check_url(url: str) -> None:
    if not db.is_url(url):
        raise InvalidInput(f"区级数据库须为 PostgreSQL(postgresql://…),不是 {url}。",
                           f"a district store is a PostgreSQL database (postgresql://...), not {url!r}")


def _raw(url: str):
    """A plain psycopg connection to the database (autocommit), for the directory's own work."""
    import psycopg

    from . import pg
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        shown = pg.safe_url(url)
        raise DatabaseError(f"无法连接数据库 {shown}:{exc}", f"cannot connect to database {shown}: {exc}") from None


def is_district(url: str) -> bool:
    """Whether ``url`` names a district store as a whole: a PostgreSQL database with the directory
    of communities, the URL not being one community's (:func:`community_url`) or the district's own."""
    if not db.is_url(url):
        return False
    with _raw(url) as raw:
        return raw.execute("SELECT to_regclass('district.communities') IS NOT NULL "
                           "AND to_regclass('mpb_store') IS NULL").fetchone()[0]


def _has_directory(raw) -> bool:
    return raw.execute("SELECT to_regclass('district.communities') IS NOT NULL").fetchone()[0]


def has_directory(url: str) -> bool:
    """Whether the PostgreSQL database of ``url`` holds a directory of communities."""
    _check_url(url)
    with _raw(url) as raw:
        return _has_directory(raw)


def create(url: str, *, app_role: str | None = None, now: dt.datetime | None = None) -> None:
    """Make the database at ``url`` a district store: the ``district`` schema, migrated, with the
    directory of communities. ``app_role``: the role the office runs as (bank.pg.grant_app_role).
    Run as the database's owner. Refused, writing nothing, when it is a district store already."""
    from . import pg
    _check_url(url)
    with _raw(url) as raw:
        if raw.execute("SELECT to_regnamespace(%s) IS NOT NULL", (DIRECTORY,)).fetchone()[0]:
            raise DatabaseError(f"数据库已是区级数据库,不会覆盖:{pg.safe_url(url)}",
                                f"the database already is a district store, not overwriting: {pg.safe_url(url)}")
        if raw.execute("SELECT to_regclass('public.mpb_store') IS NOT NULL").fetchone()[0]:
            raise DatabaseError(f"数据库中已有一个社区的数据(public 模式),不能再作区级数据库:{pg.safe_url(url)}",
                                f"the database holds a one-community store (schema public); a district store "
                                f"needs a database of its own: {pg.safe_url(url)}")
        raw.execute(f"CREATE SCHEMA {DIRECTORY}")
    try:
        store = db.connect(directory_url(url), create=True)
        try:
            store.execute("CREATE TABLE communities (code TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                          "schema_name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL)")
            if app_role:
                pg.grant_app_role(store, app_role)
        finally:
            store.close()
    except BaseException:
        with _raw(url) as raw:
            raw.execute(f"DROP SCHEMA IF EXISTS {DIRECTORY} CASCADE")
        raise


def communities(url: str) -> list[Entry]:
    """Every community of the district store at ``url``, by code."""
    _check_url(url)
    with _raw(url) as raw:
        if not _has_directory(raw):
            raise NotDistrict(url)
        rows = raw.execute(f"SELECT code, name FROM {DIRECTORY}.communities ORDER BY code").fetchall()
    return [Entry(code, name, community_url(url, code)) for code, name in rows]


class NotDistrict(DatabaseError):
    def __init__(self, url: str):
        from . import pg
        shown = pg.safe_url(url)
        super().__init__(f"这不是区级数据库(没有社区目录):{shown}。请先运行:python -m office district create --db URL",
                         f"not a district store (no directory of communities): {shown}; "
                         "run 'python -m office district create --db URL' first")


def check_new(code: str, name: str, compounds: list[CompoundPlan] | None = None) -> None:
    """Refuse a bad code, name or compound list (before anything is written)."""
    check_code(code)
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise InvalidInput(f"请填写社区名称(不超过{MAX_NAME}个字)。", f"a community name of 1 to {MAX_NAME} characters is required")
    if compounds is not None:
        _check_compounds(compounds)


def _check_new(raw, code: str, name: str) -> None:
    check_new(code, name)
    if raw.execute(f"SELECT 1 FROM {DIRECTORY}.communities WHERE code = %s", (code,)).fetchone():
        raise InvalidInput(f"社区代码 {code} 已被使用。", f"community code {code} is taken", code="duplicate")
    if raw.execute(f"SELECT 1 FROM {DIRECTORY}.communities WHERE name = %s", (name.strip(),)).fetchone():
        raise InvalidInput(f"社区名称“{name.strip()}”已被使用。", f"community name {name.strip()!r} is taken", code="duplicate")
    if raw.execute("SELECT to_regnamespace(%s) IS NOT NULL", (schema_of(code),)).fetchone()[0]:
        raise InvalidInput(f"数据库中已有社区 {code} 的模式 {schema_of(code)},不会覆盖。",
                           f"schema {schema_of(code)} exists already, not overwriting", code="duplicate")


@contextmanager
def new_community(url: str, *, code: str, name: str, app_role: str | None = None,
                  now: dt.datetime | None = None) -> Iterator[str]:
    """``with new_community(url, code=, name=) as store_url:`` a new, migrated, empty schema for a
    community; the body fills it (found it, its compounds, its key). On success the community
    joins the directory and ``app_role`` gets its rights; on any exception its schema is dropped
    and nothing of it is left. A bad or taken code or name is refused before anything is written."""
    from . import pg
    _check_url(url)
    now = now or clock.now_utc()
    name = name.strip() if isinstance(name, str) else name
    with _raw(url) as raw:
        if not _has_directory(raw):
            raise NotDistrict(url)
        _check_new(raw, code, name)
        schema = schema_of(code)
        raw.execute(f"CREATE SCHEMA {schema}")
    store_url = community_url(url, code)
    try:
        db.connect(store_url, create=True).close()
        yield store_url
        with _raw(url) as raw, raw.transaction():
            raw.execute(f"INSERT INTO {DIRECTORY}.communities (code, name, schema_name, created_at) "
                        "VALUES (%s, %s, %s, %s)", (code, name, schema, clock.to_text(now)))
        if app_role:
            store = db.connect(store_url, migrate=False)
            try:
                pg.grant_app_role(store, app_role)
            finally:
                store.close()
    except BaseException:
        with _raw(url) as raw:
            raw.execute(f"DELETE FROM {DIRECTORY}.communities WHERE code = %s", (code,))
            raw.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        raise


def add_community(url: str, *, code: str, name: str, compounds: Iterable[CompoundPlan],
                  now: dt.datetime | None = None, keys=None, app_role: str | None = None,
                  catalog: dict | None = None) -> Entry:
    """Found a new community in the district store at ``url``: its schema (migrated), its code
    and name, its compounds with their service points and review groups, its issuing key
    (written to ``keys``, a bank.keystore.KeyStore, default $MPB_KEY_DIR) and its residents'
    convention: ``catalog`` (bank.convention's catalog file format), by default the model one,
    in force from the founding day; the community amends it afterwards as its own. Refused,
    writing nothing, for a bad or taken code or name, a bad compound list or a bad catalog."""
    from . import cards, convention, keystore
    now = now or clock.now_utc()
    compounds = list(compounds)
    check_new(code, name, compounds)
    catalog = convention.load_file() if catalog is None else catalog
    convention.validate(catalog)
    keys = keys or keystore.for_store(None)
    with new_community(url, code=code, name=name, app_role=app_role, now=now) as store_url:
        conn = db.connect(store_url)
        try:
            keystore.use(conn, keys)
            with db.transaction(conn):
                community.found(conn, code=code, name=name.strip())
                for c in compounds:
                    community.add_compound(conn, c.name, c.buildings, service_point=c.service_point)
                cards.create_issuing_key(conn, now=now)
                convention.install(conn, catalog, effective_from=clock.local_date(now), note="建社区时的居民公约", now=now)
        finally:
            conn.close()
    return Entry(code, name.strip(), store_url)


def _check_compounds(compounds: list[CompoundPlan]) -> None:
    if not compounds:
        raise InvalidInput("请至少列出一个小区。", "a community needs at least one compound")
    if len(compounds) > MAX_COMPOUNDS:
        raise InvalidInput(f"小区不能超过{MAX_COMPOUNDS}个。", f"at most {MAX_COMPOUNDS} compounds")
    names = [c.name for c in compounds]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidInput(f"小区“{twice[0]}”列了两次。", f"compound {twice[0]!r} is listed twice")


def parse_compound(text: str, where: str = "") -> CompoundPlan:
    """One compound as written in a compounds file or a ``--compound`` argument:
    ``NAME,BUILDINGS[,SERVICE POINT]`` (commas or tabs; the service point defaults to
    ``<NAME>党群服务点``)."""
    at = f"{where}:" if where else ""
    fields = [f.strip() for f in re.split(r"[,\t,]", text)]
    if len(fields) not in (2, 3) or not fields[0]:
        raise InvalidInput(f"{at}“{text.strip()}”应写成“小区名称,楼栋数[,服务点名称]”。",
                           f"{at}{text.strip()!r}: expected NAME,BUILDINGS[,SERVICE POINT]")
    name, count = fields[0], fields[1]
    if not (count.isascii() and count.isdigit()) or not 1 <= int(count) <= 999:
        raise InvalidInput(f"{at}小区“{name}”的楼栋数须为1到999的整数。",
                           f"{at}compound {name!r}: the building count must be a whole number from 1 to 999")
    service_point = fields[2] if len(fields) == 3 and fields[2] else f"{name}党群服务点"
    if len(name) > MAX_NAME or len(service_point) > MAX_NAME:
        raise InvalidInput(f"{at}名称不能超过{MAX_NAME}个字。", f"{at}names are limited to {MAX_NAME} characters")
    return CompoundPlan(name, int(count), service_point)


def read_compounds(path: str | Path) -> list[CompoundPlan]:
    """A compounds file: UTF-8 text, one compound a line as :func:`parse_compound` reads it;
    blank lines and lines starting with ``#`` are skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"小区文件 {path} 不是 UTF-8 文本。", f"the compounds file {path} is not UTF-8 text") from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(parse_compound(line, f"{path.name} 第{number}行"))
    return out


__all__ = ["Entry", "CompoundPlan", "community_url", "directory_url", "is_district", "has_directory", "create", "communities",
           "add_community", "new_community", "check_new", "parse_compound", "read_compounds", "check_code"]
