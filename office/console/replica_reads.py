"""Where the console's read-heavy pages read when a streaming replica is configured
(``python -m office serve --read-replica URL``): a connection source of its own, beside
:meth:`office.console.web.Console.conn` (the primary, which keeps sessions, logins, CSRF and
every write).

A page marked ``@console.page(..., replica=True)`` asks :meth:`ReplicaReads.get` for a
connection; it gets None - and reads the primary, which is logged - when the replica cannot be
reached (then it is not tried again for ``RETRY_S``), when it is no standby any more (promoted:
another timeline), or when it lags more than ``LAG_BOUND_S`` (bank.replication.standby_lag). So a
page never fails because of the replica: at worst it is as slow as without one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from bank import db, keystore, replication
from bank.errors import BankError

log = logging.getLogger("office.console")

LAG_BOUND_S = 30.0     # older than this, a page's figures would mislead: read the primary
NOTE_ABOVE_S = 3.0     # above this, the page says its figures may be a few seconds old
RETRY_S = 10.0         # after the replica failed, the primary only, for this long
CONNECT_TIMEOUT_S = 2  # a replica that drops packets must not hold a page for libpq's 10 s
BUSY_TIMEOUT_S = 2.0


def _with_connect_timeout(url: str) -> str:
    if "connect_timeout=" in url:
        return url
    return url + ("&" if "?" in url else "?") + f"connect_timeout={CONNECT_TIMEOUT_S}"


class ReplicaReads:
    """Connections to the read replica at ``url`` (one per thread), handed out only while the
    replica may be read."""

    def __init__(self, url: str, keys: keystore.KeyStore | None = None):
        self.url = _with_connect_timeout(url)
        self.keys = keys
        self.lag_bound_s = LAG_BOUND_S       # (tests shrink these three)
        self.note_above_s = NOTE_ABOVE_S
        self.retry_s = RETRY_S
        self.connections = db.PerThread(self._open)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _open(self):
        conn = db.connect(self.url, readonly=True, busy_timeout=BUSY_TIMEOUT_S)
        if self.keys is not None:
            keystore.use(conn, self.keys)
        return conn

    def get(self) -> tuple[object, float] | None:
        """A replica connection and the replica's lag in seconds, or None: read the primary."""
        if time.monotonic() < self._down_until:
            return None
        try:
            conn = self.connections.get()
            lag = replication.standby_lag(conn)
        except (sqlite3.Error, BankError, OSError) as exc:
            self.failed(exc)
            return None
        if lag is None:
            log.warning("read replica %s is not a standby (promoted?): pages read the primary", self._shown())
            self._pause()
            return None
        if lag > self.lag_bound_s:
            log.warning("read replica %s lags %.1f s (over %.0f s): this page reads the primary", self._shown(), lag,
                        self.lag_bound_s)
            return None
        return conn, lag

    def note(self, lag: float | None) -> bool:
        """Whether a page read at this lag says that its figures may be a few seconds old."""
        return lag is not None and lag > self.note_above_s

    def failed(self, exc: BaseException) -> None:
        """The replica could not be reached or broke mid-page: primary only for a while."""
        log.warning("read replica %s failed (%s): pages read the primary for %.0f s", self._shown(),
                    " ".join(str(exc).split())[:200], self.retry_s)
        self._pause()
        self.connections.close_all()

    def _pause(self) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self.retry_s

    def _shown(self) -> str:
        from bank import pg
        return pg.safe_url(self.url)

    def close_all(self) -> None:
        self.connections.close_all()
