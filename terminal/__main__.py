"""``python -m terminal``: the merchant tablet.

    python -m terminal enrol --home DIR --server URL --code CODE
    python -m terminal redeem --home DIR --card TEXT --offer OFFER_ID [--qty N] [--pin PIN] [--json]
    python -m terminal void   --home DIR --seq N [--json]
    python -m terminal status --home DIR [--json]

Without a command (``python -m terminal --home DIR``) it opens the tablet app. The demo tablet and
the screenshots are ``python -m demo tablet`` and ``python -m demo screenshots tablet``.
"""

from __future__ import annotations

import sys

import click

from device import clikit
from device.clikit import plain_errors
from sync import home
from terminal import redeem as engine


home_option = clikit.home_option("tablet")


def _run_app(home_dir: str, camera: str | None) -> None:
    from device.ui.scripted import headless_env  # Kivy is imported only when the window is wanted
    from terminal import HEIGHT, WIDTH
    headless_env(WIDTH, HEIGHT)
    from terminal.app import run
    run(home_dir, camera)


main = clikit.app_cli("商户平板 (merchant tablet): 登记、兑换、状态 (enrol, redeem, status).",
                      "Open the tablet app on this home (enrolment screen if not enrolled yet).", _run_app)
clikit.add_enrol(main, "tablet", "tablet", lambda h: f"商户 {h.config['merchant_id']}")


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
            clikit.echo_json({"ok": False, "reason": exc.reason, "zh": exc.zh, "en": exc.en})
        else:
            click.echo(f"不能兑换 (refused: {exc.reason}):{exc.zh} {exc.en}")
        sys.exit(1)
    if as_json:
        clikit.echo_json({"ok": True, **receipt.as_dict()})
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
            clikit.echo_json({"ok": False, "reason": exc.reason, "zh": exc.zh, "en": exc.en})
        else:
            click.echo(f"不能撤销 (refused: {exc.reason}):{exc.zh} {exc.en}")
        sys.exit(1)
    if as_json:
        clikit.echo_json({"ok": True, **out})
    else:
        click.echo(f"已撤销第 {seq} 号兑换,退回 {out['points']} 分 (voided; {out['points']} points returned)")


def _status_lines(s: dict) -> list[str]:
    out = []
    out.append(f"设备 {s['device_id']} · {s['merchant']} · 办公室 {s['server']}")
    out.append(clikit.last_sync_line(s))
    out.append(f"待上传 (pending): {s['pending_events']} 条 / {s['pending_points']} 分; "
               f"未同步额度剩余 {s['unsynced_points_left']} 分; 距停止兑换 {s['sync_hours_left']} 小时")
    out.append(f"今日兑换 (today): {s['today_redemptions']} 笔 / {s['today_points']} 分; "
               f"每卡每日上限 {s['per_card_daily_cap']} 分; 单笔联网限额 {s['floor_limit']} 分")
    out.append(f"兑换时间 (hours): {s['hours'] or '全天'}" + ("" if s["window_open"] else " · 现在不在兑换时间内"))
    if s["can_redeem"]:
        out.append("可以兑换 (can redeem)")
    else:
        why = s["cannot_redeem"]
        out.append(f"不能兑换 (cannot redeem: {why['code']}):{why['zh']} {why['en']}")
    return out


clikit.add_status(main, "tablet", "Last sync, pending events, limits left today.", engine.status, _status_lines)


if __name__ == "__main__":
    main(prog_name="python -m terminal")
