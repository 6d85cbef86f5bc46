"""Where the device's chain and the office's copy of it stand: compared at every sync.

The device says how far it believes the office has acknowledged its events (``acked_seq``, in
every push and pull) and, in a pull, its newest event (``last_seq``); the office holds
``devices.last_seq``. Two ways they can disagree, each an alert at the office (once while open)
and a state at the device, never a silent gap:

- ``office_behind``: the device was told more was acknowledged than the office now holds. The
  office was restored from an older backup. The device sends those events again (it keeps
  acknowledged events for the policy's ``retention_days``); the office books them as any new
  event, each once (ledger ref ``dev:<device>:<seq>``), and the chain joins where it left off.
- ``device_behind``: the office holds events the device does not. The device's replica is an old
  copy (restored, or copied from another machine); its next event would fork the chain, so it
  stops redeeming and recording (:class:`sync.faults.DeviceFault` ``device_behind``) and must be
  enrolled again.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from bank import alerts, devices
from bank.db import transaction
from sync.wire import ProtocolError, malformed


def office_seq(conn: sqlite3.Connection, device: devices.Device) -> int:
    return conn.execute("SELECT last_seq FROM devices WHERE device_id = ?", (device.device_id,)).fetchone()[0]


def claimed(obj: dict, name: str) -> int | None:
    """A sequence number a device states in a push or pull body (optional: older devices)."""
    value = obj.get(name)
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= 2**53:
        raise malformed(f"{name} must be a non-negative integer")
    return value


def _office_behind(conn, device, held: int, acked: int, now: dt.datetime) -> None:
    with transaction(conn):
        alerts.raise_once(conn, "office_behind", device_id=device.device_id, now=now, detail={
            "office_seq": held, "device_acked_seq": acked, "missing": [held + 1, acked],
            "note": "the office holds fewer of this device's events than it acknowledged (restored from an "
                    "older backup?); the device sends them again"})


def check_push(conn: sqlite3.Connection, device: devices.Device, acked: int | None, now: dt.datetime) -> None:
    """Before a batch is settled: refuse it (409 ``office_behind``, with what the office holds
    as ``acked_seq``) when the device was told more was acknowledged than the office holds, so
    the device re-sends from there instead of meeting a chain gap."""
    held = office_seq(conn, device)
    if acked is not None and acked > held:
        _office_behind(conn, device, held, acked, now)
        raise ProtocolError("office_behind", f"社区办公室只有本机前 {held} 条记录(办公室数据可能从旧备份恢复),"
                                             f"请从第 {held + 1} 条起重新上传。",
                            f"the office holds this device's events only up to {held}, not {acked} as acknowledged "
                            f"before (restored from an older backup?): send them again from {held + 1}", status=409)


def compare_pull(conn: sqlite3.Connection, device: devices.Device, last: int | None, acked: int | None,
                 now: dt.datetime) -> None:
    """At a pull (inside the caller's transaction): alert when either end is missing events.
    The answer's ``applied_seq`` tells the device the office's side."""
    held = office_seq(conn, device)
    if last is not None and last < held:
        alerts.raise_once(conn, "device_behind", device_id=device.device_id, now=now, detail={
            "office_seq": held, "device_last_seq": last, "missing": [last + 1, held],
            "note": "the device lacks events the office holds (its replica is an old copy); it stops redeeming "
                    "and recording: enrol it again and revoke this device"})
    if acked is not None and acked > held:
        _office_behind(conn, device, held, acked, now)


__all__ = ["check_push", "compare_pull", "claimed", "office_seq"]
