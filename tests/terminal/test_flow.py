"""The tablet's flow without Kivy: every path a shop counter can take."""

from __future__ import annotations

from bank import accounts, cards, clock, devices, policy
from terminal.flow import ENROL_PREFIX, NO_PIN, Step, TerminalFlow
from terminal import redeem as engine

from tests.sync.kit import office_balance
from tests.terminal.kit import client_down, office_do, synced, text


# --- enrolment ---------------------------------------------------------------------------------

def test_unenrolled_home_starts_on_enrolment_and_enrols_with_a_code(town, hub, tmp_path, now):
    flow = TerminalFlow(tmp_path / "new", now=now, transport=hub)
    assert flow.step is Step.ENROL and flow.home is None
    assert not flow.enrol("", "")
    assert "登记码" in text(flow)
    code = office_do(town, lambda c: devices.new_enrolment_code(c, merchant_id=town.noodles))
    assert flow.enrol_qr(f"{ENROL_PREFIX}http://office.test#{code}", staff_pin="2468")
    assert flow.step is Step.SCAN
    assert "老街小面" in text(flow)
    again = TerminalFlow(tmp_path / "new", now=now, transport=hub)
    assert again.step is Step.SCAN and again.settings.staff_pin_hash


def test_a_staff_pin_against_the_pin_rule_is_refused_before_the_code_is_spent(town, hub, tmp_path, now):
    flow = TerminalFlow(tmp_path / "new", now=now, transport=hub)
    code = office_do(town, lambda c: devices.new_enrolment_code(c, merchant_id=town.noodles))
    qr = f"{ENROL_PREFIX}http://office.test#{code}"
    assert not flow.enrol_qr(qr, staff_pin="1234567")
    assert "密码须为4到6位数字" in text(flow) and flow.step is Step.ENROL
    assert not (tmp_path / "new").exists()          # nothing written, so the retry is not "directory not empty"
    assert flow.enrol_qr(qr, staff_pin="246813")     # the same code still works
    assert flow.step is Step.SCAN and flow.settings.staff_pin_hash


def test_enrolment_refusals_are_plain(town, hub, tmp_path, now):
    flow = TerminalFlow(tmp_path / "new", now=now, transport=hub)
    assert not flow.enrol_qr("hello")
    assert "不是登记二维码" in text(flow)
    assert not flow.enrol("http://office.test", "WRONG-CODE")
    assert flow.step is Step.ENROL and flow.message.level == "error"
    assert not flow.enrol("http://office.test", "2222-XXXX-XXXX-XXXX-XXXX")
    assert "登记码不正确" in text(flow)
    hub.up = False
    assert not flow.enrol("office.test", "2222-XXXX-XXXX-XXXX-XXXX")
    assert "无法连接社区办公室" in text(flow)


# --- a whole redemption ------------------------------------------------------------------------

def test_scan_pick_confirm_receipt_then_sync(flow, town):
    assert flow.step is Step.SCAN
    assert flow.scan(town.rich[2])
    card = flow.card
    assert flow.step is Step.CARD and card.name == "张*明" and card.available == 100
    assert card.needs_pin_above is None and [w.code for w in card.warnings] == [NO_PIN]
    flow.to_offers()
    bowl = flow.offer(town.bowl)
    assert (bowl.name, bowl.points, bowl.max_qty) == ("小面", 6, 10)   # the daily cap of 60 binds
    flow.choose(town.bowl)
    flow.choose(town.bowl)
    assert flow.basket == {town.bowl: 2} and flow.total == 12 and flow.balance_after == 88
    flow.change_qty(+20)
    assert flow.basket == {town.bowl: 10} and "最多还能兑换 10 份" in text(flow)
    flow.change_qty(-8)
    flow.to_confirm()
    assert flow.step is Step.CONFIRM and not flow.pin_asked
    assert flow.confirm()
    r = flow.receipt
    assert flow.step is Step.RECEIPT and (r.points, r.balance_after) == (12, 88)
    assert [(i.offer, i.qty) for i in r.items] == [("小面", 2)]
    assert not r.pushed   # the receipt never waits for the network
    assert office_balance(town.path, town.rich[0]) == 100
    synced(flow)
    assert office_balance(town.path, town.rich[0]) == 88
    assert flow.status()["pending_events"] == 0
    flow.receipt_done()
    assert flow.step is Step.SCAN and flow.card is None


# --- a basket of several offers ----------------------------------------------------------------

def _outbox_count(flow):
    conn = flow.home.replica()
    try:
        return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        conn.close()


def _basket(flow, town, card):
    """小面 ×2 and 牛肉面 ×1 (24 points) in the basket, on the confirm screen."""
    assert flow.scan(card), text(flow)
    flow.to_offers()
    flow.choose(town.bowl)
    flow.choose(town.beef)
    flow.inc(town.bowl)
    flow.to_confirm()
    assert flow.step is Step.CONFIRM


