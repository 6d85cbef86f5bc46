"""The store on PostgreSQL (bank.pg): opened by URL, the same schema as SQLite's, clear refusals."""

from __future__ import annotations

import sqlite3

import pytest

from bank import db, pg, schema
from bank.errors import DatabaseError
from tests import pg_kit


def _columns_sqlite(conn) -> dict[str, set[str]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite_%'")]
    return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


def _columns_pg(conn) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for table, column in conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                                      "WHERE table_schema = 'public'"):
        out.setdefault(table, set()).add(column)
    return out


def test_both_engines_have_the_same_tables_and_columns_at_the_same_version(tmp_path, pg_server):
    lite = db.connect(tmp_path / "s.sqlite", create=True)
    name = pg_server.new_database()
    server = db.connect(pg_server.url(name, pg_kit.APP))
    try:
        pg_columns = _columns_pg(server)
        pg_columns.pop("mpb_store")     # the version and application id (SQLite: pragmas)
        for table, columns in pg_columns.items():
            columns.discard("rowid")    # SQLite's own hidden rowid, made visible for ORDER BY rowid
        assert pg_columns == _columns_sqlite(lite)
        assert pg.user_version(server) == lite.execute("PRAGMA user_version").fetchone()[0] == db.schema_version()
    finally:
        lite.close()
        server.close()


def test_an_unreachable_server_is_one_plain_message_without_the_password(pg_server):
    url = f"postgresql://someone:secret@/nowhere?host={pg_server.socket_dir}&port={pg_server.port}"
    with pytest.raises(DatabaseError) as exc:
        db.connect(url)
    # the server says which part is wrong (here: no such user), in one line, never the password
    assert exc.value.zh.startswith("数据库服务器上没有数据库用户 someone") and "\n" not in exc.value.zh
    assert "secret" not in exc.value.zh + exc.value.en and "***" in exc.value.zh


def test_a_database_that_is_not_a_store_is_refused_and_left_alone(pg_server):
    with pg_server.admin() as admin:
        admin.execute("CREATE DATABASE not_ours")
    with pytest.raises(DatabaseError, match="不是道德积分银行的数据库"):
        db.connect(pg_server.url("not_ours"))
    with pg_server.admin() as admin:
        admin.execute("DROP DATABASE not_ours")


def test_create_never_overwrites_a_store(pg_server):
    name = pg_server.new_database()
    with pytest.raises(DatabaseError, match="不会覆盖"):
        db.connect(pg_server.url(name, pg_kit.OWNER), create=True)
    db.connect(pg_server.url(name, pg_kit.APP)).close()     # still there, still current


def test_a_read_only_connection_writes_nothing(pg_server):
    name = pg_server.new_database()
    conn = db.connect(pg_server.url(name, pg_kit.APP), readonly=True)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="read-only"):
            conn.execute("INSERT INTO settings (key, value) VALUES ('x', 'y')")
        assert conn.execute("SELECT count(*) FROM settings").fetchone()[0] == 0
    finally:
        conn.close()


def test_the_application_role_cannot_change_the_schema_version(pg_server):
    conn = db.connect(pg_server.url(pg_server.new_database(), pg_kit.APP))
    try:
        with pytest.raises(sqlite3.DatabaseError, match="permission denied"):
            conn.execute("UPDATE mpb_store SET version = 1")
        assert pg.user_version(conn) == db.schema_version()
    finally:
        conn.close()


def test_a_migration_trigger_without_a_postgresql_form_is_refused():
    step = "CREATE TRIGGER new_rule BEFORE UPDATE ON settings BEGIN SELECT RAISE(ABORT, 'no'); END;"
    with pytest.raises(ValueError, match="new_rule"):
        pg.ddl(next(schema.statements(step)))
    assert "EXECUTE FUNCTION mpb_refuse" in pg.ddl(next(schema.statements(
        "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger_entries "
        "BEGIN SELECT RAISE(ABORT, 'x'); END;")))


def test_queries_are_translated_once_for_postgresql():
    q = pg.translate("SELECT a FROM t WHERE b IS ? AND c IN (SELECT value FROM json_each(?)) AND d LIKE '10%' "
                     "AND e = ?")
    assert q.text == ("SELECT a FROM t WHERE b IS NOT DISTINCT FROM %s AND c = ANY(%s) AND d LIKE '10%%' "
                      "AND e = %s")
    assert q.json_params == (1,)
    named = pg.translate("SELECT x::text FROM t WHERE a = :account LIMIT :limit", named=True)
    assert named.text == "SELECT x::text FROM t WHERE a = %(account)s LIMIT %(limit)s"
    insert = pg.translate("INSERT OR IGNORE INTO compounds (name, buildings) VALUES (?, ?)")
    assert insert.text == ("INSERT INTO compounds (name, buildings) VALUES (%s, %s) ON CONFLICT DO NOTHING "
                           "RETURNING compound_id")


def test_one_writer_at_a_time_and_a_waiting_writer_gives_up_as_busy(pg_server):
    # BEGIN IMMEDIATE keeps its SQLite meaning: the bank's read-check-write steps run alone
    name = pg_server.new_database()
    first = db.connect(pg_server.url(name, pg_kit.APP))
    second = db.connect(pg_server.url(name, pg_kit.APP), busy_timeout=0.2)
    try:
        with db.transaction(first):
            first.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
            with pytest.raises(sqlite3.OperationalError) as exc:
                with db.transaction(second):
                    second.execute("INSERT INTO settings (key, value) VALUES ('b', '2')")
            assert db.is_busy(exc.value)
        with db.transaction(second):
            second.execute("INSERT INTO settings (key, value) VALUES ('b', '2')")
        assert [r[0] for r in first.execute("SELECT key FROM settings ORDER BY key")] == ["a", "b"]
    finally:
        first.close()
        second.close()


def test_a_store_at_an_older_version_is_upgraded_step_by_step_and_read_only_refuses_it(pg_server):
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE older OWNER {pg_kit.OWNER}")
    url = pg_server.url("older", pg_kit.OWNER)
    conn = db.connect(url, create=True, migrate=False)
    for number in range(1, 11):         # the store as version 10 left it
        with db.transaction(conn):
            for statement in schema.statements(schema.MIGRATIONS[number - 1]):
                conn.raw.execute(pg.ddl(statement))
            conn.raw.execute("UPDATE mpb_store SET version = %s", (number,))
    conn.execute("INSERT INTO settings (key, value) VALUES ('kept', 'yes')")
    conn.close()
    with pytest.raises(DatabaseError, match="需要升级"):
        db.connect(url, readonly=True)
    conn = db.connect(url)
    try:
        assert pg.user_version(conn) == db.schema_version()
        assert conn.execute("SELECT value FROM settings WHERE key = 'kept'").fetchone()["value"] == "yes"
        fresh = db.connect(pg_server.url(pg_server.new_database(), pg_kit.APP))
        assert _columns_pg(conn) == _columns_pg(fresh)
        fresh.close()
    finally:
        conn.close()
