"""``python -m kiosk``: the service-point kiosk.

    python -m kiosk enroll --home DIR --server URL --code CODE
    python -m kiosk --home DIR [--camera INDEX|VIDEO_FILE]
    python -m kiosk screenshots --out DIR
    python -m kiosk demo [--dir DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bank.errors import BankError
from device import enrolment

WIDTH, HEIGHT = 1920, 1080   # the 21.5-inch kiosk screen


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.option("--home", "app_home", type=click.Path(file_okay=False), default=None,
              help="Open the kiosk app on this enrolled home directory.")
@click.option("--camera", default=None, help="Camera index (0, 1, …) or a video file of cards being shown.")
@click.pass_context
def main(ctx, app_home, camera):
    """服务点一体机 (service-point kiosk): 查询积分、评议记分 (check points, record entries)."""
    if ctx.invoked_subcommand is None:
        if app_home is None:
            click.echo(ctx.get_help())
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


@main.command("screenshots")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="docs/screenshots", show_default=True)
def screenshots_cmd(out_dir):
    """Regenerate docs/screenshots/kiosk-*.png from the real app with demo data (1920x1080)."""
    from kiosk.screenshots import take
    for path in take(Path(out_dir)):
        click.echo(str(path))


@main.command("demo")
@click.option("--dir", "work_dir", type=click.Path(file_okay=False), default="demo-data/kiosk", show_default=True)
@click.option("--camera", default=None, help="A camera index instead of the recorded video of demo cards.")
def demo_cmd(work_dir, camera):
    """Office on the demo community + an enrolled kiosk of compound 1 + the app (make demo)."""
    from kiosk.demo import run
    run(Path(work_dir), camera)


if __name__ == "__main__":
    main(prog_name="python -m kiosk")
