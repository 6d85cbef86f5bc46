"""The real app window (SDL offscreen), its camera fed by a video of a card: a two-offer basket, void, sync."""

from __future__ import annotations

import pytest

from device.ui.scripted import headless_env, press, run_script, wait_until
from terminal import HEIGHT, WIDTH

from tests.sync.kit import office_balance

pytestmark = pytest.mark.slow


def test_scan_redeem_void_and_sync_through_the_window(town, hub, tablet_home, tmp_path):
    headless_env(WIDTH, HEIGHT)
    from terminal.app import TerminalApp
    from demo.tablet import write_card_video
    from terminal.flow import Step, TerminalFlow

    video = write_card_video(tmp_path / "cards.avi", [town.rich[2]], hold_frames=40, gap_frames=20)
    flow = TerminalFlow(tablet_home, transport=hub, camera=str(video))
    app = TerminalApp(tablet_home, flow=flow)
    seen = {}

    def script(app):
        sm = app.root.ids.sm
        yield from wait_until(app, lambda: flow.step is Step.CARD, 20)   # the card read from the video
        yield 0.2
        card = sm.get_screen("card")
        assert sm.current == "card" and card.ids.holder.text == "张*明" and card.ids.available.text == "100"
        press(card.ids.choose)
        yield 0.2
        offers = sm.get_screen("offers")
        assert sm.current == "offers"
        bowl = next(t for t in offers.ids.tiles.children if t.offer_id == town.bowl)
        assert "小面" in bowl.text and bowl.height >= app.theme.TOUCH
        press(bowl)
        yield 0.1
        bowl = next(t for t in offers.ids.tiles.children if t.offer_id == town.bowl)
        press(bowl)
        yield 0.1
        beef = next(t for t in offers.ids.tiles.children if t.offer_id == town.beef)
        press(beef)                                  # a second offer: a second basket line
        yield 0.2
        rows = {r.offer_id: r for r in offers.ids.lines.children}
        assert set(rows) == {town.bowl, town.beef} and (rows[town.bowl].qty, rows[town.beef].qty) == (2, 1)
        plus, minus = rows[town.beef].children[0], rows[town.beef].children[2]
        assert (plus.text, minus.text) == ("+", "-")
        assert min(plus.height, plus.width, minus.height, minus.width) >= app.theme.TOUCH
        press(plus)
        yield 0.2
        rows = {r.offer_id: r for r in offers.ids.lines.children}
        assert rows[town.beef].qty == 2 and offers.ids.total.text.startswith("合计 36 分")
        press(rows[town.beef].children[2])
        yield 0.2
        rows = {r.offer_id: r for r in offers.ids.lines.children}
        assert (rows[town.bowl].qty, rows[town.beef].qty) == (2, 1)
        assert offers.ids.total.text.startswith("合计 24 分") and "36 分" in offers.ids.left.text
        press(offers.ids.next)
        yield 0.2
        confirm = sm.get_screen("confirm")
        assert sm.current == "confirm" and confirm.ids.total.text == "24 分"
        assert "小面 × 2" in confirm.ids.lines.text and "牛肉面 × 1" in confirm.ids.lines.text
        assert confirm.ids.confirm.height >= app.theme.TOUCH
        press(confirm.ids.confirm)
        yield from wait_until(app, lambda: not app.busy and sm.current == "receipt")
        receipt = sm.get_screen("receipt")
        assert receipt.ids.points.text == "24 分" and receipt.ids.number.text.startswith("单号 T0001-1")
        assert "牛肉面 × 1" in receipt.ids.item.text
        press(app.root.ids.today_button)
        yield 0.2
        today = sm.get_screen("today")
        assert sm.current == "today" and len(today.ids.rows.children) == 1   # one receipt, two lines
        row = today.ids.rows.children[0]
        void_button = row.children[0]
        assert row.can_void and not void_button.disabled
        press(void_button)
        yield from wait_until(app, lambda: not app.busy)
        yield 0.2
        assert today.ids.rows.children[0].voided
        assert "退回 24 分" in app.root.ids.banner.text
        press(app.root.ids.sync_badge)
        yield 0.1
        assert sm.current == "sync"
        press(sm.get_screen("sync").ids.sync_now)
        yield from wait_until(app, lambda: flow.status()["pending_events"] == 0 and not flow.syncer.state.running, 10)
        yield 1.2
        seen["badge"] = app.root.ids.sync_badge.text

    run_script(app, script, timeout=90)
    assert seen["badge"] == "在线 · 待上传 0 条"
    assert office_balance(town.path, town.rich[0]) == 100   # redeemed 12, voided: back to 100


