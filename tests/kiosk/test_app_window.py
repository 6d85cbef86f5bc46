"""The real kiosk window (SDL offscreen): a resident check, a staff award and an objection with the
camera fed from a card video; and an accessibility check over every screen at both screen sizes."""

from __future__ import annotations

import datetime as dt

import pytest

from device.ui.scripted import headless_env, press, run_script, wait_until

from .conftest import STAFF_PIN

headless_env(1920, 1080)


def _video(tmp_path, texts):
    from kiosk.demo import write_card_video
    return write_card_video(tmp_path / "cards.avi", texts, hold_frames=30, gap_frames=75)


def _app(kiosk_home, hub, camera=None, now=None):
    from device.tts import Speaker
    from kiosk.app import KioskApp
    from kiosk.flow import KioskFlow
    kwargs = {"now": now} if now else {}
    flow = KioskFlow(kiosk_home, transport=hub, camera=camera or "0", **kwargs)
    return flow, KioskApp(kiosk_home, flow=flow, camera=camera, start_camera=camera is not None,
                          speaker=Speaker(engine=""))


def _tap_key(screen, key):
    press(next(b for b in screen.ids.pad.children if b.text == key))


@pytest.mark.slow
def test_window_resident_check_staff_award_and_objection(kt, hub, kiosk_home, tmp_path):
    from bank import db, ledger
    from kiosk.flow import Step
    video = _video(tmp_path, [kt.town.poor[2], kt.staff[1][1]])
    flow, app = _app(kiosk_home, hub, str(video))
    seen = {}

    def script(app):
        sm = app.root.ids.sm
        # 1. resident check: the card from the video, the balance in big digits, the voice readout
        yield from wait_until(app, lambda: flow.step is Step.HOME, 20)
        yield 0.1
        home = sm.get_screen("home")
        assert home.ids.balance.text == "22" and "李*" in home.ids.holder.text
        press(home.ids.speak)
        assert app.speaker.spoken[-1].startswith("您好,您的积分余额是22分")
        # 3. objection during the posting period (before the staff card comes round in the video)
        press(home.ids.object)
        yield 0.1
        obj = sm.get_screen("object")
        assert sm.current == "object"
        press(obj.ids.rows.children[-1])            # the only entry of the posted quarter
        yield 0.1
        press(next(b for b in obj.ids.rows.children if b.text == "分数记错了"))
        yield 0.1
        assert sm.current == "home" and "异议已提交" in app.root.ids.banner.text
        # 2. staff award: the staff card from the video, PIN by tapping, a household by building/unit
        yield from wait_until(app, lambda: flow.step is Step.STAFF_PIN, 20)
        app.scanner.stop()
        pin = sm.get_screen("staff_pin")
        for key in STAFF_PIN:
            _tap_key(pin, key)
        press(pin.ids.ok)
        yield 0.1
        find = sm.get_screen("staff_find")
        assert sm.current == "staff_find"
        press(next(b for b in find.ids.choices.children if b.text == "1栋"))      # one list at a time
        press(next(b for b in find.ids.choices.children if b.text == "1单元"))
        yield 0.1
        press(next(b for b in find.ids.choices.children if "张*明" in b.text))
        yield 0.1
        items = sm.get_screen("staff_items")
        assert sm.current == "staff_items"
        for _ in range(flow.pages(len(flow.paged()))):     # the item's product is a few pages on: 下一页
            tile = next((b for b in items.ids.rows.children if getattr(b, "item_code", None) == "ML02"), None)
            if tile is not None:
                break
            press(items.ids.pager.ids.next)
            yield 0.05
        press(tile)
        yield 0.1
        confirm = sm.get_screen("staff_confirm")
        press(next(b for b in confirm.ids.notes.children if b.text == "志愿服务队记录"))
        press(confirm.ids.confirm)
        yield 0.1
        assert "已记录" in app.root.ids.banner.text and sm.current == "staff_items"
        yield from wait_until(app, lambda: flow.sync_line().values == (("n", 0),) and not flow.syncer.state.running, 15)
        seen["done"] = True

    run_script(app, script, timeout=90)
    assert seen["done"]
    conn = db.connect(kt.path)
    try:
        entry = ledger.entries(conn, kt.town.rich[0])[-1]
        assert (entry.item_code, entry.recorded_by, entry.note) == ("ML02", "评议小组成员:李四", "志愿服务队记录")
        assert tuple(conn.execute("SELECT reason, source FROM objections").fetchone()) == ("分数记错了", "kiosk")
    finally:
        conn.close()


