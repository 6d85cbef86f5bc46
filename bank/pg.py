"""PostgreSQL storage: the same store as bank.db's SQLite file, behind a thin dialect layer.

``bank.db.connect("postgresql://...")`` returns a :class:`Connection` that offers the part of
sqlite3's DB-API the bank uses (``execute`` with ``?`` or ``:name`` parameters, ``executemany``,
``fetchone``/``fetchall``, ``lastrowid``, rows readable by index and by name, ``in_transaction``),
so bank.db.transaction and the bank's queries run unchanged. The bank's SQL is written once, in
the SQL both engines accept; this module translates only what has no common spelling:

- placeholders (``?`` -> ``%s``, ``:name`` -> ``%(name)s``; a literal ``%`` is doubled), bound on
  the client (psycopg's ClientCursor): a value is typed as a literal is, as in SQLite, so
  ``? IS NULL`` or ``CASE WHEN ?`` need no casts;
- ``x IN (SELECT value FROM json_each(?))`` (one bound JSON list: SQLite caps bound parameters)
  -> ``x = ANY(%s)`` with the list itself bound (PostgreSQL has no such cap, and the index is used);
- ``a IS ?`` / ``a IS NOT ?`` -> ``a IS [NOT] DISTINCT FROM %s``;
- ``INSERT OR IGNORE`` -> ``INSERT ... ON CONFLICT DO NOTHING``;
- many rows of one table (``bank.db.insert_rows``, device sync's bulk path) -> one ``COPY``:
  bound on the client, a statement per row is parsed and planned by the server each time;
- ``lastrowid``: an INSERT into a table with an integer key gets ``RETURNING key``;
- ``BEGIN IMMEDIATE`` -> ``BEGIN`` and a transaction-scoped advisory lock of the connection's
  schema: one writer at a time per store (per community in a district store), as SQLite has it,
  so the bank's read-check-write steps (caps, balances, refs) stay correct (READ COMMITTED: every
  statement after the lock sees what the previous writer committed); a plain ``BEGIN`` (a reader's
  one snapshot) -> ``BEGIN ISOLATION LEVEL REPEATABLE READ``;
- the schema: the numbered SQLite migrations of bank.schema are translated statement by statement
  (:func:`ddl`); triggers have their PL/pgSQL form here, by name, and a step with a trigger this
  module does not know is refused, so the two schemas cannot drift apart silently.

Errors come out as the sqlite3 exception classes (IntegrityError for a broken constraint or an
append-only trigger, OperationalError for a lock timeout, DatabaseError otherwise): they are the
bank's DB-API vocabulary on both engines, so every existing ``except`` keeps its meaning.

The schema version lives in the one-row table ``mpb_store`` (SQLite keeps it in PRAGMA
user_version, and the application id that tells our stores from other databases in PRAGMA
application_id).
"""

from __future__ import annotations

import json
import re
import sqlite3
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import conninfo, pq, sql

from .errors import DatabaseError
from .schema import MIGRATIONS, statements

APPLICATION_ID = 0x4D504231
# The writer's advisory lock is keyed by the connection's schema: (WRITE_LOCK, hashtext(schema)).
# A district store holds one community per schema (bank.district), and one community's writer
# must not wait for another's; within one schema there is still one writer at a time, as SQLite
# has it. The two-integer form is its own key space, and its class differs from the serving
# lock's (bank.backup.SERVING_LOCK_CLASS), so the three claims never collide.
WRITE_LOCK = APPLICATION_ID
_LOCK_WRITER = "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))"


def lock_writer(raw) -> None:
    """Take the writer's lock of the connection's schema for the rest of its transaction."""
    raw.execute(_LOCK_WRITER, (WRITE_LOCK,))

# Tables that only ever grow (the SQLite triggers refuse UPDATE/DELETE; here privileges too).
APPEND_ONLY = {"ledger_entries": ("UPDATE", "DELETE", "TRUNCATE"), "audit_log": ("UPDATE", "DELETE", "TRUNCATE"),
               "device_events": ("UPDATE", "TRUNCATE")}


# --- the schema -------------------------------------------------------------------------------

