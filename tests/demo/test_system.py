"""``python -m demo`` (``make demo``'s last step): the whole system on this machine, as a user runs it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bank import clock
from demo import system
from tests.conftest import copy_store

DEMO = [sys.executable, "-m", "demo"]


def a_card(db_path):
    from bank import db
    conn = db.connect(db_path, readonly=True)
    try:   # a resident of the noodle shop's demo with points enough for a bowl
        return conn.execute("SELECT c.qr FROM cards c JOIN ledger_entries e USING (account_id) WHERE c.status = 'active' "
                            "AND c.role = 'resident' GROUP BY c.qr HAVING sum(e.points) >= 20 ORDER BY c.qr LIMIT 1"
                            ).fetchone()[0]
    finally:
        conn.close()


def at(hour, minute=0):
    return dt.datetime(2026, 11, 26, hour, minute, tzinfo=clock.LOCAL_TZ)


def test_the_redemption_example_is_an_offer_open_now_or_says_why_not(demo_db):
    card = a_card(demo_db)
    (noon,) = system.redemption_example(demo_db, "老街小面", card, now=at(12))
    assert "现在可以兑换" in noon and "--offer " in noon
    offer_id = int(noon.rsplit("--offer ", 1)[1])
    from bank import db, merchants
    conn = db.connect(demo_db, readonly=True)
    try:
        assert merchants.offer(conn, offer_id).merchant_id == conn.execute(
            "SELECT merchant_id FROM merchants WHERE name = '老街小面'").fetchone()[0]
    finally:
        conn.close()
    for night in (at(22, 30), at(6, 59)):   # Chongqing time: the shop redeems 07:00-22:00
        (line,) = system.redemption_example(demo_db, "老街小面", card, now=night)
        assert "不能兑换" in line and "每天 07:00-22:00" in line and "--offer" not in line


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_second_demo_on_a_busy_port_says_so_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([*DEMO, "--dir", str(tmp_path / "d"), "--port", str(port)],
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip().count("\n") == 0 and f"端口 {port} 已被占用" in proc.stderr
    assert not (tmp_path / "d" / "community.sqlite").exists()     # nothing built for a demo that cannot run


def children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_demo_and_its_office(demo_db, tmp_path, sig):
    workdir = tmp_path / "demo-data"
    workdir.mkdir()
    copy_store(demo_db, workdir / "community.sqlite")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen([*DEMO, "--dir", str(workdir), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    offices = []
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        assert any("Ctrl-C" in line for line in lines), "".join(lines)
        offices = children(proc.pid)
        assert offices, "the office runs as a child of the demo"
        proc.send_signal(sig)
        assert proc.wait(timeout=30) is not None
        deadline = time.monotonic() + 10
        while any(alive(p) for p in offices) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in offices)
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))     # the port is free again
        assert "Traceback" not in "".join(lines) + proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        for pid in offices:     # a demo that failed the test must not leave its office behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
