"""Backups of a community store, their checks, and restoring one.

A backup is an online copy made with SQLite's backup API while the office server keeps running
(WAL: readers and the writer carry on during the copy), checked before it is kept: SQLite's
``integrity_check``, our ``application_id``, the schema exactly as the migrations make it (the
ledger's append-only triggers included), foreign keys, every device's chain whole and its head
where the devices table says, every settled event's ledger entry carrying its ref, and every
account's balance read through the covering index the apps use equal to the sum over the ledger's
rows. A copy that fails any of these is deleted and reported, never kept as a backup.

Restoring replaces the store of record, so it refuses while the store is in use (the office
server holds a shared ``flock`` on ``<store>.lock`` for as long as it serves, see
:func:`hold_serving_lock`), says what it will replace, and sets the replaced store aside, never
deleting it. It then records the restore in the restored store (``store_restores``: the new pull
cursor epoch) and moves every device's replay mark (``devices.last_request_time``) up to what the
replaced store had, or the restore time: a request captured before the restore must not become
acceptable again because the restored copy remembers an older one.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import re
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from . import audit, clock
from .db import APPLICATION_ID, connect, is_url, shown, transaction
from .db import location as db_location
from .devices import GENESIS
from .errors import BankError
from .schema import MIGRATIONS, statements

SUFFIX = ".sqlite"
_STAMPED = re.compile(r"(\d{8}-\d{6})(?:-(\d+))?\.sqlite")


class BackupError(BankError):
    code = "backup"


@dataclass(frozen=True)
class Summary:
    """What a store holds, for people deciding whether to restore it."""

    schema: int
    accounts: int
    entries: int
    last_entry_at: str | None       # UTC text of the newest ledger entry
    device_events: int
    devices: int
    size: int

    def describe(self) -> str:
        """One line in Chinese with local times."""
        last = "无" if self.last_entry_at is None else clock.local(clock.from_text(self.last_entry_at)).strftime(
            "%Y-%m-%d %H:%M")
        return (f"{self.accounts} 户, {self.entries} 条台账(最新一条 {last}), {self.device_events} 条设备记录, "
                f"{self.devices} 台设备, 第 {self.schema} 版, {self.size / 1e6:.1f} MB")

    def as_dict(self) -> dict:
        return asdict(self)


def summarize(conn: sqlite3.Connection, path: Path) -> Summary:
    one = lambda sql: conn.execute(sql).fetchone()[0]   # noqa: E731
    return Summary(one("PRAGMA user_version"), one("SELECT count(*) FROM accounts"),
                   one("SELECT count(*) FROM ledger_entries"), one("SELECT max(recorded_at) FROM ledger_entries"),
                   one("SELECT count(*) FROM device_events"), one("SELECT count(*) FROM devices"),
                   _size(path))


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


# --- checking a copy ----------------------------------------------------------------------------

def _schema_of(conn: sqlite3.Connection) -> set[tuple]:
    return set(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


def expected_schema(version: int) -> set[tuple]:
    """The schema the migration steps make at ``version`` (triggers, indexes and all)."""
    mem = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for script in MIGRATIONS[:version]:
            for statement in statements(script):
                mem.execute(statement)
        return _schema_of(mem)
    finally:
        mem.close()


def problems(conn: sqlite3.Connection) -> list[str]:
    """Everything wrong with a store (empty: none), cheapest checks first, in English."""
    found: list[str] = []
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        return ["not a Moral Points Bank store (application_id)"]
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
    if rows != ["ok"]:
        return ["integrity_check: " + " ".join(" ".join(rows).split())[:300]]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if not 1 <= version <= len(MIGRATIONS):
        return [f"schema version {version} unknown to this program"]
    have, want = _schema_of(conn), expected_schema(version)
    if have != want:
        missing = sorted(name for _t, name, _tb, _s in want - have)
        extra = sorted(name for _t, name, _tb, _s in have - want)
        return [f"schema differs from version {version}: missing or changed {missing}, unexpected {extra}"]
    if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
        found.append("foreign key check fails")
    bad_heads = conn.execute(
        "SELECT d.device_id FROM devices d LEFT JOIN device_events e ON e.device_id = d.device_id AND e.seq = d.last_seq "
        "WHERE d.last_seq <> (SELECT coalesce(max(seq), 0) FROM device_events x WHERE x.device_id = d.device_id) "
        "OR (d.last_seq = 0 AND d.last_hash <> ?) OR (d.last_seq > 0 AND (e.hash IS NULL OR e.hash <> d.last_hash))",
        (GENESIS,)).fetchall()
    if bad_heads:
        found.append(f"device chain heads do not match their events: {[r[0] for r in bad_heads][:10]}")
    broken = conn.execute(
        "SELECT count(*) FROM device_events e LEFT JOIN device_events p ON p.device_id = e.device_id "
        "AND p.seq = e.seq - 1 WHERE (e.seq = 1 AND e.prev_hash <> ?) OR (e.seq > 1 AND (p.hash IS NULL "
        "OR p.hash <> e.prev_hash))", (GENESIS,)).fetchone()[0]
    if broken:
        found.append(f"{broken} device events do not follow the one before them")
    unlinked = conn.execute(
        "SELECT count(*) FROM device_events d JOIN ledger_entries l ON l.entry_id = d.entry_id "
        "WHERE l.ref IS NOT 'dev:' || d.device_id || ':' || d.seq").fetchone()[0]
    if unlinked:
        found.append(f"{unlinked} settled device events point at a ledger entry without their ref")
    drift = conn.execute(
        "SELECT count(*) FROM (SELECT account_id, sum(points) AS s FROM ledger_entries INDEXED BY ledger_by_account "
        "GROUP BY account_id) i FULL JOIN (SELECT account_id, sum(points) AS s FROM ledger_entries NOT INDEXED "
        "GROUP BY account_id) t USING (account_id) WHERE i.s IS NOT t.s").fetchone()[0]
    if drift:
        found.append(f"{drift} account balances read through the index differ from the sum of their entries")
    return found


def verify(path: str | Path) -> Summary:
    """Check a backup file (read-only); its summary, or BackupError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}。", f"backup file not found: {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"备份文件 {path} 无法打开。", f"cannot open {path}: {exc}") from None
    try:
        found = problems(conn)
        if found:
            raise BackupError(f"备份文件 {path} 检查不通过,不能使用:{found[0]}",
                              f"backup {path} fails its checks: {'; '.join(found)}")
        return summarize(conn, path)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"备份文件 {path} 已损坏,不能使用。", f"backup {path} is damaged: {exc}") from None
    finally:
        conn.close()


