"""``python -m demo screenshots kiosk --out DIR``: every kiosk screen of the real app at 1920x1080.

It builds the demo community, runs a real office process, enrols the kiosk of compound 1, feeds
the camera a recorded video of a resident card and walks the app through every screen.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

WIDTH, HEIGHT = 1920, 1080


def take(out: Path, workdir: Path | None = None) -> list[Path]:
    from device.ui.scripted import headless_env, run_script, wait_until
    headless_env(WIDTH, HEIGHT)
    from bank.demo import REVIEWER_PIN
    from sync import replica

    from . import kiosk as demo
    own = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="kiosk-shots-"))
    k = demo.make(workdir)
    try:
        from kiosk.tts import Speaker
        from device.ui.app_base import screenshot

        from kiosk.app import KioskApp
        from kiosk.flow import KioskFlow
        from kiosk.steps import Step

        flow = KioskFlow(k.home, camera=str(k.video))
        app = KioskApp(k.home, flow=flow, camera=str(k.video), speaker=Speaker(engine=""))
        shots: list[Path] = []

        def shot(name):
            shots.append(screenshot(out / f"kiosk-{name}.png"))

        def login(qr):
            flow.scan(qr)
            for key in REVIEWER_PIN:
                flow.pin_key(key)
            flow.pin_submit()
            app.show()

        def script(app):
            yield from wait_until(app, lambda: flow.syncer.state.online is not None, 20)
            yield from wait_until(app, lambda: app.scanner is not None and app.scanner.frames_seen > 3, 20)
            yield 0.6
            shot("attract")
            yield from wait_until(app, lambda: flow.step is Step.HOME, 20)   # the resident card from the video
            app.scanner.stop()        # the video's staff card must not interrupt the walk-through
            yield 0.3
            shot("home")
            app.act("set_language", "en")     # the English variant of the resident's main screen
            yield 0.3
            shot("home-en")
            app.act("set_language", "zh")
            for step in ("passbook", "convention", "redeem", "boards", "object"):
                app.act("go", step)
                yield 0.3
                shot(step)
                if step == "boards":          # the boards screen's second tab: this compound's postings
                    app.act("show_tab", "posting")
                    yield 0.3
                    shot("postings")
                    app.act("set_language", "en")
                    yield 0.3
                    shot("postings-en")
                    app.act("set_language", "zh")
                    if flow.postings():
                        app.act("choose_posting", flow.postings()[0]["posting_id"])
                        yield 0.3
                        shot("posting")
            app.act("go", "redeem")           # 到哪里兑换: a kind of shop, its shops nearest first, one shop
            kinds = [kind for kind, _name, n in flow.paged()]
            app.act("choose_shop_kind", "noodles" if "noodles" in kinds else kinds[0] if kinds else None)
            yield 0.3
            shot("redeem-shops")
            if flow.paged():
                app.act("choose_shop", flow.paged()[0].merchant_id)
                yield 0.3
                shot("redeem-shop")
                app.act("set_language", "en")
                yield 0.3
                shot("redeem-shop-en")
                app.act("set_language", "zh")
            app.act("go", "tip")              # 举报: what happened, then where
            yield 0.3
            shot("tip")
            app.act("set_language", "en")
            yield 0.3
            shot("tip-en")
            app.act("set_language", "zh")
            app.act("choose_tip_category", "hallway")
            yield 0.3
            shot("tip-building")
            app.act("go", "object")
            lines = flow.objectable()
            if lines:
                app.act("choose_objection", lines[0].entry_id)
                yield 0.3
                shot("object-reason")
            if k.resident_pin:
                app.act("reset")
                flow.scan(k.resident_pin[0])
                app.act("go", "passbook")
                yield 0.3
                shot("passbook-locked")
                app.act("ask_pin")
                for key in "12":
                    app.act("pin_key", key)
                yield 0.3
                shot("pin")
            app.act("reset")
            flow.scan(k.staff[0][0])
            app.show()
            yield 0.3
            shot("staff-pin")
            login(k.staff[0][0])
            _aid, _kind, building, unit, _room = replica.kiosk_household(flow.conn, k.resident[1])
            app.act("set_building", building)
            app.act("set_unit", unit)
            yield 0.3
            shot("staff-find")
            app.act("choose_household", k.resident[1])
            yield 0.3
            shot("staff-items")
            app.act("choose_item", "XS06")
            app.act("set_note", "邻居反映,已核实")
            yield 0.3
            shot("staff-confirm")
            flow.scan(k.staff[1][0])
            app.show()
            for key in REVIEWER_PIN[:2]:
                app.act("pin_key", key)
            yield 0.3
            shot("staff-second")
            for key in REVIEWER_PIN[2:]:
                app.act("pin_key", key)
            app.act("pin_submit")
            app.act("confirm")
            app.act("choose_item", "ML02")
            app.act("confirm")
            yield 0.3
            shot("staff-recorded")
            app.act("go", "staff_month")
            yield 0.3
            shot("staff-month")
            app.act("undo", flow.month_page()[0].key)     # the message on the banner above a full page
            yield 0.3
            shot("staff-month-message")
            app.act("set_language", "en")
            yield 0.3
            shot("staff-month-en")
            app.act("set_language", "zh")
            app.act("reset")
            yield 0.3

        run_script(app, script, timeout=150)
        return shots
    finally:
        k.stop()
        if own:
            shutil.rmtree(workdir, ignore_errors=True)
