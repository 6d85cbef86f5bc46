"""Helpers for import tests: real .xlsx files written with openpyxl, and a small community store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from bank import cards, clock, community, convention, db

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=clock.UTC)


def xlsx(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> Path:
    """Write a workbook: each sheet's rows as given (None = an empty cell), then its merged ranges."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row, 1):
                if value is not None:
                    ws.cell(r, c, value)
        for rng in (merges or {}).get(title, []):
            ws.merge_cells(rng)
    wb.save(path)
    return path


def make_community(path: Path) -> Path:
    """Two compounds (龙海花园 with 9 buildings, 康居小区 with 8), an issuing key, the convention."""
    conn = db.connect(path, create=True)
    with db.transaction(conn):
        community.found(conn, code="LH", name="龙海社区")
        cards.create_issuing_key(conn, now=T0)
        convention.install(conn, convention.load_file(), effective_from=dt.date(2025, 1, 1), now=T0)
        community.add_compound(conn, "龙海花园", 9, service_point="龙海花园党群服务点")
        community.add_compound(conn, "康居小区", 8, service_point="康居小区党群服务点")
    conn.close()
    return path


def counts(path: Path) -> dict[str, int]:
    """How many rows each table an import writes holds (to show that nothing was written)."""
    conn = db.connect(path, readonly=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("accounts", "members", "cards", "merchants", "offers", "redemption_windows",
                          "ledger_entries", "audit_log")}
    finally:
        conn.close()
