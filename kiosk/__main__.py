"""``python -m kiosk``: the service-point kiosk.

    python -m kiosk enroll --home DIR --server URL --code CODE
    python -m kiosk status --home DIR [--json]
    python -m kiosk --home DIR [--camera INDEX|VIDEO|IMAGE|FOLDER]

The demo kiosk and the screenshots are ``python -m demo kiosk`` and ``python -m demo screenshots kiosk``.
"""

from __future__ import annotations

import json
import sqlite3
import sys

import click

from bank.errors import BankError
from device import enrolment

WIDTH, HEIGHT = 1920, 1080   # the 21.5-inch kiosk screen


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.option("--home", "app_home", type=click.Path(file_okay=False), default=None,
              help="Open the kiosk app on this enrolled home directory.")
@click.option("--camera", default=None,
              help="Camera index (0, 1, …), a video or image file, or a folder of images or videos of cards.")
@click.pass_context
def main(ctx, app_home, camera):
    """服务点一体机 (service-point kiosk): 查询积分、评议记分 (check points, record entries)."""
    if ctx.invoked_subcommand is None:
        if app_home is None:
            click.echo(ctx.get_help())
            sys.exit(2)
        if camera is not None:
            from device.camera import check_spec
            problem = check_spec(camera)
            if problem:
                click.echo(f"错误:{problem}", err=True)
                sys.exit(2)
        from device.ui.scripted import headless_env
        headless_env(WIDTH, HEIGHT)
        from kiosk.app import run  # Kivy is imported only when the window is wanted
        run(app_home, camera)


@main.command("enroll")
@click.option("--home", "home_dir", required=True, type=click.Path(file_okay=False), help="The kiosk's home directory.")
@click.option("--server", required=True, help="The office URL, e.g. https://192.168.1.10:8080")
@click.option("--code", required=True, help="The one-time enrolment code from the office (office enroll --kiosk N).")
@click.option("--label", default="", help="A name for this kiosk (shown in the office's device list).")
@click.option("--fingerprint", default=None,
              help="The office certificate's SHA-256 (from office enroll or the console), if you have it; "
                   "the code's last two groups check it anyway.")
def enroll_cmd(home_dir, server, code, label, fingerprint):
    """Enrol this kiosk with a one-time code from the office."""
    try:
        h, pulled = enrolment.enroll(home_dir, server, code, kind="kiosk", label=label,
                                     fingerprint=enrolment.fingerprint_text(fingerprint))
    except BankError as exc:
        click.echo(f"错误:{exc.zh} (Error: {exc.en})", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"错误:无法读写文件 (Error: {exc})", err=True)
        sys.exit(1)
    click.echo(f"登记成功 (enrolled): 设备 {h.device_id}, 服务点 {h.config['service_point_id']}, 目录 {h.path}")
    if not pulled:
        click.echo("首次同步未完成,请稍后运行 python -m sync --home ... (first pull failed; sync later)")


@main.command("status")
@click.option("--home", "home_dir", required=True, type=click.Path(file_okay=False), help="The kiosk's home directory.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def status_cmd(home_dir, as_json):
    """Last sync, events waiting, whether the kiosk may record entries (it never redeems)."""
    from kiosk import status
    from sync import home
    try:
        s = status.status(home.open_home(home_dir))
    except BankError as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "error": exc.code, "zh": exc.zh, "en": exc.en}, ensure_ascii=False))
        else:
            click.echo(f"错误:{exc.zh} (Error: {exc.en})", err=True)
        sys.exit(1)
    except sqlite3.Error as exc:
        from sync.faults import DeviceFault
        fault = DeviceFault("replica_damaged", detail=str(exc))
        click.echo(f"错误:{fault.zh} (Error: {fault.en})", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False))
        return
    click.echo(f"设备 {s['device_id']} · 一体机 · {s['compound'] or '—'} · 办公室 {s['server']}")
    click.echo(f"上次同步 (last sync): {s['last_sync_at'] or '从未 (never)'}"
               + (f", {s['last_sync_age_hours']} 小时前" if s['last_sync_age_hours'] is not None else ""))
    click.echo(f"待上传 (pending): {s['pending_events']} 条; 办公室已确认到第 {s['acked_seq']} 条, "
               f"本机最新第 {s['last_seq']} 条")
    if s["can_record"]:
        click.echo("可以记分、提出异议 (can record); 一体机不兑换 (a kiosk does not redeem)")
    else:
        why = s["cannot_record"]
        click.echo(f"不能记分 (cannot record: {why['code']}):{why['zh']} {why['en']}")


if __name__ == "__main__":
    main(prog_name="python -m kiosk")
