"""This kiosk on its replica: synced at least once and not found behind or forked (:func:`ready`),
its compound, and its state for ``python -m kiosk status``."""

from __future__ import annotations

import datetime as dt
import sqlite3

from bank import clock
from bank.errors import ReasonedRefusal
from sync import replica

from . import refusals


def ready(conn: sqlite3.Connection) -> None:
    """Synced at least once, and the replica not found behind or forked (a DeviceFault)."""
    replica.check_usable(conn)
    if replica.state(conn, "last_pull_at") is None or replica.state(conn, "kiosk_compound") is None:
        raise refusals.Refusal("not_synced")


def compound(conn) -> dict:
    return replica.state(conn, "kiosk_compound") or {"compound_id": 0, "name": "", "service_point": ""}


def status(h, *, now: dt.datetime | None = None) -> dict:
    """A kiosk's state for ``python -m kiosk status``: last sync, events waiting, how far the
    office acknowledged, and whether it may record entries now. A kiosk never redeems."""
    now = now or clock.now_utc()
    conn = h.replica()
    try:
        last = replica.state(conn, "last_pull_at")
        count, _points = replica.pending_summary(conn)
        try:
            ready(conn)
            why = None
        except ReasonedRefusal as exc:     # not synced yet, or a fault found (behind, forked)
            why = exc
        fault = replica.fault(conn)
        return {
            "device_id": h.device_id, "kind": h.config.get("kind"), "server": h.server,
            "compound": compound(conn).get("name"), "last_sync_at": last,
            "last_sync_age_hours": None if last is None else round((now - clock.from_text(last)).total_seconds() / 3600, 2),
            "pending_events": count, "acked_seq": replica.state(conn, "acked_seq", 0),
            "last_seq": replica.last_seq(conn),
            "can_record": why is None,
            "cannot_record": None if why is None else {"code": why.code, "zh": why.zh, "en": why.en},
            "can_redeem": False,     # redemption is the merchants' tablets' job
            "fault": None if fault is None else {"code": fault.code, "zh": fault.zh, "en": fault.en},
        }
    finally:
        conn.close()