PRELUDE = [
    "CREATE TABLE mpb_store (application_id INTEGER NOT NULL, version INTEGER NOT NULL)",
    # A refusing trigger: its message is its argument; SQLSTATE 23001 (restrict_violation) so the
    # driver reports it as an integrity error, as SQLite's RAISE(ABORT) is.
    """CREATE FUNCTION mpb_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'restrict_violation'; END $$""",
    # An account whose replica rows changed: a pull delta sends it again (bank.schema V4, V14).
    # Its table is named without a schema: the function keeps the search path it was made with
    # (the community's schema in a district store, bank.district), whoever's session fires it.
    """CREATE FUNCTION mpb_replica_change() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
       BEGIN
         IF TG_OP IN ('UPDATE', 'DELETE') AND (TG_OP = 'DELETE' OR TG_ARGV[0] = 'both') THEN
           INSERT INTO replica_changes (account_id) VALUES (OLD.account_id);
         END IF;
         IF TG_OP IN ('INSERT', 'UPDATE') THEN
           INSERT INTO replica_changes (account_id) VALUES (NEW.account_id);
         END IF;
         RETURN NULL;
       END $$""",
]


def _refuse(name: str, when: str, table: str, message: str, condition: str = "") -> str:
    cond = f" WHEN ({condition})" if condition else ""
    return (f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW{cond} "
            f"EXECUTE FUNCTION mpb_refuse('{message}')")


def _replica(name: str, when: str, table: str, which: str = "new") -> str:
    return f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION mpb_replica_change('{which}')"


_LEDGER = "ledger entries are append-only: post a reversal instead"
_KEYS = "issuing private keys live in key files, not in the store"
TRIGGERS = {
    "ledger_no_update": _refuse("ledger_no_update", "BEFORE UPDATE", "ledger_entries", _LEDGER),
    "ledger_no_delete": _refuse("ledger_no_delete", "BEFORE DELETE", "ledger_entries", _LEDGER),
    "device_events_no_update": _refuse("device_events_no_update", "BEFORE UPDATE", "device_events",
                                       "device events are append-only"),
    "audit_no_update": _refuse("audit_no_update", "BEFORE UPDATE", "audit_log", "the audit log is append-only"),
    "audit_no_delete": _refuse("audit_no_delete", "BEFORE DELETE", "audit_log", "the audit log is append-only"),
    "issuing_keys_no_private_insert": _refuse("issuing_keys_no_private_insert", "BEFORE INSERT", "issuing_keys",
                                              _KEYS, "NEW.private_key IS NOT NULL"),
    "issuing_keys_no_private_update": _refuse("issuing_keys_no_private_update", "BEFORE UPDATE OF private_key",
                                              "issuing_keys", _KEYS, "NEW.private_key IS NOT NULL"),
    "accounts_changed": _replica("accounts_changed", "AFTER UPDATE OF status, pin_hash, display_name", "accounts"),
    "cards_added": _replica("cards_added", "AFTER INSERT", "cards"),
    "cards_changed": _replica("cards_changed", "AFTER UPDATE", "cards"),
    "holds_added": _replica("holds_added", "AFTER INSERT", "card_holds"),
    "holds_changed": _replica("holds_changed", "AFTER UPDATE", "card_holds"),
    "accounts_registration_changed": _replica("accounts_registration_changed",
                                              "AFTER UPDATE OF kind, compound_id, building, unit, room", "accounts"),
    "members_added": _replica("members_added", "AFTER INSERT", "members"),
    "members_moved": _replica("members_moved", "AFTER UPDATE OF account_id", "members", "both"),
    "members_removed": _replica("members_removed", "AFTER DELETE", "members"),
}

# Statements whose SQLite text uses SQLite's own functions, in their PostgreSQL form.
_UTC_SECONDS = "to_char(now() AT TIME ZONE 'UTC'{}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
REWRITES = {
    "UPDATE devices SET last_request_time = strftime(":
        f"UPDATE devices SET last_request_time = {_UTC_SECONDS.format('')} || '.000000Z' "
        f"WHERE last_request_time > {_UTC_SECONDS.format(' + interval ' + chr(39) + '1 day' + chr(39))} || '.000000Z'",
    # V17: SQLite edits console_users' stored definition to widen its role CHECK; PostgreSQL swaps
    # the constraint (None: the statement has no PostgreSQL counterpart)
    "PRAGMA writable_schema = ON": "ALTER TABLE console_users DROP CONSTRAINT console_users_role_check",
    "UPDATE sqlite_master SET sql = replace(sql, 'CHECK (role IN":
        "ALTER TABLE console_users ADD CONSTRAINT console_users_role_check "
        "CHECK (role IN ('office', 'council', 'reviewer', 'merchant', 'district'))",
    "PRAGMA writable_schema = RESET": None,
}

