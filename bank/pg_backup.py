"""Backups of a community store on PostgreSQL, their checks, and restoring one.

The PostgreSQL side of bank.backup (which dispatches here on a ``postgresql://`` URL, so the
``office backup`` and ``office restore`` commands are the same on both engines).

A backup is ``pg_dump --format=custom`` of the URL's schema only (one community of a district
store, bank.district, or ``public`` for a store of its own), taken in the snapshot of a repeatable
read transaction whose counts are read at the same moment. It is written under a ``.partial`` name
and checked before it gets its final name: ``pg_restore --list`` reads it, it is restored into a
throw-away database (dropped afterwards: this is why the backup's role needs CREATEDB), opened
there and checked as bank.backup checks a SQLite copy (schema version, the tables and triggers the
migrations make, device chains, settled events' refs, balances by index against the ledger), and
its counts must equal those read in the dump's snapshot. Names and retention are SQLite's:
``<database>-<schema>-YYYYmmdd-HHMMSS.pgdump`` in local time, the newest N kept.

A restore takes the schema's exclusive serving lock (bank.backup: refused while a server serves
the community), restores the backup into a new schema (through the throw-away database, where it
is checked again and renamed, since pg_restore cannot rename a schema), then in one transaction
renames the current schema ``<schema>_replaced_<stamp>`` (never dropped) and the new one into its
place, grants the application roles, records the restore and keeps the devices' replay marks, as
on SQLite.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

from . import clock, pg
from .backup import BackupError, RestorePlan, Summary, _starts_with, expected_schema, record_restore
from .devices import GENESIS
from .errors import DatabaseError
from .schema import MIGRATIONS

SUFFIX = ".pgdump"
_STAMPED = re.compile(r"(\d{8}-\d{6})(?:-(\d+))?\.pgdump")
TOOL_TIMEOUT_S = 3600


# --- the PostgreSQL client programs -----------------------------------------------------------

def tool(name: str) -> str:
    """The path of pg_dump or pg_restore: Debian keeps them out of PATH, under
    /usr/lib/postgresql/N/bin (the newest N: it reads dumps of every older server); else PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4])
                   if p.split("/")[4].isdigit() else 0)
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise BackupError(f"找不到 PostgreSQL 的 {name} 程序,请先安装:apt-get install postgresql-client-15",
                      f"the PostgreSQL program {name} was not found: apt-get install postgresql-client-15")


def _params(url: str) -> dict:
    try:
        return conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise pg.connect_problem(exc, pg.safe_url(url)) from None


def _tool_args(url: str, *, dbname: str | None = None) -> tuple[str, dict]:
    """(a conninfo for a client program, its environment): the password goes by environment,
    never on a command line another user could read in the process list; the URL's
    ``options`` (a community's search_path) are the program's business, not ours."""
    params = _params(url)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = password
    params.pop("options", None)
    if dbname is not None:
        params["dbname"] = dbname
    params.setdefault("connect_timeout", str(pg.CONNECT_TIMEOUT_S))
    return conninfo.make_conninfo(**params), env


def _run(cmd: list[str], env: dict, what: str) -> str:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what}超时。", f"{what}: timed out") from None
    if done.returncode != 0:
        detail = " ".join(done.stderr.split())[:500]
        raise BackupError(f"{what}失败:{detail}", f"{what} failed: {detail}")
    return done.stdout


# --- the checks -----------------------------------------------------------------------------

