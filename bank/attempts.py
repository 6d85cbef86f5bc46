"""Attempt limits: how many wrong PINs or passwords the office takes before it stops listening.

A 4-digit PIN has 10,000 values: without a limit a script at the console or a stolen device
asking the office finds one in minutes. Every secret the office checks goes through here, keyed
by a *scope* (what is guessed) and a *subject* (whose):

- ``card_pin`` (a resident's PIN, subject = account id) and ``staff_pin`` (a review-group
  member's kiosk PIN, subject = reviewer id): 5 wrong in a row lock that subject for 15 minutes.
- ``login_user`` (subject = user name) and ``login_client`` (subject = client address): after 5
  failures each further try must wait a growing delay (1, 2, 4 … seconds after the last failure);
  10 failures lock for 15 minutes.

A right answer clears the count. Every failure is written to the audit log, and a lock raises an
alert for the office. Failures are committed by the caller's transaction: callers that refuse the
request afterwards must commit the failure first (see :func:`check`), or a guesser could roll
their own failures back.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Callable

from . import audit, clock
from .db import transaction
from .errors import BankError


@dataclass(frozen=True)
class Limit:
    delay_after: int | None     # failures after which each try waits 2**(n - delay_after) s
    lock_after: int             # failures that lock the subject
    lock_minutes: int
    label: str                  # what is guessed, for messages


LIMITS = {
    "card_pin": Limit(None, 5, 15, "储户密码"),
    "staff_pin": Limit(None, 5, 15, "评议员密码"),
    "login_user": Limit(5, 10, 15, "登录密码"),
    "login_client": Limit(5, 10, 15, "登录密码"),
}
MAX_DELAY_S = 60


class Locked(BankError):
    """Too many wrong answers: ``retry_after`` seconds until the next try is listened to."""

    code = "attempts_locked"

    def __init__(self, zh: str, en: str, retry_after: int):
        super().__init__(zh, en)
        self.retry_after = retry_after


class Wrong(BankError):
    """A wrong PIN or password; ``left`` tries before the lock."""

    code = "attempt_wrong"

    def __init__(self, zh: str, en: str, left: int):
        super().__init__(zh, en)
        self.left = left


def _row(conn, scope: str, subject: str):
    return conn.execute("SELECT failures, last_failure_at, locked_until FROM attempt_limits "
                        "WHERE scope = ? AND subject = ?", (scope, subject)).fetchone()


def wait_seconds(conn: sqlite3.Connection, scope: str, subject: str, now: dt.datetime) -> int:
    """Seconds until ``subject`` may try again in ``scope`` (0: now)."""
    limit, row = LIMITS[scope], _row(conn, scope, str(subject))
    if row is None:
        return 0
    failures, last, locked_until = row[0], row[1], row[2]
    if locked_until is not None:
        left = (clock.from_text(locked_until) - now).total_seconds()
        if left > 0:
            return max(1, round(left + 0.4999))
        return 0
    if limit.delay_after is not None and failures >= limit.delay_after and last is not None:
        delay = min(MAX_DELAY_S, 2 ** (failures - limit.delay_after))
        left = (clock.from_text(last) + dt.timedelta(seconds=delay) - now).total_seconds()
        if left > 0:
            return max(1, round(left + 0.4999))
    return 0


def guard(conn: sqlite3.Connection, scope: str, subject, now: dt.datetime) -> None:
    """Raise :class:`Locked` if ``subject`` must wait before trying again."""
    wait = wait_seconds(conn, scope, str(subject), now)
    if wait:
        minutes = (wait + 59) // 60
        zh = (f"{LIMITS[scope].label}错误次数过多,请 {minutes} 分钟后再试。" if wait >= 60
              else f"{LIMITS[scope].label}错误次数过多,请 {wait} 秒后再试。")
        raise Locked(zh, f"too many wrong attempts ({scope}): try again in {wait} s", wait)


def _count(conn: sqlite3.Connection, scope: str, subject: str, now: dt.datetime) -> tuple[int, bool]:
    """Add one failure to the count (locking at the limit); returns (failures, locked)."""
    limit = LIMITS[scope]
    row = _row(conn, scope, subject)
    failures = (row[0] if row else 0) + 1
    locked = failures >= limit.lock_after
    locked_until = clock.to_text(now + dt.timedelta(minutes=limit.lock_minutes)) if locked else None
    conn.execute("INSERT INTO attempt_limits (scope, subject, failures, last_failure_at, locked_until) "
                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, subject) DO UPDATE SET failures = excluded.failures, "
                 "last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until",
                 (scope, subject, 0 if locked else failures, clock.to_text(now), locked_until))
    return failures, locked


def _report(conn: sqlite3.Connection, scope: str, subject: str, failures: int, locked: bool, *, actor: str,
            now: dt.datetime, detail: dict | None) -> None:
    """Audit a counted failure; a lock is audited too and raises an alert for the office."""
    from . import alerts     # alerts imports community; keep this module importable on its own
    limit = LIMITS[scope]
    audit.record(conn, actor, f"{scope}_failed", f"{scope}:{subject}",
                 {"failures": failures, "locked": locked, **(detail or {})}, now=now)
    if locked:
        audit.record(conn, actor, f"{scope}_locked", f"{scope}:{subject}",
                     {"minutes": limit.lock_minutes, **(detail or {})}, now=now)
        alerts.raise_alert(conn, "attempts_locked", now=now, subject=f"{scope}:{subject}",
                           account_id=int(subject) if scope == "card_pin" else None,
                           detail={"scope": scope, "subject": subject, "by": actor,
                                   "minutes": limit.lock_minutes, **(detail or {})})


def _left(scope: str, failures: int, locked: bool) -> int:
    return 0 if locked else max(0, LIMITS[scope].lock_after - failures)


def succeeded(conn: sqlite3.Connection, scope: str, subject) -> None:
    """A right answer: the count starts again."""
    conn.execute("DELETE FROM attempt_limits WHERE scope = ? AND subject = ?", (scope, str(subject)))


def check(conn: sqlite3.Connection, scope: str, subject, verify: Callable[[], bool], *, actor: str,
          now: dt.datetime, detail: dict | None = None) -> None:
    """Guard, verify and count in one step; the count is committed before any refusal is raised.

    ``verify`` is called only when the subject may try now. Raises :class:`Locked` or
    :class:`Wrong`; returns quietly on a right answer. Must not be called inside a transaction
    that the caller may roll back (the failure would be rolled back with it).
    """
    check_all(conn, [(scope, subject)], verify, actor=actor, now=now, detail=detail)


def check_all(conn: sqlite3.Connection, subjects, verify: Callable[[], bool], *, actor: str,
              now: dt.datetime, detail: dict | None = None) -> None:
    """:func:`check` under several counts at once (a log-in: the user and the client address):
    every one must let the try through, and a wrong answer counts against each.

    The try is counted as a failure *before* ``verify`` runs, in the same transaction as the
    guard, and a right answer clears it: many requests sent at once cannot slip more tries
    past the limit than one after another can (each waits for the previous one's count).
    """
    if conn.in_transaction:
        raise RuntimeError("attempts.check commits its own count: call it outside a transaction")
    subjects = [(scope, str(subject)) for scope, subject in subjects]
    counted = []
    with transaction(conn):
        waits = [(wait_seconds(conn, scope, subject, now), scope, subject) for scope, subject in subjects]
        longest = max(waits)
        if longest[0]:
            guard(conn, longest[1], longest[2], now)      # raises Locked with the longest wait
        for scope, subject in subjects:
            counted.append((scope, subject, *_count(conn, scope, subject, now)))
    if verify():
        with transaction(conn):
            for scope, subject in subjects:
                succeeded(conn, scope, subject)
        return
    with transaction(conn):
        for scope, subject, failures, locked in counted:
            _report(conn, scope, subject, failures, locked, actor=actor, now=now, detail=detail)
    left = min(_left(scope, failures, locked) for scope, _, failures, locked in counted)
    if left == 0:
        locked_scope = next((c for c in counted if c[3]), counted[0])
        guard(conn, locked_scope[0], locked_scope[1], now)     # raises Locked with the time to wait
    label = LIMITS[subjects[0][0]].label
    raise Wrong(f"{label}不正确,还可以再试 {left} 次。", f"wrong ({subjects[0][0]}); {left} tries left before the lock", left)
