"""The kiosk's command line as an installer runs it: plain lines, nothing written on a refusal."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bank import clock, db, devices
from kiosk.__main__ import main as kiosk_main

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_enrol_against_an_unreachable_office_says_what_to_check_in_one_line(kt, tmp_path):
    conn = db.connect(kt.path)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, service_point_id=1)
    conn.close()
    home_dir = tmp_path / "kiosk"
    server = f"http://127.0.0.1:{_free_port()}"
    r = subprocess.run([sys.executable, "-m", "kiosk", "enrol", "--home", str(home_dir), "--server", server,
                        "--code", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"无法连接社区办公室 {server}" in lines[0] and "办公室地址和端口" in lines[0]
    assert not home_dir.exists()


def test_status_of_a_directory_that_is_no_home_is_one_plain_line(tmp_path):
    r = CliRunner().invoke(kiosk_main, ["status", "--home", str(tmp_path / "none")])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "请先登记" in r.output
    out = CliRunner().invoke(kiosk_main, ["status", "--home", str(tmp_path / "none"), "--json"]).output
    assert json.loads(out) == {"ok": False, "error": "not_enrolled", "zh": json.loads(out)["zh"],
                               "en": json.loads(out)["en"]}


def test_status_shows_the_last_sync_in_local_time(kiosk_home):
    status = json.loads(CliRunner().invoke(kiosk_main, ["status", "--home", str(kiosk_home), "--json"]).output)
    last = status["last_sync_at"]
    out = CliRunner().invoke(kiosk_main, ["status", "--home", str(kiosk_home)]).output
    local = clock.local(clock.from_text(last)).strftime("%Y-%m-%d %H:%M")
    assert f"上次同步 (last sync): {local} (北京时间)" in out, out
    assert last not in out
