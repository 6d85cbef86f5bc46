"""The kiosk flow through every path, on a real replica enrolled with the in-process office."""

from __future__ import annotations

import datetime as dt

from bank import db, ledger
from kiosk import objections, refusals, residents, staff
from kiosk.steps import IDLE_SECONDS, PAGE_SIZE, STAFF_IDLE_SECONDS, Step
from sync import client, replica

from .conftest import STAFF_PIN
from .kit import login


def test_resident_sees_points_passbook_convention_shops_boards(flow, kt):
    flow.scan(kt.town.rich[2])
    assert flow.step is Step.HOME and flow.account.name == "张*明" and flow.account.balance == 100
    assert flow.account.address == "1栋1单元"
    flow.go("passbook")
    assert flow.passbook_page()[0].points == 100
    flow.go("convention")
    products = residents.convention(flow.conn)
    assert [p[1] for p, _ in products] == ["修身", "润家", "睦邻", "怡城"] and sum(len(i) for _, i in products) == 25
    flow.go("redeem")
    shops = flow.shops()
    bowl = next(o for s in shops for o in s.offers if o[0] == "小面")
    assert bowl[1:] == (6, 16)          # 100 points buy 16 bowls
    assert [kind for kind, _name, _n in flow.paged()] == ["pharmacy", "noodles"]   # the kinds of shop first
    flow.go("boards")
    assert flow.step is Step.BOARDS


def test_idle_reset_leaves_nothing_of_the_resident(flow, kt, now):
    flow.scan(kt.town.rich[2])
    flow.go("passbook")
    now.advance(seconds=IDLE_SECONDS - 1)
    assert not flow.tick() and flow.step is Step.PASSBOOK
    flow.turn(1)                        # a touch restarts the timer
    now.advance(seconds=IDLE_SECONDS - 1)
    assert not flow.tick()
    now.advance(seconds=1)
    assert flow.tick()
    assert flow.step is Step.ATTRACT and flow.account is None and flow.message is None and flow.pin == ""


def test_staff_idle_is_longer_but_still_logs_out(flow, kt, now):
    login(flow, kt.staff[1][1])
    assert flow.step is Step.STAFF_FIND
    now.advance(seconds=IDLE_SECONDS + 1)
    assert not flow.tick()
    now.advance(seconds=STAFF_IDLE_SECONDS)
    assert flow.tick() and flow.member is None


def test_deduction_details_need_the_account_pin(flow, kt, hub):
    conn = db.connect(kt.path)
    with db.transaction(conn):
        ledger.record_item(conn, kt.town.poor[0], "XS04", recorded_by="office")
    conn.close()
    client.sync_once(flow.home, hub)
    flow.scan(kt.town.poor[2])          # poor has PIN 1234
    flow.go("passbook")
    deduction = next(line for line in flow.passbook() if line.kind == "deduction")
    assert flow.hides_details(deduction)
    flow.ask_pin()
    for key in "9999":
        flow.pin_key(key)
    flow.pin_submit()
    assert flow.step is Step.PIN and flow.message.level == "error"
    for key in "1234":
        flow.pin_key(key)
    flow.pin_submit()
    assert flow.step is Step.PASSBOOK and not flow.hides_details(deduction)


def test_wrong_staff_pins_are_counted_by_the_office_and_five_lock_the_member(flow, kt, now):
    login(flow, kt.staff[1][1], "0000")
    assert flow.step is Step.STAFF_PIN and "还可以再试 4 次" in flow.message.render()
    for left in (3, 2, 1):
        for key in "0000":
            flow.pin_key(key)
        flow.pin_submit()
        assert flow.step is Step.STAFF_PIN and f"还可以再试 {left} 次" in flow.message.render()
    for key in "0000":
        flow.pin_key(key)
    flow.pin_submit()
    assert flow.step is Step.ATTRACT and flow.member is None and "错误次数过多" in flow.message.render()
    login(flow, kt.staff[1][1])        # even the right PIN, for 15 minutes
    assert flow.member is None and "错误次数过多" in flow.message.render()
    now.advance(minutes=16)
    login(flow, kt.staff[1][1])
    assert flow.step is Step.STAFF_FIND and flow.member.name == "李*"


