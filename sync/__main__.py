"""``python -m sync --home DIR [--json]``: one sync now (push, then pull).

Exit 0 synced, 3 office unreachable (events stay in the outbox), 1 refused (with the reason).
"""

from __future__ import annotations

import json
import sqlite3
import sys

import click

from bank.errors import BankError

from . import client, home
from .faults import DeviceFault


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", "home_dir", required=True, type=click.Path(file_okay=False), help="The device's home directory.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option("--timeout", type=click.FloatRange(0.5, 300), default=15.0, show_default=True, help="Seconds per request.")
def main(home_dir: str, as_json: bool, timeout: float):
    """同步一次:先上传本机记录,再下载最新数据 (sync once: push, then pull)."""
    def out(obj: dict, line: str, code: int):
        if as_json:
            click.echo(json.dumps(obj, ensure_ascii=False))
        else:
            click.echo(line, err=code != 0)
        sys.exit(code)
    try:
        h = home.open_home(home_dir)
        result = client.sync_once(h, timeout=timeout)
    except client.Unreachable as exc:
        out({"ok": False, "error": exc.code, "zh": exc.zh, "en": exc.en}, f"未同步:{exc.zh} ({exc.en})", 3)
    except DeviceFault as exc:
        # damaged, another device's, behind or forked: one sentence that says what to do
        out({"ok": False, "fault": True, "error": exc.code, "zh": exc.zh, "en": exc.en}, f"{exc.zh} ({exc.en})", 1)
    except home.HomeError as exc:
        out({"ok": False, "error": exc.code, "zh": exc.zh, "en": exc.en}, f"错误:{exc.zh} (Error: {exc.en})", 1)
    except BankError as exc:
        out({"ok": False, "error": exc.code, "zh": exc.zh, "en": exc.en}, f"同步被拒绝:{exc.zh} ({exc.en})", 1)
    except sqlite3.DatabaseError as exc:
        fault = DeviceFault("replica_damaged", detail=str(exc))
        out({"ok": False, "fault": True, "error": fault.code, "zh": fault.zh, "en": fault.en},
            f"{fault.zh} ({fault.en})", 1)
    except OSError as exc:
        out({"ok": False, "error": "io", "zh": "无法读写设备目录。", "en": str(exc)},
            f"错误:无法读写设备目录 (Error: {exc})", 1)
    resent = f"(办公室从旧备份恢复,重新上传 {result.resent} 条)" if result.resent else ""
    out({"ok": True, **result.as_dict()},
        f"同步完成 (synced): 上传 {result.pushed} 条{resent}, 已确认到第 {result.acked_seq} 条, "
        f"下载{'全量' if result.pulled == 'full' else '增量'} {result.accounts} 户, 待上传 {result.pending} 条", 0)


if __name__ == "__main__":
    main(prog_name="python -m sync")
