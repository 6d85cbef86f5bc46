"""The audit log: who did what in the office console (append-only, like the ledger)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from . import clock

MAX_ROWS = 500


@dataclass(frozen=True)
class AuditRecord:
    audit_id: int
    at: str
    actor: str
    action: str
    target: str
    detail: str


def record(conn: sqlite3.Connection, actor: str, action: str, target: str = "", detail=None, *, now=None) -> int:
    """Write one audit record; ``detail`` is short text or a JSON-able dict."""
    if not isinstance(detail, str):
        detail = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
    return conn.execute("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                        (clock.to_text(now or clock.now_utc()), actor, action, str(target)[:200],
                         detail[:2000])).lastrowid


def search(conn: sqlite3.Connection, *, actor: str = "", action: str = "", text: str = "",
           limit: int = MAX_ROWS) -> list[AuditRecord]:
    """Newest first, filtered by actor (exact), action (prefix) and free text in target/detail."""
    sql = "SELECT audit_id, at, actor, action, target, detail FROM audit_log WHERE 1"
    args: list = []
    if actor:
        sql += " AND actor = ?"
        args.append(actor)
    if action:
        sql += " AND action LIKE ? ESCAPE '\\'"
        args.append(_like_prefix(action) + "%")
    if text:
        sql += " AND (target LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\')"
        args += ["%" + _like_prefix(text) + "%"] * 2
    sql += " ORDER BY audit_id DESC LIMIT ?"
    args.append(limit)
    return [AuditRecord(*row) for row in conn.execute(sql, args)]


def actions(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT action FROM audit_log ORDER BY action")]


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