_DDL_RULES = [
    # SQLite's INTEGER PRIMARY KEY is the rowid: a new row without one gets the next number
    (re.compile(r"\b(\w+)\s+INTEGER PRIMARY KEY\b"), r"\1 INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    # a PostgreSQL INTEGER column holds nothing else: SQLite needs typeof() checks for that
    (re.compile(r"CHECK \(typeof\((\w+)\) = 'integer'\)"), ""),
    (re.compile(r"typeof\((\w+)\) = 'integer' AND "), ""),
    # the GLOB patterns of the schema are character classes only: anchored regular expressions
    (re.compile(r"(\w+)\s+GLOB\s+'([^']*)'"), r"\1 ~ '^\2$'"),
    (re.compile(r"\)\s*WITHOUT ROWID"), ")"),
]


def ddl(statement: str) -> str | None:
    """One statement of a SQLite migration step, as PostgreSQL runs it (None: nothing to run)."""
    statement = re.sub(r"\A(\s*--[^\n]*\n)+", "", statement).strip()
    trigger = re.match(r"CREATE TRIGGER (\w+)", statement)
    if trigger:
        if trigger[1] not in TRIGGERS:
            raise ValueError(f"no PostgreSQL form of trigger {trigger[1]} (bank.pg.TRIGGERS)")
        return TRIGGERS[trigger[1]]
    for start, rewritten in REWRITES.items():
        if statement.startswith(start):
            return rewritten
    table = re.match(r"CREATE TABLE (\w+)", statement)
    keep_rowid = table and table[1] not in INTEGER_KEYS and not re.search(r"WITHOUT ROWID\s*\Z", statement)
    for pattern, replacement in _DDL_RULES:
        statement = pattern.sub(replacement, statement)
    if keep_rowid:
        # a few reads keep SQLite's insertion order (ORDER BY rowid): the same hidden counter
        statement = statement[:statement.rindex(")")] + "\n, rowid BIGINT GENERATED ALWAYS AS IDENTITY\n)"
    return statement


def _integer_keys() -> dict[str, str]:
    """Table -> its integer key column (what ``lastrowid`` reports), from the migrations."""
    text = "\n".join(MIGRATIONS)
    return dict(re.findall(r"CREATE TABLE (\w+) \(\s*(\w+)\s+INTEGER PRIMARY KEY\b", text))


INTEGER_KEYS = _integer_keys()


# --- queries ----------------------------------------------------------------------------------

_JSON_LIST = re.compile(r"IN \(SELECT value FROM json_each\(\?\)\)")
# SQLite's IS compares with NULL equal to NULL: PostgreSQL spells it IS NOT DISTINCT FROM
_IS_NOT_PARAM = re.compile(r"\bIS NOT \?")
_IS_PARAM = re.compile(r"\bIS \?")
_TOKENS = re.compile(r"'(?:[^']|'')*'|::|:([A-Za-z_]\w*)|\?|%|\x01")
_INSERT = re.compile(r"\s*INSERT\s+(OR\s+IGNORE\s+)?INTO\s+(\w+)", re.IGNORECASE)


class Query:
    """One bank query translated for PostgreSQL (cached by its text)."""

    __slots__ = ("text", "json_params", "returns_key", "resync")

    def __init__(self, text: str, json_params: tuple[int, ...], returns_key: bool, resync: str | None = None):
        self.text, self.json_params, self.returns_key, self.resync = text, json_params, returns_key, resync


_cache: dict[tuple[str, bool], Query] = {}

# SQLite's date functions on our stored UTC texts ('2026-03-02T02:00:00.000000Z'), as the bank uses
# them: strftime(format, column[, '+N hours']) -> to_char of the text read as a timestamp (the
# 'Z' is ignored by a timestamp without time zone, so no session time zone can shift it).
_STRFTIME = re.compile(r"strftime\('([^']*)',\s*([\w.]+)(?:,\s*'([+-]\d+) hours')?\)")
_STRFTIME_FORMAT = {"%Y": "YYYY", "%m": "MM", "%d": "DD", "%H": "HH24", "%M": "MI", "%S": "SS"}
_TEMP = re.compile(r"\btemp\.(?=\w)")


def _group_concat(text: str) -> str:
    """``group_concat(expr[, sep])`` -> ``string_agg(CAST(expr AS text), sep)`` (SQLite's default
    separator is a comma); the argument is found by its parentheses, outside string literals."""
    out, i = [], 0
    while (start := text.find("group_concat(", i)) >= 0:
        depth, j, quoted, comma = 1, start + len("group_concat("), False, None
        while depth:
            c = text[j]
            if c == "'":
                quoted = not quoted
            elif not quoted:
                depth += c == "("
                depth -= c == ")"
                if c == "," and depth == 1:
                    comma = j
            j += 1
        inner_start, end = start + len("group_concat("), j - 1
        expr = text[inner_start:comma if comma is not None else end]
        sep = text[comma + 1:end].strip() if comma is not None else "','"
        out.append(text[i:start] + f"string_agg(CAST({expr.strip()} AS text), {sep})")
        i = j
    return "".join(out) + text[i:]


def _strftime(m: re.Match) -> str:
    fmt = re.sub(r"%[A-Za-z]", lambda f: _STRFTIME_FORMAT[f[0]], m[1])
    when = f"CAST({m[2]} AS timestamp)"
    if m[3]:
        when = f"({when} + interval '{m[3]} hours')"
    return f"to_char({when}, '{fmt}')"


def translate(query: str, named: bool = False) -> Query:
    key = (query, named)
    if key in _cache:
        return _cache[key]
    text = _JSON_LIST.sub("= ANY(\x01)", query)
    if "strftime(" in text:
        text = _STRFTIME.sub(_strftime, text)
    if "temp." in text:     # SQLite's schema of temporary tables is PostgreSQL's pg_temp
        text = _TEMP.sub("pg_temp.", text)
    if "group_concat(" in text:
        text = _group_concat(text)
    text = _IS_PARAM.sub("IS NOT DISTINCT FROM ?", _IS_NOT_PARAM.sub("IS DISTINCT FROM ?", text))
    insert = _INSERT.match(text)
    if insert and insert[1]:
        text = text[:insert.start(1)] + text[insert.end(1):] + " ON CONFLICT DO NOTHING"
    json_params: list[int] = []
    position = 0

    def token(m: re.Match) -> str:
        nonlocal position
        t = m[0]
        if t.startswith("'"):
            return t.replace("%", "%%")
        if t == "::":
            return t
        if m[1] is not None:
            return f"%({m[1]})s" if named else t
        if t == "%":
            return "%%"
        if t == "\x01":
            json_params.append(position)
        position += 1
        return "%s"

    text = _TOKENS.sub(token, text)
    returns_key = bool(insert) and insert[2] in INTEGER_KEYS and not re.search(r"\bRETURNING\b", text, re.I)
    if returns_key:
        text += f" RETURNING {INTEGER_KEYS[insert[2]]}"
    resync = None
    if insert:
        names = re.match(r"\s*\(([^)]*)\)", text[insert.end():])
        resync = _resync(insert[2], [n.strip() for n in names[1].split(",")] if names else [])
    q = _cache[key] = Query(text, tuple(json_params), returns_key, resync)
    return q


def _resync(table: str, columns) -> str | None:
    """After rows that name their integer keys themselves (settlement does: max + 1), the
    statement that moves the counter numbering rows without one past them, so it cannot hand
    out those numbers again; None when there is nothing to move."""
    column = INTEGER_KEYS.get(table)
    if column is None or column not in columns:
        return None
    return f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max({column}) FROM {table}))"


