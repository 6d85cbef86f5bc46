"""``make demo``: the whole system on this machine. The office server on the demo community, a
merchant tablet (老街小面) and the kiosk of compound 1 enrolled with it, each fed by a recorded
video of demo cards, and a console user to log in with. With no display the two apps are not
opened: the office keeps running (console, sync API) until Ctrl-C or SIGTERM.

    python -m demo --dir demo-data [--port 8080]
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
from pathlib import Path

from bank import clock, db, demo as builder, ledger, merchants, policy, users

from . import kiosk as kiosk_demo, tablet as tablet_demo
from .office import OfficeProcess, has_display, stop_on_sigterm

CONSOLE_USER, CONSOLE_PASSWORD = "演示管理员", "longhai-demo"


def console_user(office_db: Path) -> None:
    conn = db.connect(office_db)
    try:
        if not any(u.name == CONSOLE_USER for u in users.all_users(conn)):
            with db.transaction(conn):
                users.add_user(conn, name=CONSOLE_USER, role="office", password=CONSOLE_PASSWORD)
    finally:
        conn.close()


def redemption_example(office_db: Path, merchant: str, card: str, *, now: dt.datetime | None = None) -> list[str]:
    """The lines that show a headless redemption at the demo tablet: an offer of ``merchant`` the
    card can pay for, if the shop is open for redemption now; else why it would be refused."""
    now = now or clock.now_utc()
    conn = db.connect(office_db, readonly=True)
    try:
        mid = conn.execute("SELECT merchant_id FROM merchants WHERE name = ?", (merchant,)).fetchone()[0]
        windows = policy.windows(conn, mid)
        if not policy.open_at(windows, now):
            hours = "、".join(w.describe() for w in windows)
            return [f"{merchant}的兑换时间是 {hours},现在 {clock.local(now):%H:%M} 不能兑换 (closed for redemption now);"
                    f"请在兑换时间内试 (try within these hours):"]
        account_id = conn.execute("SELECT account_id FROM cards WHERE qr = ?", (card,)).fetchone()[0]
        have = ledger.balance(conn, account_id)
        offer = max((o for o in merchants.offers_of(conn, mid) if o.points <= have), key=lambda o: o.points, default=None)
        if offer is None:
            return [f"这张卡只有 {have} 分,不够{merchant}的任何兑换项目 (not enough points for any offer)。"]
        return [f"{merchant}现在可以兑换 (open now):{offer.name} {offer.points} 分 = --offer {offer.offer_id}"]
    finally:
        conn.close()


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def run(workdir: Path, port: int) -> None:
    """The whole system until Ctrl-C, SIGTERM or the app windows are closed; then nothing it
    started is left running."""
    stop_on_sigterm()
    if port_in_use(port):
        sys.exit(f"错误:端口 {port} 已被占用(也许另一个演示还在运行),请先结束它或用 --port 换一个端口。"
                 f" (Error: port {port} is in use; stop the other demo or pick another --port.)")
    workdir.mkdir(parents=True, exist_ok=True)
    office_db = workdir / "community.sqlite"
    office = None
    apps = []
    try:
        if not office_db.exists():
            builder.build(office_db)
        console_user(office_db)
        try:
            office = OfficeProcess(office_db, port)
        except RuntimeError as exc:
            sys.exit(f"错误:办公室服务没有启动,端口 {port} 可能被占用 (Error: {exc}; is port {port} in use?)")
        tablet = tablet_demo.make(workdir, server=office.url)
        kiosk = kiosk_demo.make(workdir, server=office.url)
        example = redemption_example(office_db, tablet_demo.MERCHANT, tablet.cards[0][0])
        offer = example[0].rsplit("--offer ", 1)[1] if "--offer " in example[0] else "<兑换项目编号 offer id>"
        print(f"""
== 道德积分银行 · 全系统演示 (the whole system) ==
社区办公室 (office):        {office.url}/  控制台账号 {CONSOLE_USER} / 密码 {CONSOLE_PASSWORD}
                            HTTPS,办公室自己的证书:浏览器首次会提示“不安全”,核对指纹后继续
                            (the office's own certificate: the browser warns once)
证书指纹 (SHA-256):         {office.fingerprint}
同步接口 (sync API docs):   {office.url}/docs
商户平板 (tablet):          {tablet.home}  ({tablet_demo.MERCHANT})
服务点一体机 (kiosk):       {kiosk.home}  (小区 {kiosk_demo.COMPOUND}; 工作卡密码 staff PIN {builder.REVIEWER_PIN})
无界面试用 (headless):      {sys.executable} -m terminal status --home {tablet.home}
                            {example[0]}
                            {sys.executable} -m terminal redeem --home {tablet.home} --card '{tablet.cards[0][0]}' --offer {offer}
                            {sys.executable} -m sync --home {tablet.home}
""", flush=True)
        if has_display():
            apps = [subprocess.Popen([sys.executable, "-m", "terminal", "--home", str(tablet.home),
                                      "--camera", str(tablet.video)]),
                    subprocess.Popen([sys.executable, "-m", "kiosk", "--home", str(kiosk.home),
                                      "--camera", str(kiosk.video)])]
            print("平板和一体机窗口已打开;关闭它们即结束演示。 (Tablet and kiosk windows are open; close them to end.)",
                  flush=True)
            for app in apps:
                app.wait()
        else:
            print("本机没有显示器,不打开平板和一体机界面;办公室继续运行,按 Ctrl-C 结束。"
                  " (No display here: the app windows are not opened; the office keeps running, Ctrl-C stops it.)",
                  flush=True)
            office.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for app in apps:
            app.terminate()
        if office is not None:
            office.stop()

