"""The quarantine: device events the office did not charge, waiting for the council.

Settlement keeps every event a device sent; one that breaks a rule is not charged to the
resident but kept here with the rule it broke (:mod:`.tablet_settlement`,
:mod:`.kiosk_settlement`). The council decides each case in the console or with
``python -m office quarantine``: **post** it (it is booked now, recorded as released by whom) or
**reject** it (never charged; the tablet's next pull tells the merchant, whose Today screen shows
the receipt as rejected with the reason). The merchant is never clawed back silently either way.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from bank import alerts, audit, clock, convention, ledger, merchants, objections, recorders, tips
from bank.db import transaction
from bank.errors import BankError, InvalidInput, NotFound

#: rule code -> what the council reads (Chinese); the codes are stable.
RULES: dict[str, str] = {
    "device_on_hold": "设备处于暂停状态,所发事件一律待审核",
    "event_time": "事件时间不可信(早于设备登记或上次同步,或晚于办公室时间)",
    "not_synced": "设备从未同步就记录了兑换",
    "sync_too_old": "距上次同步已超过允许的离线时间",
    "card_unknown": "办公室没有这张卡",
    "card_not_presented": "没有证据表明设备读取了这张卡(可能是复制的设备数据)",
    "staff_card": "工作人员卡不能兑换",
    "card_revoked": "卡已挂失作废(设备同步时应已知道)",
    "card_superseded": "卡已换新,使用了旧卡(设备同步时应已知道)",
    "card_account_closed": "这户已销户或已并入另一户,原卡已停用(设备同步时应已知道)",
    "card_on_hold": "卡因透支已暂停兑换(设备同步时应已知道)",
    "account_inactive": "储户账户已暂停或销户",
    "unknown_offer": "没有这个兑换项目",
    "wrong_merchant": "兑换项目不属于该商户",
    "price": "兑换积分与办公室标价不符",
    "window_closed": "不在该商户的兑换时间内",
    "floor_limit": "超过单笔离线限额,但没有办公室的联网确认",
    "pin_required": "需要储户密码,但没有办公室的联网确认",
    "auth_invalid": "所附的联网确认无效或与兑换不符",
    "daily_cap": "超过这张卡在本机的每日兑换上限",
    "unsynced_cap": "超过本机未同步兑换的总额上限",
    "void_unknown": "撤销的兑换不存在",
    "void_window": "超过允许撤销的时间",
    "staff_not_member": "记录人不是本小区评议小组的在任成员",
    "staff_not_verified": "记录人的身份未经办公室联网核验",
    "account_unknown": "办公室没有这个储户",
    "wrong_compound": "储户不属于该服务点的小区",
    "recusal": "评议员为本户记录,应当回避",
    "second_needed": "需要另一名评议员复核",
    "second_not_verified": "复核评议员的身份未经办公室联网核验",
    "item_points": "细项分值与办公室现行公约不符",
    "item_refused": "台账不能记入(如本期已记满)",
    "posting_closed": "不在公示期内",
    "objection_refused": "异议不能受理",
    "tip_refused": "举报的类别或楼栋不正确",
    "undo_refused": "只能由记录人在当天撤销本人的加扣分",
}
STATUS_NAMES = {"open": "待审核", "posted": "已放行入账", "rejected": "已驳回"}
#: A quarantined event's kind as the console and the command line name it.
KIND_NAMES = {"redemption": "兑换", "reversal": "撤销", "award": "加分", "deduction": "扣分", "objection": "异议",
              "tip": "举报"}


@dataclass(frozen=True)
class Case:
    quarantine_id: int
    device_id: str
    seq: int
    kind: str
    card_id: str | None
    account_id: int | None
    points: int
    value_fen: int
    rule: str
    detail: str
    device_time: str
    received_at: str
    status: str
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    entry_id: int | None

    @property
    def rule_text(self) -> str:
        return RULES.get(self.rule, self.rule)

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    def as_dict(self) -> dict:
        out = dict(vars(self))
        out["id"] = out.pop("quarantine_id")
        out["device"] = out["device_id"]
        out["detail"] = json.loads(self.detail or "{}")
        out["rule_text"] = self.rule_text
        return out


_COLUMNS = ("quarantine_id, device_id, seq, kind, card_id, account_id, points, value_fen, rule, detail, device_time, "
            "received_at, status, decided_by, decided_at, reason, entry_id")


def get(conn: sqlite3.Connection, quarantine_id: int) -> Case:
    row = conn.execute(f"SELECT {_COLUMNS} FROM quarantine WHERE quarantine_id = ?", (quarantine_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有第 {quarantine_id} 号待审核事件。", f"no quarantined event {quarantine_id}")
    return Case(*row)


def search(conn: sqlite3.Connection, *, status: str | None = "open", device_id: str | None = None,
           limit: int = 100, offset: int = 0) -> list[Case]:
    """Cases oldest first; ``status`` None for every status."""
    sql, args = f"SELECT {_COLUMNS} FROM quarantine WHERE 1 = 1", []
    if status is not None:
        sql += " AND status = ?"
        args.append(status)
    if device_id is not None:
        sql += " AND device_id = ?"
        args.append(device_id)
    sql += " ORDER BY quarantine_id LIMIT ? OFFSET ?"
    return [Case(*r) for r in conn.execute(sql, (*args, limit, offset))]


def count(conn: sqlite3.Connection, *, status: str = "open") -> int:
    return conn.execute("SELECT count(*) FROM quarantine WHERE status = ?", (status,)).fetchone()[0]


def _event(conn, case: Case) -> dict:
    row = conn.execute("SELECT body FROM device_events WHERE device_id = ? AND seq = ?",
                       (case.device_id, case.seq)).fetchone()
    return json.loads(row[0])


def _decided(conn, case: Case, status: str, by: str, reason: str, now: dt.datetime, entry_id: int | None) -> Case:
    changed = conn.execute("UPDATE quarantine SET status = ?, decided_by = ?, decided_at = ?, reason = ?, entry_id = ? "
                           "WHERE quarantine_id = ? AND status = 'open'",
                           (status, by, clock.to_text(now), reason, entry_id, case.quarantine_id)).rowcount
    if not changed:
        raise InvalidInput(f"第 {case.quarantine_id} 号事件已经审核过。", f"case {case.quarantine_id} was already decided")
    audit.record(conn, by, f"quarantine_{'post' if status == 'posted' else 'reject'}", f"quarantine:{case.quarantine_id}",
                 {"device": case.device_id, "seq": case.seq, "rule": case.rule, "points": case.points,
                  "reason": reason}, now=now)
    return get(conn, case.quarantine_id)


def _check_by(by: str, reason: str) -> None:
    if not isinstance(by, str) or not by.strip() or len(by) > 40:
        raise InvalidInput("必须写明审核人(不超过40字)。", "say who decides (at most 40 characters)")
    if not isinstance(reason, str) or len(reason) > 200:
        raise InvalidInput("理由不能超过200字。", "a reason is at most 200 characters")


def post(conn: sqlite3.Connection, quarantine_id: int, *, by: str, reason: str = "", now: dt.datetime | None = None) -> Case:
    """Book a quarantined event as it was sent (the council released it); refused with a plain
    reason when the ledger still cannot take it (a closed account, a full cap): reject it then."""
    _check_by(by, reason)
    now = now or clock.now_utc()
    with transaction(conn):
        case = get(conn, quarantine_id)
        if case.status != "open":
            raise InvalidInput(f"第 {quarantine_id} 号事件已经审核过。", f"case {quarantine_id} was already decided")
        event = _event(conn, case)
        try:
            entry_id = _book(conn, case, event, by, now)
        except BankError as exc:
            raise InvalidInput(f"不能放行:{exc.zh} 请驳回。", f"cannot post: {exc.en}; reject it instead") from None
        return _decided(conn, case, "posted", by, reason, now, entry_id)


def reject(conn: sqlite3.Connection, quarantine_id: int, *, by: str, reason: str,
           now: dt.datetime | None = None) -> Case:
    """Never charge a quarantined event; the device's next pull says so, with the reason."""
    _check_by(by, reason)
    if not reason.strip():
        raise InvalidInput("驳回须写明理由(商户会看到)。", "a rejection needs a reason (the merchant sees it)")
    now = now or clock.now_utc()
    with transaction(conn):
        return _decided(conn, get(conn, quarantine_id), "rejected", by, reason.strip(), now, None)


