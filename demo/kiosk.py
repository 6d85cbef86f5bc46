"""A demo kiosk: the demo community served by a real office process, the kiosk of compound 1
(龙海花园) enrolled with it, a posting of last quarter open for objections, and a recorded video of
a resident card and a staff card being shown. Used by screenshots, the benchmark and ``make demo``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bank import accounts, audit, clock, db, demo as builder, ledger, periods, postings, reviewers

from . import office as plumbing, video as card_video
from .office import OfficeProcess, stop_on_sigterm

COMPOUND = 1


@dataclass
class DemoKiosk:
    office_db: Path
    home: Path
    server: str
    office: OfficeProcess | None            # None when the caller runs the office
    resident: tuple[str, int, str]          # (card QR, account id, masked name): has entries last quarter
    resident_pin: tuple[str, int] | None    # a card whose account has a PIN (1234 in the demo)
    staff: list[tuple[str, str]]            # (staff card QR, name) of compound 1's review group
    video: Path | None = None

    def stop(self) -> None:
        """Stop the office process, if this demo started it."""
        if self.office is not None:
            self.office.stop()


def prepare(office_db: Path) -> None:
    """A quarterly posting of compound 1 open today (published as the console publishes it, after
    the quarter's verification) and last year's beside it, so objections and the list of postings
    can be shown."""
    conn = db.connect(office_db)
    try:
        builder.publish_posting(conn, COMPOUND, by="社区办公室")
        with db.transaction(conn):
            last_year = periods.year(clock.local_date(clock.now_utc()).year - 1)
            if postings.find(conn, "yearly", last_year.key, COMPOUND) is None:
                today = clock.local_date(clock.now_utc())
                p = postings.publish(conn, kind="yearly", period=last_year, compound_id=COMPOUND,
                                     opens_on=max(today, last_year.last_day + dt.timedelta(days=1)), days=30,
                                     by="社区办公室")
                audit.record(conn, "社区办公室", "posting.publish", f"posting {p.posting_id}",
                             {"year": last_year.key, "compound": COMPOUND, "opens_on": p.opens_on,
                              "closes_on": p.closes_on})
    finally:
        conn.close()


def pick(office_db: Path) -> tuple[tuple, tuple | None, list]:
    """A resident of compound 1 with awards last quarter and no PIN; one with a PIN; the staff cards."""
    conn = db.connect(office_db)
    try:
        quarter = periods.previous_quarter()
        staff_accounts = {m.account_id for m in reviewers.of_compound(conn, COMPOUND)}
        rows = conn.execute(
            "SELECT a.account_id, a.pin_hash IS NOT NULL, c.qr FROM accounts a JOIN cards c ON c.account_id = a.account_id "
            "AND c.status = 'active' AND c.role = 'resident' WHERE a.compound_id = ? AND a.status = 'active' "
            "AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.account_id = a.account_id AND e.kind = 'award' "
            "AND e.recorded_at >= ? AND e.recorded_at < ?) ORDER BY a.account_id",
            (COMPOUND, quarter.start, quarter.end)).fetchall()
        resident = with_pin = None
        for aid, has_pin, qr in rows:
            if aid in staff_accounts:
                continue
            name = accounts.mask_name(accounts.get(conn, aid).display_name)
            if not has_pin and resident is None and ledger.balance(conn, aid) >= 30:
                resident = (qr, aid, name)
            if has_pin and with_pin is None and conn.execute(
                    "SELECT 1 FROM ledger_entries WHERE account_id = ? AND kind = 'deduction'", (aid,)).fetchone():
                with_pin = (qr, aid)   # a deduction to hide behind the PIN
        if with_pin is None:   # any PIN account of the compound with a deduction to hide
            row = conn.execute(
                "SELECT c.qr, a.account_id FROM accounts a JOIN cards c ON c.account_id = a.account_id AND "
                "c.status = 'active' AND c.role = 'resident' WHERE a.compound_id = ? AND a.status = 'active' AND "
                "a.pin_hash IS NOT NULL AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.account_id = a.account_id "
                "AND e.kind = 'deduction') ORDER BY a.account_id LIMIT 1", (COMPOUND,)).fetchone()
            with_pin = tuple(row) if row else None
        staff = [(conn.execute("SELECT qr FROM cards WHERE card_id = ? AND status = 'active'", (m.card_id,)).fetchone()[0],
                  m.name) for m in reviewers.of_compound(conn, COMPOUND)]
        return resident, with_pin, staff
    finally:
        conn.close()


def make(workdir: Path, *, video: bool = True, port: int | None = None,
         server: str | None = None) -> DemoKiosk:
    """Build everything under ``workdir`` and return the running demo (the caller stops it); with
    ``server`` the kiosk joins an office that is already running on ``workdir``'s database."""
    workdir.mkdir(parents=True, exist_ok=True)
    office_db = workdir / "community.sqlite"
    if not office_db.exists():
        builder.build(office_db)
    prepare(office_db)
    office = None if server else OfficeProcess(office_db, port)
    server = server or office.url
    home = workdir / "kiosk"
    try:
        conn = db.connect(office_db)
        sp = conn.execute("SELECT service_point_id FROM service_points WHERE compound_id = ?",
                          (COMPOUND,)).fetchone()[0]
        conn.close()
        plumbing.enrol(office_db, home, server, kind="kiosk", label="demo kiosk", service_point_id=sp)
        resident, with_pin, staff = pick(office_db)
        k = DemoKiosk(office_db, home, server, office, resident, with_pin, staff)
        if video:
            k.video = write_card_video(workdir / "kiosk-cards.avi", [resident[0], staff[0][0]])
        return k
    except BaseException:
        if office is not None:
            office.stop()
        raise


def write_card_video(path: Path, texts: list[str], hold_frames: int = 45, gap_frames: int = 40) -> Path:
    """A recorded video of cards shown one after another, with empty scenes between."""
    return card_video.write_card_video(path, texts, hold_frames=hold_frames, gap_frames=gap_frames, seed=11)


def run(workdir: Path, camera: str | None = None) -> None:
    """``python -m demo kiosk``: office + the kiosk of compound 1 + the app on the card video."""
    stop_on_sigterm()
    k = make(workdir, video=camera is None)
    print(f"社区办公室已启动 (office running): {k.server}  数据库 {k.office_db}")
    print(f"演示一体机 (demo kiosk): {k.home}  工作卡密码 (staff PIN) {builder.REVIEWER_PIN}")
    try:
        if not plumbing.has_display():
            print("本机没有显示器,不打开一体机界面;办公室继续运行,按 Ctrl-C 结束。"
                  " (No display: the kiosk window is not opened; the office keeps running, Ctrl-C stops it.)")
            print(f"有显示器时运行 (with a display run): python -m kiosk --home {k.home} --camera {camera or k.video}")
            k.office.wait()
            return
        from device.ui.scripted import headless_env
        headless_env(1920, 1080)
        from kiosk.app import run as run_app
        run_app(str(k.home), camera or str(k.video))
    except KeyboardInterrupt:
        pass
    finally:
        k.stop()
