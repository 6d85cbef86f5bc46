"""Backups: an online copy, checked before it is kept (a damaged or altered store gives no backup),
named by local time, pruned to the newest N; restore: refused while the store is in use, says what
it replaces and wants --yes, keeps the replaced store, records itself (a new pull cursor epoch)
and keeps every device's replay mark."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading

import pytest
from click.testing import CliRunner

from bank import backup, clock, db, ledger
from office.cli import main as office_main
from sync import home
from sync import client, replica

from tests.sync.kit import enrol_tablet


def _run(*args):
    return CliRunner().invoke(office_main, [str(a) for a in args])


def _fill(path, n=50):
    conn = db.connect(path)
    with db.transaction(conn):
        aid = conn.execute("SELECT min(account_id) FROM accounts").fetchone()[0]
        for i in range(n):
            ledger.record_adjustment(conn, aid, 1 + i % 3, recorded_by="test", note="fill")
    conn.close()


def test_backup_is_checked_named_by_local_time_and_pruned_to_keep(town, tmp_path):
    disk = tmp_path / "second-disk"
    other = disk / "other-2026.sqlite"           # not a backup of this store: never pruned
    disk.mkdir()
    other.write_bytes(b"x")
    made = []
    for day in range(4):
        now = dt.datetime(2026, 11, 26 + day, 18, 30, tzinfo=clock.UTC)   # 02:30 next day in Chongqing
        path, summary, removed = backup.make_backup(town.path, disk, keep=3, now=now)
        made.append(path)
        assert path.name == f"office-{(dt.date(2026, 11, 27) + dt.timedelta(days=day)):%Y%m%d}-023000.sqlite"
        assert summary.accounts == 3 and summary.entries == 3 and summary.schema == db.schema_version()
    assert removed == [made[0]] and not made[0].exists()
    assert sorted(p.name for p in disk.iterdir()) == sorted([p.name for p in made[1:]] + [other.name])
    assert backup.verify(made[-1]).entries == 3
    again, _s, _r = backup.make_backup(town.path, disk, keep=3, now=now)   # same second: a second name
    assert again != made[-1] and again.exists() and made[-1].exists()
    out = _run("backup", "--db", town.path, "--to", disk, "--keep", 2)
    assert out.exit_code == 0 and "检查通过" in out.output and "3 户" in out.output, out.output
    assert len(backup.backups_in(disk, town.path)) == 2 and other.exists()


def test_backup_while_the_store_is_written_is_a_consistent_snapshot(town, tmp_path):
    _fill(town.path, 200)
    stop = threading.Event()

    def writer():
        conn = db.connect(town.path)
        while not stop.is_set():
            with db.transaction(conn):
                for _ in range(20):
                    ledger.record_adjustment(conn, town.rich[0], 1, recorded_by="test", note="busy")
        conn.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        paths = [backup.make_backup(town.path, tmp_path / "disk", now=clock.now_utc() + dt.timedelta(seconds=i))[0]
                 for i in range(5)]
    finally:
        stop.set()
        t.join()
    counts = [backup.verify(p).entries for p in paths]
    assert counts == sorted(counts) and counts[-1] > counts[0] >= 203   # copies of a store that kept growing
    for p in paths:      # whole transactions only: 20 entries at a time after the first 203
        assert (backup.verify(p).entries - 203) % 20 == 0


def _damaged(town, tmp_path, how: str):
    copy = tmp_path / f"{how}.sqlite"
    src, dst = sqlite3.connect(town.path), sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    if how == "trigger dropped":
        dst.execute("DROP TRIGGER ledger_no_update")
    elif how == "chain head moved":
        dst.execute("UPDATE devices SET last_seq = last_seq + 1")
    elif how == "foreign file":
        dst.execute("PRAGMA application_id = 7")
    elif how == "event unlinked":       # the trigger put back afterwards: only the chain is wrong
        trigger = dst.execute("SELECT sql FROM sqlite_master WHERE name = 'device_events_no_update'").fetchone()[0]
        dst.execute("DROP TRIGGER device_events_no_update")
        dst.execute("UPDATE device_events SET prev_hash = CASE substr(prev_hash, 1, 1) WHEN '1' THEN '2' ELSE '1' END "
                    "|| substr(prev_hash, 2) WHERE seq = 2")
        dst.execute(trigger)
    dst.commit()
    dst.execute("PRAGMA journal_mode=DELETE")
    dst.close()
    if how == "pages damaged":
        data = bytearray(copy.read_bytes())
        for at in range(4096, len(data) - 4096, 8192):
            data[at:at + 850] = b"\x5a" * 850
        copy.write_bytes(bytes(data))
    elif how == "truncated":
        copy.write_bytes(copy.read_bytes()[: len(copy.read_bytes()) // 2])
    return copy


@pytest.mark.parametrize("how, says", [
    ("trigger dropped", "schema differs"), ("chain head moved", "chain heads"), ("foreign file", "application_id"),
    ("event unlinked", "do not follow"), ("pages damaged", ""), ("truncated", "")])
def test_a_damaged_or_altered_store_is_never_kept_as_a_backup_nor_restored(town, hub, tmp_path, how, says):
    tab = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    from terminal import redeem as engine
    for _ in range(3):
        engine.redeem(tab, town.rich[2], town.bowl, now=clock.now_utc(), transport=hub)
    _fill(town.path, 300)
    bad = _damaged(town, tmp_path, how)
    with pytest.raises(backup.BackupError) as exc:
        backup.verify(bad)
    assert says in exc.value.en, exc.value.en
    disk = tmp_path / "disk"
    with pytest.raises(backup.BackupError):        # the bad store itself: no backup of it is kept
        backup.make_backup(bad, disk)
    assert not disk.exists() or list(disk.iterdir()) == []
    target = tmp_path / "restored.sqlite"
    out = _run("restore", "--from", bad, "--db", target, "--yes")
    assert out.exit_code == 1 and "不能使用" in out.output and "Traceback" not in out.output, out.output
    assert not target.exists()


def _store_with_a_device(town):
    """The town with an enrolled tablet (straight in the store) that has made requests."""
    from bank import devices
    conn = db.connect(town.path)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, merchant_id=town.noodles)
        device = devices.enrol(conn, code, home.public_bytes(home.new_key()))
        conn.execute("UPDATE devices SET last_request_time = ?", (clock.to_text(clock.now_utc()),))
    conn.close()
    return device.device_id


def _mark(path):
    conn = db.connect(path)
    try:
        return conn.execute("SELECT last_request_time FROM devices").fetchone()[0]
    finally:
        conn.close()


def test_restore_says_what_it_replaces_wants_yes_and_keeps_the_replaced_store(town, tmp_path):
    _store_with_a_device(town)
    path, _summary, _removed = backup.make_backup(town.path, tmp_path / "disk")
    _fill(town.path, 11)
    conn = db.connect(town.path)
    with db.transaction(conn):       # requests accepted after the backup was made
        conn.execute("UPDATE devices SET last_request_time = ?",
                     (clock.to_text(clock.now_utc() + dt.timedelta(hours=1)),))
    conn.close()
    mark = _mark(town.path)
    before = town.path.read_bytes()

    out = _run("restore", "--from", path, "--db", town.path)
    assert out.exit_code == 1 and "--yes" in out.output
    assert "3 条台账" in out.output and "14 条台账" in out.output and "少 11 条台账" in out.output, out.output
    assert town.path.read_bytes() == before

    out = _run("restore", "--from", path, "--db", town.path, "--yes", "--by", "王主任")
    assert out.exit_code == 0, out.output
    (aside,) = [p for p in town.path.parent.iterdir() if ".replaced-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert str(aside) in out.output
    conn = db.connect(aside)
    assert conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0] == 14
    conn.close()
    conn = db.connect(town.path)
    try:
        assert conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0] == 3
        (restored,) = conn.execute("SELECT backup_file, restored_by, replaced_file, epoch FROM store_restores").fetchall()
        assert restored[:3] == (str(path), "王主任", str(aside)) and restored[3]
        # a request captured before the restore is no fresher to the restored store than it was
        assert conn.execute("SELECT last_request_time FROM devices").fetchone()[0] == mark
        assert conn.execute("SELECT actor FROM audit_log WHERE action = 'store.restore'").fetchone()[0] == "王主任"
    finally:
        conn.close()


def test_restore_over_an_unreadable_store_moves_replay_marks_to_the_restore_time(town, tmp_path):
    _store_with_a_device(town)
    path, _summary, _removed = backup.make_backup(town.path, tmp_path / "disk")
    old_mark = _mark(town.path)
    town.path.write_bytes(b"\0" * 10000)              # the disk failed
    out = _run("restore", "--from", path, "--db", town.path)
    assert "无法读取" in out.output and out.exit_code == 1
    started = clock.to_text(clock.now_utc())
    assert _run("restore", "--from", path, "--db", town.path, "--yes").exit_code == 0
    assert _mark(town.path) >= started > old_mark


def test_restore_is_refused_while_a_server_serves_the_store_and_a_server_waits_for_a_restore(town, tmp_path):
    path, _s, _r = backup.make_backup(town.path, tmp_path / "disk")
    serving = backup.hold_serving_lock(town.path)       # what a running office server holds
    try:
        for args in (("restore", "--from", path, "--db", town.path), ("restore", "--from", path, "--db", town.path, "--yes")):
            out = _run(*args)
            assert out.exit_code == 1 and "正在使用" in out.output and "systemctl stop" in out.output, out.output
    finally:
        os.close(serving)
    from office.server import create_app
    with backup.exclusive(town.path):
        with pytest.raises(backup.BackupError) as exc:
            create_app(town.path)
        assert "恢复" in exc.value.zh
    assert _run("restore", "--from", path, "--db", town.path, "--yes").exit_code == 0


def test_restore_is_refused_while_another_process_writes_the_store(town, tmp_path):
    path, _s, _r = backup.make_backup(town.path, tmp_path / "disk")
    writer = sqlite3.connect(town.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        out = _run("restore", "--from", path, "--db", town.path, "--yes")
        assert out.exit_code == 1 and "正在写" in out.output
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_pull_cursor_from_before_a_restore_never_passes_for_a_delta_base(town, hub, tmp_path):
    tab = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    conn = tab.replica()
    assert client.sync_once(tab, hub).pulled == "delta"
    old_cursor = replica.state(conn, "cursor")
    db_conn = db.connect(town.path)
    with db.transaction(db_conn):     # what restore() writes into the restored store
        db_conn.execute("INSERT INTO store_restores (restored_at, epoch, backup_file, backup_summary, restored_by) "
                        "VALUES (?, 'a1b2c3', 'x.sqlite', '{}', 'test')", (clock.to_text(clock.now_utc()),))
    db_conn.close()
    result = client.sync_once(tab, hub)
    assert result.pulled == "full" and result.cursor.endswith(".Ra1b2c3") and result.cursor != old_cursor
    assert client.sync_once(tab, hub).pulled == "delta"
    replica.set_state(conn, cursor=old_cursor)            # a cursor of the store before the restore
    assert client.sync_once(tab, hub).pulled == "full"


def test_the_copy_just_made_is_kept_when_the_clock_was_set_back(town, tmp_path):
    """A PC whose clock ran ahead and was corrected names today's copy before the older ones:
    pruning keeps the newest copy anyway (it is the only one holding today's store)."""
    disk = tmp_path / "second-disk"
    ahead = dt.datetime(2026, 12, 20, 18, 30, tzinfo=clock.UTC)
    first, _s, _r = backup.make_backup(town.path, disk, keep=2, now=ahead)
    second, _s, _r = backup.make_backup(town.path, disk, keep=2, now=ahead + dt.timedelta(days=1))
    corrected = dt.datetime(2026, 12, 1, 18, 30, tzinfo=clock.UTC)
    today, _s, removed = backup.make_backup(town.path, disk, keep=2, now=corrected)
    assert today.exists() and removed == [first]
    assert sorted(backup.backups_in(disk, town.path)) == sorted([today, second])