# --- making a backup ----------------------------------------------------------------------------

def backup_name(db_path: Path, now: dt.datetime) -> str:
    """``<store name>-YYYYmmdd-HHMMSS.sqlite`` in local time: sorts by time, reads as time."""
    return f"{db_path.stem}-{clock.local(now).strftime('%Y%m%d-%H%M%S')}{SUFFIX}"


def backups_in(to_dir: Path, db_path: Path) -> list[Path]:
    """This store's backups in ``to_dir``, oldest first."""
    prefix = db_path.stem + "-"
    found = []
    for p in to_dir.iterdir() if to_dir.is_dir() else ():
        m = _STAMPED.fullmatch(p.name[len(prefix):]) if p.name.startswith(prefix) else None
        if m and p.is_file():
            found.append(((m.group(1), int(m.group(2) or 1)), p))
    return [p for _key, p in sorted(found)]


def make_backup(db_path: str | Path, to_dir: str | Path, *, keep: int | None = None,
                now: dt.datetime | None = None) -> tuple[Path, Summary, list[Path]]:
    """Copy the store online into ``to_dir``, check the copy, keep it; prune to the newest ``keep``.

    Returns (the backup, its summary, the backups removed). The copy is written under a
    ``.partial`` name, checked, flushed to disk and only then renamed into place, so a backup
    that exists is a backup that passed. A ``postgresql://`` URL: bank.pg_backup (pg_dump of
    the URL's schema, checked the same way).
    """
    if is_url(db_path):
        from . import pg_backup
        return pg_backup.make_backup(db_path, to_dir, keep=keep, now=now)
    db_path, to_dir = Path(db_path), Path(to_dir)
    now = now or clock.now_utc()
    if keep is not None and keep < 1:
        raise BackupError("保留份数至少为1。", "--keep must be at least 1")
    if not db_path.is_file():
        raise BackupError(f"找不到数据库文件:{db_path}", f"database file not found: {db_path}")
    try:
        to_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"无法建立备份目录 {to_dir}。", f"cannot create {to_dir}: {exc.strerror}") from None
    if to_dir.resolve() == db_path.resolve().parent:
        raise BackupError("备份目录不能是数据库所在的目录,请用另一块硬盘上的目录。",
                          "the backup directory must not be the store's own directory: use a second disk")
    base = backup_name(db_path, now).removesuffix(SUFFIX)
    final, n = to_dir / (base + SUFFIX), 1
    while final.exists():          # two backups in one second
        n += 1
        final = to_dir / f"{base}-{n}{SUFFIX}"
    partial = to_dir / (final.name + ".partial")
    try:
        _copy(db_path, partial)
        summary = verify(partial)
        _fsync(partial)
        os.replace(partial, final)
        _fsync_dir(to_dir)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    removed = []
    if keep is not None:
        # The copy just made is never pruned, even when a clock set back names it before the
        # others: it is the one copy known to hold today's store.
        others = [p for p in backups_in(to_dir, db_path) if p != final]
        for old in others[:max(len(others) - (keep - 1), 0)]:
            old.unlink()
            removed.append(old)
    return final, Summary(**{**summary.as_dict(), "size": final.stat().st_size}), removed


