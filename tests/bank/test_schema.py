"""Storage: schema version, upgrades from databases saved at every earlier version, refusals."""

import shutil
import sqlite3
from pathlib import Path

import pytest

from bank import db
from bank.errors import DatabaseError
from bank.schema import MIGRATIONS

DATA = Path(__file__).parent / "data"
SAVED = sorted(DATA.glob("schema_v*.sqlite"), key=lambda p: int(p.stem.split("_v")[1]))


def all_columns(conn, table: str) -> str:
    """'1, 2, …' over every column: a stable order that works for WITHOUT ROWID tables too."""
    width = len(conn.execute(f"SELECT * FROM {table} LIMIT 0").description)
    return ", ".join(map(str, range(1, width + 1)))


def test_a_fixture_exists_for_every_earlier_version():
    assert [int(p.stem.split("_v")[1]) for p in SAVED] == list(range(1, len(MIGRATIONS)))


@pytest.mark.parametrize("saved", SAVED, ids=lambda p: p.stem)
def test_upgrade_from_every_saved_version_keeps_the_data(saved, tmp_path):
    path = tmp_path / saved.name
    shutil.copy(saved, path)
    before = sqlite3.connect(path)
    tables = [r[0] for r in before.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    rows = {t: before.execute(f"SELECT * FROM {t} ORDER BY {all_columns(before, t)}").fetchall() for t in tables}
    # A later step may add columns to a table: the data of the columns that were there must stay.
    columns = {t: [r[1] for r in before.execute(f"PRAGMA table_info({t})")] for t in tables}
    before.close()
    conn = db.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.schema_version()
    for table, content in rows.items():
        old = ", ".join(columns[table])
        order = ", ".join(map(str, range(1, len(columns[table]) + 1)))
        assert [tuple(r) for r in conn.execute(f"SELECT {old} FROM {table} ORDER BY {order}")] == content, table
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the upgraded store has the append-only guard in place
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"ledger_no_update", "ledger_no_delete"} <= triggers


def test_a_failing_step_leaves_the_store_at_its_old_version(tmp_path):
    path = tmp_path / "v1.sqlite"
    shutil.copy(DATA / "schema_v1.sqlite", path)
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE offers (x)")  # collides with step 2
    raw.commit()
    raw.close()
    with pytest.raises(DatabaseError):
        db.connect(path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
    assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'catalog_versions'").fetchone()[0] == 0


def test_store_pragmas(tmp_path):
    conn = db.connect(tmp_path / "s.sqlite", create=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_refuses_missing_foreign_and_non_sqlite_files(tmp_path):
    with pytest.raises(DatabaseError, match="not found"):
        db.connect(tmp_path / "missing.sqlite")
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a database\n" * 100)
    with pytest.raises(DatabaseError):
        db.connect(text)
    assert text.read_text().startswith("hello")
    foreign = tmp_path / "foreign.sqlite"
    other = sqlite3.connect(foreign)
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    with pytest.raises(DatabaseError, match="not a Moral Points Bank"):
        db.connect(foreign)


def test_refuses_to_overwrite_and_to_open_a_newer_schema(tmp_path):
    path = tmp_path / "s.sqlite"
    db.connect(path, create=True).close()
    with pytest.raises(DatabaseError, match="already exists"):
        db.connect(path, create=True)
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={db.schema_version() + 1}")
    raw.close()
    with pytest.raises(DatabaseError, match="newer"):
        db.connect(path)


def test_readonly_refuses_an_old_schema_without_touching_it(tmp_path):
    path = tmp_path / "v1.sqlite"
    shutil.copy(DATA / "schema_v1.sqlite", path)
    with pytest.raises(DatabaseError, match="migrate"):
        db.connect(path, readonly=True)
    assert path.read_bytes() == (DATA / "schema_v1.sqlite").read_bytes()


def test_step_17_lets_a_district_user_in_and_still_refuses_an_unknown_role(tmp_path):
    path = tmp_path / "v16.sqlite"
    shutil.copy(DATA / "schema_v16.sqlite", path)
    conn = db.connect(path)
    add = "INSERT INTO console_users (name, role, password_hash, created_at) VALUES (?, ?, 'x', '2026-01-01')"
    conn.execute(add, ("区王", "district"))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(add, ("某人", "nobody"))
    conn.close()
    other = db.connect(path)        # a connection opened after the upgrade reads the wider rule too
    other.execute(add, ("区李", "district"))
    assert other.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
