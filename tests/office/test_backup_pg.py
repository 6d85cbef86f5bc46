"""Backups and restores on PostgreSQL (bank.pg_backup), on a real server (tests/pg_kit.py): a
backup is pg_dump of the store's schema, checked in a throw-away database before it is kept, named
and pruned as on SQLite; a restore is refused while a server serves the community, puts the
backup in a schema of its own and swaps names, keeping the replaced schema; bad input is refused
in plain words. And the restore drill on both engines: after a restore, the devices' next sync
gives back what the backup lacked, nothing twice."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import psycopg
import pytest
from click.testing import CliRunner

from bank import backup, clock, db, district, keystore, ledger, pg_backup
from office.cli import main as office_main
from sync import client
from terminal import redeem as terminal

from tests.sync.kit import build, enrol_tablet, office


def _run(*args):
    return CliRunner().invoke(office_main, [str(a) for a in args])


def _owner(url: str) -> str:
    from tests import pg_kit
    return url.replace(f"{pg_kit.APP}@", f"{pg_kit.OWNER}@")


def _count(url, table="ledger_entries") -> int:
    conn = db.connect(url, migrate=False)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def _fill(url, n):
    conn = db.connect(url)
    with db.transaction(conn):
        for _ in range(n):
            ledger.record_adjustment(conn, 1, 1, recorded_by="test", note="after the backup")
    conn.close()


@pytest.fixture(scope="module")
def single(pg_server, tmp_path_factory):
    """A one-community store (schema public) of the small sync town, as the application role."""
    from tests import pg_kit
    name = pg_server.new_database()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MPB_KEY_DIR", str(tmp_path_factory.mktemp("keys")))
        url = pg_server.url(name, pg_kit.APP)
        town = build(url)
        yield town
    pg_server.drop_database(name)


def test_a_backup_is_the_schema_dumped_checked_named_by_local_time_and_pruned(single, tmp_path):
    owner = _owner(single.path)
    disk = tmp_path / "disk"
    made = []
    for day in range(3):
        now = dt.datetime(2026, 11, 26 + day, 18, 30, tzinfo=clock.UTC)     # 02:30 next day in Chongqing
        path, summary, removed = backup.make_backup(owner, disk, keep=2, now=now)
        made.append(path)
        assert re.fullmatch(rf"t\d+-public-{dt.date(2026, 11, 27 + day):%Y%m%d}-023000\.pgdump", path.name), path.name
        assert (summary.accounts, summary.entries, summary.schema) == (3, 3, db.schema_version())
    assert removed == [made[0]] and sorted(disk.iterdir()) == made[1:]
    assert pg_backup.verify(made[-1], owner).summary.entries == 3
    out = _run("backup", "--db", owner, "--to", disk, "--keep", 2)
    assert out.exit_code == 0 and "检查通过" in out.output and "3 户" in out.output, out.output
    assert len(list(disk.iterdir())) == 2
    # the office's application role may not make the throw-away database the check needs: it says so
    out = _run("backup", "--db", single.path, "--to", tmp_path / "other")
    assert out.exit_code == 1 and "CREATEDB" in out.output and "Traceback" not in out.output, out.output
    assert list((tmp_path / "other").iterdir()) == []


def test_restore_is_refused_while_served_then_swaps_schemas_keeps_the_old_and_regrants(single, tmp_path):
    owner = _owner(single.path)
    path, _s, _r = backup.make_backup(owner, tmp_path / "disk")
    _fill(single.path, 5)
    serving = backup.hold_serving_lock(single.path)          # what a running office server holds
    second = backup.hold_serving_lock(single.path)           # a second server of the store, same process
    try:
        out = _run("restore", "--from", path, "--db", owner, "--yes")
        assert out.exit_code == 1 and "正在使用" in out.output and "systemctl stop" in out.output, out.output
        backup.release_serving_lock(second)
        backup.release_serving_lock(second)                  # given back once, however often it is called
        out = _run("restore", "--from", path, "--db", owner, "--yes")
        assert out.exit_code == 1 and "正在使用" in out.output, out.output   # the first claim still holds
    finally:
        backup.release_serving_lock(serving)
    out = _run("restore", "--from", path, "--db", owner)
    assert out.exit_code == 1 and "--yes" in out.output and "少 5 条台账" in out.output, out.output
    assert _count(single.path) == 8

    out = _run("restore", "--from", path, "--db", owner, "--yes", "--by", "王主任")
    assert out.exit_code == 0, out.output
    (aside,) = re.findall(r"public_replaced_\d{8}_\d{6}", out.output)
    assert _count(single.path) == 3
    conn = db.connect(single.path)          # the application role, granted again
    try:
        assert conn.execute(f"SELECT count(*) FROM {aside}.ledger_entries").fetchone()[0] == 8   # kept
        (row,) = conn.execute("SELECT backup_file, restored_by, replaced_file FROM store_restores").fetchall()
        assert tuple(row) == (str(path), "王主任", f"schema {aside}")
        assert conn.execute("SELECT actor FROM audit_log WHERE action = 'store.restore'").fetchone()[0] == "王主任"
        # each schema's trigger function writes into its own schema's replica_changes
        configs = dict(conn.raw.execute("SELECT n.nspname, p.proconfig FROM pg_proc p JOIN pg_namespace n "
                                        "ON n.oid = p.pronamespace WHERE p.proname = 'mpb_replica_change'").fetchall())
        assert configs == {"public": ["search_path=public"], aside: [f"search_path={aside}"]}, configs
        with db.transaction(conn):
            ledger.record_adjustment(conn, 1, 2, recorded_by="test", note="after the restore")
        with pytest.raises(sqlite3.DatabaseError):      # and still may not rewrite the ledger
            with db.transaction(conn):
                conn.execute("UPDATE ledger_entries SET points = 99")
    finally:
        conn.close()


def test_bad_input_is_refused_in_plain_words(single, tmp_path, monkeypatch):
    owner = _owner(single.path)
    with socket_free_port() as port:
        out = _run("backup", "--db", f"postgresql://mpb_owner@127.0.0.1:{port}/x", "--to", tmp_path / "d")
    assert out.exit_code == 1 and "连不上数据库服务器" in out.output and "Traceback" not in out.output, out.output
    junk = tmp_path / "junk.pgdump"
    junk.write_bytes(b"not a backup at all" * 100)
    out = _run("restore", "--from", junk, "--db", owner, "--yes")
    assert out.exit_code == 1 and "不是 PostgreSQL 备份" in out.output, out.output
    lite = tmp_path / "store.sqlite"
    sqlite3.connect(lite).execute("CREATE TABLE t (x)")
    out = _run("restore", "--from", lite, "--db", owner, "--yes")
    assert out.exit_code == 1 and "SQLite" in out.output and "Traceback" not in out.output, out.output
    dump, _s, _r = backup.make_backup(owner, tmp_path / "disk")
    out = _run("restore", "--from", dump, "--db", tmp_path / "office.sqlite", "--yes")
    assert out.exit_code == 1 and "PostgreSQL 数据库的备份" in out.output, out.output
    assert _count(single.path) >= 3
    monkeypatch.setattr(pg_backup.glob, "glob", lambda pattern: [])   # a machine without the client programs
    monkeypatch.setenv("PATH", str(tmp_path))
    out = _run("backup", "--db", owner, "--to", tmp_path / "d2")
    assert out.exit_code == 1 and "找不到 PostgreSQL 的 pg_dump" in out.output, out.output


class socket_free_port:
    """A local port nothing listens on (bound, never listened on, while the test uses it)."""

    def __enter__(self) -> int:
        import socket
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        return self.s.getsockname()[1]

    def __exit__(self, *exc):
        self.s.close()


def test_a_district_backs_up_every_community_and_refuses_one_restored_over_another(pg_server, tmp_path):
    from tests import pg_kit
    name = "district_backup"
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE {name} OWNER {pg_kit.OWNER}")
    try:
        url = pg_server.url(name, pg_kit.OWNER)
        district.create(url, app_role=pg_kit.APP)
        keys = keystore.KeyStore(tmp_path / "keys")
        for code, cname in (("LH", "龙海社区"), ("AB", "安北社区")):
            district.add_community(url, code=code, name=cname, keys=keys, app_role=pg_kit.APP,
                                   compounds=[district.CompoundPlan(f"{cname}花园", 3, f"{cname}服务点")])
        out = _run("backup", "--db", url, "--to", tmp_path / "disk", "--all")
        assert out.exit_code == 0 and out.output.count("检查通过") == 2, out.output
        files = sorted(p.name for p in (tmp_path / "disk").iterdir())
        assert [f.split("-")[1] for f in files] == ["c_ab", "c_lh"], files
        lh = next((tmp_path / "disk").glob("*-c_lh-*"))
        out = _run("restore", "--from", lh, "--db", url, "--community", "AB", "--yes")
        assert out.exit_code == 1 and "社区 LH" in out.output and "--other-community" in out.output, out.output
        out = _run("restore", "--from", lh, "--db", url, "--community", "LH", "--yes")
        assert out.exit_code == 0 and "c_lh_replaced_" in out.output, out.output
        conn = db.connect(district.community_url(pg_server.url(name, pg_kit.APP), "LH"))
        try:
            assert conn.execute("SELECT value FROM settings WHERE key = 'community.code'").fetchone()[0] == "LH"
        finally:
            conn.close()
        with psycopg.connect(url) as raw:      # the other community was not touched
            assert raw.execute("SELECT count(*) FROM c_ab.store_restores").fetchone()[0] == 0
    finally:
        pg_server.drop_database(name)


def test_a_district_url_without_a_host_keeps_its_two_slashes():
    assert district.community_url("postgresql:///mpb", "LH") == "postgresql:///mpb?options=-c%20search_path%3Dc_lh"
    assert district.directory_url("postgres:///mpb?host=/run/pg").startswith("postgres:///mpb?host=/run/pg&options=")


# --- the restore drill, on both engines -------------------------------------------------------

def _stopped(tc) -> None:
    """The in-process office stopped, as `systemctl stop mpb-office`: its serving claim given up."""
    tc.app.state.release_serving_lock()


@pytest.mark.engines("sqlite", "postgresql")
def test_restore_drill_devices_give_back_what_the_restore_lost_nothing_twice(town, engine, now, tmp_path):
    manage = _owner(town.path) if engine == "postgresql" else town.path
    tc, hub = office(town.path, now)
    with tc:
        noodles = enrol_tablet(town.path, hub, tmp_path / "noodles", town.noodles)
        pharmacy = enrol_tablet(town.path, hub, tmp_path / "pharmacy", town.pharmacy)
        terminal.redeem(noodles, town.rich[2], town.bowl, now=now(), transport=hub)
        terminal.redeem(pharmacy, town.rich[2], town.masks, now=now(), transport=hub)
        for tab in (noodles, pharmacy):
            client.sync_once(tab, hub)
        path, _s, _r = backup.make_backup(manage, tmp_path / "disk")
        now.advance(minutes=5)
        terminal.redeem(noodles, town.rich[2], town.bowl, now=now(), transport=hub)
        terminal.redeem(noodles, town.poor[2], town.bowl, now=now(), transport=hub)
        terminal.redeem(pharmacy, town.poor[2], town.masks, now=now(), transport=hub)
        for tab in (noodles, pharmacy):
            assert client.sync_once(tab, hub).pending == 0
    _stopped(tc)
    out = _run("restore", "--from", path, "--db", manage, "--yes", "--by", "演练")
    assert out.exit_code == 0, out.output
    assert _count(town.path, "device_events") == 2

    now.advance(minutes=5)
    tc, hub = office(town.path, now)
    with tc:
        resent = [client.sync_once(tab, hub).resent for tab in (noodles, pharmacy)]
        assert resent == [2, 1]
        assert all(client.sync_once(tab, hub).resent == 0 for tab in (noodles, pharmacy))
    _stopped(tc)
    conn = db.connect(town.path)
    try:
        assert conn.execute("SELECT count(*) FROM device_events").fetchone()[0] == 5
        assert conn.execute("SELECT ref FROM ledger_entries WHERE ref LIKE 'dev:%' GROUP BY ref "
                            "HAVING count(*) > 1").fetchall() == []
        assert conn.execute("SELECT count(*) FROM device_events WHERE entry_id IS NULL").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM store_restores").fetchone()[0] == 1
    finally:
        conn.close()


def test_a_copy_that_fails_its_checks_is_not_kept_and_a_drill_restores_into_an_empty_database(pg_server, single,
                                                                                             tmp_path):
    from tests import pg_kit
    name = pg_server.new_database()
    try:
        altered = pg_server.url(name, pg_kit.OWNER)
        with psycopg.connect(altered, autocommit=True) as raw:
            raw.execute("DROP TRIGGER ledger_no_update ON ledger_entries")
        with pytest.raises(backup.BackupError) as exc:
            backup.make_backup(altered, tmp_path / "disk")
        assert "ledger_no_update" in exc.value.en and list((tmp_path / "disk").iterdir()) == []
    finally:
        pg_server.drop_database(name)
    dump, _s, _r = backup.make_backup(_owner(single.path), tmp_path / "disk")
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE drill OWNER {pg_kit.OWNER}")
    try:
        drill = pg_server.url("drill", pg_kit.OWNER)
        out = _run("restore", "--from", dump, "--db", drill)
        assert out.exit_code == 1 and "现在没有数据库" in out.output, out.output
        out = _run("restore", "--from", dump, "--db", drill, "--yes", "--by", "演练")
        assert out.exit_code == 0, out.output
        assert _count(drill) == _count(single.path)
    finally:
        pg_server.drop_database("drill")