def _copy(src_path: Path, dst_path: Path) -> None:
    """SQLite's online backup, in one step (a consistent snapshot), into a self-contained file."""
    try:
        src = sqlite3.connect(f"{src_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"无法打开数据库 {src_path}。", f"cannot open {src_path}: {exc}") from None
    try:
        if src.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise BackupError(f"这不是道德积分银行的数据库:{src_path}", f"not a Moral Points Bank database: {src_path}")
        dst = sqlite3.connect(dst_path)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")   # one file, no -wal beside it
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"备份失败:{exc}", f"backup failed: {exc}") from None
    except OSError as exc:
        raise BackupError(f"备份失败,无法写入 {dst_path.parent}:{exc.strerror}",
                          f"backup failed writing {dst_path}: {exc}") from None
    finally:
        src.close()


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the store in use ---------------------------------------------------------------------------

def lock_path(db_path: str | Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".lock")


# On PostgreSQL there is no file to lock: the claim is a session-level advisory lock, held by one
# connection the server keeps open for its whole life (the lock goes with the session, so a server
# killed with -9 leaves no stale claim behind). It is keyed per schema, because a district store
# holds one community per schema and a restore replaces one community. The two-integer key form
# is another key space than bank.pg's one-integer write lock, so the two never collide.
SERVING_LOCK_CLASS = 0x4D50         # "MP": the class half of the key; the schema's CRC-32 is the other


class ServingLock:
    """A URL store's serving claim: one shared advisory lock taken on the process's claims session
    for that database (:class:`_Claims`); :meth:`close` gives it back (idempotent)."""

    def __init__(self, claims: _Claims, schema: str, key: int):
        self.claims, self.schema, self.key = claims, schema, key
        self.held = True

    def close(self) -> None:
        if self.held:
            self.held = False
            self.claims.release(self.key)