def _params(q: Query, params):
    if isinstance(params, dict):
        return {k: int(v) if isinstance(v, bool) else v for k, v in params.items()}
    out = [int(v) if isinstance(v, bool) else v for v in params]
    for i in q.json_params:
        out[i] = json.loads(out[i])
    return out


class Row(tuple):
    """A result row readable by index and by column name, as sqlite3.Row is."""

    def __new__(cls, values, index: dict[str, int]):
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


class _IntBool(psycopg.adapt.Loader):
    """A boolean result (``x IS NOT NULL``, ``a = b``) read as SQLite gives it: 1 or 0. The schema
    has no boolean columns (it is SQLite's), so only expressions are boolean, and their values then
    print, compare and serialise (JSON in pulls) the same on both engines."""

    def load(self, data) -> int:
        return 1 if bytes(data) == b"t" else 0


def _has_rows(raw: psycopg.Cursor) -> bool:
    """Whether the last statement returned rows: read off the result, because psycopg builds
    ``description`` afresh on each access (a sixth of a busy connection's time in the profile)."""
    res = raw.pgresult
    return res is not None and res.status == pq.ExecStatus.TUPLES_OK


def _row_factory(cursor):
    res = cursor.pgresult
    if res is None or res.status != pq.ExecStatus.TUPLES_OK:
        return tuple
    index = {res.fname(i).decode(): i for i in range(res.nfields)}
    return lambda values: Row(values, index)