def test_language_button_switches_every_text_to_english_and_back(kt, hub, kiosk_home):
    """The attract screen's big button: .kv texts, texts built in Python and the banner follow."""
    flow, app = _app(kiosk_home, hub)
    seen = {}

    def script(app):
        sm = app.root.ids.sm
        yield 0.1
        attract = sm.get_screen("attract")
        assert attract.ids.language.text == "English"
        press(attract.ids.language)
        yield 0.1
        assert app.lang == "en" and attract.ids.language.text == "中文"
        flow.scan(kt.town.poor[2])
        app.act("go", "passbook")
        yield 0.1
        passbook = sm.get_screen("passbook")
        pager = passbook.ids.pager
        assert pager.ids.prev.text == "Previous page" and pager.page_text.startswith("Page 1 of")
        app.act("go", "object")       # the posting is open: the objection list, titles in English
        yield 0.1
        assert sm.current == "object" and sm.get_screen("object").ids.prompt.text.startswith("Choose the entry")
        app.act("reset")
        press(sm.get_screen("attract").ids.language)
        yield 0.1
        assert app.lang == "zh" and sm.get_screen("attract").ids.language.text == "English"
        seen["done"] = True

    run_script(app, script, timeout=60)
    assert seen["done"]


def test_accessibility_of_every_screen_at_both_sizes(kt, hub, kiosk_home):
    """Body text >= 32 px, touch targets >= 15 mm, contrast >= 7:1, and no text cut off; in Chinese and English."""
    from kivy.core.window import Window
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    from device.ui.theme import contrast
    from kiosk import style
    from kiosk.widgets import KText
    from tests.kiosk.kit import login

    from bank import clock, db, ledger
    from sync import client
    from kiosk.flow import PAGE_SIZE
    conn = db.connect(kt.path)    # points expiring soon: the home and passbook screens show a line more
    with db.transaction(conn):
        for i in range(PAGE_SIZE):    # and a full page of the passbook must fit at 1280x800 too
            ledger.record_adjustment(conn, kt.town.poor[0], 1, recorded_by="office", note=f"纸质台账结转 {i}")
        ledger.record_adjustment(conn, kt.town.poor[0], 3, recorded_by="office", note="并户转入",
                                 valid_until=clock.local_date(clock.now_utc()) + dt.timedelta(days=30))
    conn.close()
    flow, app = _app(kiosk_home, hub)
    client.sync_once(flow.home, hub)
    problems: list[str] = []
    checked = set()

    def visible(w):
        while w is not None and w is not w.parent:
            if getattr(w, "opacity", 1) == 0:
                return False
            w = w.parent
        return True

    def inside(w, ancestor):
        while w is not None and w is not w.parent:
            if w == ancestor:       # ids hold weak proxies: `is` never matches them
                return True
            w = w.parent
        return False

    def fits(where):
        """Nothing to scroll, nothing outside the screen, no row running under the pager."""
        screen = app.root.ids.sm.current_screen
        bottom, top = screen.to_window(screen.x, screen.y)[1], screen.to_window(screen.x, screen.top)[1]
        pager = screen.ids.get("pager")
        pager_top = pager.to_window(pager.x, pager.top)[1] if pager is not None and visible(pager) else None
        stack = [screen]
        while stack:
            w = stack.pop()
            stack.extend(w.children)
            name = f"{where} {Window.size} {app.lang} {type(w).__name__} {str(getattr(w, 'text', ''))[:20]!r}"
            if isinstance(w, ScrollView) and w.children and w.children[0].height > w.height + 1:
                problems.append(f"{name}: must scroll ({w.children[0].height:.0f} > {w.height:.0f})")
            if not isinstance(w, Label) or not w.text.strip() or not visible(w):
                continue
            y0, y1 = w.to_window(w.x, w.y)[1], w.to_window(w.x, w.top)[1]
            if y0 < bottom - 1 or y1 > top + 1:
                problems.append(f"{name}: outside the screen")
            elif pager_top is not None and not inside(w, pager) and y0 < pager_top - 1:
                problems.append(f"{name}: under the pager")

    def check(where):
        fits(where)       # every screen fits: the convention's and the staff's lists are paged too
        min_touch = style.TOUCH_MIN_MM * style.px_per_mm(*Window.size)
        roots = [app.root.ids.bar, app.root.ids.banner, app.root.ids.sm.current_screen]
        stack = list(roots)
        while stack:
            w = stack.pop()
            stack.extend(w.children)
            if not isinstance(w, Label) or not w.text or not visible(w):
                continue
            name = f"{where} {Window.size} {app.lang} {type(w).__name__} {w.text[:20]!r}"
            checked.add(app.root.ids.sm.current)
            if w.font_size < style.BODY_MIN_PX:
                problems.append(f"{name}: font {w.font_size}")
            if isinstance(w, Button):
                fg = w.disabled_color if w.disabled else w.color
                bg = w.background_color
                if not w.disabled and (w.width < min_touch or w.height < min_touch):
                    problems.append(f"{name}: target {w.width:.0f}x{w.height:.0f} < {min_touch:.0f}")
                if w.texture_size[1] > w.height + 1:
                    problems.append(f"{name}: text cut off")
            elif isinstance(w, KText):
                fg, bg = w.color, w.bg
            else:
                problems.append(f"{name}: not a kiosk widget (contrast unknown)")
                continue
            if contrast(fg, bg) < 7:
                problems.append(f"{name}: contrast {contrast(fg, bg):.1f}")

    def walk(app):
        for size, lang in (((1920, 1080), "zh"), ((1280, 800), "zh"), ((1920, 1080), "en"), ((1280, 800), "en")):
            Window.size = size
            yield 0.2
            app.act("reset")
            app.act("set_language", lang)
            yield 0.1
            check("attract")
            flow.scan(kt.town.poor[2])
            for step in ("home", "passbook", "convention", "redeem", "boards", "object"):
                app.act("go", step)
                yield 0.1
                check(step)
                if step in ("home", "passbook"):    # the expiring points are on both, and fit
                    assert "3" in app.root.ids.sm.current_screen.ids.expiring.text
                while step in ("boards", "convention") and flow.pages(len(flow.paged())) > flow.page + 1:
                    app.act("turn", 1)          # every page of the boards fits
                    yield 0.05
                    check(f"{step} page {flow.page + 1}")
            app.act("go", "boards")
            app.act("show_tab", "posting")      # the posting's tab: its first and last pages fit
            yield 0.1
            check("posting")
            flow.page = flow.pages(len(flow.paged())) - 1
            app.show()
            yield 0.1
            check("posting last page")
            app.act("choose_objection", kt.q_entry)
            yield 0.1
            check("object reasons")
            app.act("go", "passbook")
            app.act("ask_pin")
            yield 0.1
            check("pin")
            app.act("reset")
            flow.scan(kt.staff[1][1])
            app.show()
            yield 0.1
            check("staff pin")
            login(flow, kt.staff[1][1])
            app.show()
            yield 0.1
            check("staff find buildings")
            app.act("set_building", 1)
            yield 0.1
            check("staff find units")
            app.act("set_unit", 1)
            yield 0.1
            check("staff find")
            app.act("choose_household", kt.town.rich[0])
            yield 0.1
            check("staff items")
            while flow.pages(len(flow.paged())) > flow.page + 1:
                app.act("turn", 1)          # every product's page of items fits
                yield 0.05
                check(f"staff items page {flow.page + 1}")
            app.act("choose_item", "XS06")
            yield 0.1
            check("staff confirm")
            flow.scan(kt.staff[2][1])
            app.show()
            yield 0.1
            check("second pin")
            app.act("pin_cancel")
            app.act("go", "staff_month")
            yield 0.1
            check("staff month")

    run_script(app, walk, timeout=60)
    assert checked >= {"attract", "home", "passbook", "convention", "redeem", "boards", "object", "pin", "staff_pin",
                       "staff_find", "staff_items", "staff_confirm", "second_pin", "staff_month"}
    assert problems == [], "\n".join(problems)


@pytest.mark.slow
def test_the_window_opens_on_an_emptied_replica_and_says_it_is_out_of_service(kt, hub, kiosk_home):
    (kiosk_home / "replica.sqlite").write_bytes(b"")
    flow, app = _app(kiosk_home, hub)
    seen = {}

    def script(app):
        yield 0.3
        seen["screen"], seen["banner"], seen["sync"] = app.root.ids.sm.current, app.banner, app.sync_text

    run_script(app, script)
    assert seen["screen"] == "attract" and "数据库是空的" in seen["banner"] and "重新登记" in seen["banner"]
    assert seen["sync"] == "本机暂停使用"
    assert (kiosk_home / "replica.sqlite").read_bytes() == b""
