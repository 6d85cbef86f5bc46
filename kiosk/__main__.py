"""``python -m kiosk``: the service-point kiosk.

    python -m kiosk enrol --home DIR --server URL --code CODE
    python -m kiosk status --home DIR [--json]
    python -m kiosk --home DIR [--camera INDEX|VIDEO|IMAGE|FOLDER]

The demo kiosk and the screenshots are ``python -m demo kiosk`` and ``python -m demo screenshots kiosk``.
"""

from __future__ import annotations

from device import clikit
from kiosk import status

WIDTH, HEIGHT = 1920, 1080   # the 21.5-inch kiosk screen


def _run_app(home_dir: str, camera: str | None) -> None:
    from device.ui.scripted import headless_env  # Kivy is imported only when the window is wanted
    headless_env(WIDTH, HEIGHT)
    from kiosk.app import run
    run(home_dir, camera)


main = clikit.app_cli("服务点一体机 (service-point kiosk): 查询积分、评议记分 (check points, record entries).",
                      "Open the kiosk app on this enrolled home directory.", _run_app)
clikit.add_enrol(main, "kiosk", "kiosk", lambda h: f"服务点 {h.config['service_point_id']}",
                  code_from="office enrol --kiosk N")


def _status_lines(s: dict) -> list[str]:
    out = []
    out.append(f"设备 {s['device_id']} · 一体机 · {s['compound'] or '—'} · 办公室 {s['server']}")
    out.append(clikit.last_sync_line(s))
    out.append(f"待上传 (pending): {s['pending_events']} 条; 办公室已确认到第 {s['acked_seq']} 条, "
               f"本机最新第 {s['last_seq']} 条")
    if s["can_record"]:
        out.append("可以记分、提出异议 (can record); 一体机不兑换 (a kiosk does not redeem)")
    else:
        why = s["cannot_record"]
        out.append(f"不能记分 (cannot record: {why['code']}):{why['zh']} {why['en']}")
    return out


clikit.add_status(main, "kiosk", "Last sync, events waiting, whether the kiosk may record entries (it never redeems).",
                  status.status, _status_lines)


if __name__ == "__main__":
    main(prog_name="python -m kiosk")
