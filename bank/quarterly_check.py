"""The quarterly verification run (季度核查): re-check the quarter's ledger and list anomalies.

Every award and deduction is checked against the catalog version in force on its day (item,
points, cap per period); every redemption against its offer (merchant, price); balances that
ended negative are overdrafts; the office's open alerts (chain forks and gaps, clock skew, ...)
are carried in; and unusual redemption patterns are flagged. The council clears anomalies one
by one with a note; a run is kept, so a later run can be compared.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from . import alerts, clock, convention, periods
from .db import transaction
from .errors import InvalidInput, NotFound

KINDS = {
    "wrong_catalog": "记录所用细则版本与当日生效版本不符", "unknown_item": "细则中没有该项目",
    "wrong_points": "分值与细则不符", "over_cap": "超过本期次数上限",
    "wrong_merchant": "兑换商户与兑换项目不符", "wrong_price": "兑换积分与兑换项目不符",
    "overdraft": "余额为负", "busy_card": "同一天兑换次数异常", "alert": "未处理的系统提醒",
}
BUSY_REDEMPTIONS_PER_DAY = 5


@dataclass(frozen=True)
class Anomaly:
    anomaly_id: int
    run_id: int
    kind: str
    account_id: int | None
    entry_id: int | None
    alert_id: int | None
    detail: str
    cleared_at: str | None
    cleared_by: str | None
    clear_note: str | None

    @property
    def kind_name(self) -> str:
        return KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Run:
    run_id: int
    quarter: str
    run_at: str
    run_by: str
    checked_entries: int


def _unreversed(alias: str = "e") -> str:
    return f"NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = {alias}.entry_id)"


def find_anomalies(conn: sqlite3.Connection, quarter: periods.Period) -> tuple[int, list[dict]]:
    """(entries checked, anomalies as dicts) for the quarter; writes nothing."""
    found: list[dict] = []
    rows = conn.execute(
        f"SELECT entry_id, account_id, kind, points, item_code, catalog_version, period_key, recorded_at, "
        f"merchant_id, offer_id, quantity FROM ledger_entries e WHERE recorded_at >= ? AND recorded_at < ? "
        f"AND kind IN ('award', 'deduction', 'redemption') AND {_unreversed()}",
        (quarter.start, quarter.end)).fetchall()
    in_force: dict[dt.date, int] = {}
    offers = {r[0]: r[1:] for r in conn.execute("SELECT offer_id, merchant_id, points, name FROM offers")}
    per_period: dict[tuple, int] = {}
    per_day: dict[tuple, int] = {}
    for (entry_id, account_id, kind, points, item_code, version, period_key, recorded_at,
         merchant_id, offer_id, quantity) in rows:
        day = clock.local_date(clock.from_text(recorded_at))
        if kind == "redemption":
            per_day[(account_id, day)] = per_day.get((account_id, day), 0) + 1
            offer = offers.get(offer_id)
            if offer is None or offer[0] != merchant_id:
                found.append(dict(kind="wrong_merchant", account_id=account_id, entry_id=entry_id,
                                  detail=f"兑换项目 {offer_id} 不属于商户 {merchant_id}"))
            elif -points != offer[1] * (quantity or 1):
                found.append(dict(kind="wrong_price", account_id=account_id, entry_id=entry_id,
                                  detail=f"“{offer[2]}”×{quantity}:记 {-points} 分,现价 {offer[1] * (quantity or 1)} 分"))
            continue
        if day not in in_force:
            try:
                in_force[day] = convention.version_on(conn, day)
            except NotFound:
                in_force[day] = 0
        if version != in_force[day]:
            found.append(dict(kind="wrong_catalog", account_id=account_id, entry_id=entry_id,
                              detail=f"记录用第{version}版,{day} 生效的是第{in_force[day]}版"))
        try:
            item = convention.load(conn, version).item(item_code)
        except NotFound:
            found.append(dict(kind="unknown_item", account_id=account_id, entry_id=entry_id,
                              detail=f"第{version}版细则中没有 {item_code}"))
            continue
        if item.points != points:
            found.append(dict(kind="wrong_points", account_id=account_id, entry_id=entry_id,
                              detail=f"“{item.name}”应为 {item.points:+d} 分,记了 {points:+d} 分"))
        key = (account_id, item_code, period_key)
        per_period[key] = per_period.get(key, 0) + 1
        if item.cap is not None and per_period[key] == item.cap + 1:
            found.append(dict(kind="over_cap", account_id=account_id, entry_id=entry_id,
                              detail=f"“{item.name}”{item.cap_text},{period_key} 已超过"))
    for (account_id, day), count in sorted(per_day.items()):
        if count >= BUSY_REDEMPTIONS_PER_DAY:
            found.append(dict(kind="busy_card", account_id=account_id,
                              detail=f"{day} 兑换 {count} 次"))
    for account_id, bal in conn.execute(
            "SELECT account_id, sum(points) FROM ledger_entries WHERE recorded_at < ? GROUP BY account_id "
            "HAVING sum(points) < 0 ORDER BY account_id", (quarter.end,)):
        found.append(dict(kind="overdraft", account_id=account_id, detail=f"季末余额 {bal} 分"))
    for a in alerts.open_alerts(conn):
        found.append(dict(kind="alert", account_id=a.account_id, alert_id=a.alert_id,
                          detail=f"{alerts.KINDS.get(a.kind, a.kind)} {a.device_id or ''} {a.card_id or ''}".strip()))
    return len(rows), found


def run(conn: sqlite3.Connection, quarter: periods.Period, *, by: str, now=None) -> Run:
    """Run the verification for a quarter and keep its anomalies."""
    if not by:
        raise InvalidInput("必须写明核查人。", "say who runs the verification")
    checked, found = find_anomalies(conn, quarter)
    with transaction(conn):
        run_id = conn.execute("INSERT INTO verification_runs (quarter, run_at, run_by, checked_entries) "
                              "VALUES (?, ?, ?, ?)", (quarter.key, clock.to_text(now or clock.now_utc()), by,
                                                      checked)).lastrowid
        conn.executemany(
            "INSERT INTO anomalies (run_id, kind, account_id, entry_id, alert_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
            [(run_id, a["kind"], a.get("account_id"), a.get("entry_id"), a.get("alert_id"), a["detail"])
             for a in found])
    return get_run(conn, run_id)


def get_run(conn: sqlite3.Connection, run_id: int) -> Run:
    row = conn.execute("SELECT run_id, quarter, run_at, run_by, checked_entries FROM verification_runs "
                       "WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {run_id} 的核查。", f"no verification run {run_id}")
    return Run(*row)


def latest_run(conn: sqlite3.Connection, quarter: str) -> Run | None:
    row = conn.execute("SELECT max(run_id) FROM verification_runs WHERE quarter = ?", (quarter,)).fetchone()
    return get_run(conn, row[0]) if row[0] else None


def anomalies(conn: sqlite3.Connection, run_id: int, *, open_only: bool = False,
              compound_id: int | None = None) -> list[Anomaly]:
    sql = ("SELECT n.anomaly_id, n.run_id, n.kind, n.account_id, n.entry_id, n.alert_id, n.detail, n.cleared_at, "
           "n.cleared_by, n.clear_note FROM anomalies n LEFT JOIN accounts a USING (account_id) WHERE n.run_id = ?")
    args: list = [run_id]
    if open_only:
        sql += " AND n.cleared_at IS NULL"
    if compound_id is not None:
        sql += " AND a.compound_id = ?"
        args.append(compound_id)
    return [Anomaly(*r) for r in conn.execute(sql + " ORDER BY n.anomaly_id", args)]


def clear(conn: sqlite3.Connection, anomaly_id: int, *, by: str, note: str, now=None) -> None:
    """The council has looked at an anomaly and says what was done about it."""
    note = note.strip() if isinstance(note, str) else ""
    if not note or len(note) > 200:
        raise InvalidInput("处理意见不能为空,且不超过200个字。", "a clearing note is 1-200 characters")
    with transaction(conn):
        cur = conn.execute("UPDATE anomalies SET cleared_at = ?, cleared_by = ?, clear_note = ? "
                           "WHERE anomaly_id = ? AND cleared_at IS NULL",
                           (clock.to_text(now or clock.now_utc()), by, note, anomaly_id))
        if cur.rowcount == 0:
            raise NotFound(f"没有未处理的第 {anomaly_id} 号异常。", f"no open anomaly {anomaly_id}")
        alert_id = conn.execute("SELECT alert_id FROM anomalies WHERE anomaly_id = ?", (anomaly_id,)).fetchone()[0]
        if alert_id is not None:
            try:
                alerts.clear_alert(conn, alert_id, by=by, now=now)
            except NotFound:
                pass  # cleared elsewhere meanwhile: nothing left to do


def clear_kind(conn: sqlite3.Connection, run_id: int, kind: str, *, by: str, note: str, now=None) -> int:
    """Clear every open anomaly of one kind in a run with one note (e.g. the quarter's negative
    balances, already known from the boards); returns how many were cleared."""
    open_ids = [a.anomaly_id for a in anomalies(conn, run_id, open_only=True) if a.kind == kind]
    if not open_ids:
        raise NotFound("这一类没有未处理的异常。", f"no open anomalies of kind {kind!r} in run {run_id}")
    with transaction(conn):
        for anomaly_id in open_ids:
            clear(conn, anomaly_id, by=by, note=note, now=now)
    return len(open_ids)


def summary(conn: sqlite3.Connection, run_id: int) -> dict[str, tuple[int, int]]:
    """kind -> (open, total)."""
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT kind, sum(cleared_at IS NULL), count(*) FROM anomalies WHERE run_id = ? GROUP BY kind", (run_id,))}


# A quarter's verification is due within this many days after the quarter ends.
DUE_DAYS = 30
STATUS = {"done": "已核查", "due": "待核查", "overdue": "逾期未核查", "running": "本季度未结束"}


def verification_status(conn: sqlite3.Connection, quarter: periods.Period, now: dt.datetime) -> str:
    """``done`` (a run exists), ``running`` (the quarter is not over), ``due`` (over, less than
    DUE_DAYS ago) or ``overdue`` (not run DUE_DAYS after the quarter ended)."""
    if latest_run(conn, quarter.key) is not None:
        return "done"
    today = clock.local_date(now)
    if today <= quarter.last_day:
        return "running"
    return "overdue" if today > quarter.last_day + dt.timedelta(days=DUE_DAYS) else "due"
