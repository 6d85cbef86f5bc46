"""The tablet's command line as a shop owner or installer runs it: local time, plain lines."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bank import clock, db, devices
from device import enrolment
from terminal.__main__ import main as terminal_main

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_status_shows_the_last_sync_in_local_time(tablet_home):
    status = json.loads(CliRunner().invoke(terminal_main, ["status", "--home", str(tablet_home), "--json"]).output)
    last = status["last_sync_at"]
    out = CliRunner().invoke(terminal_main, ["status", "--home", str(tablet_home)]).output
    local = clock.local(clock.from_text(last)).strftime("%Y-%m-%d %H:%M")
    assert f"上次同步 (last sync): {local} (北京时间)" in out, out
    assert last not in out and "T" not in out.split("上次同步")[1].split("\n")[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_enrol_against_an_unreachable_office_is_one_plain_line_and_writes_nothing(town, hub, tmp_path):
    conn = db.connect(town.path)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, merchant_id=town.noodles)
    conn.close()
    home_dir = tmp_path / "tab"
    server = f"http://127.0.0.1:{_free_port()}"
    r = _cli("enrol", "--home", home_dir, "--server", server, "--code", code)
    assert r.returncode != 0 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"无法连接社区办公室 {server}" in lines[0] and "办公室地址和端口" in lines[0]
    assert "稍后" not in lines[0]             # no retry is coming: the command has ended
    assert not home_dir.exists()
    # the same code and the same directory enrol once the office answers
    h, pulled = enrolment.enrol(home_dir, "http://office.test", code, transport=hub)
    assert pulled and h.config["merchant_id"] == town.noodles