def test_staff_mode_needs_the_office_online(flow, kt, hub):
    hub.up = False
    login(flow, kt.staff[1][1])
    assert flow.step is Step.ATTRACT and flow.member is None and "需要联网" in flow.message.render()


def test_recusal_refused_for_own_household(flow, kt):
    login(flow, kt.staff[0][1])         # staff[0] lives in rich's household
    flow.scan(kt.town.rich[2])
    assert flow.step is Step.STAFF_FIND and flow.message.zh.startswith("不能为自己家庭记分")
    try:
        staff.record_entry(flow.conn, flow.member, kt.town.rich[0], "XS01", now=flow.now())
    except refusals.Refusal as exc:
        assert exc.reason == "recusal"
    else:
        raise AssertionError("recusal not enforced")


def test_award_by_building_unit_caps_and_sync_to_the_office(flow, kt, hub):
    login(flow, kt.staff[1][1])
    flow.set_building(1)
    flow.set_unit(1)
    assert {h[0] for h in flow.households()} == {kt.town.rich[0], kt.town.poor[0], kt.town.lost[0]}
    flow.choose_household(kt.town.rich[0])
    flow.choose_item("XS01")
    flow.set_note("本人申报,已核实")
    flow.confirm()
    assert flow.step is Step.STAFF_ITEMS and "已记录" in flow.message.zh
    assert flow.target.balance == 101
    item = next(i for _, items in flow.items() for i in items if i.code == "XS01")
    assert item.used == 1 and item.full
    flow.choose_item("XS01")            # daily cap 1: refused at once
    assert flow.message.level == "error" and "本期已记满" in flow.message.zh
    client.sync_once(flow.home, hub)
    conn = db.connect(kt.path)
    entry = ledger.entries(conn, kt.town.rich[0])[-1]
    assert (entry.kind, entry.item_code, entry.points, entry.device_id) == ("award", "XS01", 1, "K0001")
    assert entry.recorded_by == "评议小组成员:李四" and entry.note == "本人申报,已核实"
    conn.close()


def test_second_confirmation_above_the_threshold(flow, kt, hub):
    login(flow, kt.staff[1][1])
    flow.scan(kt.town.rich[2])
    flow.choose_item("XS06")            # fighting -10: above 5
    assert flow.needs_second()
    flow.confirm()
    assert flow.message.level == "error" and flow.target.balance == 100
    flow.scan(kt.staff[1][1])           # the same member cannot confirm their own entry
    assert flow.second_pending is None
    flow.scan(kt.staff[0][1])           # staff[0] is of rich's household: not as second either
    assert flow.second_pending is None and flow.message.level == "error"
    flow.scan(kt.staff[2][1])
    for key in STAFF_PIN:
        flow.pin_key(key)
    flow.pin_submit()
    assert flow.second.name == "赵*"        # the kiosk holds masked names only
    flow.confirm()
    assert flow.target.balance == 90
    client.sync_once(flow.home, hub)
    conn = db.connect(kt.path)
    entry = ledger.entries(conn, kt.town.rich[0])[-1]
    assert entry.points == -10 and entry.recorded_by == "评议小组成员:李四;复核:赵六"
    conn.close()