def test_two_offers_in_one_basket_one_receipt(flow, town):
    assert flow.scan(town.rich[2])
    flow.to_offers()
    assert flow.room == 60 and flow.left_after == 60
    flow.choose(town.bowl)
    flow.choose(town.bowl)
    flow.choose(town.beef)
    assert flow.basket == {town.bowl: 2, town.beef: 1}
    assert [(o.name, q, p) for o, q, p in flow.lines()] == [("小面", 2, 12), ("牛肉面", 1, 12)]
    assert (flow.total, flow.balance_after, flow.left_after) == (24, 76, 36)
    assert flow.line_max(town.beef) == 4 and flow.line_max(town.bowl) == 8   # the cap left by the other line
    flow.inc(town.beef)
    flow.dec(town.bowl)
    assert flow.basket == {town.bowl: 1, town.beef: 2} and flow.total == 30
    flow.set_qty(town.beef, 9)
    assert flow.basket[town.beef] == 4 and "最多还能兑换 4 份“牛肉面”" in text(flow)
    flow.dec(town.beef)
    flow.remove(town.bowl)
    assert flow.basket == {town.beef: 3}
    flow.choose(town.bowl)
    assert flow.basket == {town.beef: 3, town.bowl: 1} and flow.total == 42
    flow.dec(town.beef)
    flow.dec(town.bowl)
    flow.choose(town.bowl)
    flow.choose(town.bowl)                           # 牛肉面 ×2 + 小面 ×2 = 36
    flow.to_confirm()
    assert not flow.pin_asked
    assert flow.confirm(), text(flow)
    r = flow.receipt
    assert flow.step is Step.RECEIPT and [(i.offer, i.qty, i.points) for i in r.items] == [("牛肉面", 2, 24),
                                                                                          ("小面", 2, 12)]
    assert (r.points, r.balance_after, r.seq, r.seqs) == (36, 64, 1, (1, 2))
    assert _outbox_count(flow) == 2
    synced(flow)
    assert office_balance(town.path, town.rich[0]) == 64
    flow.receipt_done()
    assert flow.basket == {} and flow.card is None


def test_basket_refused_as_a_whole_when_the_total_passes_the_cap(flow, town):
    _basket(flow, town, town.rich[2])
    engine.redeem(flow.home, town.rich[2], town.beef, 3, now=flow.now(), transport=client_down())   # 36 today
    engine.redeem(flow.home, town.rich[2], town.bowl, 1, now=flow.now(), transport=client_down())   # 42 today
    before = _outbox_count(flow)
    assert not flow.confirm()
    assert flow.step is Step.CONFIRM and "每天最多 60 分" in text(flow) and "减少数量" in text(flow)
    assert _outbox_count(flow) == before and flow.basket == {town.bowl: 2, town.beef: 1}


def test_basket_refused_as_a_whole_when_the_balance_is_short(flow, town):
    office_do(town, lambda c: policy.set_policy(c, None, pin_above=100))
    synced(flow)
    assert flow.scan(town.poor[2])
    flow.to_offers()
    flow.choose(town.beef)
    flow.choose(town.bowl)                        # 18 of the 20 points
    flow.to_confirm()
    engine.redeem(flow.home, town.poor[2], town.bowl, 1, now=flow.now(), transport=client_down())   # 14 left
    before = _outbox_count(flow)
    assert not flow.confirm()
    assert "积分不足:需要 18 分,可用 14 分" in text(flow)
    assert _outbox_count(flow) == before


def test_basket_over_the_floor_limit_needs_the_office(flow, town, hub):
    assert flow.scan(town.rich[2])
    flow.to_offers()
    flow.set_qty(town.beef, 3)
    flow.choose(town.bowl)                        # 36 + 6 = 42: each line under the floor of 40, not the total
    flow.to_confirm()
    hub.up = False
    assert not flow.confirm()
    assert "需要联网确认" in text(flow) and _outbox_count(flow) == 0
    hub.up = True
    assert flow.confirm()
    assert flow.receipt.points == 42 and flow.receipt.pushed and len(flow.receipt.items) == 2


def test_pin_is_asked_on_the_basket_total(flow, town):
    office_do(town, lambda c: accounts.set_pin(c, town.rich[0], "2580"))
    synced(flow)
    _basket(flow, town, town.rich[2])            # 12 and 12: each line under the PIN threshold of 20, not 24
    assert flow.card.needs_pin_above == 20 and flow.pin_asked
    assert not flow.confirm() and "输入密码" in text(flow)
    for k in "1111":
        flow.pin_key(k)
    assert not flow.confirm() and "密码不正确" in text(flow) and _outbox_count(flow) == 0
    for k in "2580":
        flow.pin_key(k)
    assert flow.confirm()
    assert flow.receipt.points == 24 and flow.receipt.seqs == (1, 2)


