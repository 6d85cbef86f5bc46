"""A real, throw-away PostgreSQL server for the tests (no mock): Debian's PostgreSQL 15 binaries,
a cluster made with initdb in a temp directory, started with pg_ctl on a free local port with its
unix socket in that directory, stopped and removed when the session ends.

PostgreSQL refuses to run as root: as root the cluster belongs to the ``postgres`` user and every
server command runs through ``runuser -u postgres --``. ``make test`` installs the ``postgresql``
package, so CI always runs the PostgreSQL tests; elsewhere they are skipped, saying why, only when
the binaries cannot be found.

Each test gets its own database, copied from a template that already holds the migrated schema
(CREATE DATABASE ... TEMPLATE is a file copy: far quicker than running the migrations again).
The schema belongs to the owner role; the bank connects as the application role, which may not
update or delete ledger rows (bank.pg.grant_app_role).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

OWNER = "mpb_owner"
APP = "mpb_app"
TEMPLATE = "mpb_template"


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    directory: Path
    port: int
    bin: Path
    _counter = itertools.count(1)

    @property
    def socket_dir(self) -> Path:
        return self.directory / "socket"

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}&port={self.port}"

    def admin(self):
        import psycopg
        return psycopg.connect(self.url(), autocommit=True)

    def new_database(self) -> str:
        """A fresh database with the current schema, owned by the owner role."""
        name = f"t{next(self._counter)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} OWNER {OWNER}")
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start(*, durable: bool = False, max_connections: int = 300) -> Server:
    """initdb and start a cluster; raises RuntimeError with the server's own words if it cannot.

    ``durable``: PostgreSQL's own defaults (fsync, synchronous commit, full page writes on), for
    a benchmark whose figure must be a real one (bench.district); the tests do without them."""
    bindir = bin_dir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    directory = Path(tempfile.mkdtemp(prefix="mpb-pg-"))
    (directory / "socket").mkdir()
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        shutil.chown(directory / "socket", "postgres", "postgres")
    server = Server(directory, _free_port(), bindir)
    data = directory / "data"
    run = {"check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]), **run)
        # fsync off: a throw-away cluster; the durability settings of a real one are deploy's business.
        options = (f"-p {server.port} -k {server.socket_dir} -c listen_addresses=127.0.0.1 "
                   f"-c max_connections={max_connections}")
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(directory / "log"),
                                     "-o", options, "-w", "start"]), **run)
    except subprocess.CalledProcessError as exc:
        log = (directory / "log").read_text() if (directory / "log").exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log}") from None
    try:
        _prepare(server)
    except BaseException:
        stop(server)
        raise
    return server


def _prepare(server: Server) -> None:
    """The two roles, and the template database migrated by the owner and granted to the app."""
    from bank import db, pg
    with server.admin() as conn:
        # CREATEDB: backups are checked in a throw-away database (bank.pg_backup); as deployed
        conn.execute(f"CREATE ROLE {OWNER} LOGIN CREATEDB")
        conn.execute(f"CREATE ROLE {APP} LOGIN")
        conn.execute(f"CREATE DATABASE {TEMPLATE} OWNER {OWNER}")
    import psycopg
    with psycopg.connect(server.url(TEMPLATE), autocommit=True) as conn:
        conn.execute(f"ALTER SCHEMA public OWNER TO {OWNER}")
    store = db.connect(server.url(TEMPLATE, OWNER), create=True)
    pg.grant_app_role(store, APP)
    store.close()


def stop(server: Server) -> None:
    subprocess.run(_as_postgres([str(server.bin / "pg_ctl"), "-D", str(server.directory / "data"),
                                 "-m", "immediate", "-w", "stop"]), capture_output=True)
    shutil.rmtree(server.directory, ignore_errors=True)


# --- a streaming replica (issue 13: read replica and failover) --------------------------------
# initdb --auth=trust already writes `local replication all trust` and `host replication all
# 127.0.0.1/32 trust` into pg_hba.conf, and PostgreSQL 15's defaults are wal_level=replica and
# max_wal_senders=10: a pg_kit primary needs nothing more to be copied and streamed from.

def _cluster_options(port: int, socket_dir: Path) -> str:
    """As :func:`start` runs a cluster (a standby needs max_connections at least the primary's)."""
    return (f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300")


def start_replica(primary: Server) -> Server:
    """An asynchronous streaming replica of ``primary``: ``pg_basebackup -R`` (standby.signal and
    primary_conninfo written for us) into a new temp directory, started on another free port with
    hot_standby on (the default), so it answers read-only queries while it replays."""
    directory = Path(tempfile.mkdtemp(prefix="mpb-pg-replica-"))
    (directory / "socket").mkdir()
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        shutil.chown(directory / "socket", "postgres", "postgres")
    replica = Server(directory, _free_port(), primary.bin)
    data = directory / "data"
    run = {"check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(_as_postgres([str(primary.bin / "pg_basebackup"), "-D", str(data), "-R", "-X", "stream",
                                     "-c", "fast", "-h", str(primary.socket_dir), "-p", str(primary.port),
                                     "-U", "postgres", "--no-sync"]), **run)
        start_cluster(replica)
    except subprocess.CalledProcessError as exc:
        log = (directory / "log").read_text() if (directory / "log").exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"the replica did not start: {exc.stderr}\n{log}") from None
    return replica


