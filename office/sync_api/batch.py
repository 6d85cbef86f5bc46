"""One pushed batch being settled: what every event's checks share, and what they decide.

Settlement walks the device's new events in order. Each is either booked (a ledger entry) or
quarantined with the rule it broke. Breaking rules is counted per device and office day: past
the policy's ``breaches_to_hold`` the device is put on hold, and from then on everything it
sends is still taken and acknowledged, but quarantined, until the office clears the hold.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field

from bank import alerts, clock, devices, policy
from sync import wire

SKEW = dt.timedelta(seconds=wire.CLOCK_SKEW_LIMIT_S)


@dataclass
class Batch:
    conn: sqlite3.Connection
    device: devices.Device
    now: dt.datetime
    pol: policy.OfflinePolicy
    held: bool                    # the device was on hold before this batch, or is now
    breaches: int                 # events of this device quarantined today, this batch included
    entry_ids: dict[int, int | None] = field(default_factory=dict)
    quarantine_rows: list[tuple] = field(default_factory=list)
    booked: int = 0
    overdrafts: int = 0
    held_now: bool = False        # this batch put the device on hold
    _times: dict = field(default_factory=dict)
    _days: dict = field(default_factory=dict)

    def __post_init__(self):
        self.received = clock.to_text(self.now)     # the office's receive time of every event

    @classmethod
    def start(cls, conn: sqlite3.Connection, device: devices.Device, now: dt.datetime) -> "Batch":
        held = conn.execute("SELECT held_at FROM devices WHERE device_id = ?", (device.device_id,)).fetchone()[0]
        day_start = clock.to_text(clock.local_midnight(clock.local_date(now)))
        breaches = conn.execute("SELECT count(*) FROM quarantine WHERE device_id = ? AND received_at >= ? "
                                "AND rule <> 'device_on_hold'", (device.device_id, day_start)).fetchone()[0]
        return cls(conn, device, now, policy.offline_policy(conn, device.merchant_id), held is not None, breaches)

    def quarantine(self, event: dict, rule: str, *, card_id: str | None = None, account_id: int | None = None,
                   points: int = 0, value_fen: int = 0, **detail) -> None:
        """Keep ``event`` uncharged for the council, with the rule it broke; count the breach."""
        self.entry_ids[event["seq"]] = None
        self.quarantine_rows.append({
            "device_id": self.device.device_id, "seq": event["seq"], "kind": event["kind"], "card_id": card_id,
            "account_id": account_id, "points": points, "value_fen": value_fen, "rule": rule,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True), "device_time": event["at"],
            "received_at": self.received, "status": "open", "decided_by": None, "decided_at": None, "reason": None})
        if rule == "device_on_hold":
            return
        self.breaches += 1
        if not self.held and self.breaches >= self.pol.breaches_to_hold:
            self.held = self.held_now = True

    def close(self, seq: int, *, by: str, reason: str) -> bool:
        """Mark an event quarantined earlier in this batch as rejected (before it is written)."""
        for row in self.quarantine_rows:
            if row["seq"] == seq and row["status"] == "open":
                row.update(status="rejected", decided_by=by, decided_at=self.received, reason=reason)
                return True
        return False

    def at(self, text: str) -> dt.datetime | None:
        """A stored time parsed once per batch (events of one push share few distinct times); None
        if it is not a real time."""
        if text not in self._times:
            try:
                self._times[text] = clock.from_text(text)
            except ValueError:
                self._times[text] = None
        return self._times[text]

    def day(self, text: str) -> str:
        """The local day (ISO) of a stored time that :meth:`at` parsed."""
        if text not in self._days:
            self._days[text] = clock.local_date(self.at(text)).isoformat()
        return self._days[text]

    def time_rule(self, event: dict) -> str | None:
        """``event_time`` if the event's own time cannot be true: not a real time, before the
        device was enrolled, or later than the office's clock (each with the skew allowance)."""
        at = self.at(event["at"])
        if at is None or at < self.at(self.device.enrolled_at) - SKEW or at > self.now + SKEW:
            return "event_time"
        return None

    def write(self) -> None:
        """Store the quarantined events, one aggregated alert, and the device's hold if it began now."""
        conn = self.conn
        if not self.quarantine_rows:
            return
        conn.executemany("INSERT INTO quarantine (device_id, seq, kind, card_id, account_id, points, value_fen, rule, "
                         "detail, device_time, received_at, status, decided_by, decided_at, reason) VALUES "
                         "(:device_id, :seq, :kind, :card_id, :account_id, :points, :value_fen, :rule, :detail, "
                         ":device_time, :received_at, :status, :decided_by, :decided_at, :reason)",
                         self.quarantine_rows)
        rules: dict[str, int] = {}
        for row in self.quarantine_rows:
            rules[row["rule"]] = rules.get(row["rule"], 0) + 1
        alerts.raise_alert(conn, "quarantined", device_id=self.device.device_id, now=self.now,
                           times=len(self.quarantine_rows),
                           detail={"rules": rules, "device_on_hold": self.held,
                                   "last_seq": self.quarantine_rows[-1]["seq"]})
        if self.held_now:
            conn.execute("UPDATE devices SET held_at = ?, hold_reason = ? WHERE device_id = ? AND held_at IS NULL",
                         (self.received, f"{self.breaches} breaches in one day", self.device.device_id))
