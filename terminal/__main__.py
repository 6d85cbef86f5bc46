"""``python -m terminal``: the merchant tablet.

    python -m terminal enroll --home DIR --server URL --code CODE
    python -m terminal redeem --home DIR --card TEXT --offer OFFER_ID [--qty N] [--pin PIN] [--json]
    python -m terminal void   --home DIR --seq N [--json]
    python -m terminal status --home DIR [--json]

Without a command (``python -m terminal --home DIR``) it opens the tablet app.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import sys

import click

from bank import clock
from bank.errors import BankError
from device import enrolment
from sync import client, home
from sync.faults import DeviceFault
from terminal import redeem as engine


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def plain_errors(func):
    """One plain line on stderr and exit 1 instead of a traceback."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BankError as exc:
            if kwargs.get("as_json"):
                _echo_json({"ok": False, "error": exc.code, "zh": exc.zh, "en": exc.en})
            else:
                click.echo(f"错误:{exc.zh} (Error: {exc.en})", err=True)
            sys.exit(1)
        except sqlite3.Error as exc:
            fault = DeviceFault("replica_damaged", detail=str(exc))
            click.echo(f"错误:{fault.zh} (Error: {fault.en})", err=True)
            sys.exit(1)
        except OSError as exc:
            click.echo(f"错误:无法读写文件 (Error: {exc})", err=True)
            sys.exit(1)
    return wrapper


home_option = click.option("--home", "home_dir", required=True, type=click.Path(file_okay=False),
                           help="The tablet's home directory.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.option("--home", "app_home", type=click.Path(file_okay=False), default=None,
              help="Open the tablet app on this home (enrolment screen if not enrolled yet).")
@click.option("--camera", default=None,
              help="Camera index (0, 1, …), a video or image file, or a folder of images or videos of cards.")
@click.pass_context
def main(ctx, app_home, camera):
    """商户平板 (merchant tablet): 登记、兑换、状态 (enrol, redeem, status)."""
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
        from terminal import HEIGHT, WIDTH
        headless_env(WIDTH, HEIGHT)
        from terminal.app import run  # Kivy is imported only when the window is wanted
        run(app_home, camera)


@main.command("enroll")
@home_option
@click.option("--server", required=True, help="The office URL, e.g. https://192.168.1.10:8080")
@click.option("--code", required=True, help="The one-time enrolment code from the office.")
@click.option("--label", default="", help="A name for this tablet (shown in the office's device list).")
@click.option("--fingerprint", default=None,
              help="The office certificate's SHA-256 (from office enroll or the console), if you have it; "
                   "the code's last two groups check it anyway.")
@plain_errors
def enroll_cmd(home_dir, server, code, label, fingerprint):
    """Enrol this tablet with a one-time code from the office."""
    try:
        h, pulled = enrolment.enroll(home_dir, server, code, kind="tablet", label=label,
                                     fingerprint=enrolment.fingerprint_text(fingerprint))
    except client.Unreachable as exc:
        # nothing was written and the code was not spent: the same command may simply be run again
        click.echo(f"错误:{enrolment.unreachable_sentence(server)} (Error: {exc.en})", err=True)
        sys.exit(1)
    click.echo(f"登记成功 (enrolled): 设备 {h.device_id}, 商户 {h.config['merchant_id']}, 目录 {h.path}")
    if not pulled:
        click.echo("首次同步未完成,请稍后运行 python -m sync --home ... (first pull failed; sync later)")


