"""No table of a device's replica is queried outside sync.replica: the apps' engines, flows and the
device kit call its functions, so the replica's schema can change in one module."""

from __future__ import annotations

import re
from pathlib import Path

from sync import replica

ROOT = Path(__file__).resolve().parents[2]


def _tables() -> set[str]:
    return {m for step in replica.MIGRATIONS for m in re.findall(r"CREATE TABLE (\w+)", step)}


def test_the_replica_knows_its_tables():
    assert {"accounts", "outbox", "kiosk_entries", "kiosk_households", "tablet_receipt_lines"} <= _tables()


def test_no_replica_table_is_queried_outside_the_replica_module():
    sql = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(\w+)", re.IGNORECASE)
    offenders = []
    for package in ("device", "terminal", "kiosk"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                named = {t for t in sql.findall(line) if t in _tables()}
                if named and ("execute" in line or '"' in line or "'" in line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {sorted(named)}")
    assert offenders == []