def test_month_list_and_same_day_undo_of_own_entry_only(flow, kt, hub, now):
    login(flow, kt.staff[1][1])
    flow.scan(kt.town.rich[2])
    flow.choose_item("RJ03")
    flow.confirm()
    client.sync_once(flow.home, hub)    # now in the office ledger: undo still works (by event number)
    flow.go("staff_month")
    line = flow.month_page()[0]
    assert line.title == "门前楼道整洁" and flow.can_undo(line)
    flow.undo(line.key)
    assert "已撤销" in flow.message.zh and flow.month()[0].reversed
    client.sync_once(flow.home, hub)
    conn = db.connect(kt.path)
    assert ledger.balance(conn, kt.town.rich[0]) == 100 and ledger.entries(conn, kt.town.rich[0])[-1].kind == "reversal"
    conn.close()
    # another member cannot undo it, and nobody can the next day
    flow.choose_household(kt.town.lost[0])
    flow.choose_item("XS01")
    flow.confirm()
    flow.staff_logout()
    login(flow, kt.staff[2][1])
    flow.go("staff_month")
    assert not flow.can_undo(flow.month()[0])
    flow.undo(flow.month()[0].key)
    assert flow.message.level == "error"
    flow.staff_logout()
    login(flow, kt.staff[1][1])
    now.advance(days=1)
    flow.go("staff_month")
    assert not any(flow.can_undo(line) for line in flow.month())


def test_objection_during_the_posting_period(flow, kt, hub):
    flow.scan(kt.town.poor[2])
    flow.go("object")
    assert flow.step is Step.OBJECT
    [line] = flow.objectable()
    assert line.entry_id == kt.q_entry
    flow.choose_objection(line.entry_id)
    flow.object_with(objections.OBJECTION_REASONS[0])
    assert flow.step is Step.HOME and "异议已提交" in flow.message.zh
    flow.go("object")
    assert flow.objectable() == []      # one objection per entry
    client.sync_once(flow.home, hub)
    conn = db.connect(kt.path)
    row = conn.execute("SELECT account_id, entry_id, source, reason, points_held FROM objections").fetchone()
    assert tuple(row) == (kt.town.poor[0], kt.q_entry, "kiosk", objections.OBJECTION_REASONS[0], 2)
    conn.close()


def test_objection_window_closed(tmp_path):
    from tests.sync.kit import office
    from kiosk.flow import KioskFlow
    from .conftest import enrol_kiosk, make_town
    kt = make_town(tmp_path / "o.sqlite", posting_open=False)
    tc, hub = office(kt.path)
    with tc:
        enrol_kiosk(kt.path, hub, tmp_path / "k")
        flow = KioskFlow(tmp_path / "k", transport=hub)
        flow.scan(kt.town.poor[2])
        flow.go("object")
        assert flow.step is Step.HOME and "不在公示期" in flow.message.zh
        try:
            objections.object_to(flow.conn, flow.card, kt.q_entry, objections.OBJECTION_REASONS[0], flow.now())
        except refusals.Refusal as exc:
            assert exc.reason == "posting_closed"
        else:
            raise AssertionError("objection accepted outside the posting period")
        flow.conn.close()


def test_offline_entries_wait_in_the_outbox_and_sync_later(flow, kt, hub):
    login(flow, kt.staff[1][1])         # the session is opened online; the network may drop later
    hub.up = False
    flow.scan(kt.town.rich[2])
    flow.choose_item("ML02")
    flow.confirm()
    assert flow.target.balance == 102
    try:
        client.sync_once(flow.home, hub)
    except client.Unreachable:
        pass
    assert replica.pending_summary(flow.conn)[0] == 1
    assert flow.passbook() == [] and flow.month()[0].pending
    hub.up = True
    client.sync_once(flow.home, hub)
    assert replica.pending_summary(flow.conn)[0] == 0 and not flow.month()[0].pending


def test_refused_cards_and_a_resident_card_of_another_compound(flow, kt):
    flow.scan("not a card")
    assert flow.step is Step.ATTRACT and flow.message.level == "error"
    flow.scan(kt.town.lost[2])          # superseded card
    assert flow.step is Step.ATTRACT and flow.message.level == "error"


def test_passbook_pages_by_tap(flow, kt, hub):
    conn = db.connect(kt.path)
    with db.transaction(conn):
        for i in range(PAGE_SIZE + 2):
            ledger.record_adjustment(conn, kt.town.rich[0], 1, recorded_by="office", note=f"test {i}")
    conn.close()
    client.sync_once(flow.home, hub)
    flow.scan(kt.town.rich[2])
    flow.go("passbook")
    assert len(flow.passbook_page()) == PAGE_SIZE
    flow.turn(1)
    assert flow.page == 1 and len(flow.passbook_page()) == 3
    flow.turn(1)
    assert flow.page == 1


