"""Store connections of an office server on PostgreSQL: one connection pool per database in a
process, a connection lent to each request.

A district server (office.district_server) serves some 200 communities from one database, one
schema each. A connection kept per community and per worker thread would be 200 x 40 sessions per
process, more than PostgreSQL's ``max_connections``; here every community of the database borrows
from one ``psycopg_pool.ConnectionPool`` (its size: ``--pool-size``, ``$MPB_POOL_SIZE``). A loan
sets the community's ``search_path`` (the schema its store URL names) and is given back when the
request ends: rolled back if the request left a transaction open, the ``search_path`` reset.

The loan is tied to the request, not to a thread: :func:`request_scope` (the server's HTTP
middleware) opens a scope in a context variable, which Starlette's thread pool carries into the
threads that run the request's store work; the first ``get()`` in the request borrows, the end of
the request returns what it borrowed. Work outside any request (start-up checks, a test calling a
console function directly) gets a connection of its own per thread, as :class:`bank.db.PerThread`.

A SQLite store keeps :class:`bank.db.PerThread` (a file has no sessions to save). This is a
serving concern, so it lives in the office; the store's side (wrapping a raw psycopg connection
as a :class:`bank.pg.Connection`) stays in bank.pg.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import os
import re
import sqlite3
import threading

from bank import db, keystore

DEFAULT_SIZE = 10           # connections per database per process: a worker's busy moments, not its threads
DEFAULT_MIN = 1
LOAN_TIMEOUT_S = 10.0       # a request waiting longer for a connection is answered "busy, retry"
ENV_SIZE, ENV_MIN = "MPB_POOL_SIZE", "MPB_POOL_MIN"

_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*(\S+)")
_pools: dict[str, object] = {}
_pools_lock = threading.Lock()
_loans: contextvars.ContextVar[list | None] = contextvars.ContextVar("mpb_store_loans", default=None)


def sizes() -> tuple[int, int]:
    """(min, max) connections of a pool, from the environment (``office serve`` puts its options
    there, so every worker process reads the same)."""
    def number(name: str, default: int) -> int:
        value = os.environ.get(name, "")
        return int(value) if value.isdigit() and int(value) > 0 else default
    size = number(ENV_SIZE, DEFAULT_SIZE)
    return min(number(ENV_MIN, DEFAULT_MIN), size), size


def split(url: str) -> tuple[str, str | None]:
    """(the database's conninfo without a search_path, the schema the URL names or None)."""
    from psycopg import conninfo
    params = conninfo.conninfo_to_dict(url)
    options = params.pop("options", "") or ""
    found = _SEARCH_PATH.search(options)
    rest = _SEARCH_PATH.sub("", options).strip()
    if rest:
        params["options"] = rest
    params.setdefault("connect_timeout", 10)
    return conninfo.make_conninfo(**params), (found[1] if found else None)


def pool_for(base: str):
    """The process's one pool for the database at ``base`` (made on first use)."""
    with _pools_lock:
        pool = _pools.get(base)
        if pool is None:
            import psycopg
            from psycopg_pool import ConnectionPool

            from bank import pg
            low, high = sizes()
            pool = ConnectionPool(base, min_size=low, max_size=high, timeout=LOAN_TIMEOUT_S, open=True,
                                  kwargs={"autocommit": True, "row_factory": pg._row_factory,
                                          "cursor_factory": psycopg.ClientCursor},
                                  configure=pg.prepare_raw, reset=_reset, name="mpb")
            if not _pools:
                atexit.register(close_pools)
            _pools[base] = pool
        return pool


def _reset(raw) -> None:
    """A connection coming back: no transaction (the pool rolled back one left open), the
    database's own search_path again, so the next loan of another community starts clean."""
    raw.execute("RESET search_path")


def close_pools() -> None:
    """Close every pool of this process (a server shutting down)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def begin_request() -> tuple:
    """At the start of one request (in its task, before its store work): a scope for its loans."""
    loans: list = []
    return _loans.set(loans), loans


def end_request(scope: tuple) -> None:
    """At its end (in a worker thread: giving back may roll back): every loan returned."""
    for give_back in reversed(scope[1]):
        give_back()


def leave(scope: tuple) -> None:
    """Close the scope in the context that began it (after :func:`end_request`)."""
    _loans.reset(scope[0])


@contextlib.contextmanager
def request_scope():
    """``begin_request`` .. ``end_request`` as a ``with`` block (work outside a server)."""
    scope = begin_request()
    try:
        yield
    finally:
        leave(scope)
        end_request(scope)


class Loans:
    """The connection source of one community store (one schema) on PostgreSQL: ``get()`` is
    the request's connection, borrowed from the database's pool on first use."""

    def __init__(self, url: str, keys: keystore.KeyStore | None, busy_timeout: float):
        self.url, self.keys, self.busy_timeout = url, keys, busy_timeout
        self.base, self.schema = split(url)
        self.cache: dict = {}       # what never changes in this store (catalog versions): kept across loans
        self._outside = db.PerThread(self._open_own)

    def _open_own(self):
        conn = db.connect(self.url, migrate=False, busy_timeout=self.busy_timeout)
        if self.keys is not None:
            keystore.use(conn, self.keys)
        return conn

    def get(self):
        loans = _loans.get()
        if loans is None:
            return self._outside.get()
        for held in loans:
            if getattr(held, "source", None) is self:
                return held.conn
        held = _Loan(self)
        loans.append(held)
        return held.conn

    def close_all(self) -> None:
        self._outside.close_all()


class _Loan:
    """One connection lent to one request by a :class:`Loans`; calling it gives it back."""

    def __init__(self, source: Loans):
        from psycopg import sql
        from psycopg_pool import PoolTimeout

        from bank import pg
        self.source, self.pool = source, pool_for(source.base)
        try:
            self.raw = self.pool.getconn()
        except PoolTimeout:
            # every connection is lent: the caller answers "busy, retry" (bank.db.is_busy)
            raise sqlite3.OperationalError("database is busy (no free connection in the pool)") from None
        try:
            # one round trip: the community's schema and how long a write waits for the writer's lock
            settings = sql.SQL("SET lock_timeout = {}").format(int(source.busy_timeout * 1000))
            if source.schema:
                settings = sql.SQL("SET search_path = {}; ").format(sql.Identifier(source.schema)) + settings
            self.raw.execute(settings)
        except Exception:
            self.pool.putconn(self.raw)
            raise
        self.conn = pg.Connection(self.raw)
        self.conn.url = source.url
        self.conn.cache = source.cache
        if source.keys is not None:
            keystore.use(self.conn, source.keys)

    def __call__(self) -> None:
        raw, self.raw = self.raw, None
        if raw is None:
            return
        self.conn.raw = None         # the wrapper must not close a connection the pool owns
        if not raw.closed and raw.info.transaction_status != 0:
            try:
                raw.rollback()       # a request that failed inside a transaction
            except Exception:        # noqa: BLE001 - a broken connection: the pool discards it
                pass
        self.pool.putconn(raw)


def source(store, open_conn, keys: keystore.KeyStore | None, busy_timeout: float):
    """Where a server's store connections come from: a pool's loans for a ``postgresql://``
    store, one connection per thread (``open_conn``) for a SQLite file."""
    if db.is_url(store):
        return Loans(store, keys, busy_timeout)
    return db.PerThread(open_conn)


__all__ = ["Loans", "begin_request", "close_pools", "end_request", "leave", "pool_for", "request_scope", "sizes", "source", "split"]
