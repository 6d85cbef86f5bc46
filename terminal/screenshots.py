"""``python -m terminal screenshots --out DIR``: every screen of the real app at 1280x800.

It builds the demo community, runs a real office process, enrols a demo noodle-shop tablet,
feeds the camera a recorded video of demo cards and walks the app through every screen.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from bank import accounts, clock
from device.ui.scripted import headless_env, run_script, wait_until

from . import HEIGHT, WIDTH


def shop_hours_clock():
    """Today 12:00 in the community's time zone, running on from there: inside every demo
    redemption window whenever the screenshots are made."""
    import datetime as dt
    import time
    from bank import clock
    noon = clock.local_midnight(clock.local_date(clock.now_utc())) + dt.timedelta(hours=12)
    start = time.monotonic()
    return lambda: noon + dt.timedelta(seconds=time.monotonic() - start)


def hold_some_points(office_db: Path, card_qr: str) -> None:
    """Object to the latest award of the card's account at the office, as a resident may at the
    kiosk: its points are held, so the card screen has a warning to show."""
    from bank import db, objections
    conn = db.connect(office_db)
    try:
        account_id = conn.execute("SELECT account_id FROM cards WHERE card_id = ?",
                                  (card_qr.split(":")[3],)).fetchone()[0]
        row = conn.execute("SELECT e.entry_id FROM ledger_entries e WHERE e.account_id = ? AND e.kind = 'award' "
                           "AND e.points > 0 AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE "
                           "r.reverses_entry_id = e.entry_id) ORDER BY e.entry_id DESC LIMIT 1",
                           (account_id,)).fetchone()
        if row is not None:
            objections.raise_objection(conn, account_id, reason="演示:记录有误", raised_by="演示", entry_id=row[0])
    finally:
        conn.close()


def take(out: Path, workdir: Path | None = None) -> list[Path]:
    """Write docs-ready PNGs into ``out``; return their paths."""
    headless_env(WIDTH, HEIGHT)
    from . import demo
    own = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="terminal-shots-"))
    tablet = demo.make(workdir)
    try:
        from device.ui.app_base import screenshot
        from .app import TerminalApp
        from .flow import Step, TerminalFlow

        flow = TerminalFlow(tablet.home, camera=str(tablet.video), now=shop_hours_clock())
        app = TerminalApp(tablet.home, flow=flow)
        shots: list[Path] = []
        plain = next(c for c in tablet.cards if not c[3])
        with_pin = next((c for c in tablet.cards if c[3]), None)

        def shot(name):
            shots.append(screenshot(out / f"terminal-{name}.png"))

        def act(*args):
            app.act(*args)

        def script(app):
            yield from wait_until(app, lambda: flow.syncer.state.online is not None, 15)
            yield from wait_until(app, lambda: app.scanner is not None and app.scanner.frames_seen > 5, 15)
            flow.go(Step.SCAN)
            app.show()
            yield 0.5
            shot("scan")
            flow.scan(plain[0])
            app.show()
            yield 0.3
            shot("card")
            act("to_offers")
            act("choose", flow.offers[0].offer_id)
            act("choose", flow.offers[0].offer_id)
            if len(flow.offers) > 1:   # a basket of two offers, as at a noodle counter
                act("choose", flow.offers[1].offer_id)
            yield 0.3
            shot("offers")
            act("to_confirm")
            yield 0.3
            shot("confirm")
            act("confirm")
            yield from wait_until(app, lambda: not app.busy)
            yield 0.3
            shot("receipt")
            if with_pin is not None:
                act("receipt_done")
                flow.scan(with_pin[0])
                app.show()
                act("to_offers")
                expensive = max((o for o in flow.offers if o.max_qty), key=lambda o: o.points)
                act("set_qty", expensive.offer_id, max(1, min(expensive.max_qty, 21 // expensive.points + 1)))
                act("to_confirm")
                for key in "12":
                    act("pin_key", key)
                yield 0.3
                shot("confirm-pin")
                act("cancel")
            other = next((c for c in tablet.cards if not c[3] and c is not plain), None)
            if other is not None:   # the card screen's warnings: points held by an objection
                hold_some_points(tablet.office_db, other[0])
                flow.syncer.run_once()
                flow.go(Step.SCAN)
                flow.scan(other[0])
                app.show()
                yield 0.3
                shot("card-warnings")
                act("to_offers")       # nothing chosen yet: 下一步 disabled; tiles say why they cannot be added
                yield 0.3
                shot("offers-empty")
                act("cancel")
            hours_clock = flow.now        # 03:00 local: outside the demo shop's redemption hours
            night = clock.local_midnight(clock.local_date(hours_clock())) + dt.timedelta(hours=3)
            flow.now = lambda: night
            flow.go(Step.SCAN)
            flow.scan(plain[0])
            app.show()
            yield 0.3
            shot("card-closed")
            flow.now = hours_clock
            act("go", "today")
            yield 0.3
            shot("today")
            act("go", "sync")
            yield 0.3
            shot("sync")
            flow.settings.staff_pin_hash = accounts.hash_pin("2468")
            act("go", "settings")
            yield 0.3
            shot("settings-locked")
            act("unlock_settings", "2468")
            yield 0.3
            shot("settings")
            act("go", "scan")
            flow.scan("https://example.com/not-a-card")
            flow.message = flow.message
            app.show()
            yield 0.3
            shot("refused")
            act("set_language", "en")
            flow.scan(plain[0])
            app.show()
            yield 0.3
            shot("card-en")
            act("set_language", "zh")
            # The enrolment screen, as on a new tablet.
            app.flow = TerminalFlow(workdir / "new-tablet", camera=str(tablet.video))
            app.show()
            yield 0.3
            shot("enrol")
            app.flow = flow

        run_script(app, script)
        return shots
    finally:
        tablet.stop()
        if own:
            shutil.rmtree(workdir, ignore_errors=True)