def test_objection_entries_shops_and_posting_rows_are_paged_not_cut_short(flow, kt, hub, monkeypatch):
    """Every list on a resident screen pages by tap (上一页/下一页); nothing beyond a page is dropped."""
    from bank import clock, merchants, periods
    from bank.errors import BankError
    from kiosk.steps import BOARD_ROWS_PER_PAGE, POSTING_ROWS_PER_PAGE, SHOPS_PER_PAGE
    conn = db.connect(kt.path)
    quarter = periods.previous_quarter(clock.now_utc())
    with db.transaction(conn):
        added = 0
        for code, in conn.execute("SELECT DISTINCT code FROM rule_items WHERE points > 0 ORDER BY code").fetchall():
            for day in range(2, 40, 3):
                at = clock.local_midnight(quarter.first_day + dt.timedelta(days=day))
                try:
                    ledger.record_item(conn, kt.town.poor[0], code, recorded_by="评议小组成员:赵六", now=at)
                    added += 1
                except BankError:
                    break
                if added >= PAGE_SIZE + 1:
                    break
            if added >= PAGE_SIZE + 1:
                break
        for i in range(SHOPS_PER_PAGE + 2):
            mid = merchants.add_merchant(conn, f"测试商户{i}", "noodles", compound_id=1)
            merchants.add_offer(conn, mid, "鸡蛋", 5, 500)
    conn.close()
    client.sync_once(flow.home, hub)
    flow.scan(kt.town.poor[2])

    flow.go("object")
    lines = flow.objectable()
    assert len(lines) == PAGE_SIZE + 2           # the quarter's own entry and the ones just recorded
    assert flow.page_of(lines) == lines[:PAGE_SIZE]
    flow.turn(1)
    assert flow.page == 1 and flow.page_of(lines) == lines[PAGE_SIZE:]
    flow.turn(1)
    assert flow.page == 1                        # the last page stays
    flow.choose_objection(lines[-1].entry_id)    # an entry of the second page can be objected to
    flow.object_with("分数记错了")
    assert flow.step is Step.HOME and flow.message.level == "info"

    flow.go("redeem")
    assert len(flow.shops()) == SHOPS_PER_PAGE + 4
    flow.choose_shop_kind("noodles")             # a kind with more shops than a page
    shops = flow.paged()
    assert len(shops) == SHOPS_PER_PAGE + 3 and flow.pages(len(shops)) == 2
    assert flow.page_of(shops) == shops[:SHOPS_PER_PAGE]
    flow.turn(1)
    assert flow.page_of(shops) == shops[SHOPS_PER_PAGE:]
    flow.turn(-1)
    assert flow.page == 0

    flow.go("boards")
    assert flow.board_tab == "boards"            # the boards' tab first: places of red and black side by side
    lines = flow.board_rows()
    assert flow.paged() == lines and flow.page_of(lines) == lines[:BOARD_ROWS_PER_PAGE]
    assert [place for place, _, _ in lines] == list(range(1, len(lines) + 1))
    flow.turn(1)
    flow.show_tab("posting")                     # the posting's tab opens on its first page
    assert flow.board_tab == "posting" and flow.page == 0
    rows = flow.posting_rows()
    assert rows and flow.paged() == rows and flow.page_of(rows) == rows[:POSTING_ROWS_PER_PAGE]
    many = [(i, f"户{i}", 1, 1, 1, 0, 0, 1) for i in range(POSTING_ROWS_PER_PAGE * 2 + 1)]
    monkeypatch.setattr(flow, "posting_rows", lambda: many)     # a compound of 25 households
    flow.turn(1)
    flow.turn(1)
    assert flow.page == 2 and flow.page_of(many) == many[-1:]
    flow.go("home")
    assert flow.page == 0                        # a screen opens on its first page
    flow.go("boards")
    assert flow.board_tab == "boards" and flow.page == 0
    flow.show_tab("nonsense")
    assert flow.board_tab == "boards"


