"""Tips (举报): reports of misconduct received by the office, and how each was followed up."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import accounts, clock
from .errors import InvalidInput, NotFound

CHANNELS = {"phone": "电话", "visit": "来访", "letter": "信件", "kiosk": "一体机", "other": "其他"}
STATUSES = {"open": "待处理", "following": "跟进中", "closed": "已办结"}
MAX_TEXT = 500
# What a resident may report at a kiosk without typing: a list to choose from (the convention's
# breaches, in the words people use). The code travels in the kiosk's event; the name is stored.
CATEGORIES = {
    "litter": "乱扔垃圾、随地吐痰",
    "noise": "噪音扰民、深夜喧哗",
    "hallway": "占用楼道、私搭乱建",
    "throwing": "高空抛物",
    "dogs": "不文明养犬",
    "quarrel": "打架斗殴、辱骂邻居",
    "elders": "不赡养老人、家庭暴力",
    "other": "其他不文明行为",
}


@dataclass(frozen=True)
class Tip:
    tip_id: int
    received_at: str
    channel: str
    compound_id: int | None
    account_id: int | None
    content: str
    status: str
    follow_up: str
    recorded_by: str
    updated_at: str


def _text(value, zh, en, limit=MAX_TEXT, required=True) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if (required and not value) or len(value) > limit:
        raise InvalidInput(f"{zh}不能为空,且不超过{limit}个字。", f"{en} must be 1-{limit} characters")
    return value


def record(conn: sqlite3.Connection, *, channel: str, content: str, recorded_by: str,
           compound_id: int | None = None, account_id: int | None = None, now=None) -> int:
    if channel not in CHANNELS:
        raise InvalidInput("举报渠道不正确。", f"unknown channel {channel!r}")
    content = _text(content, "举报内容", "content")
    if account_id is not None:
        acct = accounts.get(conn, account_id)
        compound_id = compound_id or acct.compound_id
    if compound_id is not None and not conn.execute("SELECT 1 FROM compounds WHERE compound_id = ?",
                                                    (compound_id,)).fetchone():
        raise NotFound(f"没有编号为 {compound_id} 的小区。", f"no compound {compound_id}")
    at = clock.to_text(now or clock.now_utc())
    return conn.execute("INSERT INTO tips (received_at, channel, compound_id, account_id, content, recorded_by, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (at, channel, compound_id, account_id, content, recorded_by, at)).lastrowid


def kiosk_content(category: str, building: int | None) -> str:
    """The text a kiosk tip is stored with: its category and, if the resident chose one, the building."""
    if category not in CATEGORIES:
        raise InvalidInput("举报类别不正确。", f"unknown tip category {category!r}")
    return f"【{CATEGORIES[category]}】" + (f"{building}栋" if building is not None else "未指定楼栋")


def record_from_kiosk(conn: sqlite3.Connection, *, category: str, building: int | None, compound_id: int,
                      device_id: str, now=None) -> int:
    """An anonymous tip chosen at a kiosk (a category, optionally a building of its compound)."""
    content = kiosk_content(category, building)
    if building is not None:
        row = conn.execute("SELECT buildings FROM compounds WHERE compound_id = ?", (compound_id,)).fetchone()
        if row is None or not (type(building) is int and 1 <= building <= row[0]):
            raise InvalidInput("本小区没有这个楼栋。", f"compound {compound_id} has no building {building!r}")
    return record(conn, channel="kiosk", content=content, recorded_by=f"一体机 {device_id}",
                  compound_id=compound_id, now=now)


def follow_up(conn: sqlite3.Connection, tip_id: int, *, status: str, note: str, by: str, now=None) -> None:
    """Add a follow-up note (kept, dated) and set the status."""
    if status not in STATUSES:
        raise InvalidInput("处理状态不正确。", f"unknown status {status!r}")
    note = _text(note, "跟进情况", "follow-up note", 200)
    tip = get(conn, tip_id)
    if tip.status == "closed":
        raise InvalidInput("该举报已办结。", f"tip {tip_id} is closed")
    now = now or clock.now_utc()
    at = clock.to_text(now)
    # The note is read as it is stored: dated in the community's time, not UTC.
    text = (tip.follow_up + "\n" if tip.follow_up else "") + f"{clock.local(now):%Y-%m-%d %H:%M} {by}:{note}"
    conn.execute("UPDATE tips SET status = ?, follow_up = ?, updated_at = ? WHERE tip_id = ?",
                 (status, text[-4000:], at, tip_id))


def get(conn: sqlite3.Connection, tip_id: int) -> Tip:
    row = conn.execute("SELECT * FROM tips WHERE tip_id = ?", (tip_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {tip_id} 的举报。", f"no tip {tip_id}")
    return Tip(*row)


def search(conn: sqlite3.Connection, *, status: str = "", compound_id: int | None = None, limit: int = 500) -> list[Tip]:
    sql, args = "SELECT * FROM tips WHERE 1 = 1", []
    if status:
        sql += " AND status = ?"
        args.append(status)
    if compound_id is not None:
        sql += " AND compound_id = ?"
        args.append(compound_id)
    return [Tip(*r) for r in conn.execute(sql + " ORDER BY tip_id DESC LIMIT ?", (*args, limit))]