@contextlib.contextmanager
def streaming_pair():
    """A primary of its own and its streaming replica, both stopped and removed at the end (a
    test may stop, pause or promote either meanwhile); the test is skipped, saying why, where the
    PostgreSQL binaries cannot be found."""
    try:
        primary = start()
    except FileNotFoundError as exc:
        import pytest   # only the tests come here; bench.district uses start() alone
        pytest.skip(f"no PostgreSQL here ({exc}); `make test` installs it")
    try:
        replica = start_replica(primary)
        try:
            yield primary, replica
        finally:
            stop(replica)
    finally:
        stop(primary)


def start_cluster(server: Server) -> None:
    """Start (again) a cluster made by :func:`start` or :func:`start_replica` that was stopped."""
    subprocess.run(_as_postgres([str(server.bin / "pg_ctl"), "-D", str(server.directory / "data"),
                                 "-l", str(server.directory / "log"), "-o",
                                 _cluster_options(server.port, server.socket_dir), "-w", "start"]),
                   check=True, capture_output=True, text=True)


def stop_cluster(server: Server, mode: str = "fast") -> None:
    """Stop a cluster but keep its files (``immediate``: as a crash, no shutdown checkpoint)."""
    subprocess.run(_as_postgres([str(server.bin / "pg_ctl"), "-D", str(server.directory / "data"),
                                 "-m", mode, "-w", "stop"]), check=True, capture_output=True, text=True)


def replay_lsn(replica: Server) -> str:
    with replica.admin() as conn:
        return conn.execute("SELECT pg_last_wal_replay_lsn()").fetchone()[0]


def wait_caught_up(primary: Server, replica: Server, timeout: float = 20.0) -> float:
    """Wait until the replica has replayed everything the primary has written so far; returns the
    seconds that took (the replica's lag, as measured). The target is the insert position, not
    pg_current_wal_lsn: a pg_kit cluster runs synchronous_commit=off, so a commit's WAL may not be
    written out yet (the WAL writer does it within wal_writer_delay, 200 ms)."""
    import time
    started = time.monotonic()
    with primary.admin() as conn:
        target = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    with replica.admin() as conn:
        while True:
            if conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (str(target),)).fetchone()[0]:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the replica did not replay up to {target} in {timeout} s")
            time.sleep(0.02)


def pause_replay(replica: Server) -> None:
    with replica.admin() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")


def resume_replay(replica: Server) -> None:
    with replica.admin() as conn:
        conn.execute("SELECT pg_wal_replay_resume()")


def promote(replica: Server) -> None:
    """``pg_ctl promote -w``: the replica ends recovery and becomes a primary (a new timeline)."""
    subprocess.run(_as_postgres([str(replica.bin / "pg_ctl"), "-D", str(replica.directory / "data"),
                                 "-w", "promote"]), check=True, capture_output=True, text=True)
