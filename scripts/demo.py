"""``make demo``: the whole system on this machine. The office server on the demo community, a
merchant tablet (老街小面) and the kiosk of compound 1 enrolled with it, each fed by a recorded
video of demo cards, and a console user to log in with. With no display the two apps are not
opened: the office keeps running (console, sync API) until Ctrl-C.

    python scripts/demo.py --dir demo-data
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bank import db, demo, users  # noqa: E402
from device.demo import OfficeProcess, has_display  # noqa: E402
from kiosk import demo as kiosk_demo  # noqa: E402
from terminal import demo as tablet_demo  # noqa: E402

CONSOLE_USER, CONSOLE_PASSWORD = "演示管理员", "longhai-demo"


def console_user(office_db: Path) -> None:
    conn = db.connect(office_db)
    try:
        if not any(u.name == CONSOLE_USER for u in users.all_users(conn)):
            with db.transaction(conn):
                users.add_user(conn, name=CONSOLE_USER, role="office", password=CONSOLE_PASSWORD)
    finally:
        conn.close()


def first_offer(office_db: Path, merchant: str) -> int:
    conn = db.connect(office_db, readonly=True)
    try:
        return conn.execute("SELECT min(o.offer_id) FROM offers o JOIN merchants m USING (merchant_id) WHERE m.name = ?",
                            (merchant,)).fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the whole Moral Points Bank system on this machine.")
    parser.add_argument("--dir", type=Path, default=Path("demo-data"), help="where the demo lives")
    parser.add_argument("--port", type=int, default=8080, help="the office server's port")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    office_db = args.dir / "community.sqlite"
    if not office_db.exists():
        demo.build(office_db)
    console_user(office_db)
    try:
        office = OfficeProcess(office_db, args.port)
    except RuntimeError as exc:
        sys.exit(f"错误:办公室服务没有启动,端口 {args.port} 可能被占用 (Error: {exc}; is port {args.port} in use?)")
    apps = []
    try:
        tablet = tablet_demo.make(args.dir, server=office.url)
        kiosk = kiosk_demo.make(args.dir, server=office.url)
        print(f"""
== 道德积分银行 · 全系统演示 (the whole system) ==
社区办公室 (office):        {office.url}/  控制台账号 {CONSOLE_USER} / 密码 {CONSOLE_PASSWORD}
                            HTTPS,办公室自己的证书:浏览器首次会提示“不安全”,核对指纹后继续
                            (the office's own certificate: the browser warns once)
证书指纹 (SHA-256):         {office.fingerprint}
同步接口 (sync API docs):   {office.url}/docs
商户平板 (tablet):          {tablet.home}  ({tablet_demo.MERCHANT})
服务点一体机 (kiosk):       {kiosk.home}  (小区 {kiosk_demo.COMPOUND}; 工作卡密码 staff PIN {demo.REVIEWER_PIN})
无界面试用 (headless):      {sys.executable} -m terminal status --home {tablet.home}
                            {sys.executable} -m terminal redeem --home {tablet.home} --card '{tablet.cards[0][0]}' --offer {first_offer(office_db, tablet_demo.MERCHANT)}
                            {sys.executable} -m sync --home {tablet.home}
""")
        if has_display():
            apps = [subprocess.Popen([sys.executable, "-m", "terminal", "--home", str(tablet.home),
                                      "--camera", str(tablet.video)]),
                    subprocess.Popen([sys.executable, "-m", "kiosk", "--home", str(kiosk.home),
                                      "--camera", str(kiosk.video)])]
            print("平板和一体机窗口已打开;关闭它们即结束演示。 (Tablet and kiosk windows are open; close them to end.)")
            for app in apps:
                app.wait()
        else:
            print("本机没有显示器,不打开平板和一体机界面;办公室继续运行,按 Ctrl-C 结束。"
                  " (No display here: the app windows are not opened; the office keeps running, Ctrl-C stops it.)")
            office.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for app in apps:
            app.terminate()
        office.stop()


if __name__ == "__main__":
    main()
