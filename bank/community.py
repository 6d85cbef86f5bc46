"""The community itself: its code and name, settings, compounds, service points, review groups."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import settings
from .errors import NotFound


@dataclass(frozen=True)
class Compound:
    compound_id: int
    name: str
    buildings: int


def found(conn: sqlite3.Connection, *, code: str, name: str) -> None:
    """Name a new store's community (``code`` goes into every card, e.g. 'LH')."""
    settings.put(conn, "community.code", code)
    settings.put(conn, "community.name", name)


def code(conn: sqlite3.Connection) -> str:
    value = settings.get(conn, "community.code")
    if value is None:
        raise NotFound("数据库中尚未建立社区。", "this database has no community yet")
    return value


def name(conn: sqlite3.Connection) -> str:
    return settings.get(conn, "community.name") or ""


def add_compound(conn: sqlite3.Connection, name: str, buildings: int, *,
                 service_point: str, address: str = "") -> int:
    """A compound, with its party-service point and its review group."""
    cid = conn.execute("INSERT INTO compounds (name, buildings) VALUES (?, ?)",
                       (name, buildings)).lastrowid
    conn.execute("INSERT INTO service_points (compound_id, name, address) VALUES (?, ?, ?)",
                 (cid, service_point, address))
    conn.execute("INSERT INTO review_groups (compound_id, name) VALUES (?, ?)",
                 (cid, f"{name}道德评议小组"))
    return cid


def compounds(conn: sqlite3.Connection) -> list[Compound]:
    return [Compound(*row) for row in conn.execute(
        "SELECT compound_id, name, buildings FROM compounds ORDER BY compound_id")]
