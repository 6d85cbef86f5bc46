"""Background sync for an enrolled device: one worker thread, requested by reason, never blocking.

Apps call :meth:`Syncer.request` on start, on resume, after each redemption, on "sync now", and
:meth:`Syncer.tick` once in a while (it starts the nightly sync when it is due). The worker runs
:func:`sync.client.sync_once` and records the outcome in :class:`SyncState`, which the screen
reads on its own clock: no UI call ever crosses threads.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field, replace
from typing import Callable

from bank import clock
from sync import client, home as home_mod
from sync.faults import DeviceFault

NIGHTLY_HOUR = 2   # local time: the shops are closed and the office is idle


@dataclass(frozen=True)
class SyncState:
    """What the sync badge shows: online or offline since when, events waiting, last error."""

    online: bool | None = None            # None: not tried yet since start
    running: bool = False
    offline_since: str | None = None      # UTC text of the first failed attempt in a row
    last_ok_at: str | None = None         # UTC text of the last successful sync (this run)
    last_error: tuple[str, str] | None = None   # (zh, en)
    rejected: tuple = ()                  # (code, zh, en) of events the office refused
    attempts: int = 0
    fault: tuple[str, str, str] | None = None   # (code, zh, en): this device must not redeem or record


@dataclass
class Syncer:
    """Runs sync on a daemon thread; ``sync_fn(home)`` is :func:`sync.client.sync_once` by default."""

    home: home_mod.Home
    sync_fn: Callable = None
    now: Callable[[], dt.datetime] = clock.now_utc
    state: SyncState = field(default_factory=SyncState)

    def __post_init__(self):
        self.sync_fn = self.sync_fn or (lambda h: client.sync_once(h, timeout=10.0))
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._reasons: list[str] = []
        self._last_nightly: dt.date | None = None
        self._thread: threading.Thread | None = None
        self.listeners: list[Callable[[SyncState], None]] = []

    # --- asking for a sync ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the worker after its current attempt."""
        self._stop.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def request(self, reason: str) -> None:
        """Ask for a sync soon; several requests while one runs collapse into one more attempt."""
        with self._lock:
            self._reasons.append(reason)
        self._wanted.set()

    def tick(self) -> None:
        """Request the nightly sync once per local day after :data:`NIGHTLY_HOUR`."""
        local = clock.local(self.now())
        if local.hour >= NIGHTLY_HOUR and self._last_nightly != local.date():
            self._last_nightly = local.date()
            self.request("nightly")

    # --- the worker ----------------------------------------------------------------------------

    def run_once(self) -> SyncState:
        """One attempt on the calling thread (the worker, or a test)."""
        self._set(running=True, attempts=self.state.attempts + 1)
        now = clock.to_text(self.now())
        try:
            result = self.sync_fn(self.home)
        except client.Busy:
            # another process of this device (python -m sync, a redemption's push) is syncing
            # right now: it does this attempt's work; nothing to report
            return self._set(running=False)
        except DeviceFault as exc:
            # damaged, behind or forked: the apps refuse to redeem or record from now on
            return self._set(running=False, fault=(exc.code, exc.zh, exc.en), last_error=(exc.zh, exc.en))
        except client.Unreachable as exc:
            return self._set(running=False, online=False, last_error=(exc.zh, exc.en),
                             offline_since=self.state.offline_since or now)
        except client.Refused as exc:
            # The office answered: we are online, but it refused (e.g. device revoked).
            return self._set(running=False, online=True, offline_since=None, last_error=(exc.zh, exc.en),
                             rejected=(*self.state.rejected, (exc.code, exc.zh, exc.en))[-20:])
        except Exception as exc:  # noqa: BLE001 - a sync bug must never take the counter down
            return self._set(running=False, online=False, offline_since=self.state.offline_since or now,
                             last_error=("同步时出现意外错误,稍后会自动重试。", f"unexpected sync error: {exc!r}"))
        errors = tuple(getattr(result, "errors", ()) or ())
        return self._set(running=False, online=True, offline_since=None, last_ok_at=now, last_error=None,
                         rejected=(*self.state.rejected, *errors)[-20:])

    def _set(self, **changes) -> SyncState:
        with self._lock:
            self.state = replace(self.state, **changes)
            state = self.state
        for listener in list(self.listeners):
            listener(state)
        return state

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            if self._stop.is_set():
                return
            with self._lock:
                self._wanted.clear()
                self._reasons.clear()
            self.run_once()
