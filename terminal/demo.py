"""A demo tablet: the demo community served by a real office process, one enrolled noodle shop,
and a recorded video of demo cards being shown. Used by screenshots, UI tests and ``make demo``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bank import db, demo, devices
from device import enrolment

MERCHANT = "老街小面"


@dataclass
class DemoTablet:
    office_db: Path
    home: Path
    server: str
    process: subprocess.Popen
    cards: list[tuple[str, str, int, bool]]   # (qr, masked name, balance, has PIN)
    video: Path | None = None

    def stop(self) -> None:
        """Stop the office process."""
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_office(db_path: Path, port: int) -> subprocess.Popen:
    """``python -m office serve`` in a child process; returns once it answers."""
    proc = subprocess.Popen([sys.executable, "-m", "office", "serve", "--db", str(db_path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            return proc
        except requests.RequestException:
            if proc.poll() is not None:
                raise RuntimeError("the office server exited at start")
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the office server did not answer within 30 s")


def pick_cards(db_path: Path, n: int = 4) -> list[tuple[str, str, int, bool]]:
    """Resident cards with enough points for a noodle bowl: without PIN first, then with."""
    from bank import ledger
    conn = db.connect(db_path)
    try:
        rows = conn.execute("SELECT c.card_id, a.account_id, a.pin_hash IS NOT NULL FROM cards c "
                            "JOIN accounts a ON a.account_id = c.account_id WHERE a.status = 'active' "
                            "ORDER BY c.card_id").fetchall()
        from bank import accounts, cards
        out = []
        for card_id, aid, has_pin in rows:
            try:
                card = cards.current(conn, card_id)
            except Exception:  # noqa: BLE001 - revoked or staff: skip
                continue
            if card.status != "active" or card.role != "resident":
                continue
            bal = ledger.balance(conn, aid)
            if bal >= (25 if has_pin else 40):   # PIN accounts in the demo hold less
                out.append((card.qr, accounts.mask_name(accounts.get(conn, aid).display_name), bal, bool(has_pin)))
            if sum(1 for c in out if not c[3]) >= n and any(c[3] for c in out):
                break
        out.sort(key=lambda c: c[3])
        return out
    finally:
        conn.close()


def make(workdir: Path, *, video: bool = True, port: int | None = None) -> DemoTablet:
    """Build everything under ``workdir`` (about 10 s) and return the running demo."""
    workdir.mkdir(parents=True, exist_ok=True)
    office_db = workdir / "community.sqlite"
    if not office_db.exists():
        demo.build(office_db)
    port = port or free_port()
    proc = start_office(office_db, port)
    server = f"http://127.0.0.1:{port}"
    home = workdir / "tablet"
    try:
        if not (home / "config.json").exists():
            conn = db.connect(office_db)
            with db.transaction(conn):
                mid = conn.execute("SELECT merchant_id FROM merchants WHERE name = ?", (MERCHANT,)).fetchone()[0]
                code = devices.new_enrolment_code(conn, merchant_id=mid)
            conn.close()
            enrolment.enroll(home, server, code, kind="tablet", label="demo tablet")
        else:
            import json
            config = json.loads((home / "config.json").read_text("utf-8"))
            config["server"] = server
            (home / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), "utf-8")
        cards = pick_cards(office_db)
        tablet = DemoTablet(office_db, home, server, proc, cards)
        if video:
            tablet.video = write_card_video(workdir / "cards.avi", [c[0] for c in cards[:3]])
        return tablet
    except BaseException:
        proc.kill()
        raise


def write_card_video(path: Path, texts: list[str], hold_frames: int = 45, gap_frames: int = 30) -> Path:
    """A recorded video of cards being shown one after another, with empty scenes between."""
    from bench.scan.synth import Showing, write_video
    showings = [Showing(None, gap_frames)]
    for text in texts:
        showings += [Showing(text, hold_frames), Showing(None, gap_frames)]
    write_video(path, showings, seed=5)
    return path


def run(workdir: Path, camera: str | None = None) -> None:
    """``python -m terminal demo``: office + enrolled tablet + the app on the card video (or a
    real camera); with no display, say so and keep the office running until Ctrl-C."""
    import os
    tablet = make(workdir, video=camera is None)
    print(f"社区办公室已启动 (office running): {tablet.server}  数据库 {tablet.office_db}")
    print(f"演示平板 (demo tablet): {tablet.home}  商户 {MERCHANT}")
    try:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            print("本机没有显示器,不打开平板界面;办公室继续运行,按 Ctrl-C 结束。"
                  " (No display here: the tablet window is not opened; the office keeps running, Ctrl-C stops it.)")
            print(f"有显示器时运行 (with a display run): python -m terminal --home {tablet.home} "
                  f"--camera {camera or tablet.video}")
            tablet.process.wait()
            return
        from .scripted import headless_env
        headless_env()
        from .app import run as run_app
        run_app(str(tablet.home), camera or str(tablet.video))
    except KeyboardInterrupt:
        pass
    finally:
        tablet.stop()
