"""The accessibility check over every kiosk screen, in the real window (SDL offscreen) at both
kiosk screen sizes and in both languages: body text >= 32 px, touch targets >= 15 mm, contrast
>= 7:1, nothing to scroll, no text cut off, nothing outside the screen or under the pager, and
nothing of a screen under the top bar or the message banner, nor two texts on top of each other.

The store has a full page of this month's entries with long names, so the staff's month screen is
checked as a review group sees it after a few days of work, with a message on the banner; and a
yearly posting beside the quarter's, so the list of postings is checked too.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bank import clock, db, ledger, periods, postings
from device.ui.scripted import headless_env, run_script

from kiosk.steps import PAGE_SIZE

from .conftest import make_town
from .kit import kiosk_app, login

headless_env(1920, 1080)

MONTH_ITEMS = ("ML02", "XS06", "YC05", "RJ01", "RJ03", "ML04", "YC04", "ML01")


@pytest.fixture
def kt(tmp_path):
    """The kiosk's town with a page and more of this month's entries by members with long labels."""
    kt = make_town(tmp_path / "office.sqlite")
    conn = db.connect(kt.path)
    now = clock.now_utc()
    first = clock.local_midnight(clock.local_date(now).replace(day=1))
    with db.transaction(conn):
        for i, code in enumerate(MONTH_ITEMS):
            at = min(now, first + dt.timedelta(hours=9, minutes=i))
            ledger.record_item(conn, kt.town.poor[0] if i % 2 else kt.town.lost[0], code,
                               recorded_by="评议小组成员:欧阳明月;复核:司马长风", now=at)
        for i in range(PAGE_SIZE):    # a full page of the passbook must fit at 1280x800 too
            ledger.record_adjustment(conn, kt.town.poor[0], 1, recorded_by="office", note=f"纸质台账结转 {i}")
        ledger.record_adjustment(conn, kt.town.poor[0], 3, recorded_by="office", note="并户转入",   # expiring soon:
                                 valid_until=clock.local_date(now) + dt.timedelta(days=30))    # a line more
        last_year = periods.year(clock.local_date(now).year - 1)     # the year's posting beside the quarter's
        postings.publish(conn, kind="yearly", period=last_year, compound_id=1, by="council", days=30,
                         opens_on=max(clock.local_date(now), last_year.last_day + dt.timedelta(days=1)))
    conn.close()
    return kt


def test_every_screen_at_both_sizes_and_languages(kt, hub, kiosk_home):
    """Body text >= 32 px, touch targets >= 15 mm, contrast >= 7:1, and no text cut off; in Chinese and English."""
    from kivy.core.window import Window
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    from device.ui.theme import contrast
    from kiosk import style
    from kiosk.steps import Step
    from kiosk.widgets import KText

    flow, app = kiosk_app(kiosk_home, hub)
    problems: list[str] = []
    checked = set()

    def visible(w):
        while w is not None and w is not w.parent:
            if getattr(w, "opacity", 1) == 0:
                return False
            w = w.parent
        return True

    def rect(w):
        (x0, y0), (x1, y1) = w.to_window(w.x, w.y), w.to_window(w.right, w.top)
        return x0, y0, x1, y1

    def overlap(a, b):
        return min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1

    def fits(where):
        """Nothing to scroll, nothing outside the screen; no text of the screen under the top bar,
        under the message or on another text (a row under the pager, a title under the bar)."""
        screen = app.root.ids.sm.current_screen
        bottom, top = screen.to_window(screen.x, screen.y)[1], screen.to_window(screen.x, screen.top)[1]
        banner = app.root.ids.banner
        above = [("the top bar", rect(app.root.ids.bar))]
        if banner.text and visible(banner):
            above.append(("the message", rect(banner)))
        texts = []
        stack = [screen]
        while stack:
            w = stack.pop()
            stack.extend(w.children)
            name = f"{where} {Window.size} {app.lang} {type(w).__name__} {str(getattr(w, 'text', ''))[:20]!r}"
            if isinstance(w, ScrollView) and w.children and w.children[0].height > w.height + 1:
                problems.append(f"{name}: must scroll ({w.children[0].height:.0f} > {w.height:.0f})")
            if not isinstance(w, Label) or not w.text.strip() or not visible(w):
                continue
            r = rect(w)
            if r[1] < bottom - 1 or r[3] > top + 1:
                problems.append(f"{name}: outside the screen")
            for what, other in above:
                if overlap(r, other):
                    problems.append(f"{name}: under {what}")
            for other_name, other in texts:
                if overlap(r, other):
                    problems.append(f"{name}: on top of {other_name}")
            texts.append((repr(w.text[:20]), r))

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
            app.act("show_tab", "posting")      # two postings: the list to choose from
            yield 0.1
            assert flow.posting() is None and len(flow.paged()) == 2
            check("postings")
            app.act("choose_posting", flow.paged()[0]["posting_id"])    # a posting: its first and last pages fit
            yield 0.1
            check("posting")
            flow.page = flow.pages(len(flow.paged())) - 1
            app.show()
            yield 0.1
            check("posting last page")
            app.act("go", "redeem")             # 到哪里兑换: a kind of shop, its shops, one shop
            app.act("choose_shop_kind", "noodles")
            yield 0.1
            check("redeem shops")
            app.act("choose_shop", flow.paged()[0].merchant_id)
            yield 0.1
            check("redeem shop")
            app.act("go", "tip")                # 举报: the categories, then the buildings
            yield 0.1
            check("tip")
            app.act("choose_tip_category", "hallway")
            yield 0.1
            check("tip buildings")
            app.act("go", "object")
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
            assert flow.pages(len(flow.month())) > 1          # a full page of long lines
            app.act("undo", flow.month_page()[0].key)        # not this member's: the banner says so
            yield 0.1
            assert flow.step is Step.STAFF_MONTH and app.root.ids.banner.text
            check("staff month with a message")
            app.act("turn", 1)
            yield 0.1
            check("staff month page 2")

    run_script(app, walk, timeout=60)
    assert checked >= {"attract", "home", "passbook", "convention", "redeem", "boards", "object", "tip", "pin", "staff_pin",
                       "staff_find", "staff_items", "staff_confirm", "second_pin", "staff_month"}
    assert problems == [], "\n".join(problems)