def test_void_of_a_two_line_receipt_reverses_both(flow, town, now):
    _basket(flow, town, town.rich[2])
    assert flow.confirm()
    flow.receipt_done()
    assert flow.scan(town.rich[2])
    flow.to_offers()
    flow.choose(town.bowl)
    flow.to_confirm()
    assert flow.confirm()                        # a one-line receipt after it
    lines = flow.today()
    assert [(x.seq, x.seqs, x.offer, x.qty, x.points) for x in lines] == [
        (3, (3,), "小面 × 1", 1, 6), (1, (1, 2), "小面 × 2、牛肉面 × 1", 3, 24)]
    assert flow.day_totals() == (2, 30)
    assert flow.void(lines[1].seq)
    assert "已撤销第 1 号兑换,退回 24 分" in text(flow)
    after = flow.today()
    assert after[1].voided and not after[1].can_void and not after[0].voided
    assert flow.day_totals() == (1, 6)
    assert not flow.void(2) and "已经撤销过" in text(flow)
    synced(flow)
    assert office_balance(town.path, town.rich[0]) == 94


# --- refusals ----------------------------------------------------------------------------------

def test_refused_cards_say_why_and_stay_on_scan(flow, town):
    forged = town.rich[2][:-4] + ("AAAA" if not town.rich[2].endswith("AAAA") else "BBBB")
    cases = [
        ("hello world", "不是道德积分卡"),
        (forged, ""),
        (town.lost[2], "旧版本的卡"),
        (town.rich[2].replace("LH", "XX", 1), ""),
    ]
    for qr, words in cases:
        assert not flow.scan(qr), qr
        assert flow.step is Step.SCAN and flow.message.level == "error"
        assert words in text(flow)


def test_revoked_card_and_suspended_account_after_sync(flow, town):
    office_do(town, lambda c: cards.revoke(c, town.rich[1]))
    office_do(town, lambda c: accounts.set_status(c, town.poor[0], "suspended"))
    synced(flow)
    assert not flow.scan(town.rich[2])
    assert "挂失" in text(flow)
    assert not flow.scan(town.poor[2])
    assert "暂停" in text(flow) and "社区办公室" in text(flow)


def test_daily_cap_near_and_reached(flow, town):
    h = flow.home
    engine.redeem(h, town.rich[2], town.beef, 3, now=flow.now(), transport=client_down())
    engine.redeem(h, town.rich[2], town.bowl, 2, now=flow.now(), transport=client_down())
    assert flow.scan(town.rich[2])
    assert flow.card.used_today == 48 and "接近每日上限" in flow.card.warnings[0].render()
    flow.to_offers()
    assert flow.offer(town.beef).max_qty == 1 and flow.offer(town.bowl).max_qty == 2
    engine.redeem(h, town.rich[2], town.beef, 1, now=flow.now(), transport=client_down())
    assert not flow.scan(town.rich[2])   # not while a customer is being served: cancel first
    flow.cancel()
    assert flow.scan(town.rich[2]), text(flow)
    flow.to_offers()
    flow.choose(town.bowl)
    assert flow.basket == {} and text(flow) == "已到本店今天每卡上限" and flow.message.code == "daily_cap"


def test_insufficient_points_when_the_balance_moved_after_the_scan(flow, town):
    assert flow.scan(town.poor[2])
    flow.to_offers()
    flow.choose(town.beef)
    flow.to_confirm()
    engine.redeem(flow.home, town.poor[2], town.bowl, 2, now=flow.now(), transport=client_down())
    assert not flow.confirm()
    assert flow.step is Step.CONFIRM
    assert "积分不足" in text(flow) and "减少数量" in text(flow)


def test_sync_too_old_stops_redeeming(flow, town, now):
    now.advance(hours=73)
    assert not flow.scan(town.rich[2])
    assert "72小时没有同步" in text(flow)


def test_floor_limit_needs_the_office_then_works_when_back_online(flow, town, hub):
    assert flow.scan(town.rich[2])
    flow.to_offers()
    flow.choose(town.feast)
    flow.to_confirm()
    hub.up = False
    assert not flow.confirm()
    assert flow.step is Step.CONFIRM and "需要联网确认" in text(flow)
    hub.up = True
    assert flow.confirm()
    assert flow.receipt.points == 50 and flow.receipt.pushed


# --- PIN ---------------------------------------------------------------------------------------

def _pin_card(flow, town):
    office_do(town, lambda c: policy.set_policy(c, None, pin_above=5))
    synced(flow)
    assert flow.scan(town.poor[2])
    assert flow.card.needs_pin_above == 5
    flow.to_offers()
    flow.choose(town.bowl)
    flow.to_confirm()
    assert flow.pin_asked