class IntegrityError(sqlite3.IntegrityError):
    pass


class OperationalError(sqlite3.OperationalError):
    pass


class PgDatabaseError(sqlite3.DatabaseError):
    pass


def _mapped(exc: psycopg.Error) -> sqlite3.DatabaseError:
    message = exc.diag.message_primary or str(exc)
    if isinstance(exc, psycopg.IntegrityError):
        return IntegrityError(message)
    if isinstance(exc, psycopg.errors.LockNotAvailable | psycopg.errors.QueryCanceled | psycopg.OperationalError):
        return OperationalError(message)
    return PgDatabaseError(message)


class Cursor:
    def __init__(self, raw: psycopg.Cursor):
        self.raw = raw
        self.lastrowid = None

    def execute(self, query: str, params=()) -> Cursor:
        try:
            if query.strip().upper() == "BEGIN IMMEDIATE":
                self.raw.execute("BEGIN")
                try:
                    lock_writer(self.raw)
                except psycopg.Error:
                    # as SQLite's BEGIN IMMEDIATE: a writer that gave up is not left in a transaction
                    self.raw.execute("ROLLBACK")
                    raise
                return self
            if query.strip().upper() == "BEGIN":
                # a plain BEGIN is a reader's "one snapshot" (a pull: balances, the deny list and
                # applied_seq agree), as SQLite's deferred transaction gives it; PostgreSQL's
                # default, READ COMMITTED, takes a new snapshot for every statement
                self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                return self
            named = isinstance(params, dict)
            q = translate(query, named)
            self.raw.execute(q.text, _params(q, params or ()))
            if q.returns_key:
                row = self.raw.fetchone()
                self.lastrowid = row[0] if row else None
            if q.resync:
                self.raw.execute(q.resync)
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        return self

    def executemany(self, query: str, rows) -> Cursor:
        rows = list(rows)
        q = translate(query, bool(rows) and isinstance(rows[0], dict))
        text = q.text
        if q.returns_key:  # nobody reads lastrowid of a batch
            text = text[:text.rindex(" RETURNING ")]
        try:
            self.raw.executemany(text, [_params(q, r) for r in rows])
            if q.resync:
                self.raw.execute(q.resync)
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        return self

    def fetchone(self):
        return self.raw.fetchone() if _has_rows(self.raw) else None

    def fetchall(self) -> list:
        return self.raw.fetchall() if _has_rows(self.raw) else []

    def __iter__(self):
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return self.raw.rowcount

    @property
    def description(self):
        return self.raw.description


class Connection:
    """A PostgreSQL store connection with the sqlite3 surface the bank uses."""

    engine = "postgresql"

    def __init__(self, raw: psycopg.Connection):
        self.raw = raw
        self.cache: dict = {}
        self.url = ""   # as given to connect (for another connection to the same store)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def execute(self, query: str, params=()) -> Cursor:
        return Cursor(self.raw.cursor()).execute(query, params)

    def executemany(self, query: str, rows) -> Cursor:
        return Cursor(self.raw.cursor()).executemany(query, rows)

    def cursor(self) -> Cursor:
        return Cursor(self.raw.cursor())

    def copy_rows(self, table: str, columns: tuple[str, ...], rows) -> None:
        """Append rows to a table with one COPY (bank.db.insert_rows): PostgreSQL checks every
        constraint and fires every trigger as for an INSERT, without parsing and planning a
        statement per row."""
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
        try:
            with self.raw.cursor() as cur:
                with cur.copy(statement) as copy:
                    for row in rows:
                        copy.write_row([int(v) if isinstance(v, bool) else v for v in row])
                if (resync := _resync(table, columns)) is not None:
                    cur.execute(resync)
        except psycopg.Error as exc:
            raise _mapped(exc) from exc

    def close(self) -> None:
        self.raw.close()

    def __del__(self):
        # as a sqlite3 connection does: one dropped without close() is closed, without a warning
        raw = getattr(self, "raw", None)
        if raw is not None and not raw.closed:
            raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- opening a store --------------------------------------------------------------------------