class _Claims:
    """One session per database holding every serving claim of this process: a district server
    of 200 communities (each worker process claiming each) would otherwise keep 200 sessions per
    worker open just to hold locks, past PostgreSQL's default of 100 connections. Session-level
    advisory locks stack: a claim taken twice is released twice."""

    _all: dict[str, _Claims] = {}
    _guard = threading.Lock()

    def __init__(self, base: str):
        self.base, self.conn, self.count = base, None, 0

    @classmethod
    def of(cls, url: str) -> _Claims:
        from psycopg import conninfo
        params = conninfo.conninfo_to_dict(url)
        params.pop("options", None)
        base = conninfo.make_conninfo(**params)
        with cls._guard:
            return cls._all.setdefault(base, cls(base))

    def take(self, key: int) -> bool:
        import psycopg
        with self._guard:
            if self.conn is None:
                try:
                    self.conn = psycopg.connect(self.base, autocommit=True)
                except psycopg.Error as exc:
                    from .pg import connect_problem, safe_url
                    raise connect_problem(exc, safe_url(self.base)) from None
            if not self.conn.execute("SELECT pg_try_advisory_lock_shared(%s, %s)",
                                     (SERVING_LOCK_CLASS, key)).fetchone()[0]:
                self._close_if_idle()
                return False
            self.count += 1
            return True

    def release(self, key: int) -> None:
        with self._guard:
            if self.conn is None:
                return
            try:
                self.conn.execute("SELECT pg_advisory_unlock_shared(%s, %s)", (SERVING_LOCK_CLASS, key))
            except Exception:   # noqa: BLE001 - a lost session has released every claim already
                self.count = 1
            self.count -= 1
            self._close_if_idle()

    def _close_if_idle(self) -> None:
        if self.count == 0 and self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()


def _schema_of_url(url: str) -> str:
    """The schema a store URL's connections use: its search_path option's first name, else public."""
    from psycopg import conninfo
    found = re.search(r"search_path\s*=\s*([A-Za-z_][\w$]*)", conninfo.conninfo_to_dict(url).get("options") or "")
    return found[1] if found else "public"