def test_pin_right_redeems(flow, town):
    _pin_card(flow, town)
    assert not flow.confirm() and "输入密码" in text(flow)
    for k in "12":
        flow.pin_key(k)
    flow.pin_key("9")
    flow.pin_key("back")
    for k in "34":
        flow.pin_key(k)
    assert flow.pin == "1234"
    assert flow.confirm()
    assert flow.receipt.points == 6


def test_five_wrong_pins_lock_the_card_at_the_office(flow, town, now):
    """The office checks the PIN (the tablet holds no verifier) and counts the tries."""
    _pin_card(flow, town)
    for left in (4, 3, 2, 1):
        for k in "0000":
            flow.pin_key(k)
        assert not flow.confirm()
        assert flow.step is Step.CONFIRM and f"还可以再试 {left} 次" in text(flow)
    for k in "0000":
        flow.pin_key(k)
    assert not flow.confirm()
    assert flow.step is Step.SCAN and flow.card is None
    assert "错误次数过多" in text(flow) and "重置密码" in text(flow)
    # locked for 15 minutes even with the right PIN, on this tablet or any other
    _pin_card(flow, town)
    for k in "1234":
        flow.pin_key(k)
    assert not flow.confirm() and "错误次数过多" in text(flow)
    now.advance(minutes=16)
    _pin_card(flow, town)
    for k in "1234":
        flow.pin_key(k)
    assert flow.confirm()


# --- today and void ----------------------------------------------------------------------------

def test_today_and_void_within_minutes_only(flow, town, now):
    for qty in (1, 2):
        assert flow.scan(town.rich[2])
        flow.to_offers()
        flow.set_qty(town.bowl, qty)
        flow.to_confirm()
        assert flow.confirm()
    lines = flow.today()
    assert [(x.qty, x.points, x.can_void, x.voided) for x in lines] == [(2, 12, True, False), (1, 6, True, False)]
    assert flow.day_totals() == (2, 18)
    assert flow.void(lines[0].seq)
    assert "退回 12 分" in text(flow)
    assert flow.today()[0].voided and flow.day_totals() == (1, 6)
    assert not flow.void(lines[0].seq) and "已经撤销过" in text(flow)
    day = clock.local_date(now())
    now.advance(minutes=16)
    if clock.local_date(now()) == day:
        assert not flow.today()[1].can_void
    else:       # the clock starts at the wall clock: run just before midnight, the 16 minutes end the day
        assert flow.today() == []
    assert not flow.void(lines[1].seq) and "社区办公室" in text(flow)
    synced(flow)
    assert office_balance(town.path, town.rich[0]) == 94


# --- offline and back online -------------------------------------------------------------------

def test_offline_redeems_shows_offline_then_catches_up(flow, town, hub):
    hub.up = False
    state = flow.syncer.run_once()
    assert state.online is False and state.offline_since
    assert flow.scan(town.rich[2])
    flow.to_offers()
    flow.choose(town.beef)
    flow.to_confirm()
    assert flow.confirm()
    assert flow.syncer.run_once().online is False
    line = flow.sync_line()
    assert line.level == "warn" and "离线" in line.render() and "待上传 1 条" in line.render()
    hub.up = True
    synced(flow)
    assert "在线 · 待上传 0 条" == flow.sync_line().render()
    assert office_balance(town.path, town.rich[0]) == 88


def test_sync_line_in_english(flow):
    from device.ui.i18n import Translator
    tr = Translator("en")
    assert flow.sync_line().render(tr.gettext, "en").startswith("Connecting")


# --- settings ----------------------------------------------------------------------------------

def test_settings_behind_staff_pin_and_reenrol(flow, town, hub, now, tablet_home):
    from bank.accounts import hash_pin
    flow.settings.staff_pin_hash = hash_pin("2468")
    assert not flow.unlock_settings("1111") and flow.step is Step.SCAN
    assert flow.unlock_settings("2468") and flow.step is Step.SETTINGS
    flow.set_language("en")
    assert TerminalFlow(tablet_home, now=now, transport=hub).language == "en"
    assert not flow.set_server("office") and not flow.set_server("http://10.0.0.9:8080/")
    assert "https://" in text(flow)
    assert flow.set_server("https://10.0.0.9:8080/")
    assert flow.home.server == "https://10.0.0.9:8080"
    flow.set_server("http://office.test")
    flow.go(Step.SCAN)
    assert flow.scan(town.rich[2]), text(flow)
    flow.to_offers()
    flow.choose(town.bowl)
    flow.to_confirm()
    assert flow.confirm()
    assert not flow.reenrol() and "没有上传" in text(flow)
    synced(flow)
    assert flow.reenrol()
    assert flow.step is Step.ENROL and flow.home is None
    assert any(p.name.startswith("tab.replaced-") for p in tablet_home.parent.iterdir())