def test_boards_tab_pages_red_and_black_side_by_side(flow, kt, monkeypatch):
    from kiosk.steps import BOARD_ROWS_PER_PAGE
    flow.scan(kt.town.rich[2])
    red = [(f"红{i}", 1, 1, 20 - i) for i in range(BOARD_ROWS_PER_PAGE + 2)]
    black = [(f"黑{i}", 2, 1, 3) for i in range(2)]
    monkeypatch.setattr(residents, "boards", lambda conn: {"label": "2026年第3季度", "red": red, "black": black})
    flow.go("boards")
    lines = flow.board_rows()
    assert len(lines) == len(red) and flow.pages(len(lines)) == 2
    assert lines[0] == (1, red[0], black[0]) and lines[2] == (3, red[2], None)
    flow.turn(1)
    assert flow.page_of(lines) == lines[BOARD_ROWS_PER_PAGE:]
    flow.turn(1)
    assert flow.page == 1                        # no page past the last
    flow.reset()
    assert flow.board_tab == "boards"


def test_language_switch_stays_for_the_resident_and_idle_brings_chinese_back(flow, kt, now):
    assert flow.lang == "zh"
    flow.set_language()                          # the 中文/English button on the attract screen
    assert flow.lang == "en"
    flow.scan(kt.town.rich[2])                   # showing the card keeps the chosen language
    assert flow.step is Step.HOME and flow.lang == "en"
    flow.reset()                                 # "done, sign out": still English for a moment ...
    now.advance(seconds=IDLE_SECONDS)
    assert flow.tick() and flow.lang == "zh"     # ... then Chinese again for the next person
    assert not flow.tick()
    flow.set_language("en")
    flow.scan(kt.town.rich[2])
    now.advance(seconds=IDLE_SECONDS)
    assert flow.tick() and flow.step is Step.ATTRACT and flow.lang == "zh"
    flow.set_language("fr")
    assert flow.lang == "zh"