def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    url = re.sub(r"(?i)(password=)[^&]*", r"\1***", url)
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:      # a malformed URL: show it without what looks like a password
        return re.sub(r"(//[^/:@]*:)[^/@]*@", r"\1***@", url)
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[-1]}"))


CONNECT_TIMEOUT_S = 10      # a server that drops packets: say so instead of waiting for ever


def connect_problem(exc: psycopg.Error, shown: str) -> DatabaseError:
    """Why a connection could not be made, as one plain line (libpq's own words are several lines
    of detail a person at the office cannot act on)."""
    text = str(exc)
    detail = " ".join(text.split())
    if isinstance(exc, psycopg.ProgrammingError) or "invalid" in text and "connection option" in text:
        return DatabaseError(f"数据库地址写得不对:{shown}。格式如 postgresql://用户:密码@主机:5432/数据库",
                             f"not a valid database URL: {shown} ({detail})")
    if "password authentication failed" in text or "no password supplied" in text:
        return DatabaseError(f"数据库用户名或密码不对:{shown}",
                             f"wrong user name or password for {shown}")
    found = re.search(r'(role|database) "([^"]*)" does not exist', text)
    if found:
        what = "数据库用户" if found[1] == "role" else "数据库"
        return DatabaseError(f"数据库服务器上没有{what} {found[2]}:{shown}",
                             f"no {found[1]} {found[2]!r} on the database server: {shown}")
    if "resolve host" in text or "could not translate host name" in text:
        return DatabaseError(f"找不到数据库服务器(主机名不对?):{shown}",
                             f"cannot find the database server (wrong host name?): {shown}")
    if any(w in text for w in ("Connection refused", "timeout expired", "No such file or directory",
                               "Network is unreachable", "No route to host", "the database system is")):
        return DatabaseError(f"连不上数据库服务器,请检查它是否在运行、地址和端口是否正确:{shown}",
                             f"cannot reach the database server (is it running? right host and port?): {shown}")
    first = detail.removeprefix("connection failed: ")
    return DatabaseError(f"无法连接数据库 {shown}:{first}", f"cannot connect to database {shown}: {first}")


def connect(url: str, *, create: bool = False, migrate: bool = True, readonly: bool = False,
            busy_timeout: float = 30) -> Connection:
    """Open (or with ``create`` make) a community store on PostgreSQL; as bank.db.connect."""
    shown = safe_url(url)
    try:
        extra = {} if "connect_timeout" in conninfo.conninfo_to_dict(url) else {"connect_timeout": CONNECT_TIMEOUT_S}
        raw = psycopg.connect(url, autocommit=True, row_factory=_row_factory, cursor_factory=psycopg.ClientCursor,
                              **extra)
    except psycopg.Error as exc:
        raise connect_problem(exc, shown) from None
    prepare_raw(raw)
    conn = Connection(raw)
    conn.url = url
    try:
        raw.execute(sql.SQL("SET lock_timeout = {}").format(int(busy_timeout * 1000)))
        ours = raw.execute("SELECT to_regclass('mpb_store') IS NOT NULL").fetchone()[0]
        if create:
            if ours:
                raise DatabaseError(f"数据库已有道德积分银行的数据,不会覆盖:{shown}",
                                    f"database already holds a store, not overwriting: {shown}")
            with raw.transaction():
                for statement in PRELUDE:
                    raw.execute(statement)
                raw.execute("INSERT INTO mpb_store VALUES (%s, 0)", (APPLICATION_ID,))
        elif not ours or raw.execute("SELECT application_id FROM mpb_store").fetchone()[0] != APPLICATION_ID:
            raise DatabaseError(f"这不是道德积分银行的数据库:{shown}", f"not a Moral Points Bank database: {shown}")
        if readonly:
            version = user_version(conn)
            if version != len(MIGRATIONS):
                from .db import _too_new
                if version > len(MIGRATIONS):
                    raise _too_new(version)
                raise DatabaseError(
                    f"数据库 {shown} 的版本({version})需要升级,请先运行:python -m office migrate --db URL",
                    f"database {shown} is at schema {version}, not {len(MIGRATIONS)}: run 'office migrate' first")
            raw.execute("SET default_transaction_read_only = on")
        elif migrate:
            upgrade(conn)
    except DatabaseError:
        conn.close()
        raise
    except psycopg.Error as exc:
        conn.close()
        raise DatabaseError(f"无法打开数据库 {shown}:{exc}", f"cannot open database {shown}: {exc}") from None
    return conn