def _key_of(schema: str) -> int:
    import zlib
    crc = zlib.crc32(schema.encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _lock_key(conn) -> tuple[str, int]:
    schema = conn.raw.execute("SELECT current_schema()").fetchone()[0]
    if schema is None:
        raise BackupError("数据库连接没有可用的模式(search_path),请检查数据库地址。",
                          "the connection has no current schema (check search_path in the URL)")
    return schema, _key_of(schema)


def _try_lock(conn, shared: bool) -> bool:
    _, key = _lock_key(conn)
    function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    return conn.raw.execute(f"SELECT {function}(%s, %s)", (SERVING_LOCK_CLASS, key)).fetchone()[0]


def hold_serving_lock(db_path: str | Path):
    """The office server's claim on its store, for as long as the process lives (several servers
    of one store may share it). Refused while a restore holds it exclusively.

    A SQLite store: a shared flock on ``<store>.lock``; returns the descriptor. A ``postgresql://``
    store: a shared session-level advisory lock on the URL's schema, on the one session this
    process keeps for its claims on that database; returns a :class:`ServingLock`. Either way
    :func:`release_serving_lock` gives the claim up."""
    if is_url(db_path):
        schema = _schema_of_url(str(db_path))
        claims = _Claims.of(str(db_path))
        if not claims.take(_key_of(schema)):
            raise _being_restored()
        return ServingLock(claims, schema, _key_of(schema))
    fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise _being_restored() from None
        raise
    return fd


def release_serving_lock(handle) -> None:
    """Give up what :func:`hold_serving_lock` returned (idempotent for a URL store's lock)."""
    if isinstance(handle, ServingLock):
        handle.close()
    else:
        os.close(handle)


def _being_restored() -> BackupError:
    return BackupError("数据库正在恢复中,请等恢复完成后再启动办公室服务。",
                       "the store is being restored: start the office server when the restore is done")


def _in_use(shown: str) -> BackupError:
    return BackupError("办公室服务正在使用这个数据库,不能恢复。请先停止服务(systemctl stop mpb-office),再恢复。",
                       f"{shown} is in use by a running office server: stop it first (systemctl stop mpb-office)")


@contextmanager
def exclusive(db_path: str | Path):
    """Hold the store for a restore: no server may be serving it, nor start while we work.

    On PostgreSQL: the exclusive advisory lock of the URL's schema, on a connection of its own
    that this context keeps open (yields that connection, a bank.pg.Connection)."""
    if is_url(db_path):
        conn = connect(db_path, migrate=False)
        try:
            if not _try_lock(conn, shared=False):
                raise _in_use(shown(db_path))
            yield conn
        finally:
            conn.close()        # the session's advisory lock goes with it
        return
    db_path = Path(db_path)
    fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _in_use(str(db_path)) from None
        if db_path.exists():
            _no_writer(db_path)
        yield
    finally:
        os.close(fd)


def check_not_in_use(db_path: str | Path) -> None:
    """Refuse now (BackupError) if a server serves the store (a SQLite file or a URL's schema) or,
    for a SQLite file, a process is writing it."""
    if is_url(db_path):      # the URL's schema may hold no store yet (a restore drill)
        from . import pg_backup
        with pg_backup.exclusive(db_path):
            return
    with exclusive(db_location(db_path)):
        pass


def _no_writer(db_path: Path) -> None:
    """A second guard beside the lock file: a process writing the store right now (a command line,
    a server of an older version) holds SQLite's write lock."""
    try:
        conn = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return          # unreadable: nothing can be writing it through SQLite either
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError("另一个程序正在写这个数据库,不能恢复。请先停止办公室服务和其他命令。",
                              f"another process is writing {db_path}: stop it first") from None
    except sqlite3.DatabaseError:
        pass            # damaged: it is what is being replaced
    finally:
        conn.close()


# --- restoring ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RestorePlan:
    backup: Path
    backup_summary: Summary
    db_path: Path
    current: Summary | None          # None: no store there, or not readable
    current_problem: str | None      # why the current store could not be read

    def describe(self) -> list[str]:
        lines = [f"将用备份 {self.backup} 恢复 {self.db_path} (restore {self.backup} over {self.db_path}):",
                 f"  备份 (backup):       {self.backup_summary.describe()}"]
        if self.current is not None:
            lines.append(f"  将被替换 (replaced): {self.current.describe()}")
            lost = self.current.entries - self.backup_summary.entries
            if lost > 0:
                lines.append(f"  备份比现在少 {lost} 条台账;设备上报过的会在下次同步时重新上传,"
                             "办公室自己录入的需要人工补录 (office-made entries since the backup must be re-entered)")
        elif self.current_problem:
            lines.append(f"  现在的数据库无法读取 (current store unreadable): {self.current_problem}")
        else:
            lines.append("  现在没有数据库 (no store there now)")
        lines.append("  现在的数据库会改名保留,不会删除 (the replaced store is set aside, never deleted)")
        return lines


def plan_restore(backup_file: str | Path, db_path: str | Path, *, allow_other: bool = False) -> RestorePlan:
    """Check the backup and read what it would replace; nothing is written. A ``postgresql://``
    URL: bank.pg_backup (``allow_other``: a backup of another community may replace this one)."""
    if is_url(db_path):
        from . import pg_backup
        return pg_backup.plan_restore(backup_file, db_path, allow_other=allow_other)
    backup_file, db_path = Path(backup_file), Path(db_path)
    if _starts_with(backup_file, b"PGDMP"):
        raise BackupError(f"{backup_file} 是 PostgreSQL 数据库的备份,不能恢复到 SQLite 文件。",
                          f"{backup_file} is a backup of a PostgreSQL store: it cannot be restored into a SQLite file")
    summary = verify(backup_file)
    current, problem = None, None
    if db_path.exists():
        try:
            conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                    problem = "not a Moral Points Bank store"
                else:
                    current = summarize(conn, db_path)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            problem = str(exc)
    return RestorePlan(backup_file, summary, db_path, current, problem)


def _starts_with(path: Path, magic: bytes) -> bool:
    """Whether a file begins with a format's magic bytes (a PostgreSQL dump, a SQLite file)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False


def restore(plan: RestorePlan, *, by: str, now: dt.datetime | None = None) -> Path | None:
    """Replace the store by the backup of ``plan``; return where the replaced store was set aside.

    Refuses while the store is in use. The backup is copied (SQLite's backup API) beside the
    store, flushed, renamed into place; then the restore is recorded in it.
    """
    if is_url(getattr(plan, "url", None)):
        from . import pg_backup
        return pg_backup.restore(plan, by=by, now=now)
    if not by.strip():
        raise BackupError("必须写明操作人。", "say who restores (--by)")
    now = now or clock.now_utc()
    db_path = plan.db_path
    with exclusive(db_path):
        plan = plan_restore(plan.backup, db_path)          # again, under the lock
        replay_marks = _replay_marks(db_path) if plan.current is not None else {}
        aside = None
        partial = db_path.with_name(db_path.name + ".restoring")
        try:
            _copy(plan.backup, partial)
            _fsync(partial)
            if db_path.exists():
                aside = _set_aside(db_path, now)
            os.replace(partial, db_path)
            _fsync_dir(db_path.parent)
        finally:
            partial.unlink(missing_ok=True)
        conn = connect(db_path)           # brings a backup of an older version up to date
        try:
            with transaction(conn):
                record_restore(conn, plan, None if aside is None else str(aside), replay_marks, by, now)
        finally:
            conn.close()
    return aside


def _replay_marks(db_path: Path) -> dict[str, str]:
    """Each device's last accepted request time in the store being replaced (if readable)."""
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return {d: t for d, t in conn.execute("SELECT device_id, last_request_time FROM devices") if t}
        finally:
            conn.close()
    except sqlite3.Error:
        return {}


def _set_aside(db_path: Path, now: dt.datetime) -> Path:
    """Rename the store (with its -wal and -shm, which belong to it) out of the way."""
    stamp = clock.local(now).strftime("%Y%m%d-%H%M%S")
    aside = db_path.with_name(f"{db_path.name}.replaced-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = db_path.with_name(f"{db_path.name}.replaced-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):
        side = Path(f"{db_path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{aside}{suffix}"))
    os.replace(db_path, aside)
    return aside


def new_epoch(conn, *, by: str, now: dt.datetime, source: str, source_summary: str,
              replaced: str | None = None, replaced_summary: str | None = None,
              marks: dict[str, str] | None = None) -> str:
    """The store lost or may lose rows it once had (a restore, a failover): a new pull-cursor epoch
    in ``store_restores``, so a device's cursor from before is no delta base (its next pull is a full
    one), and every device's replay mark at least ``now`` or its mark from before (``marks``), so a
    request captured before is not accepted again. Returns the epoch."""
    floor = clock.to_text(now)
    marks = marks or {}
    for device_id, last in conn.execute("SELECT device_id, last_request_time FROM devices").fetchall():
        mark = max(t for t in (last, marks.get(device_id), floor) if t)
        conn.execute("UPDATE devices SET last_request_time = ? WHERE device_id = ?", (mark, device_id))
    epoch = secrets.token_hex(6)
    conn.execute("INSERT INTO store_restores (restored_at, epoch, backup_file, backup_summary, replaced_file, "
                 "replaced_summary, restored_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (floor, epoch, source, source_summary, replaced, replaced_summary, by))
    return epoch


def record_restore(conn, plan, replaced: str | None, marks: dict[str, str], by: str, now: dt.datetime,
                   **detail) -> None:
    """Record a restore of ``plan`` (either engine's): its new epoch and its audit record."""
    epoch = new_epoch(conn, by=by, now=now, source=str(plan.backup),
                      source_summary=json.dumps(plan.backup_summary.as_dict()), replaced=replaced,
                      replaced_summary=None if plan.current is None else json.dumps(plan.current.as_dict()),
                      marks=marks)
    audit.record(conn, by, "store.restore", str(plan.db_path),
                 {"backup": str(plan.backup), "replaced": replaced, "epoch": epoch, **detail}, now=now)


__all__ = ["BackupError", "Summary", "make_backup", "verify", "problems", "plan_restore", "restore",
           "hold_serving_lock", "release_serving_lock", "ServingLock", "lock_path", "backups_in"]
