"""SQLite storage: opening a store, pragmas, and numbered all-or-nothing schema migrations.

One connection per thread (sqlite3's default check). WAL lets readers run beside the writer;
``synchronous=FULL`` because ledger commits must survive a power cut once reported.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from pathlib import Path

from .errors import DatabaseError
from .schema import MIGRATIONS, statements

APPLICATION_ID = 0x4D504231  # "MPB1": tells our files from any other SQLite database


class Connection(sqlite3.Connection):
    """A store connection that can hold caches of data that never changes once written."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cache: dict = {}


def schema_version() -> int:
    """The version a fully migrated store has."""
    return len(MIGRATIONS)


def is_url(store) -> bool:
    """Whether a store is named by a PostgreSQL URL (anything else is a SQLite file path)."""
    return isinstance(store, str) and store.startswith(("postgresql://", "postgres://"))


def location(store: str | Path) -> str | Path:
    """A store as given (a command-line argument, a config value): a URL stays the text it is,
    anything else is a SQLite file path. ``Path("postgresql://h/db")`` would silently become
    ``postgresql:/h/db``, so code that may get either passes it through here, never ``Path()``."""
    return store if is_url(store) else Path(store)


def shown(store: str | Path) -> str:
    """A store as messages and logs show it: a URL without its password."""
    if is_url(store):
        from .pg import safe_url
        return safe_url(store)
    return str(store)


def engine(conn) -> str:
    """``"sqlite"`` or ``"postgresql"``: which engine a store connection talks to."""
    return getattr(conn, "engine", "sqlite")


def insert_rows(conn, table: str, columns: tuple[str, ...], rows) -> None:
    """Append many rows to one table, in the caller's transaction: one COPY on PostgreSQL (the
    bulk path of device sync: a statement per row there is parsed and planned each time), an
    executemany on SQLite. Constraints and triggers hold as for single INSERTs."""
    rows = list(rows)
    if not rows:
        return
    if engine(conn) == "postgresql":
        conn.copy_rows(table, columns, rows)
    else:
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         rows)


def connect(path: str | Path, *, create: bool = False, migrate: bool = True,
            readonly: bool = False, busy_timeout: float = 30) -> sqlite3.Connection:
    """Open (or with ``create`` make) a community store and bring its schema up to date.

    ``path`` is a SQLite file, or a ``postgresql://`` URL for a store on PostgreSQL (bank.pg:
    a connection with the same surface; docs/architecture.md, "Two engines").

    With ``readonly`` nothing is ever written, not even a migration: a store at an older schema
    version is refused with a message saying how to upgrade it. ``busy_timeout``: how long a
    write waits for another writer before SQLite gives up (:func:`is_busy`); the office server
    waits only briefly and answers "busy, retry" instead of holding a request for 30 s.
    """
    if is_url(path):
        from . import pg  # only an office on PostgreSQL needs the driver
        return pg.connect(path, create=create, migrate=migrate, readonly=readonly, busy_timeout=busy_timeout)
    path = Path(path)
    if create:
        if path.exists():
            raise DatabaseError(f"文件已存在,不会覆盖:{path}", f"file already exists, not overwriting: {path}")
    elif not path.is_file():
        raise DatabaseError(f"找不到数据库文件:{path}", f"database file not found: {path}")
    try:
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                   isolation_level=None, timeout=busy_timeout, factory=Connection)
        else:
            conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout, factory=Connection)
        conn.row_factory = sqlite3.Row
        _check_ours(conn, path, create)
        if readonly:
            _check_current(conn, path)
            conn.execute("PRAGMA foreign_keys=ON")
            return conn
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        if create:
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        if migrate:
            upgrade(conn)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"无法打开数据库 {path}:{exc}", f"cannot open database {path}: {exc}") from None
    return conn


