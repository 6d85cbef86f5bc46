"""What the tablet and kiosk demos share (screenshots, benchmarks, ``python -m demo``): an office
server process, and a demo device enrolled straight from the office database.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bank import db, devices
from bank.errors import BankError
from sync import client
from sync import home as home_mod

from device import enrolment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class OfficeProcess:
    """``python -m office serve`` in a child process (a process, so that the apps talk to it over
    real HTTPS exactly as in the field: the office's own certificate, pinned by the devices)."""

    def __init__(self, db_path: Path, port: int | None = None, *, insecure_http: bool = False):
        self.port = port or free_port()
        self.url = f"{'http' if insecure_http else 'https'}://127.0.0.1:{self.port}"
        self.fingerprint: str | None = None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "office", "serve", "--db", str(db_path), "--port", str(self.port)]
            + (["--insecure-http"] if insecure_http else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self._wait_until_up(db_path, insecure_http)
        except BaseException:   # not up, or the caller is being stopped (SIGTERM): leave nothing running
            self.stop()
            raise

    def _wait_until_up(self, db_path: Path, insecure_http: bool) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if not insecure_http and self.fingerprint is None:
                    self.fingerprint = _recorded_fingerprint(db_path)   # serve records it before it listens
                transport = client.HttpTransport(self.url, 0.5, pin=self.fingerprint)
                if transport.get("/api/v1/health")[0] == 200:
                    return
            except (BankError, sqlite3.Error, OSError):   # not up yet (or another server on the port)
                pass
            if self.process.poll() is not None:
                raise RuntimeError("the office server exited at start")
            time.sleep(0.2)
        raise RuntimeError("the office server did not answer within 30 s")

    def wait(self) -> None:
        self.process.wait()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _recorded_fingerprint(office_db: Path) -> str | None:
    conn = db.connect(office_db, readonly=True)
    try:
        return devices.office_fingerprint(conn)
    finally:
        conn.close()


def enrol(office_db: Path, home: Path, server: str, *, kind: str, label: str,
          merchant_id: int | None = None, service_point_id: int | None = None) -> None:
    """Enrol a demo device in ``home`` with a code made directly in the office database (it
    carries the check of the certificate the demo office serves, whose whole fingerprint the
    device is given as from the QR); a home enrolled before is only pointed at ``server`` (the
    demo picks a new port each run; the office, and so its certificate, stays the same)."""
    if (home / home_mod.CONFIG).exists():
        home_mod.open_home(home).with_config(server=server)
        return
    conn = db.connect(office_db)
    try:
        with db.transaction(conn):
            code = devices.new_enrolment_code(conn, merchant_id=merchant_id, service_point_id=service_point_id)
        fingerprint = devices.office_fingerprint(conn)
    finally:
        conn.close()
    enrolment.enrol(home, server, code, kind=kind, label=label,
                     fingerprint=fingerprint if server.startswith("https://") else None)


def stop_on_sigterm() -> None:
    """SIGTERM (systemd, ``kill``, a closing terminal) ends the demo as Ctrl-C does: through the
    ``finally`` that stops the office and the apps, never leaving them running."""
    def handler(signum, _frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)   # a second one must not cut the clean-up short
        raise KeyboardInterrupt(signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)
