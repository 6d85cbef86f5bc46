"""``python -m kiosk``: the service-point kiosk.

    python -m kiosk enroll --home DIR --server URL --code CODE
    python -m kiosk status --home DIR [--json]
    python -m kiosk --home DIR [--camera INDEX|VIDEO|IMAGE|FOLDER]

The demo kiosk and the screenshots are ``python -m demo kiosk`` and ``python -m demo screenshots kiosk``.
"""

from __future__ import annotations

import json

import click

from device import clikit
from device.clikit import plain_errors

WIDTH, HEIGHT = 1920, 1080   # the 21.5-inch kiosk screen


@clikit.app_group("Open the kiosk app on this enrolled home directory.")
def main(ctx, app_home, camera):
    """服务点一体机 (service-point kiosk): 查询积分、评议记分 (check points, record entries)."""
    clikit.open_app(ctx, app_home, camera, _run_app)


def _run_app(home_dir: str, camera: str | None) -> None:
    from device.ui.scripted import headless_env  # Kivy is imported only when the window is wanted
    headless_env(WIDTH, HEIGHT)
    from kiosk.app import run
    run(home_dir, camera)


@main.command("enroll")
@clikit.enroll_options("kiosk", code_from="office enroll --kiosk N")
@plain_errors
def enroll_cmd(home_dir, server, code, label, fingerprint):
    """Enrol this kiosk with a one-time code from the office."""
    clikit.enroll(home_dir, server, code, "kiosk", label, fingerprint,
                  where=lambda h: f"服务点 {h.config['service_point_id']}")


@main.command("status")
@clikit.home_option("kiosk")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@plain_errors
def status_cmd(home_dir, as_json):
    """Last sync, events waiting, whether the kiosk may record entries (it never redeems)."""
    from kiosk import status
    from sync import home
    s = status.status(home.open_home(home_dir))
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False))
        return
    click.echo(f"设备 {s['device_id']} · 一体机 · {s['compound'] or '—'} · 办公室 {s['server']}")
    click.echo(clikit.last_sync_line(s))
    click.echo(f"待上传 (pending): {s['pending_events']} 条; 办公室已确认到第 {s['acked_seq']} 条, "
               f"本机最新第 {s['last_seq']} 条")
    if s["can_record"]:
        click.echo("可以记分、提出异议 (can record); 一体机不兑换 (a kiosk does not redeem)")
    else:
        why = s["cannot_record"]
        click.echo(f"不能记分 (cannot record: {why['code']}):{why['zh']} {why['en']}")


if __name__ == "__main__":
    main(prog_name="python -m kiosk")