def _names(conn) -> dict[str, set[str]]:
    raw = conn.raw
    tables = {r[0] for r in raw.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    triggers = {r[0] for r in raw.execute(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal")}
    indexes = {r[0] for r in raw.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    return {"table": tables - {"mpb_store"}, "trigger": triggers, "index": indexes}


def problems(conn) -> list[str]:
    """Everything wrong with a store on PostgreSQL (empty: none), in English: bank.backup.problems
    for this engine (foreign keys and the file's integrity are PostgreSQL's own business here:
    pg_restore refuses a dump that breaks a constraint)."""
    raw = conn.raw
    if raw.execute("SELECT to_regclass('mpb_store') IS NULL").fetchone()[0]:
        return ["not a Moral Points Bank store (no mpb_store)"]
    row = raw.execute("SELECT application_id, version FROM mpb_store").fetchone()
    if row is None or row[0] != pg.APPLICATION_ID:
        return ["not a Moral Points Bank store (application_id)"]
    version = row[1]
    if not 1 <= version <= len(MIGRATIONS):
        return [f"schema version {version} unknown to this program"]
    want: dict[str, set[str]] = {"table": set(), "trigger": set(), "index": set()}
    for kind, name, _t, _s in expected_schema(version):
        want[kind].add(name)
    have = _names(conn)
    for kind in ("table", "trigger"):
        if have[kind] != want[kind]:
            return [f"schema differs from version {version}: missing {kind}s {sorted(want[kind] - have[kind])}, "
                    f"unexpected {sorted(have[kind] - want[kind])}"]
    if want["index"] - have["index"]:
        return [f"schema differs from version {version}: missing indexes {sorted(want['index'] - have['index'])}"]
    found = []
    one = lambda q, *p: raw.execute(q, p).fetchone()[0]    # noqa: E731
    bad_heads = raw.execute(
        "SELECT d.device_id FROM devices d LEFT JOIN device_events e ON e.device_id = d.device_id AND e.seq = d.last_seq "
        "WHERE d.last_seq <> (SELECT coalesce(max(seq), 0) FROM device_events x WHERE x.device_id = d.device_id) "
        "OR (d.last_seq = 0 AND d.last_hash <> %s) OR (d.last_seq > 0 AND (e.hash IS NULL OR e.hash <> d.last_hash))",
        (GENESIS,)).fetchall()
    if bad_heads:
        found.append(f"device chain heads do not match their events: {[r[0] for r in bad_heads][:10]}")
    broken = one("SELECT count(*) FROM device_events e LEFT JOIN device_events p ON p.device_id = e.device_id "
                 "AND p.seq = e.seq - 1 WHERE (e.seq = 1 AND e.prev_hash <> %s) OR (e.seq > 1 AND (p.hash IS NULL "
                 "OR p.hash <> e.prev_hash))", GENESIS)
    if broken:
        found.append(f"{broken} device events do not follow the one before them")
    unlinked = one("SELECT count(*) FROM device_events d JOIN ledger_entries l ON l.entry_id = d.entry_id "
                   "WHERE l.ref IS DISTINCT FROM 'dev:' || d.device_id || ':' || d.seq")
    if unlinked:
        found.append(f"{unlinked} settled device events point at a ledger entry without their ref")
    sums = "SELECT account_id, sum(points) FROM ledger_entries GROUP BY account_id"
    with raw.transaction():     # balances as the apps read them (the index) and as the table holds them
        raw.execute("SET LOCAL enable_seqscan = off")
        by_index = dict(raw.execute(sums).fetchall())
        raw.execute("SET LOCAL enable_seqscan = on")
        for scan in ("indexscan", "indexonlyscan", "bitmapscan"):
            raw.execute(f"SET LOCAL enable_{scan} = off")
        by_table = dict(raw.execute(sums).fetchall())
    drift = sum(1 for a in by_index.keys() | by_table.keys() if by_index.get(a) != by_table.get(a))
    if drift:
        found.append(f"{drift} account balances read through the index differ from the sum of their entries")
    return found


def summarize(conn, size: int = 0) -> Summary:
    one = lambda q: conn.raw.execute(q).fetchone()[0]   # noqa: E731
    return Summary(pg.user_version(conn), one("SELECT count(*) FROM accounts"), one("SELECT count(*) FROM ledger_entries"),
                   one("SELECT max(recorded_at) FROM ledger_entries"), one("SELECT count(*) FROM device_events"),
                   one("SELECT count(*) FROM devices"), size)


def _community(conn) -> str | None:
    row = conn.raw.execute("SELECT to_regclass('settings') IS NOT NULL").fetchone()[0] and conn.raw.execute(
        "SELECT value FROM settings WHERE key = 'community.code'").fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class Checked:
    summary: Summary
    schema: str                 # the schema the backup was taken of
    community: str | None       # the community code it holds


def dump_schema(path: Path) -> str:
    """The schema a backup file holds (from its table of contents), or BackupError: not ours."""
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}。", f"backup file not found: {path}")
    cmd = [tool("pg_restore"), "--list", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
    if done.returncode != 0:
        raise BackupError(f"文件 {path} 不是 PostgreSQL 备份(pg_dump 的 custom 格式),不能使用。",
                          f"{path} is not a PostgreSQL backup (pg_dump custom format)")
    found = re.search(r"^\d+; \d+ \d+ TABLE (\S+) mpb_store ", done.stdout, re.MULTILINE)
    if not found:
        raise BackupError(f"备份文件 {path} 不是道德积分银行的备份,不能使用。",
                          f"{path} is a PostgreSQL backup, but not of a Moral Points Bank store")
    return found[1]


class Scratch:
    """A throw-away database on the URL's server, where a backup is restored to be checked;
    dropped on close. Making it needs the CREATEDB privilege."""

    def __init__(self, url: str):
        self.url = url
        self.name = f"mpb_check_{secrets.token_hex(5)}"
        self.params, self.env = _tool_args(url, dbname=self.name)
        admin = _admin(url)
        try:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(self.name)))
        except psycopg.errors.InsufficientPrivilege:
            user = admin.info.user
            raise BackupError(
                f"检查备份要建一个临时数据库,而数据库用户 {user} 没有建库权限(CREATEDB)。请由管理员运行 "
                f"ALTER ROLE {user} CREATEDB(通常给数据库所有者),再用这个用户的地址做备份和恢复。",
                f"checking a backup restores it into a throw-away database, and role {user} lacks CREATEDB: "
                f"ALTER ROLE {user} CREATEDB (usually the store's owner) and back up and restore as that role") from None
        finally:
            admin.close()
        try:
            # an empty database: a backup of a store's own "public" schema makes it anew
            with psycopg.connect(self.params, autocommit=True, **_password(self.env)) as scratch:
                scratch.execute("DROP SCHEMA IF EXISTS public")
        except BaseException:
            self.close()
            raise

    def restore(self, path: Path, what: str) -> None:
        _run([tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={self.params}", str(path)], self.env, what)

    def open(self, schema: str):
        params = _params(self.url)
        params.pop("options", None)
        params.update(dbname=self.name, options=f"-c search_path={schema}")
        return pg.connect(conninfo.make_conninfo(**params), migrate=False)

    def close(self) -> None:
        admin = _admin(self.url)
        try:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
        finally:
            admin.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _admin(url: str) -> psycopg.Connection:
    params = _params(url)
    params.pop("options", None)
    params.setdefault("connect_timeout", str(pg.CONNECT_TIMEOUT_S))
    try:
        return psycopg.connect(conninfo.make_conninfo(**params), autocommit=True)
    except psycopg.Error as exc:
        raise pg.connect_problem(exc, pg.safe_url(url)) from None


def _check_in(scratch: Scratch, path: Path, expect: Summary | None = None) -> Checked:
    schema = dump_schema(path)
    scratch.restore(path, f"检查备份 {path.name} (restore into a scratch database)")
    conn = scratch.open(schema)
    try:
        found = problems(conn)
        if found:
            raise BackupError(f"备份文件 {path} 检查不通过,不能使用:{found[0]}",
                              f"backup {path} fails its checks: {'; '.join(found)}")
        summary = summarize(conn, path.stat().st_size)
        community = _community(conn)
    finally:
        conn.close()
    if expect is not None and (summary.accounts, summary.entries, summary.device_events, summary.devices) != (
            expect.accounts, expect.entries, expect.device_events, expect.devices):
        raise BackupError(f"备份文件 {path} 与数据库的记录数不符,不能使用。",
                          f"backup {path} does not hold what the store held when it was taken: "
                          f"{summary.describe()} against {expect.describe()}")
    return Checked(summary, schema, community)


def verify(path: str | Path, url: str) -> Checked:
    """Check a backup file by restoring it into a throw-away database on ``url``'s server."""
    path = Path(path)
    dump_schema(path)
    with Scratch(url) as scratch:
        return _check_in(scratch, path)


# --- making a backup --------------------------------------------------------------------------

def _open(url: str):
    from .db import connect
    return connect(url, migrate=False)


def stem(conn) -> str:
    """``<database>-<schema>``: the part of a backup's name that says whose it is."""
    database, schema = conn.raw.execute("SELECT current_database(), current_schema()").fetchone()
    if schema is None:
        raise BackupError("数据库连接没有可用的模式(search_path),请检查数据库地址。",
                          "the connection has no current schema (check search_path in the URL)")
    return f"{database}-{schema}"


def backups_in(to_dir: Path, name: str) -> list[Path]:
    """The backups named ``<name>-<stamp>.pgdump`` in ``to_dir``, oldest first."""
    found = []
    for p in to_dir.iterdir() if to_dir.is_dir() else ():
        m = _STAMPED.fullmatch(p.name[len(name) + 1:]) if p.name.startswith(name + "-") else None
        if m and p.is_file():
            found.append(((m.group(1), int(m.group(2) or 1)), p))
    return [p for _key, p in sorted(found)]


def make_backup(url: str, to_dir: str | Path, *, keep: int | None = None,
                now: dt.datetime | None = None) -> tuple[Path, Summary, list[Path]]:
    """As bank.backup.make_backup, for the schema of a ``postgresql://`` URL."""
    from .backup import _fsync, _fsync_dir
    to_dir = Path(to_dir)
    now = now or clock.now_utc()
    if keep is not None and keep < 1:
        raise BackupError("保留份数至少为1。", "--keep must be at least 1")
    pg_dump = tool("pg_dump")
    conn = _open(url)
    try:
        name = stem(conn)
        try:
            to_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(f"无法建立备份目录 {to_dir}。", f"cannot create {to_dir}: {exc.strerror}") from None
        base = f"{name}-{clock.local(now).strftime('%Y%m%d-%H%M%S')}"
        final, n = to_dir / (base + SUFFIX), 1
        while final.exists():
            n += 1
            final = to_dir / f"{base}-{n}{SUFFIX}"
        partial = to_dir / (final.name + ".partial")
        schema = conn.raw.execute("SELECT current_schema()").fetchone()[0]
        params, env = _tool_args(url)
        try:
            raw = conn.raw
            with raw.transaction():
                # the dump and the counts it is checked against see one and the same moment
                raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                snapshot = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
                expect = summarize(conn)
                _run([pg_dump, "--format=custom", f"--schema={schema}", f"--snapshot={snapshot}",
                      f"--file={partial}", f"--dbname={params}"], env, "备份 (pg_dump)")
            with Scratch(url) as scratch:
                checked = _check_in(scratch, partial, expect)
            _fsync(partial)
            os.replace(partial, final)
            _fsync_dir(to_dir)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finally:
        conn.close()
    removed = []
    if keep is not None:
        others = [p for p in backups_in(to_dir, name) if p != final]
        for old in others[:max(len(others) - (keep - 1), 0)]:
            old.unlink()
            removed.append(old)
    return final, Summary(**{**checked.summary.as_dict(), "size": final.stat().st_size}), removed


# --- restoring --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PgRestorePlan(RestorePlan):
    url: str = ""
    schema: str = ""                     # the schema restored into (the URL's)
    backup_community: str | None = None
    current_community: str | None = None
    allow_other: bool = False

    def describe(self) -> list[str]:
        lines = super().describe()
        if self.backup_community != self.current_community and self.current_community is not None:
            lines.insert(2, f"  备份是社区 {self.backup_community} 的,而这里是社区 {self.current_community} "
                            f"(the backup is of community {self.backup_community}, this is {self.current_community})")
        lines[-1] = (f"  现在的数据(模式 {self.schema})会改名为 {self.schema}_replaced_<时间> 保留,不会删除 "
                     "(the replaced schema is renamed and kept, never dropped)")
        return lines


def _other_community(plan: PgRestorePlan) -> BackupError:
    return BackupError(
        f"这份备份是社区 {plan.backup_community} 的,不能恢复到社区 {plan.current_community}。"
        "确实要这样做,请加上 --other-community。",
        f"the backup is of community {plan.backup_community}, not {plan.current_community}: "
        "add --other-community to restore it here anyway")


def plan_restore(backup_file: str | Path, url: str, *, allow_other: bool = False) -> PgRestorePlan:
    """Check the backup (in a throw-away database) and read what it would replace; writes nothing."""
    from .db import shown
    backup_file = Path(backup_file)
    if _starts_with(backup_file, b"SQLite format 3"):
        raise BackupError(f"{backup_file} 是 SQLite 数据库的备份,不能恢复到 PostgreSQL 数据库。",
                          f"{backup_file} is a backup of a SQLite store: it cannot be restored into PostgreSQL")
    checked = verify(backup_file, url)
    conn = _open_any(url)
    current, problem, community = None, None, None
    schema = conn.raw.execute("SELECT current_schema()").fetchone()[0]
    try:
        empty = not conn.raw.execute("SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                                     ).fetchone()[0] if schema else True
        found = [] if empty else problems(conn)
        if empty:
            pass            # no store there (a restore drill into a new database): nothing replaced
        elif found:
            problem = found[0]
        else:
            current, community = summarize(conn), _community(conn)
    except psycopg.Error as exc:
        problem = " ".join(str(exc).split())
    finally:
        conn.close()
    plan = PgRestorePlan(backup_file, checked.summary, shown(url), current, problem, url=url, schema=schema or "",
                         backup_community=checked.community, current_community=community, allow_other=allow_other)
    if community is not None and checked.community != community and not allow_other:
        raise _other_community(plan)
    return plan


def _open_any(url: str):
    """A connection to the URL's schema even when what is there is not (or no longer) a store."""
    try:
        return _open(url)
    except DatabaseError:
        conn = pg.Connection(_admin_with_options(url))
        conn.url = url
        return conn


def _admin_with_options(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=pg.CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise pg.connect_problem(exc, pg.safe_url(url)) from None


def restore(plan: PgRestorePlan, *, by: str, now: dt.datetime | None = None) -> str:
    """Replace the URL's schema by the backup of ``plan``; return the schema the replaced data was
    renamed to. Refused while a server serves it (the schema's exclusive serving lock)."""
    from .db import connect
    if not by.strip():
        raise BackupError("必须写明操作人。", "say who restores (--by)")
    now = now or clock.now_utc()
    url, schema = plan.url, plan.schema
    if not schema:
        raise BackupError("数据库连接没有可用的模式(search_path),请检查数据库地址。",
                          "the connection has no current schema (check search_path in the URL)")
    stamp = clock.local(now).strftime("%Y%m%d_%H%M%S")
    with exclusive(url) as lock:
        raw = lock.raw
        exists = lambda name: raw.execute("SELECT to_regnamespace(%s) IS NOT NULL", (name,)).fetchone()[0]  # noqa: E731
        aside, n = f"{schema}_replaced_{stamp}", 1
        while exists(aside):
            n += 1
            aside = f"{schema}_replaced_{stamp}_{n}"
        incoming = f"{schema}_restoring_{secrets.token_hex(3)}"
        roles = pg.app_roles(lock) if exists(schema) and plan.current is not None else []
        marks = ({d: t for d, t in raw.execute("SELECT device_id, last_request_time FROM devices") if t}
                 if plan.current is not None else {})
        with Scratch(url) as scratch, tempfile.TemporaryDirectory(prefix="mpb-restore-") as tmp:
            checked = _check_in(scratch, plan.backup)          # again, under the lock
            if plan.current_community is not None and checked.community != plan.current_community \
                    and not plan.allow_other:
                raise _other_community(plan)
            # pg_restore cannot rename a schema: rename it in the scratch copy and dump that
            admin = psycopg.connect(scratch.params, autocommit=True, **_password(scratch.env))
            try:
                admin.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(checked.schema), sql.Identifier(incoming)))
            finally:
                admin.close()
            renamed = Path(tmp) / "incoming.pgdump"
            _run([tool("pg_dump"), "--format=custom", f"--schema={incoming}", f"--file={renamed}",
                  f"--dbname={scratch.params}"], scratch.env, "恢复 (pg_dump)")
            target_params, env = _tool_args(url)
            try:
                _run([tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                      f"--dbname={target_params}", str(renamed)], env, "恢复 (pg_restore)")
                ident = sql.Identifier
                with raw.transaction():
                    if exists(schema):
                        raw.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(ident(schema), ident(aside)))
                        if raw.execute("SELECT to_regprocedure(%s) IS NOT NULL",
                                       (f"{aside}.mpb_replica_change()",)).fetchone()[0]:
                            raw.execute(sql.SQL("ALTER FUNCTION {}.mpb_replica_change() SET search_path = {}").format(
                                ident(aside), ident(aside)))
                    else:
                        aside = None
                    raw.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(ident(incoming), ident(schema)))
                    # the trigger function keeps the search path it was made with: the schema's new name
                    raw.execute(sql.SQL("ALTER FUNCTION {}.mpb_replica_change() SET search_path = {}").format(
                        ident(schema), ident(schema)))
                    for role in roles:
                        pg.grant_app_role(lock, role)
            except BaseException:
                with _admin(url) as cleanup:
                    cleanup.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(incoming)))
                raise
        connect(url).close()              # brings a backup of an older version up to date
        conn = connect(url)
        try:
            with conn.raw.transaction():
                record_restore(conn, plan, None if aside is None else f"schema {aside}", marks, by, now,
                               backup_community=plan.backup_community)
        finally:
            conn.close()
    return aside


@contextmanager
def exclusive(url: str):
    """bank.backup.exclusive for a URL whose schema may hold no store (yet): a restore drill into
    an empty database, or over a store too damaged to open."""
    from .backup import _in_use, _try_lock
    from .db import shown
    conn = _open_any(url)
    try:
        if not _try_lock(conn, shared=False):
            raise _in_use(shown(url))
        yield conn
    finally:
        conn.close()


def _password(env: dict) -> dict:
    return {"password": env["PGPASSWORD"]} if "PGPASSWORD" in env else {}


__all__ = ["make_backup", "verify", "plan_restore", "restore", "problems", "tool", "backups_in", "PgRestorePlan"]
