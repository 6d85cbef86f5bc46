"""Registration in the bank (issue 11), on real SQLite stores: accounts opened with a card, edited,
suspended and closed; members and holders; households merged and the merge undone the same day;
merchants and offers (price history keeps posted months, the ¥1-a-point warning); redemption
windows; volunteer teams; convention amendments and withdrawn versions. Every refusal writes
nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from bank import (accounts, cards, clock, convention, households, ledger, merchants, periods, policy,
                  redemptions, reviewers, teams, validity, volunteering)
from bank.errors import AccountInactive, InvalidInput, NotFound

from tests.conftest import T0

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def counts(conn) -> tuple:
    return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("accounts", "members", "cards", "ledger_entries", "merchants", "offers",
                           "offer_price_history", "volunteer_teams", "catalog_versions", "household_changes"))


def account_rows(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute("SELECT account_id, status, display_name, phone, room FROM accounts "
                                           "ORDER BY account_id")]


def refused(conn, func, *args, match: str, **kwargs):
    """Call a bank function that must refuse: the message says why and nothing is written (the
    store is in autocommit mode, so a write before the refusal would stay)."""
    before = counts(conn)
    state = account_rows(conn)
    with pytest.raises((InvalidInput, NotFound), match=match):
        func(conn, *args, **kwargs)      # no transaction around it: the function writes nothing itself
    assert counts(conn) == before
    assert account_rows(conn) == state


@pytest.fixture
def household(store):
    aid, card = households.open_household(store, kind="household", holder="张喆明", compound_id=1, building=3,
                                          unit=2, room="1502", phone="13812345678",
                                          members=[("李玥", "配偶"), ("张小宇", "儿子")], now=T0)
    return aid, card


# --- accounts ------------------------------------------------------------------------------------

def test_open_a_household_with_members_and_its_card(store, household):
    aid, card = household
    acct = accounts.get(store, aid)
    assert (acct.kind, acct.display_name, acct.address, acct.phone) == ("household", "张喆明", "3栋2单元1502",
                                                                        "13812345678")
    assert [(m["name"], m["relation"], m["is_holder"]) for m in accounts.members(store, aid)] == [
        ("张喆明", "本人", 1), ("李玥", "配偶", 0), ("张小宇", "儿子", 0)]
    assert card.account_id == aid and card.version == 1
    claim, found = cards.verify_text(store, card.qr)         # the card verifies at once
    assert found.account_id == aid and claim.card_id == card.card_id


@pytest.mark.parametrize("fields, words", [
    ({"holder": ""}, "户主姓名"), ({"holder": "名" * 21}, "户主姓名"), ({"compound_id": 9}, "没有编号为 9 的小区"),
    ({"building": 10}, "楼栋号须为1到9"), ({"building": 0}, "楼栋"), ({"unit": 21}, "单元号"),
    ({"room": ""}, "房号"), ({"room": "15 02"}, "房号"), ({"room": "12345678901"}, "房号"),
    ({"phone": "abc"}, "电话号码"), ({"phone": "123"}, "电话号码"), ({"kind": "company"}, "家庭或个人"),
    ({"kind": "single", "members": [("李玥", "配偶")]}, "个人账户"), ({"members": [("", "配偶")]}, "姓名"),
    ({"members": [("李玥", "")]}, "关系"),
])
def test_opening_refuses_bad_input_and_writes_nothing(store, fields, words):
    args = dict(kind="household", holder="张三", compound_id=1, building=1, unit=1, room="101", phone="", members=[])
    args.update(fields)
    refused(store, households.open_household, match=words, **args)


def test_edit_address_phone_and_holder_name(store, household):
    aid, _ = household
    changed = accounts.edit(store, aid, building=5, room="301", phone="023-62345678", holder_name="张喆铭")
    assert changed == {"building": [3, 5], "room": ["1502", "301"], "phone": ["13812345678", "023-62345678"],
                       "display_name": ["张喆明", "张喆铭"]}
    acct = accounts.get(store, aid)
    assert (acct.address, acct.display_name) == ("5栋2单元301", "张喆铭")
    assert accounts.members(store, aid)[0]["name"] == "张喆铭"
    assert accounts.edit(store, aid, building=5) == {}
    refused(store, accounts.edit, aid, building=99, match="楼栋号")
    refused(store, accounts.edit, aid, phone="x1", match="电话号码")


def test_members_rename_remove_and_change_of_holder(store, household):
    aid, card = household
    spouse, son = [m["member_id"] for m in accounts.members(store, aid)][1:]
    assert accounts.edit_member(store, aid, son, name="张晓宇") == {"name": ["张小宇", "张晓宇"]}
    refused(store, accounts.edit_member, aid, son, relation="本人", match="只有户主")
    refused(store, accounts.edit_member, aid, accounts.members(store, aid)[0]["member_id"], relation="配偶",
            match="户主变更")
    refused(store, accounts.change_holder, aid, spouse, old_holder_relation="", match="关系")
    refused(store, accounts.change_holder, aid, 999999, old_holder_relation="配偶", match="不属于")
    assert accounts.change_holder(store, aid, spouse, old_holder_relation="配偶") == ("张喆明", "李玥")
    acct = accounts.get(store, aid)
    assert acct.display_name == "李玥"
    rows = {m["name"]: (m["relation"], m["is_holder"]) for m in accounts.members(store, aid)}
    assert rows["李玥"] == ("本人", 1) and rows["张喆明"] == ("配偶", 0)
    assert cards.current(store, card.card_id).status == "active"      # the card stays with the account
    refused(store, accounts.remove_member, aid, spouse, match="户主不能移出")
    assert accounts.remove_member(store, aid, son) == "张晓宇"
    assert [m["name"] for m in accounts.members(store, aid)] == ["李玥", "张喆明"]


def test_a_review_group_member_keeps_name_and_household(store, household):
    aid, _ = household
    reviewers.add(store, compound_id=1, account_id=aid, name="李玥", pin="1357", now=T0)
    spouse = accounts.members(store, aid)[1]["member_id"]
    refused(store, accounts.edit_member, aid, spouse, name="李月", match="评议小组成员")
    assert accounts.edit_member(store, aid, spouse, relation="妻子") == {"relation": ["配偶", "妻子"]}
    refused(store, accounts.remove_member, aid, spouse, match="评议小组成员")
    refused(store, households.close, aid, note="迁出", by="测试", match="评议小组成员")


def test_suspend_and_reinstate(store, household):
    aid, _ = household
    ledger.record_adjustment(store, aid, 20, recorded_by="测试", note="开户结转", now=T0)
    noodles = merchants.add_merchant(store, "老街小面", "noodles")
    bowl = merchants.add_offer(store, noodles, "小面", 6, 700)
    assert accounts.suspend(store, aid).status == "suspended"
    refused(store, accounts.suspend, aid, match="已经暂停")
    with pytest.raises(AccountInactive, match="暂停"):
        redemptions.redeem_at_office(store, aid, bowl, recorded_by="测试")
    ledger.record_item(store, aid, "XS01", recorded_by="测试")          # awards are still recorded
    assert accounts.reinstate(store, aid).status == "active"
    refused(store, accounts.reinstate, aid, match="没有暂停")
    redemptions.redeem_at_office(store, aid, bowl, recorded_by="测试")


def test_close_lapses_the_balance_and_revokes_the_card(store, household):
    aid, card = household
    ledger.record_adjustment(store, aid, 17, recorded_by="测试", note="开户结转", now=T0)
    plan = households.plan_close(store, aid)
    said = " ".join(plan.consequences())
    assert "余额 17 分作废" in said and card.card_id in said and "并户" in said
    assert counts(store) == counts(store)
    refused(store, households.close, aid, note="", by="测试", match="请写明办理原因")
    households.close(store, aid, note="全家迁出社区", by="测试")
    acct = accounts.get(store, aid)
    assert acct.status == "closed" and acct.closed_at
    assert ledger.balance(store, aid) == 0
    last = ledger.entries(store, aid)[-1]
    assert (last.kind, last.points) == ("adjustment", -17) and "全家迁出社区" in last.note
    assert cards.current(store, card.card_id).status == "revoked"
    assert (card.card_id, 1) in cards.revoked_versions(store)
    refused(store, households.plan_close, aid, match="已销户")
    refused(store, accounts.edit, aid, room="1", match="已销户")
    refused(store, accounts.add_member, aid, "王五", "其他", match="已销户")


def test_close_writes_off_a_debt(store, household):
    aid, _ = household
    ledger.record_adjustment(store, aid, -4, recorded_by="测试", note="透支", now=T0)
    assert "欠分 4 分核销" in households.plan_close(store, aid).consequences()[0]
    households.close(store, aid, note="迁出", by="测试")
    assert ledger.balance(store, aid) == 0


def test_search_pages_by_name_card_and_address(store):
    ids = [households.open_household(store, kind="single", holder=f"王{n:02d}号", compound_id=1, building=1 + n % 3,
                                     unit=1, room=f"{100 + n}", now=T0)[0] for n in range(25)]
    in_address_order = sorted(ids, key=lambda a: (1 + (a - ids[0]) % 3, a))   # building, then room 100 + n
    first = accounts.search(store, term="王", per_page=10)
    assert (first.total, first.pages, [r["account_id"] for r in first.rows]) == (25, 3, in_address_order[:10])
    third = accounts.search(store, term="王", page=3, per_page=10)
    assert [r["account_id"] for r in third.rows] == in_address_order[20:]
    assert [r["account_id"] for r in accounts.search(store, building=2, room="104").rows] == [ids[4]]
    card = cards.cards_of(store, ids[7])[0]
    assert [r["account_id"] for r in accounts.search(store, term=card.card_id).rows] == [ids[7]]
    assert accounts.search(store, term="王%").total == 25          # LIKE wildcards are text
    with pytest.raises(InvalidInput):
        accounts.search(store, page=0)


def test_addresses_sort_as_people_read_them(store):
    """Room 803 before 2603 (text order puts it after), in the residents list and by the helper."""
    rooms = ("2603", "803", "1502", "12", "803A", "B2")
    ids = {room: households.open_household(store, kind="single", holder=f"邹{i}", compound_id=1, building=2, unit=3,
                                           room=room, now=T0)[0] for i, room in enumerate(rooms)}
    listed = [r["room"] for r in accounts.search(store, building=2, unit=3).rows]
    assert listed == ["12", "803", "803A", "1502", "2603", "B2"]
    assert sorted([10, 9, 100], key=accounts.natural_key) == [9, 10, 100]
    assert sorted(["10-A", "2-B"], key=accounts.natural_key) == ["2-B", "10-A"]
    assert accounts.address_key(2, 1, "803") < accounts.address_key(2, 1, "2603") < accounts.address_key(10, 1, "101")
    assert ids


# --- households ----------------------------------------------------------------------------------

def test_merge_plan_shows_both_households_and_is_undone_the_same_day(store, household):
    aid, card = household
    other, other_card = households.open_household(store, kind="single", holder="王秀英", compound_id=1, building=1,
                                                  unit=1, room="101", now=T0)
    ledger.record_adjustment(store, aid, 30, recorded_by="测试", note="结转", now=T0)
    ledger.record_adjustment(store, other, 8, recorded_by="测试", note="结转", now=T0)
    lots_before = validity.lots(store, aid)[0]
    plan = households.plan_merge(store, aid, other)
    assert plan.points == 30 and plan.source.member_names == ["张喆明", "李玥", "张小宇"]
    assert [c.card_id for c in plan.target.cards] == [other_card.card_id]
    now = clock.now_utc()
    moved = households.merge(store, aid, other, note="两户合住", by="测试", now=now)
    assert accounts.get(store, aid).status == "closed" and ledger.balance(store, other) == 38
    assert accounts.get(store, other).kind == "household"
    assert [r["change_id"] for r in households.undoable_merges(store, other, now=now)] == [moved.change_id]
    later = now + dt.timedelta(days=1)
    refused(store, households.undo_merge, moved.change_id, by="测试", now=later, match="当天")
    back = households.undo_merge(store, moved.change_id, by="测试", now=now)
    assert accounts.get(store, aid).status == "active" and accounts.get(store, other).kind == "single"
    assert ledger.balance(store, aid) == 30 and ledger.balance(store, other) == 8
    assert [m["name"] for m in accounts.members(store, aid)] == ["张喆明", "李玥", "张小宇"]
    assert accounts.members(store, aid)[0]["is_holder"] == 1
    assert [(lot.last_valid_day, lot.remaining) for lot in validity.lots(store, aid)[0]] == \
        [(lot.last_valid_day, lot.remaining) for lot in lots_before]      # points keep their validity
    assert back.card_id == card.card_id and cards.current(store, card.card_id).version == 2
    assert cards.current(store, card.card_id).status == "active"
    refused(store, households.undo_merge, moved.change_id, by="测试", now=now, match="已经撤销")


def test_a_merge_whose_points_were_spent_is_not_undone(store, household):
    aid, _ = household
    other, _ = households.open_household(store, kind="single", holder="王秀英", compound_id=1, building=1, unit=1,
                                         room="101", now=T0)
    ledger.record_adjustment(store, aid, 10, recorded_by="测试", note="结转", now=T0)
    moved = households.merge(store, aid, other, note="两户合住", by="测试")
    noodles = merchants.add_merchant(store, "老街小面", "noodles")
    redemptions.redeem_at_office(store, other, merchants.add_offer(store, noodles, "小面", 6, 700), recorded_by="测试")
    refused(store, households.undo_merge, moved.change_id, by="测试", match="已部分使用")


def test_split_plan_checks_the_address(store, household):
    aid, _ = household
    son = accounts.members(store, aid)[2]["member_id"]
    plan = households.plan_split(store, aid, [son], points=0, room="902")
    assert (plan.names, plan.room, plan.building) == (["张小宇"], "902", 3)
    refused(store, households.split, aid, [son], points=0, note="x", by="测试", building=40, match="楼栋号")
    moved = households.split(store, aid, [son], points=0, note="成家", by="测试", room="902")
    assert accounts.get(store, moved.target_id).kind == "single"


# --- merchants and offers ------------------------------------------------------------------------

def test_merchant_add_edit_suspend_leave_reinstate(store):
    mid = merchants.add_merchant(store, "龙海第71家小面", "noodles", compound_id=1, address="龙海大道1号",
                                 contact="刘老板", phone="13900001111")
    bowl = merchants.add_offer(store, mid, "小面", 6, 700)
    refused(store, merchants.add_merchant, "龙海第71家小面", "noodles", match="已有名为")
    refused(store, merchants.add_merchant, "x", "casino", match="类别")
    refused(store, merchants.add_merchant, "x", "noodles", compound_id=42, match="小区")
    assert merchants.edit_merchant(store, mid, address="龙海大道2号") == {"address": ["龙海大道1号", "龙海大道2号"]}
    refused(store, merchants.edit_merchant, mid, phone="12", match="电话")
    merchants.suspend(store, mid)
    assert merchants.offers_of(store, mid) == []                       # nothing redeemable: the pull sends none
    assert [o.offer_id for o in merchants.offers_of(store, mid, active_only=False)] == [bowl]
    refused(store, merchants.suspend, mid, match="不能暂停")
    merchants.reinstate(store, mid)
    assert [o.offer_id for o in merchants.offers_of(store, mid)] == [bowl]
    withdrawn = merchants.leave(store, mid)
    assert [o.offer_id for o in withdrawn] == [bowl] and merchants.get(store, mid).left_at
    assert not merchants.offer(store, bowl).active and merchants.offer(store, bowl).withdrawn_at
    refused(store, merchants.add_offer, mid, "豌杂面", 8, 1000, match="已退出")
    refused(store, merchants.edit_merchant, mid, address="x", match="已退出")


def test_an_edited_offer_keeps_the_value_of_past_redemptions(store, account):
    mid = merchants.add_merchant(store, "老街小面", "noodles")
    bowl = merchants.add_offer(store, mid, "小面", 6, 700)
    ledger.record_adjustment(store, account, 50, recorded_by="测试", note="结转", now=T0)
    then = T0 + dt.timedelta(hours=1)
    ledger.record_redemption(store, account, bowl, 2, recorded_by="测试", now=then)
    month = periods.month(clock.local_date(then).strftime("%Y-%m"))
    assert redemptions.monthly_table(store, month)[0].value_fen == 1400
    changed = merchants.edit_offer(store, bowl, points=7, value_fen=800, now=then + dt.timedelta(hours=1))
    assert changed == {"points": [6, 7], "value_fen": [700, 800]}
    ledger.record_redemption(store, account, bowl, 1, recorded_by="测试", now=then + dt.timedelta(hours=2))
    row = redemptions.monthly_table(store, month)[0]
    assert (row.count, row.quantity, row.points, row.value_fen) == (2, 3, 19, 2200)   # 2 x 7.00 + 1 x 8.00
    assert [tuple(r) for r in merchants.price_history(store, bowl)][0][:2] == (6, 700)


def test_offers_warn_below_a_yuan_a_point_withdraw_and_relist(store):
    mid = merchants.add_merchant(store, "老街小面", "noodles")
    assert merchants.promise_warning(6, 700) is None
    assert "低于" in merchants.promise_warning(10, 500) and "0.50" in merchants.promise_warning(10, 500)
    bun = merchants.add_offer(store, mid, "馒头", 2, 100)                # allowed: the office was warned
    refused(store, merchants.add_offer, mid, "馒头", 1, 100, match="已有")
    refused(store, merchants.add_offer, mid, "", 1, 100, match="项目名称")
    refused(store, merchants.add_offer, mid, "包子", 0, 100, match="1到10000")
    refused(store, merchants.edit_offer, bun, value_fen=-1, match="价值")
    merchants.withdraw_offer(store, bun)
    refused(store, merchants.withdraw_offer, bun, match="已经撤下")
    refused(store, merchants.edit_offer, bun, points=3, match="已撤下")
    assert merchants.offers_of(store, mid) == []
    assert merchants.add_offer(store, mid, "馒头", 1, 100) == bun        # listed again, at the new price
    assert (merchants.offer(store, bun).points, merchants.offer(store, bun).active) == (1, True)


def test_redemption_windows_for_a_merchant_and_the_community_point(store):
    mid = merchants.add_merchant(store, "老街小面", "noodles")
    wid = policy.add_window(store, merchant_id=mid, place="老街小面", weekdays="1111100", opens="09:00", closes="21:00")
    point = policy.add_window(store, merchant_id=None, place="社区兑换点", weekdays="0000011", opens="09:00",
                              closes="12:00")
    assert [w.describe() for w in policy.windows(store, mid)] == ["周一至周五 09:00-21:00"]
    assert [w.window_id for w in policy.windows(store, None)] == [point]
    for kwargs, words in (({"weekdays": "0000000"}, "至少选择一天"), ({"opens": "9:00"}, "HH:MM"),
                          ({"opens": "12:00", "closes": "11:00"}, "开始早于结束"), ({"place": ""}, "地点")):
        args = dict(merchant_id=mid, place="老街小面", weekdays="1111111", opens="09:00", closes="10:00") | kwargs
        with pytest.raises(InvalidInput, match=words):
            policy.add_window(store, **args)
    policy.remove_window(store, wid)
    assert policy.windows(store, mid) == [] and policy.open_at(policy.windows(store, mid), T0)
    with pytest.raises(NotFound):
        policy.remove_window(store, wid)


# --- volunteer teams -----------------------------------------------------------------------------

def test_teams_registration_and_members_in_and_out(store, household):
    aid, _ = household
    tid = teams.add(store, "安心敲门队", "每天敲门看望独居老人", registered_on=dt.date(2025, 6, 1))
    assert teams.get(store, tid).registered_on == dt.date(2025, 6, 1)
    refused(store, teams.add, "安心敲门队", match="已有名为")
    refused(store, teams.add, "新队", registered_on=dt.date(2999, 1, 1), match="不能晚于今天")
    assert teams.edit(store, tid, registered_on=None) == {"registered_on": ["2025-06-01", None]}
    other = teams.add(store, "和事佬调解队")
    spouse = accounts.members(store, aid)[1]["member_id"]
    teams.add_member(store, tid, spouse)
    refused(store, teams.add_member, tid, spouse, match="已是安心敲门队队员")
    refused(store, teams.add_member, other, spouse, match="请先退出")
    assert [m["name"] for m in teams.members(store, tid)] == ["李玥"]
    assert volunteering.team_accounts(store, tid) == [aid]
    teams.remove_member(store, tid, spouse)
    refused(store, teams.remove_member, tid, spouse, match="不是")
    assert volunteering.team_accounts(store, tid) == []


def test_the_service_form_defaults_to_the_general_volunteering_item(store):
    catalog = convention.in_force(store)
    assert volunteering.general_item(store, catalog) == "ML02"
    assert catalog.item("ML02").name == "参加志愿服务"
    assert all(i.points > 0 for i in volunteering.service_items(catalog))
    (version, _) = convention.amend(store, effective_from=clock.local_date(clock.now_utc()) + dt.timedelta(days=1),
                                    note="停用", retire=["ML02"])
    assert volunteering.general_item(store, convention.load(store, version)) is None   # never a specific deed


# --- convention amendments -----------------------------------------------------------------------

def tomorrow() -> dt.date:
    return clock.local_date(clock.now_utc()) + dt.timedelta(days=1)


def test_amend_adds_renames_retires_and_changes_points_and_caps(store):
    base = convention.latest(store)
    version, plan = convention.amend(
        store, effective_from=tomorrow(), note="第二版",
        changes={"XS01": {"points": 2, "cap": 2}, "RJ03": {"name": "门前楼道整洁有序"}}, retire=["YC06"],
        add=[{"product": "XS", "heading": "信守公德", "name": "文明停车", "points": 1, "cap": 1, "description": "规范停放车辆"},
             {"product": "XS", "heading": "遵守秩序", "name": "违规停车", "points": -1, "cap": None}])
    assert (plan.changed, plan.added, plan.retired) == (["XS01", "RJ03"], ["XS08", "XS09"], ["YC06"])
    new = convention.load(store, version)
    assert (new.item("XS01").points, new.item("XS01").cap) == (2, 2)
    assert new.item("RJ03").name == "门前楼道整洁有序" and new.item("XS09").description == "违规停车"
    with pytest.raises(NotFound):
        new.item("YC06")
    assert convention.in_force(store).version == base.version        # tomorrow's, not today's
    assert convention.version_on(store, tomorrow()) == version
    # a code is never used twice, even after the item is retired
    assert convention.next_code(store, "YC") == "YC07"


def test_a_sign_change_needs_confirmation(store):
    before = counts(store)
    with pytest.raises(InvalidInput, match="须确认") as refusal:
        convention.amend(store, effective_from=tomorrow(), note="改为扣分", changes={"XS02": {"points": -1}})
    assert refusal.value.code == "sign_change_unconfirmed" and counts(store) == before
    plan = convention.plan_amendment(store, changes={"XS02": {"points": -1}})
    assert plan.sign_changes == [("XS02", "文明养犬", 1, -1)]
    version, _ = convention.amend(store, effective_from=tomorrow(), note="改为扣分",
                                  changes={"XS02": {"points": -1}}, confirm_sign_change=True)
    assert convention.load(store, version).item("XS02").points == -1


@pytest.mark.parametrize("kwargs, words", [
    ({}, "没有修改"), ({"changes": {"XX99": {"points": 1}}}, "没有项目"),
    ({"changes": {"XS01": {"points": 0}}}, "不为0"), ({"changes": {"XS01": {"points": 101}}}, "不为0"),
    ({"changes": {"XS01": {"cap": 0}}}, "次数上限"), ({"changes": {"XS01": {"name": ""}}}, "名称"),
    ({"changes": {"XS01": {"name": "文明养犬"}}}, "重复"),
    ({"add": [{"product": "ZZ", "heading": "信守公德", "name": "x", "points": 1}]}, "积分产品"),
    ({"add": [{"product": "XS", "heading": "别的", "name": "x", "points": 1}]}, "公约条目"),
    ({"changes": {"XS01": {"points": 2}}, "retire": ["XS01"]}, "同时修改和停用"),
])
def test_bad_amendments_are_refused(store, kwargs, words):
    refused(store, convention.amend, effective_from=tomorrow(), note="修订", match=words, **kwargs)


def test_amendment_dates_and_withdrawing_a_scheduled_version(store):
    today = clock.local_date(clock.now_utc())
    refused(store, convention.amend, effective_from=today, note="x", changes={"XS01": {"points": 2}},
            match="晚于今天")
    refused(store, convention.amend, effective_from=tomorrow(), note="", changes={"XS01": {"points": 2}},
            match="修订说明")
    version, _ = convention.amend(store, effective_from=tomorrow(), note="x", changes={"XS01": {"points": 2}})
    convention.withdraw(store, version)
    assert convention.version_on(store, tomorrow()) == 1
    assert convention.latest(store).version == 1
    refused(store, convention.withdraw, version, match="已经撤回")
    refused(store, convention.withdraw, 1, match="不能撤回")
    refused(store, convention.withdraw, 99, match="没有第 99 版")
    # after a withdrawal the next amendment may take effect on the same day again
    again, _ = convention.amend(store, effective_from=tomorrow(), note="y", changes={"XS01": {"points": 3}})
    assert convention.version_on(store, tomorrow()) == again