def prepare_raw(raw: psycopg.Connection) -> None:
    """What a raw psycopg connection (autocommit, :func:`_row_factory`, ClientCursor) needs before
    it is wrapped as a :class:`Connection`: booleans read as SQLite's 1 and 0. Also a pool's
    ``configure`` (office.pool)."""
    raw.adapters.register_loader("bool", _IntBool)


def user_version(conn: Connection) -> int:
    return conn.raw.execute("SELECT version FROM mpb_store").fetchone()[0]


def upgrade(conn: Connection) -> int:
    """Apply the missing migration steps, each in its own transaction, under the writer's lock."""
    from .db import _too_new
    raw = conn.raw
    if user_version(conn) == len(MIGRATIONS):
        return len(MIGRATIONS)
    applied = False
    for number in range(1, len(MIGRATIONS) + 1):
        try:
            with raw.transaction():
                lock_writer(raw)
                version = user_version(conn)  # another process may have migrated meanwhile
                if version > len(MIGRATIONS):
                    raise _too_new(version)
                if version >= number:
                    continue
                for statement in statements(MIGRATIONS[number - 1]):
                    translated = ddl(statement)
                    if translated is not None:
                        raw.execute(translated)
                raw.execute("UPDATE mpb_store SET version = %s", (number,))
                applied = True
        except psycopg.errors.InsufficientPrivilege:
            # the office's application role may not change the schema (pg-init gives the owner
            # that right alone): say who can, instead of "permission denied for schema public"
            shown = safe_url(conn.url)
            raise DatabaseError(
                f"数据库 {shown} 的版本({version})需要升级到第 {len(MIGRATIONS)} 版,而这个数据库用户无权修改表结构:"
                "请用数据库所有者的地址运行 python -m office migrate --db URL",
                f"database {shown} is at schema {version}, not {len(MIGRATIONS)}, and this role may not change "
                "the schema: run 'python -m office migrate --db OWNER_URL' as the store's owner") from None
    if applied:
        # tables a step made belong to the owner: give the application roles their rights on them
        for role in app_roles(conn):
            grant_app_role(conn, role)
    return len(MIGRATIONS)


def app_roles(conn: Connection) -> list[str]:
    """The roles the office runs as on this store: those granted reading ``mpb_store`` (as
    :func:`grant_app_role` does), other than its owner."""
    return [r[0] for r in conn.raw.execute(
        "SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g "
        "JOIN pg_tables t ON t.schemaname = g.table_schema AND t.tablename = g.table_name "
        "WHERE g.table_schema = current_schema() AND g.table_name = 'mpb_store' AND g.privilege_type = 'SELECT' "
        "AND g.grantee <> t.tableowner AND g.grantee <> 'PUBLIC' ORDER BY 1").fetchall()]


def grant_app_role(conn: Connection, role: str) -> None:
    """Let ``role`` (the role the office runs as) read and write the store, except what the
    database keeps append-only: it may not update or delete ledger entries or audit rows, nor
    update device events, nor change the schema version. Run as the store's owner."""
    raw = conn.raw
    who = sql.Identifier(role)
    # the store's own schema: public, or one community's schema of a district store (bank.district)
    schema = sql.Identifier(raw.execute("SELECT current_schema()").fetchone()[0])
    with raw.transaction():
        raw.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, who))
        raw.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema, who))
        raw.execute(sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, who))
        for table, refused in {**APPEND_ONLY, "mpb_store": ("INSERT", "UPDATE", "DELETE", "TRUNCATE")}.items():
            raw.execute(sql.SQL("REVOKE {} ON {} FROM {}").format(
                sql.SQL(", ").join(sql.SQL(p) for p in refused), sql.Identifier(table), who))