def test_convention_pages_one_product_a_few_items_at_a_time(flow, kt):
    from kiosk.steps import CONVENTION_ITEMS_PER_PAGE
    flow.scan(kt.town.rich[2])
    flow.go("convention")
    products = residents.convention(flow.conn)
    pages = flow.convention_pages()
    assert len(pages) == sum(-(-len(items) // CONVENTION_ITEMS_PER_PAGE) for _, items in products)
    assert all(0 < len(items) <= CONVENTION_ITEMS_PER_PAGE for _, items in pages)
    assert [code for _, items in pages for code, *_ in items] == [i[0] for _, items in products for i in items]
    assert flow.pages(len(flow.paged())) == len(pages) and flow.page_of(pages) == pages[:1]
    for _ in pages:
        flow.turn(1)
    assert flow.page == len(pages) - 1 and flow.page_of(pages)[0][0][1] == "怡城"   # the last product, not past it
    flow.go("home")
    flow.go("convention")
    assert flow.page == 0


def test_staff_find_one_list_at_a_time_paged_and_items_paged_by_product(flow, kt):
    from kiosk.steps import FIND_CHOICES_PER_PAGE, STAFF_ITEMS_PER_PAGE
    login(flow, kt.staff[1][1])
    assert flow.find_level() == "building" and flow.find_choices() == flow.buildings()
    flow.turn(1)
    flow.set_building(1)
    assert flow.page == 0 and flow.find_level() == "unit" and flow.find_choices() == flow.units()
    flow.set_unit(1)
    assert flow.find_level() == "household" and flow.find_choices() == flow.households()
    assert flow.page_size() == FIND_CHOICES_PER_PAGE
    flow.set_unit(None)                 # the unit's button: choose the unit again
    assert flow.find_level() == "unit" and flow.building == 1
    flow.set_building(None)             # the building's button: back to the buildings
    assert flow.find_level() == "building" and flow.unit is None
    flow.set_building(1)
    flow.set_unit(1)
    flow.choose_household(kt.town.rich[0])
    pages = flow.item_pages()
    assert all(0 < len(items) <= STAFF_ITEMS_PER_PAGE for _, items in pages)
    assert all(i.product == p[1] for p, items in pages for i in items)      # a page holds one product's items
    assert sum(len(items) for _, items in pages) == sum(len(items) for _, items in flow.items())
    flow.turn(1)
    code = flow.page_of(pages)[0][1][0].code
    flow.choose_item(code)
    flow.confirm()
    assert flow.step is Step.STAFF_ITEMS and flow.page == 1   # back on the same product's page
    flow.choose_household(kt.town.poor[0])
    assert flow.page == 0


def test_staff_find_lists_rooms_as_people_read_them(flow, kt, hub):
    """Households opened at the office after enrolment reach the kiosk by a real pull; room 803
    comes before 2603 (text order puts it after)."""
    from bank import accounts, clock
    conn = db.connect(kt.path)
    with db.transaction(conn):
        for i, room in enumerate(("2603", "803", "1502")):
            accounts.open_account(conn, kind="single", holder=f"邹{i}", compound_id=1, building=1, unit=1, room=room,
                                  now=clock.now_utc())
    conn.close()
    client.sync_once(flow.home, hub)
    login(flow, kt.staff[1][1])
    flow.set_building(1)
    flow.set_unit(1)
    rooms = [room for _aid, _name, room in flow.households()]
    assert rooms == sorted(rooms, key=int) and rooms.index("803") < rooms.index("1502") < rooms.index("2603")


def test_every_posting_open_now_or_later_reaches_the_kiosk_and_each_is_shown(flow, kt, hub):
    """A yearly posting overlapping the quarter's, and the next quarter's scheduled: after a real
    pull the kiosk lists all three (the open ones first), shows each, and objections stay open.
    A posting opens at the page of the resident's own household."""
    from bank import accounts, cards, clock, periods, postings
    conn = db.connect(kt.path)
    today = clock.local_date(clock.now_utc())
    with db.transaction(conn):
        for i in range(6):        # enough households before ours for the posting to have a second page
            accounts.open_account(conn, kind="single", holder=f"邹{i}", compound_id=1, building=1, unit=1,
                                  room=f"3{i:02d}", now=clock.now_utc())
        ours = accounts.open_account(conn, kind="household", holder="钱七", compound_id=1, building=3, unit=1,
                                     room="101", now=clock.now_utc())
        card = cards.issue(conn, ours, now=clock.now_utc())
        last_year = periods.year(today.year - 1)
        yearly = postings.publish(conn, kind="yearly", period=last_year, compound_id=1,
                                  opens_on=max(today - dt.timedelta(days=2), last_year.last_day + dt.timedelta(days=1)),
                                  days=30, by="council").posting_id
        this_quarter = periods.current_quarter(clock.now_utc())
        later = postings.publish(conn, kind="quarterly", period=this_quarter, compound_id=1,
                                 opens_on=this_quarter.last_day + dt.timedelta(days=3), days=7, by="council").posting_id
    conn.close()
    client.sync_once(flow.home, hub)

    shown = [p["posting_id"] for p in flow.postings()]
    assert sorted(shown[:2]) == sorted([kt.posting_id, yearly]) and shown[2] == later
    flow.scan(card.qr)
    flow.go("boards")
    flow.show_tab("posting")
    assert flow.posting() is None and [p["posting_id"] for p in flow.paged()] == shown   # a list to choose from
    for pid in shown:
        flow.choose_posting(pid)
        rows = flow.paged()
        assert flow.posting()["posting_id"] == pid and len(rows) > 5
        assert flow.page > 0 and ours in [r[0] for r in flow.page_of(rows)]     # at our household
        flow.turn(-flow.page)
        assert flow.page == 0 and ours not in [r[0] for r in flow.page_of(flow.paged())]
    flow.choose_posting(None)
    assert flow.posting() is None
    flow.scan(kt.town.poor[2])
    flow.go("object")                   # the quarter's posting is still open for objections
    assert flow.step is Step.OBJECT and kt.q_entry in [line.entry_id for line in flow.objectable()]


def test_any_shop_is_three_taps_from_home_nearest_first_with_address_and_hours(flow, kt, hub):
    """A shop of another compound, one of the kiosk's own, and the redemption windows the office
    set (bank.policy), all reached by a real pull; every shop is three taps from the home screen."""
    from bank import community, merchants, policy
    conn = db.connect(kt.path)
    with db.transaction(conn):
        other = community.add_compound(conn, "龙海西苑", 6, service_point="龙海西苑党群服务点")
        far = merchants.add_merchant(conn, "西苑面馆", "noodles", compound_id=other, address="西苑路8号")
        merchants.add_offer(conn, far, "小面", 6, 700)
        near = merchants.add_merchant(conn, "花园面庄", "noodles", compound_id=1, address="龙海花园3栋底商")
        merchants.add_offer(conn, near, "牛肉面", 12, 1500)
        policy.add_window(conn, merchant_id=near, place="店内", weekdays="1111100", opens="09:00", closes="18:00")
    conn.close()
    client.sync_once(flow.home, hub)
    flow.scan(kt.town.rich[2])
    flow.go("home")
    everyone = flow.shops()
    assert {far, near} <= {s.merchant_id for s in everyone}
    for target in everyone:
        flow.go("home")
        taps = 0
        flow.go("redeem")
        taps += 1
        flow.choose_shop_kind(next(kind for kind, _n, _c in flow.page_of(flow.paged()) if kind == target.category))
        taps += 1
        assert target in flow.page_of(flow.paged())          # on the first page of its kind
        flow.choose_shop(target.merchant_id)
        taps += 1
        assert taps == 3 and flow.shop() == target
    flow.go("redeem")
    flow.choose_shop_kind("noodles")
    noodles = flow.paged()
    assert [s.nearby for s in noodles] == [True, True, False] and noodles[-1].merchant_id == far   # nearest first
    flow.choose_shop(near)
    shop = flow.shop()
    assert (shop.address, shop.hours) == ("龙海花园3栋底商", "周一至周五 09:00-18:00")
    assert ("牛肉面", 12, 8) in shop.offers            # 100 points buy 8 bowls
    flow.choose_shop(None)
    assert flow.shop() is None and flow.paged() == noodles


def test_passbook_shows_the_running_balance_the_office_computes(flow, kt, hub):
    conn = db.connect(kt.path)
    aid = kt.town.poor[0]
    with db.transaction(conn):
        ledger.record_item(conn, aid, "XS04", recorded_by="office")
        ledger.record_adjustment(conn, aid, 7, recorded_by="office", note="纸质台账结转")
    office = {ln.entry.entry_id: ln.balance_after for ln in ledger.passbook(conn, aid, limit=None)}
    balance = ledger.balance(conn, aid)
    conn.close()
    client.sync_once(flow.home, hub)
    flow.scan(kt.town.poor[2])
    flow.go("passbook")
    lines = flow.passbook()
    assert {ln.entry_id: ln.balance_after for ln in lines} == office
    assert lines[0].balance_after == balance == flow.account.balance


def test_points_expiring_within_60_days_are_shown_and_later_ones_not(flow, kt, hub, now):
    from bank import clock
    today = clock.local_date(now())
    conn = db.connect(kt.path)
    aid = kt.town.rich[0]
    with db.transaction(conn):
        ledger.record_adjustment(conn, aid, 3, recorded_by="office", note="并户转入",
                                 valid_until=today + dt.timedelta(days=30))
        ledger.record_adjustment(conn, aid, 4, recorded_by="office", note="并户转入",
                                 valid_until=today + dt.timedelta(days=61))
    conn.close()
    client.sync_once(flow.home, hub)
    flow.scan(kt.town.rich[2])
    assert ((today + dt.timedelta(days=30)).isoformat(), 3) in flow.account.expiring
    assert all(day != (today + dt.timedelta(days=61)).isoformat() for day, _ in flow.account.expiring)