def _book(conn, case: Case, event: dict, by: str, now: dt.datetime) -> int | None:
    body, ref = event["body"], f"dev:{case.device_id}:{case.seq}"
    recorded_by = recorders.of_device(case.device_id, released_by=by)
    if case.kind == "redemption":
        card = conn.execute("SELECT account_id FROM cards WHERE card_id = ? AND version = ?",
                            (body["card"], body["card_version"])).fetchone()
        if card is None:
            raise NotFound("办公室没有这张卡。", f"no card {body['card']} version {body['card_version']}")
        offer = merchants.offer(conn, body["offer"])
        entry_id = ledger.settle_redemptions(conn, [(card[0], offer, body["qty"], body["points"], event["at"], ref)],
                                             recorded_by=recorded_by, device_id=case.device_id, now=now)[ref]
        if entry_id is None:
            raise InvalidInput("储户账户已销户。", "the account is closed")
        balance = ledger.balance(conn, card[0])
        if balance < 0:
            alerts.raise_alert(conn, "overdraft", device_id=case.device_id, account_id=card[0], card_id=body["card"],
                               now=now, detail={"seq": case.seq, "entry_id": entry_id, "balance": balance})
        return entry_id
    if case.kind == "reversal":
        original = ledger.by_ref(conn, f"dev:{case.device_id}:{body['reverses_seq']}")
        if original is None:
            raise NotFound("被撤销的记录没有入账。", "the event it reverses was never booked")
        return ledger.reverse(conn, original.entry_id, recorded_by=recorded_by, note=body["reason"][:200],
                              device_id=case.device_id, device_time=event["at"], now=now, ref=ref).entry_id
    if case.kind in ("award", "deduction"):
        item = convention.in_force(conn, clock.local_date(now)).item(body["item"])
        return ledger.record_item(conn, body["account"], item.code, recorded_by=recorded_by,
                                  device_id=case.device_id, device_time=event["at"], note=body["note"], now=now,
                                  ref=ref).entry_id
    if case.kind == "tip":
        compound = conn.execute("SELECT s.compound_id FROM devices d JOIN service_points s USING (service_point_id) "
                                "WHERE d.device_id = ?", (case.device_id,)).fetchone()
        tips.record_from_kiosk(conn, category=body["category"], building=body["building"], compound_id=compound[0],
                               device_id=case.device_id, now=now)
        return None
    objections.raise_objection(conn, body["account"], reason=body["reason"], entry_id=body["entry"],
                               raised_by=f"一体机 {case.device_id}", source="kiosk", now=now)
    return None


def decisions(conn: sqlite3.Connection, device_id: str, *, days: int = 30, now: dt.datetime) -> list[dict]:
    """What a device's pull tells it about its own quarantined events of the last ``days``."""
    since = clock.to_text(now - dt.timedelta(days=days))
    return [{"seq": r[0], "status": r[1], "rule": r[2], "rule_text": RULES.get(r[2], r[2]), "reason": r[3] or ""}
            for r in conn.execute("SELECT seq, status, rule, reason FROM quarantine WHERE device_id = ? "
                                  "AND received_at >= ? ORDER BY seq", (device_id, since))]


def quarantined_value(conn: sqlite3.Connection, merchant_id: int | None = None) -> dict[str, int]:
    """Goods handed over (fen) in redemptions that are quarantined, by status: the donated-value
    ledger shows them apart from what was booked."""
    sql = ("SELECT q.status, coalesce(sum(q.value_fen), 0) FROM quarantine q JOIN devices d USING (device_id) "
           "WHERE q.kind = 'redemption'")
    args: tuple = ()
    if merchant_id is not None:
        sql += " AND d.merchant_id = ?"
        args = (merchant_id,)
    return dict(conn.execute(sql + " GROUP BY q.status", args).fetchall())