@main.command("redeem")
@home_option
@click.option("--card", "card_text", required=True, help="The card's QR text (as scanned).")
@click.option("--offer", "offer_id", required=True, type=int, help="Offer id (see status / office merchants).")
@click.option("--qty", type=int, default=1, show_default=True)
@click.option("--pin", default=None, help="The account's PIN, when the amount needs it.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@plain_errors
def redeem_cmd(home_dir, card_text, offer_id, qty, pin, as_json):
    """Redeem an offer with a card, offline if need be: exit 0 and the receipt, or 1 and the reason."""
    h = home.open_home(home_dir)
    try:
        receipt = engine.redeem(h, card_text, offer_id, qty, pin)
    except engine.Refusal as exc:
        if as_json:
            _echo_json({"ok": False, "reason": exc.reason, "zh": exc.zh, "en": exc.en})
        else:
            click.echo(f"不能兑换 (refused: {exc.reason}):{exc.zh} {exc.en}")
        sys.exit(1)
    if as_json:
        _echo_json({"ok": True, **receipt.as_dict()})
    else:
        for line in receipt.lines():
            click.echo(line)


@main.command("void")
@home_option
@click.option("--seq", type=int, required=True, help="The redemption's number on this tablet.")
@click.option("--reason", default="商户撤销", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@plain_errors
def void_cmd(home_dir, seq, reason, as_json):
    """Void (reverse) one of this tablet's recent redemptions."""
    h = home.open_home(home_dir)
    try:
        out = engine.void(h, seq, reason)
    except engine.Refusal as exc:
        if as_json:
            _echo_json({"ok": False, "reason": exc.reason, "zh": exc.zh, "en": exc.en})
        else:
            click.echo(f"不能撤销 (refused: {exc.reason}):{exc.zh} {exc.en}")
        sys.exit(1)
    if as_json:
        _echo_json({"ok": True, **out})
    else:
        click.echo(f"已撤销第 {seq} 号兑换,退回 {out['points']} 分 (voided; {out['points']} points returned)")


def _local_time(text: str | None) -> str:
    """A stored UTC instant as a person there reads it (Asia/Shanghai)."""
    if text is None:
        return "从未同步 (never)"
    return clock.local(clock.from_text(text)).strftime("%Y-%m-%d %H:%M") + " (北京时间)"


@main.command("status")
@home_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@plain_errors
def status_cmd(home_dir, as_json):
    """Last sync, pending events, limits left today."""
    s = engine.status(home.open_home(home_dir))
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False))
        return
    click.echo(f"设备 {s['device_id']} · {s['merchant']} · 办公室 {s['server']}")
    click.echo(f"上次同步 (last sync): {_local_time(s['last_sync_at'])}"
               + (f",{s['last_sync_age_hours']} 小时前" if s['last_sync_age_hours'] is not None else ""))
    click.echo(f"待上传 (pending): {s['pending_events']} 条 / {s['pending_points']} 分; "
               f"未同步额度剩余 {s['unsynced_points_left']} 分; 距停止兑换 {s['sync_hours_left']} 小时")
    click.echo(f"今日兑换 (today): {s['today_redemptions']} 笔 / {s['today_points']} 分; "
               f"每卡每日上限 {s['per_card_daily_cap']} 分; 单笔联网限额 {s['floor_limit']} 分")
    click.echo(f"兑换时间 (hours): {s['hours'] or '全天'}" + ("" if s["window_open"] else " · 现在不在兑换时间内"))
    if s["can_redeem"]:
        click.echo("可以兑换 (can redeem)")
    else:
        why = s["cannot_redeem"]
        click.echo(f"不能兑换 (cannot redeem: {why['code']}):{why['zh']} {why['en']}")


@main.command("demo")
@click.option("--dir", "work_dir", type=click.Path(file_okay=False), default="demo-data/terminal", show_default=True)
@click.option("--camera", default=None, help="A camera index instead of the recorded video of demo cards.")
def demo_cmd(work_dir, camera):
    """Office on the demo community + an enrolled noodle-shop tablet + the app (make demo)."""
    from pathlib import Path
    from terminal.demo import run
    run(Path(work_dir), camera)


@main.command("screenshots")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="docs/screenshots", show_default=True)
def screenshots_cmd(out_dir):
    """Regenerate docs/screenshots/terminal-*.png from the real app with demo data (1280x800)."""
    from pathlib import Path
    from terminal.screenshots import take
    for path in take(Path(out_dir)):
        click.echo(str(path))


if __name__ == "__main__":
    main(prog_name="python -m terminal")
