"""The expiry run at the office: by hand (``python -m office expire``, the console's button), or
by the server itself once a day at 02:00 local time (:class:`DailyExpiry`).

The run itself is :func:`bank.validity.run_expiry`, idempotent by ref: running it twice on a day,
or from the server and a systemd timer both, posts each expiry once. Every run that posts
something is audited with who ran it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bank import audit, clock, db, validity

log = logging.getLogger("office.expiry")
RUN_AT = dt.time(2, 0)          # local time: after midnight, before the devices' nightly sync
RETRY_AFTER_S = 15 * 60         # a failed run (store busy, disk full) is tried again this soon


@dataclass(frozen=True)
class Result:
    accounts: int
    points: int

    @property
    def text(self) -> str:
        if not self.accounts:
            return "没有到期的积分,未作任何改动。"
        return f"已处理积分到期:{self.accounts} 户,共 {self.points} 分到期。"


def preview(conn, today: dt.date) -> Result:
    """What a run on ``today`` would post, writing nothing (the console's confirmation page)."""
    due = validity.due_before(conn, today)
    return Result(len({d.account_id for d in due}), sum(d.points for d in due))


def run(conn, today: dt.date, *, by: str, now: dt.datetime | None = None) -> Result:
    """Run the expiry for ``today`` (local) in one transaction with its audit record."""
    with db.transaction(conn):
        posted = validity.run_expiry(conn, today, now=now)
        result = Result(len({e.account_id for e in posted}), -sum(e.points for e in posted))
        if posted:
            audit.record(conn, by, "expiry.run", today.isoformat(),
                         {"accounts": result.accounts, "points": result.points}, now=now)
    return result


def next_run(after: dt.datetime) -> dt.datetime:
    """The first 02:00 local strictly after ``after`` (UTC in, UTC out)."""
    local = clock.local(after)
    at = dt.datetime.combine(local.date(), RUN_AT, tzinfo=clock.LOCAL_TZ)
    if at <= local:
        at = dt.datetime.combine(local.date() + dt.timedelta(days=1), RUN_AT, tzinfo=clock.LOCAL_TZ)
    return at.astimezone(clock.UTC)


class DailyExpiry:
    """The server's own daily run: a thread that sleeps until 02:00 local, runs, and goes on.

    ``now`` and ``wait`` are the clock and the sleep (tests give a clock that jumps instead of
    waiting); ``wait(seconds)`` returns True when the scheduler is being stopped. A run that fails
    is logged and tried again after :data:`RETRY_AFTER_S`; the thread never dies of it. A server
    that was down at 02:00 catches up at the next 02:00: a run expires everything due before its day.
    """

    def __init__(self, db_path: str | Path, *, now: Callable[[], dt.datetime] = clock.now_utc,
                 wait: Callable[[float], bool] | None = None, connect=None):
        self.db_path = db.location(db_path)
        self.now = now
        self._stop = threading.Event()
        self.wait = wait or self._stop.wait
        self.connect = connect or (lambda: db.connect(self.db_path, migrate=False, busy_timeout=30.0))
        self.thread: threading.Thread | None = None
        self.runs: list[tuple[dt.date, Result | None]] = []     # what each attempt did (None: failed)

    def run_once(self) -> Result | None:
        at = self.now()
        today = clock.local_date(at)
        try:
            conn = self.connect()
            try:
                result = run(conn, today, by="系统(每日到期处理)", now=at)
            finally:
                conn.close()
        except Exception:   # noqa: BLE001 - the server goes on; the next attempt comes soon
            log.exception(json.dumps({"event": "expiry_failed", "day": today.isoformat()}))
            self.runs.append((today, None))
            return None
        log.info(json.dumps({"event": "expiry_run", "day": today.isoformat(), "accounts": result.accounts,
                             "points": result.points}))
        self.runs.append((today, result))
        return result

    def loop(self) -> None:
        due = next_run(self.now())
        while True:
            delay = (due - self.now()).total_seconds()
            if delay > 0 and self.wait(delay):
                return
            if self._stop.is_set():
                return
            ok = self.run_once() is not None
            due = next_run(self.now()) if ok else self.now() + dt.timedelta(seconds=RETRY_AFTER_S)

    def start(self) -> "DailyExpiry":
        self.thread = threading.Thread(target=self.loop, name="daily-expiry", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
