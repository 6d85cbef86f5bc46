"""End-to-end helpers: the real office server (``python -m office serve``) on a free port, and the
device command lines, each as a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bank import db, devices
from sync import client
from tests.e2e import browser_kit

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def outbox_journal(home) -> list[tuple]:
    """(seq, hash, kind) of every event in a device home's outbox, in order."""
    from sync import home as home_mod
    conn = home_mod.open_home(home).replica()
    try:
        return [tuple(r) for r in conn.execute("SELECT seq, hash, kind FROM outbox ORDER BY seq")]
    finally:
        conn.close()


def cli(*args, timeout: float = 60, check: int | None = 0) -> subprocess.CompletedProcess:
    """Run ``python -m ...`` from the project root; assert the exit code unless check is None."""
    r = subprocess.run([sys.executable, "-m", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout)
    if check is not None:
        assert r.returncode == check, (args, r.returncode, r.stdout, r.stderr)
    return r


class Server:
    """``python -m office serve`` as a subprocess that can be stopped, killed and restarted: over
    HTTPS with the office's own certificate (``fingerprint``), or ``insecure_http`` on 127.0.0.1."""

    def __init__(self, db_path: Path, log_path: Path, *, insecure_http: bool = False, extra=()):
        self.db_path, self.log_path = db_path, log_path
        self.port = free_port()
        self.insecure_http = insecure_http
        self.extra = [str(a) for a in extra]
        self.url = f"{'http' if insecure_http else 'https'}://127.0.0.1:{self.port}"
        self.fingerprint: str | None = None
        self.proc: subprocess.Popen | None = None

    def transport(self, timeout: float = 10.0) -> client.HttpTransport:
        """A device's pinned transport to this server."""
        return client.HttpTransport(self.url, timeout, pin=self.fingerprint)

    def start(self) -> "Server":
        with open(self.log_path, "ab") as log:   # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "office", "serve", "--db", str(self.db_path),
                                          "--port", str(self.port), *self.extra]
                                         + (["--insecure-http"] if self.insecure_http else []),
                                         cwd=ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if not self.insecure_http:
                    conn = db.connect(self.db_path, readonly=True)
                    try:    # serve records the certificate it serves before it listens
                        self.fingerprint = devices.office_fingerprint(conn)
                    finally:
                        conn.close()
                if self.transport(0.5).get("/api/v1/health")[0] == 200:
                    return self
            except Exception:   # noqa: BLE001 - not up yet
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def server(town, tmp_path):
    s = Server(town.path, tmp_path / "server.log").start()
    yield s
    s.stop()


def enrol_cli(town, server: Server, home: Path, merchant_id: int) -> None:
    code = cli("office", "enrol", "--db", town.path, "--merchant", merchant_id).stdout.strip().splitlines()[-1]
    cli("terminal", "enrol", "--home", home, "--server", server.url, "--code", code)


@pytest.fixture(scope="module")
def console_server(demo_db, tmp_path_factory):
    """The office serving a copy of the demo store with the console's users, one per test module."""
    from tests.office.console_kit import make_store
    tmp = tmp_path_factory.mktemp("console")
    s = Server(make_store(demo_db, tmp / "store.sqlite"), tmp / "server.log").start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    yield from browser_kit.launch()
