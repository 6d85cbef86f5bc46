"""Alerts for the office, and card holds: what settlement and sync found that people must decide.

An alert is never a silent repair: a forked or broken device chain, a forged or foreign event, an
overdraft found at settlement, a device clock that is off. An overdraft also puts the card on
hold (the deny list sent to every device) until the office clears it, if the community's policy
says so (setting ``settlement.hold_on_overdraft``, default on).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from . import cards, clock, settings
from .errors import InvalidInput, NotFound

KINDS = {
    "chain_fork": "设备事件链分叉", "chain_gap": "设备事件链断档", "chain_broken": "设备事件链不连续",
    "foreign_event": "事件不属于该设备", "wrong_merchant": "商户为其他商户记录兑换",
    "unsettled_event": "事件无法入账", "overdraft": "兑换后余额为负", "clock_skew": "设备时钟偏差",
    "price_mismatch": "兑换积分与办公室标价不符", "attempts_locked": "密码错误次数过多,已锁定",
    "quarantined": "事件违反规则,已暂扣待审核",
    "revoked_card_used": "设备同步后挂失的卡被使用(已入账)",
    "device_behind": "设备缺少办公室已收到的事件(设备数据是旧副本)",
    "office_behind": "办公室缺少已确认过的设备事件(办公室数据从旧备份恢复?)",
}


@dataclass(frozen=True)
class Alert:
    alert_id: int
    raised_at: str
    kind: str
    device_id: str | None
    account_id: int | None
    card_id: str | None
    detail: str
    cleared_at: str | None
    cleared_by: str | None
    count: int = 1            # how many times it was raised while open
    last_at: str | None = None

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, self.kind)


_SELECT = ("SELECT alert_id, raised_at, kind, device_id, account_id, card_id, detail, cleared_at, cleared_by, "
           "count, coalesce(last_at, raised_at) FROM alerts")


def _agg_key(kind: str, device_id: str | None, account_id: int | None, card_id: str | None,
             subject: str | None) -> str:
    """One open alert per device and kind; without a device, per account, card or subject and kind."""
    if device_id is not None:
        return f"{kind}|d:{device_id}"
    return f"{kind}|a:{account_id}|c:{card_id}|s:{subject}"


def raise_alert(conn: sqlite3.Connection, kind: str, *, device_id: str | None = None,
                account_id: int | None = None, card_id: str | None = None, detail=None, now=None,
                times: int = 1, subject: str | None = None) -> int:
    """Record an alert, or count it again on the open alert of the same device and kind.

    ``detail`` is a short text or a JSON-able dict; a repeat keeps the first alert's account and
    card and takes the latest detail; ``times`` counts several at once; ``subject`` tells apart
    alerts of one kind with no device, account or card (a user name, a client address). Returns
    the alert's id.
    A device that breaks rules a thousand times makes one alert with a count of 1,000, not a
    thousand rows.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    if not isinstance(detail, str):
        detail = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
    at = clock.to_text(now or clock.now_utc())
    key = _agg_key(kind, device_id, account_id, card_id, subject)
    row = conn.execute("UPDATE alerts SET count = count + ?, last_at = ?, detail = ? "
                       "WHERE agg_key = ? AND cleared_at IS NULL RETURNING alert_id",
                       (times, at, detail[:2000], key)).fetchone()
    if row is not None:
        return row[0]
    return conn.execute("INSERT INTO alerts (raised_at, kind, device_id, account_id, card_id, detail, last_at, "
                        "agg_key, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (at, kind, device_id, account_id, card_id, detail[:2000], at, key, times)).lastrowid


def raise_once(conn: sqlite3.Connection, kind: str, *, device_id: str, detail=None, now=None) -> int | None:
    """Raise an alert of ``kind`` for a device unless one is still open; the new id, or None.

    For what a device reports at every sync until a person has looked (a missing range of events):
    one alert to act on, not one per sync.
    """
    if conn.execute("SELECT 1 FROM alerts WHERE kind = ? AND device_id = ? AND cleared_at IS NULL",
                    (kind, device_id)).fetchone():
        return None
    return raise_alert(conn, kind, device_id=device_id, detail=detail, now=now)


def open_alerts(conn: sqlite3.Connection, kind: str | None = None, *, device_id: str | None = None,
                limit: int | None = None, offset: int = 0) -> list[Alert]:
    """Open alerts, oldest first; ``limit``/``offset`` page them."""
    sql, args = _SELECT + " WHERE cleared_at IS NULL", []
    if kind is not None:
        sql += " AND kind = ?"
        args.append(kind)
    if device_id is not None:
        sql += " AND device_id = ?"
        args.append(device_id)
    sql += " ORDER BY alert_id"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        args += [limit, offset]
    return [Alert(*row) for row in conn.execute(sql, args)]


def open_count(conn: sqlite3.Connection, *, device_id: str | None = None) -> int:
    """How many alerts are open (for a device, or in all)."""
    if device_id is None:
        return conn.execute("SELECT count(*) FROM alerts WHERE cleared_at IS NULL").fetchone()[0]
    return conn.execute("SELECT count(*) FROM alerts WHERE cleared_at IS NULL AND device_id = ?",
                        (device_id,)).fetchone()[0]


def clear_alert(conn: sqlite3.Connection, alert_id: int, *, by: str, now=None) -> None:
    cur = conn.execute("UPDATE alerts SET cleared_at = ?, cleared_by = ? WHERE alert_id = ? AND cleared_at IS NULL",
                       (clock.to_text(now or clock.now_utc()), by, alert_id))
    if cur.rowcount == 0:
        raise NotFound(f"没有未处理的第 {alert_id} 号提醒。", f"no open alert {alert_id}")


def clear_many(conn: sqlite3.Connection, alert_ids: list[int], *, by: str, now=None) -> int:
    """Clear several open alerts at once; returns how many were open."""
    if not by:
        raise InvalidInput("必须写明处理人。", "say who clears the alerts")
    at = clock.to_text(now or clock.now_utc())
    return conn.execute("UPDATE alerts SET cleared_at = ?, cleared_by = ? WHERE cleared_at IS NULL AND alert_id IN "
                        "(SELECT value FROM json_each(?))", (at, by, json.dumps(list(alert_ids)))).rowcount


# --- card holds (deny list entries placed by settlement) -------------------------------------

def hold_on_overdraft(conn: sqlite3.Connection) -> bool:
    return settings.get(conn, "settlement.hold_on_overdraft")


def place_hold(conn: sqlite3.Connection, card_id: str, account_id: int, *, reason: str,
               alert_id: int | None = None, now=None) -> bool:
    """Hold a card (once: a card already on hold stays on its first hold). True if placed now."""
    if conn.execute("SELECT 1 FROM card_holds WHERE card_id = ? AND cleared_at IS NULL", (card_id,)).fetchone():
        return False
    conn.execute("INSERT INTO card_holds (card_id, account_id, reason, alert_id, placed_at) VALUES (?, ?, ?, ?, ?)",
                 (card_id, account_id, reason, alert_id, clock.to_text(now or clock.now_utc())))
    return True


def clear_hold(conn: sqlite3.Connection, card_id: str, *, by: str, now=None) -> None:
    if not by:
        raise InvalidInput("必须写明处理人。", "say who clears the hold")
    cur = conn.execute("UPDATE card_holds SET cleared_at = ?, cleared_by = ? WHERE card_id = ? AND cleared_at IS NULL",
                       (clock.to_text(now or clock.now_utc()), by, card_id))
    if cur.rowcount == 0:
        raise NotFound(f"卡 {card_id} 没有被暂停。", f"card {card_id} is not on hold")


def deny_list(conn: sqlite3.Connection) -> list[tuple[str, int, str]]:
    """Every (card_id, version, reason) a device must refuse: versions that ended (reason as in
    :func:`bank.cardcode.ended`: superseded, revoked, closed, merged:<account>), and the current
    version of every held card (reason 'hold')."""
    rows = cards.ended_versions(conn)
    rows += [(r[0], r[1], "hold") for r in conn.execute(
        "SELECT h.card_id, max(c.version) FROM card_holds h JOIN cards c ON c.card_id = h.card_id "
        "WHERE h.cleared_at IS NULL GROUP BY h.card_id")]
    return sorted(rows)