def is_busy(exc: BaseException) -> bool:
    """Whether an error is the store giving up on a lock another connection holds (SQLite's busy
    timeout, PostgreSQL's lock_timeout: the same ``busy_timeout`` of :func:`connect`)."""
    return isinstance(exc, sqlite3.OperationalError) and any(
        word in str(exc) for word in ("locked", "busy", "lock timeout"))


def _check_ours(conn: sqlite3.Connection, path: Path, create: bool) -> None:
    if create:
        return
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id != APPLICATION_ID:
        conn.close()
        raise DatabaseError(f"这不是道德积分银行的数据库:{path}",
                            f"not a Moral Points Bank database: {path}")


def _check_current(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        conn.close()
        raise _too_new(version)
    if version < len(MIGRATIONS):
        conn.close()
        raise DatabaseError(
            f"数据库 {path} 的版本({version})需要升级,请先运行:python -m office migrate --db {path}",
            f"database {path} is at schema {version}, not {len(MIGRATIONS)}: "
            f"run 'python -m office migrate --db {path}' first")


def upgrade(conn: sqlite3.Connection) -> int:
    """Apply the missing migration steps, each in its own transaction; return the new version."""
    if engine(conn) == "postgresql":
        from . import pg
        return pg.upgrade(conn)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise _too_new(version)
    for number in range(version + 1, len(MIGRATIONS) + 1):
        with transaction(conn):
            for statement in statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
    return len(MIGRATIONS)


def user_version(conn) -> int:
    """The schema version of an open store (SQLite's ``user_version``; ``mpb_store`` on PostgreSQL)."""
    if engine(conn) == "postgresql":
        from . import pg
        return pg.user_version(conn)
    return conn.execute("PRAGMA user_version").fetchone()[0]


def scrub(conn: sqlite3.Connection) -> None:
    """Rewrite the store so that deleted or overwritten bytes (a moved private key) are gone from
    its free pages and its write-ahead log, not only from its tables. Outside a transaction.

    On PostgreSQL the table that held them is rewritten (``VACUUM FULL``, by the owner, as
    ``office migrate`` runs); the server's WAL archive and older base backups are beyond reach
    (the command says so)."""
    if engine(conn) == "postgresql":
        conn.execute("VACUUM FULL issuing_keys")
        return
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("VACUUM")
    busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    if busy:
        raise DatabaseError("数据库正被其他程序使用(如办公室服务),旧数据没能清除:请先停止它们,再运行一次。",
                            "the store is open in another program (the office server?): stop it and run again")


def _too_new(version: int) -> DatabaseError:
    return DatabaseError(f"数据库版本 {version} 比本程序新,请升级程序。",
                         f"database schema {version} is newer than this program ({len(MIGRATIONS)}); upgrade it")


class transaction:
    """``with transaction(conn):`` BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception.

    Nested use joins the outer transaction, so a flow can group several bank calls atomically.
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.outer = False

    def __enter__(self) -> sqlite3.Connection:
        self.outer = not self.conn.in_transaction
        if self.outer:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.outer:
            return
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


class _Held:
    """A thread's connection, closed when the thread ends (its thread-local slot is dropped then):
    a worker pool retires idle threads, and a connection must not outlive the thread that held it."""

    def __init__(self, conn):
        self.conn = conn

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:   # noqa: BLE001 - closing on the way out: a broken one is gone anyway
                pass

    __del__ = close


class PerThread:
    """One store connection per live thread, opened on first use by ``open`` and closed when its
    thread ends; :meth:`close_all` closes every one of them (a server shutting down: a PostgreSQL
    session left open would linger on the database server until it notices)."""

    def __init__(self, open):
        self._open = open
        self._local = threading.local()
        self._all: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()

    def get(self):
        held = getattr(self._local, "held", None)
        if held is None or held.conn is None:
            held = self._local.held = _Held(self._open())
            with self._lock:
                self._all.add(held)
        return held.conn

    def close_all(self) -> None:
        with self._lock:
            opened, self._all = list(self._all), weakref.WeakSet()
        for held in opened:
            held.close()
        self._local = threading.local()
