"""A demo tablet: the demo community served by a real office process, one enrolled noodle shop,
and a recorded video of demo cards being shown. Used by screenshots, UI tests and ``make demo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bank import db, demo as builder
from terminal import HEIGHT, WIDTH

from . import office as plumbing, video as card_video
from .office import OfficeProcess, stop_on_sigterm

MERCHANT = "老街小面"


@dataclass
class DemoTablet:
    office_db: Path
    home: Path
    server: str
    office: OfficeProcess | None                # None when the caller runs the office
    cards: list[tuple[str, str, int, bool]]     # (qr, masked name, balance, has PIN)
    video: Path | None = None

    def stop(self) -> None:
        """Stop the office process, if this demo started it."""
        if self.office is not None:
            self.office.stop()


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


def make(workdir: Path, *, video: bool = True, port: int | None = None,
         server: str | None = None) -> DemoTablet:
    """Build everything under ``workdir`` (about 10 s) and return the running demo; with
    ``server`` the tablet joins an office that is already running on ``workdir``'s database."""
    workdir.mkdir(parents=True, exist_ok=True)
    office_db = workdir / "community.sqlite"
    if not office_db.exists():
        builder.build(office_db)
    office = None if server else OfficeProcess(office_db, port)
    server = server or office.url
    home = workdir / "tablet"
    try:
        conn = db.connect(office_db)
        mid = conn.execute("SELECT merchant_id FROM merchants WHERE name = ?", (MERCHANT,)).fetchone()[0]
        conn.close()
        plumbing.enrol(office_db, home, server, kind="tablet", label="demo tablet", merchant_id=mid)
        cards = pick_cards(office_db)
        tablet = DemoTablet(office_db, home, server, office, cards)
        if video:
            tablet.video = write_card_video(workdir / "cards.avi", [c[0] for c in cards[:3]])
        return tablet
    except BaseException:
        if office is not None:
            office.stop()
        raise


def write_card_video(path: Path, texts: list[str], hold_frames: int = 45, gap_frames: int = 30) -> Path:
    """A recorded video of cards being shown one after another, with empty scenes between."""
    return card_video.write_card_video(path, texts, hold_frames=hold_frames, gap_frames=gap_frames, seed=5)


def run(workdir: Path, camera: str | None = None) -> None:
    """``python -m demo tablet``: office + enrolled tablet + the app on the card video (or a
    real camera); with no display, say so and keep the office running until Ctrl-C."""
    stop_on_sigterm()
    tablet = make(workdir, video=camera is None)
    print(f"社区办公室已启动 (office running): {tablet.server}  数据库 {tablet.office_db}")
    print(f"演示平板 (demo tablet): {tablet.home}  商户 {MERCHANT}")
    try:
        if not plumbing.has_display():
            print("本机没有显示器,不打开平板界面;办公室继续运行,按 Ctrl-C 结束。"
                  " (No display here: the tablet window is not opened; the office keeps running, Ctrl-C stops it.)")
            print(f"有显示器时运行 (with a display run): python -m terminal --home {tablet.home} "
                  f"--camera {camera or tablet.video}")
            tablet.office.wait()
            return
        from device.ui.scripted import headless_env
        headless_env(WIDTH, HEIGHT)
        from terminal.app import run as run_app
        run_app(str(tablet.home), camera or str(tablet.video))
    except KeyboardInterrupt:
        pass
    finally:
        tablet.stop()