def test_the_app_opens_on_a_damaged_home_with_the_fault_on_its_banner(town, hub, tablet_home):
    """The window, not only the flow: a truncated device.key, and the app says what to do."""
    headless_env(WIDTH, HEIGHT)
    from terminal.app import TerminalApp
    (tablet_home / "device.key").write_bytes(b"\x01" * 12)
    app = TerminalApp(tablet_home, start_camera=False)
    seen = {}

    def script(app):
        yield 0.3
        seen["screen"], seen["banner"], seen["level"] = app.root.ids.sm.current, app.banner, app.banner_level

    run_script(app, script)
    assert seen["screen"] == "enrol" and seen["level"] == "error"
    assert "device.key" in seen["banner"] and "重新登记" in seen["banner"]


def test_offer_tiles_name_the_reason_and_disabled_buttons_look_disabled(town, hub, tablet_home):
    headless_env(WIDTH, HEIGHT)
    from terminal.app import TerminalApp
    from terminal.flow import TerminalFlow

    flow = TerminalFlow(tablet_home, transport=hub)
    app = TerminalApp(tablet_home, flow=flow, start_camera=False)

    def script(app):
        theme = app.theme
        yield 0.2
        assert flow.scan(town.poor[2])              # 20 points
        app.show()
        yield 0.1
        app.act("to_offers")
        yield 0.2
        offers = app.root.ids.sm.get_screen("offers")
        tiles = {t.offer_id: t for t in offers.ids.tiles.children}
        assert "积分不足,还差 30 分" in tiles[town.feast].text and "今天不能再兑换" not in tiles[town.feast].text
        assert "今天最多 3 份" in tiles[town.bowl].text
        # nothing chosen yet: 下一步 is disabled, and looks it (not dark text on the enabled red)
        button = offers.ids.next
        assert button.disabled
        assert tuple(button.background_color) == tuple(theme.DISABLED)
        assert theme.contrast(button.disabled_color, button.background_color) >= 4.5
        for kind in ("BigButton", "SecondaryButton", "QuietButton"):
            from kivy.factory import Factory
            b = getattr(Factory, kind)(text="x", disabled=True)
            assert tuple(b.background_color) == tuple(theme.DISABLED), kind
            assert theme.contrast(b.disabled_color, b.background_color) >= 4.5, kind
            b.disabled = False
            assert tuple(b.background_color) != tuple(theme.DISABLED), kind

    run_script(app, script)


def test_a_card_shown_to_the_enrolment_reader_is_not_taken_for_an_enrolment_code(town, tmp_path):
    """Before enrolment the camera reads the office's enrolment QR; a resident's card there is
    said to be no enrolment code, and the tablet stays on its enrolment screen."""
    headless_env(WIDTH, HEIGHT)
    from terminal.app import TerminalApp
    from demo.tablet import write_card_video
    from terminal.flow import Step, TerminalFlow

    video = write_card_video(tmp_path / "card.avi", [town.rich[2]], hold_frames=40, gap_frames=20)
    flow = TerminalFlow(tmp_path / "new-tablet", camera=str(video))
    app = TerminalApp(tmp_path / "new-tablet", flow=flow)
    seen = {}

    def script(app):
        yield from wait_until(app, lambda: "这不是登记二维码" in app.banner, 20)
        seen["screen"] = app.root.ids.sm.current

    run_script(app, script, timeout=60)
    assert seen["screen"] == "enrol" and flow.step is Step.ENROL
    assert not (tmp_path / "new-tablet" / "config.json").exists()
