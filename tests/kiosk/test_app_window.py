"""The real kiosk window (SDL offscreen): a resident check, a staff award and an objection with the
camera fed from a card video (the accessibility check over every screen is test_accessibility.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from device.ui.scripted import headless_env, press, run_script, wait_until

from .conftest import STAFF_PIN
from .kit import kiosk_app

headless_env(1920, 1080)


def _video(tmp_path, texts):
    from demo.kiosk import write_card_video
    return write_card_video(tmp_path / "cards.avi", texts, hold_frames=30, gap_frames=75)


def _tap_key(screen, key):
    press(next(b for b in screen.ids.pad.children if b.text == key))


@pytest.mark.slow
def test_window_resident_check_staff_award_and_objection(kt, hub, kiosk_home, tmp_path):
    from bank import db, ledger
    from kiosk.steps import Step
    video = _video(tmp_path, [kt.town.poor[2], kt.staff[1][1]])
    flow, app = kiosk_app(kiosk_home, hub, str(video))
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
        press(next(b for row in obj.ids.rows.children for b in row.children     # the reasons, two a row
                   if getattr(b, "text", "") == "分数记错了"))
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
    flow, app = kiosk_app(kiosk_home, hub)
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


@pytest.mark.slow
def test_the_window_opens_on_an_emptied_replica_and_says_it_is_out_of_service(kt, hub, kiosk_home):
    (kiosk_home / "replica.sqlite").write_bytes(b"")
    flow, app = kiosk_app(kiosk_home, hub)
    seen = {}

    def script(app):
        yield 0.3
        seen["screen"], seen["banner"], seen["sync"] = app.root.ids.sm.current, app.banner, app.sync_text

    run_script(app, script)
    assert seen["screen"] == "attract" and "数据库是空的" in seen["banner"] and "重新登记" in seen["banner"]
    assert seen["sync"] == "本机暂停使用"
    assert (kiosk_home / "replica.sqlite").read_bytes() == b""


@pytest.fixture
def expiring_kt(kt):
    """`rich` has 5 points that expire in ten days; `poor` has none expiring within 60 days."""
    from bank import clock, db, ledger
    conn = db.connect(kt.path)
    with db.transaction(conn):
        ledger.record_adjustment(conn, kt.town.rich[0], 5, recorded_by="test", note="carried over",
                                 valid_until=clock.local_date(clock.now_utc()) + dt.timedelta(days=10))
    conn.close()
    return kt


def test_only_points_that_expire_are_shown_as_a_warning(expiring_kt, hub, kiosk_home):
    from kiosk import style
    flow, app = kiosk_app(kiosk_home, hub)
    seen = {}

    def script(app):
        yield 0.1
        home = app.root.ids.sm.get_screen("home")
        for who, card in (("poor", expiring_kt.town.poor[2]), ("rich", expiring_kt.town.rich[2])):
            flow.scan(card)
            app.show()
            yield 0.1
            seen[who] = (home.ids.expiring.text, list(home.ids.expiring.bg), list(home.ids.expiring.color))

    run_script(app, script)
    text, bg, color = seen["poor"]
    assert text == "60天内没有到期的积分。" and bg == list(style.BACKGROUND) and color == list(style.TEXT)
    text, bg, color = seen["rich"]
    assert "有 5 分将在" in text and bg == list(style.BANNER["warn"][0]) and color == list(style.BANNER["warn"][1])


def test_the_attract_screen_has_a_slide_for_every_posting(kt, hub, kiosk_home):
    """A yearly posting beside the quarter's (one open now, one to come): each has its slide."""
    from bank import clock, db, periods, postings
    from sync import client
    conn = db.connect(kt.path)
    today = clock.local_date(clock.now_utc())
    with db.transaction(conn):
        last_year = periods.year(today.year - 1)
        postings.publish(conn, kind="yearly", period=last_year, compound_id=1, days=30, by="council",
                         opens_on=max(today, last_year.last_day) + dt.timedelta(days=5))
    conn.close()
    flow, app = kiosk_app(kiosk_home, hub)
    client.sync_once(flow.home, hub)
    seen = {}

    def script(app):
        yield 0.1
        seen["slides"] = app.slides()

    run_script(app, script)
    titles = [title for title, _text in seen["slides"]]
    assert sum("积分公示" in t for t in titles) == 2
    assert any("开始公示" in text for _title, text in seen["slides"])       # the one to come says when
