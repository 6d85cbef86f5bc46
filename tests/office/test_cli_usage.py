"""The office command line's usage mistakes, as the staff meet them (the real ``python -m office``
in a subprocess): one plain Chinese line each, exit 2, nothing written; ``serve`` on a busy port
says so in one line before claiming to have started; ``alerts`` with none says there are none."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def office(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "office", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("args, says", [
    (("cards", "--db", "{db}", "--bogus"), "没有 --bogus 这个选项"),
    (("cards",), "缺少选项 --db"),
    (("balance", "--db", "{db}"), "缺少参数 ID"),
    (("demo", "--db", "{tmp}/n.sqlite", "--seed", "x"), "“x”不是整数"),
    (("demo", "--db", "{tmp}/n.sqlite", "--until", "2026-02-30"), "YYYY-MM-DD"),
    (("report", "monthly", "--db", "{db}", "--month"), "选项 --month 后面要写一个值"),
    (("user", "add", "--db", "{db}", "--role", "king", "--name", "x"), "“king”不是可选的值"),
    (("serve", "--db", "{db}", "--port", "70000"), "选项 --port 的值不对"),
    (("nosuch",), "没有“nosuch”这个命令"),
    (("cards", "--db", "{db}", "extra"), "多出了参数:extra"),
    (("account", "list", "--db", "{db}", "--json", "--nope"), "没有 --nope 这个选项"),
    (("import", "roster", "--db", "{db}"), "缺少参数"),
])
def test_a_usage_mistake_is_one_plain_chinese_line(demo_db, tmp_path, args, says):
    args = [a.format(db=demo_db, tmp=tmp_path) for a in args]
    before = demo_db.read_bytes()
    r = office(*args)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1, (args, r.stderr)
    assert lines[0].startswith("错误:") and says in lines[0] and "--help" in lines[0], lines
    assert "Usage:" not in r.stderr and "Error:" not in r.stderr and "Try " not in r.stderr
    assert r.stdout == ""
    assert demo_db.read_bytes() == before and not (tmp_path / "n.sqlite").exists()


def test_help_still_reads_as_help(demo_db):
    r = office("cards", "--help")
    assert r.returncode == 0 and "Usage:" in r.stdout and "--db" in r.stdout


def test_serve_on_a_busy_port_is_one_line_and_never_says_started(town):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = office("serve", "--db", town.path, "--port", port, "--insecure-http", timeout=60)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 1 and len(lines) == 1, r.stderr
    assert f"端口 {port} 已被占用" in lines[0] and "已启动" not in r.stderr and "Traceback" not in r.stderr


def test_alerts_with_none_says_so(town):
    r = office("alerts", "--db", town.path)
    assert r.returncode == 0 and r.stdout.strip() == "没有未处理的提醒 (no open alerts)."
