"""What the tablet tells the shop owner before the final confirm: a shop outside its redemption
hours (card screen, offer tiles, status), and for each offer that cannot be added, the real reason."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from bank import clock, ledger, policy
from terminal import redeem as engine
from terminal.__main__ import main as terminal_main
from terminal.flow import Step

from tests.terminal.kit import client_down, office_do, synced, text


def _open_only_tomorrow(flow, town, now):
    """Hours on tomorrow's weekday only, 09:00-10:00: closed now, opening tomorrow at 09:00."""
    tomorrow = clock.local_date(now()) + dt.timedelta(days=1)
    days = "".join("1" if i == tomorrow.weekday() else "0" for i in range(7))
    office_do(town, lambda c: policy.add_window(c, merchant_id=town.noodles, place="店内", weekdays=days,
                                                opens="09:00", closes="10:00"))
    synced(flow)
    return "周" + "一二三四五六日"[tomorrow.weekday()] + " 09:00-10:00"


def test_a_closed_shop_says_so_on_the_card_screen_and_nothing_can_be_added(flow, town, now):
    hours = _open_only_tomorrow(flow, town, now)
    assert flow.scan(town.rich[2]) and flow.step is Step.CARD
    first = flow.card.warnings[0]
    assert first.code == "window_closed"
    assert f"兑换时间:{hours}" in first.render() and "明天 09:00 开始兑换" in first.render()
    assert flow.card.left_today == 0              # the card screen's 选择兑换项目 is disabled
    flow.to_offers()
    assert all(flow.offer_note(o.offer_id).render() == "现在不在兑换时间" for o in flow.offers)
    flow.choose(town.bowl)
    assert flow.basket == {} and "明天 09:00 开始兑换" in text(flow)


def test_status_says_a_closed_shop_cannot_redeem_with_its_hours_and_next_opening(flow, town, now, tablet_home):
    hours = _open_only_tomorrow(flow, town, now)
    status = engine.status(flow.home)
    assert status["can_redeem"] is False and status["cannot_redeem"]["code"] == "window_closed"
    assert status["hours"] == hours and status["window_open"] is False
    opens = clock.local(clock.from_text(status["opens_next"]))
    assert (opens.date(), opens.strftime("%H:%M")) == (clock.local_date(clock.now_utc()) + dt.timedelta(days=1),
                                                       "09:00")
    out = CliRunner().invoke(terminal_main, ["status", "--home", str(tablet_home)]).output
    assert "可以兑换" not in out.replace("不能兑换", "")
    assert f"兑换时间 (hours): {hours}" in out and "明天 09:00 开始兑换" in out, out


def test_an_open_shop_shows_its_hours_in_status(flow, town, tablet_home):
    out = CliRunner().invoke(terminal_main, ["status", "--home", str(tablet_home)]).output
    assert "兑换时间 (hours): 全天" in out and "可以兑换" in out, out


def _notes(flow) -> dict[int, tuple[str, str]]:
    return {o.offer_id: (flow.offer_note(o.offer_id).code, flow.offer_note(o.offer_id).render()) for o in flow.offers}


def test_tiles_say_too_few_points_with_how_many_more_are_needed(flow, town):
    assert flow.scan(town.poor[2])             # 20 points
    flow.to_offers()
    notes = _notes(flow)
    assert notes[town.bowl] == ("offer_max", "今天最多 3 份")
    assert notes[town.feast] == ("insufficient", "积分不足,还差 30 分")
    flow.choose(town.beef)                    # 12 of the 20 in the basket: 8 left
    notes = _notes(flow)
    assert notes[town.beef] == ("insufficient", "积分不足,还差 4 分")
    assert notes[town.bowl] == ("offer_max", "今天最多 1 份")
    flow.choose(town.feast)
    assert "积分不足" in text(flow) and town.feast not in flow.basket


def test_tiles_say_when_the_cards_daily_cap_here_is_reached(flow, town, now):
    now.advance(minutes=1)                    # after the enrolment's pull
    for _ in range(4):
        engine.redeem(flow.home, town.rich[2], town.beef, now=now(), transport=client_down())   # 48 of 60
    assert flow.scan(town.rich[2])
    flow.to_offers()
    notes = _notes(flow)
    assert notes[town.bowl] == ("offer_max", "今天最多 2 份")
    assert notes[town.beef] == ("offer_max", "今天最多 1 份")
    assert notes[town.feast] == ("daily_cap", "已到本店今天每卡上限")


def test_tiles_say_when_the_tablets_unsynced_cap_is_reached(flow, town, now):
    office_do(town, lambda c: policy.set_policy(c, town.noodles, unsynced_cap=10))
    synced(flow)
    now.advance(minutes=1)
    engine.redeem(flow.home, town.poor[2], town.bowl, now=now(), transport=client_down())      # 6 of 10 unsynced
    assert flow.scan(town.rich[2])
    flow.to_offers()
    assert _notes(flow)[town.beef] == ("unsynced_cap", "本机未上传额度已满,请先同步")


def test_tiles_say_a_card_without_points_has_none(flow, town, now):
    office_do(town, lambda c: ledger.record_adjustment(c, town.rich[0], -100, recorded_by="test", note="更正",
                                                       now=now()))
    synced(flow)
    assert flow.scan(town.rich[2]) and flow.card.available == 0
    flow.to_offers()
    assert set(_notes(flow).values()) == {("no_points", "没有可用积分")}
