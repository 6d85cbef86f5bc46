"""Registration in the console, in process (FastAPI TestClient on a copy of the demo store): every
page and form of accounts, cards, households, merchants, offers, windows, teams and amendments;
confirmation pages that write nothing; bad input a Chinese sentence with nothing written; who may
do what; the audit page in Chinese."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl

import pytest

from bank import accounts, audit, cards, clock, convention, db, ledger, merchants, policy, teams
from office import server

from .console_kit import Browser, error_text, make_store

TABLES = ("accounts", "members", "cards", "ledger_entries", "merchants", "offers", "offer_price_history",
          "redemption_windows", "volunteer_teams", "catalog_versions", "household_changes", "audit_log")


@pytest.fixture
def store(demo_db, tmp_path):
    return make_store(demo_db, tmp_path / "store.sqlite")


@pytest.fixture
def app(store):
    return server.create_app(store)


@pytest.fixture
def office(app):
    return Browser(app, "王主任")


def state(store) -> tuple:
    c = db.connect(store, readonly=True)
    try:
        out = tuple(c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
        return out + tuple(c.execute("SELECT group_concat(status || display_name || room || phone, '|') FROM accounts"))
    finally:
        c.close()


def ro(store):
    return db.connect(store, readonly=True)


def refused(browser, store, path, data, words, status=400):
    before = state(store)
    r = browser.post(path, data)
    assert r.status_code == status and words in error_text(r), (path, data, r.status_code, error_text(r))
    assert "没有保存任何更改" in r.text
    assert state(store) == before
    return r


def plain_account(store, *, members: int = 1, compound: int = 1) -> int:
    c = ro(store)
    row = c.execute(
        "SELECT a.account_id FROM accounts a WHERE a.compound_id = ? AND a.status = 'active' "
        "AND a.account_id NOT IN (SELECT account_id FROM reviewers) AND a.account_id NOT IN (SELECT account_id FROM objections) "
        "AND (SELECT count(*) FROM members m WHERE m.account_id = a.account_id) >= ? "
        "AND (SELECT sum(points) FROM ledger_entries e WHERE e.account_id = a.account_id) > 5 "
        "AND NOT EXISTS (SELECT 1 FROM audit_log WHERE target = 'account ' || a.account_id) "
        "ORDER BY a.account_id LIMIT 1", (compound, members)).fetchone()
    c.close()
    return row[0]


NEW = {"kind": "household", "holder": "周新", "phone": "13800001111", "compound": "2", "building": "3", "unit": "1",
       "room": "301", "name_1": "李玥", "relation_1": "配偶", "name_2": "周小雨", "relation_2": "女儿"}


# --- accounts ------------------------------------------------------------------------------------

def test_open_an_account_with_its_card(office, store):
    page = office.get("/residents/new")
    assert page.status_code == 200 and "开户并发卡" in page.text and 'name="name_6"' in page.text
    r = office.post("/residents/new", NEW)
    assert r.status_code == 303
    aid = int(re.match(r"/residents/(\d+)#cards", r.headers["location"])[1])
    page = office.follow(r)
    c = ro(store)
    card = cards.cards_of(c, aid)[0]
    acct = accounts.get(c, aid)
    assert f"卡号 {card.card_id}" in page.text and "打印储户卡" in page.text
    assert (acct.display_name, acct.compound_id, acct.address, acct.phone) == ("周新", 2, "3栋1单元301", "13800001111")
    assert [(m["name"], m["relation"]) for m in accounts.members(c, aid)] == [("周新", "本人"), ("李玥", "配偶"),
                                                                              ("周小雨", "女儿")]
    assert cards.verify_text(c, card.qr)[1].account_id == aid
    detail = c.execute("SELECT detail FROM audit_log WHERE action = 'account.open' ORDER BY audit_id DESC").fetchone()[0]
    c.close()
    assert card.card_id in detail and "周小雨" in detail
    pdf = office.get(f"/residents/{aid}/card.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    single = office.post("/residents/new", {**NEW, "kind": "single", "name_1": "", "name_2": ""})
    assert accounts.get(ro(store), int(single.headers["location"].split("/")[2].split("#")[0])).kind == "single"


@pytest.mark.parametrize("change, words", [
    ({"holder": ""}, "请填写“户主姓名”"), ({"building": "99"}, "楼栋号须为1到"), ({"building": "x"}, "须为整数"),
    ({"unit": "0"}, "单元"), ({"room": ""}, "请填写“房号”"), ({"room": "3 01"}, "房号须为"),
    ({"compound": "9"}, "没有编号为 9 的小区"), ({"phone": "电话"}, "电话号码"), ({"kind": "shop"}, "账户类型"),
    ({"kind": "single"}, "个人账户只有户主一人"), ({"name_3": "王五"}, "第3位成员与户主关系"),
    ({"holder": "名" * 21}, "不能超过20个字"),
])
def test_opening_bad_input_writes_nothing(office, store, change, words):
    refused(office, store, "/residents/new", {**NEW, **change}, words)


def test_edit_members_holder_suspend_and_reinstate(office, store):
    aid = plain_account(store, members=3)
    c = ro(store)
    acct = accounts.get(c, aid)
    people = accounts.members(c, aid)
    c.close()
    assert office.get(f"/residents/{aid}/edit").status_code == 200
    form = {"holder": acct.display_name, "phone": "023-62345678", "compound": str(acct.compound_id),
            "building": str(acct.building), "unit": str(acct.unit), "room": "808"}
    assert "信息已修改" in office.follow(office.post(f"/residents/{aid}/edit", form)).text
    assert (accounts.get(ro(store), aid).room, accounts.get(ro(store), aid).phone) == ("808", "023-62345678")
    refused(office, store, f"/residents/{aid}/edit", {**form, "building": "77"}, "楼栋号")
    refused(office, store, f"/residents/{aid}/edit", {**form, "phone": "12"}, "电话号码")
    second, third = people[1], people[2]
    office.follow(office.post(f"/residents/{aid}/members/{third['member_id']}/edit", {"name": "改名测试",
                                                                                     "relation": "孙女"}))
    assert {m["name"]: m["relation"] for m in accounts.members(ro(store), aid)}["改名测试"] == "孙女"
    refused(office, store, f"/residents/{aid}/members/{third['member_id']}/edit", {"name": "", "relation": "孙女"},
            "请填写“姓名”")
    refused(office, store, f"/residents/{aid}/members/{third['member_id']}/edit", {"name": "x", "relation": "本人"},
            "只有户主")
    refused(office, store, f"/residents/999999/members/{third['member_id']}/edit", {"name": "x", "relation": "x"},
            "没有编号", status=404)
    refused(office, store, f"/residents/{aid}/members/999999/edit", {"name": "x", "relation": "孙女"}, "不属于")
    page = office.follow(office.post(f"/residents/{aid}/holder", {"member": str(second["member_id"]), "old_relation": "配偶"}))
    assert f"户主已由{acct.display_name}变更为{second['name']}" in page.text
    c = ro(store)
    assert accounts.get(c, aid).display_name == second["name"]
    assert {m["name"]: m["relation"] for m in accounts.members(c, aid)}[acct.display_name] == "配偶"
    c.close()
    refused(office, store, f"/residents/{aid}/members/{second['member_id']}/remove", {}, "户主不能移出")
    office.follow(office.post(f"/residents/{aid}/members/{third['member_id']}/remove", {}))
    assert "改名测试" not in [m["name"] for m in accounts.members(ro(store), aid)]
    office.follow(office.post(f"/residents/{aid}/suspend", {}))
    assert accounts.get(ro(store), aid).status == "suspended"
    assert "该账户已暂停" in office.get(f"/residents/{aid}").text
    refused(office, store, f"/residents/{aid}/suspend", {}, "已经暂停")
    office.follow(office.post(f"/residents/{aid}/reinstate", {}))
    refused(office, store, f"/residents/{aid}/reinstate", {}, "没有暂停")
    assert accounts.get(ro(store), aid).status == "active"


def test_close_shows_what_happens_first(office, store):
    aid = plain_account(store, compound=3)
    c = ro(store)
    balance = ledger.balance(c, aid)
    card = next(k for k in cards.cards_of(c, aid) if k.status == "active")
    c.close()
    before = state(store)
    preview = office.post(f"/residents/{aid}/close", {"note": "全家迁出社区"})
    assert preview.status_code == 200 and "确认销户" in preview.text
    assert f"余额 {balance} 分作废" in preview.text and f"卡 {card.card_id} 立即作废" in preview.text
    assert state(store) == before
    refused(office, store, f"/residents/{aid}/close", {"note": ""}, "请填写“销户原因”")
    page = office.follow(office.post(f"/residents/{aid}/close", {"note": "全家迁出社区", "confirm": "1"}))
    assert "已销户" in page.text
    c = ro(store)
    assert accounts.get(c, aid).status == "closed" and ledger.balance(c, aid) == 0
    assert cards.current(c, card.card_id).status == "revoked"
    c.close()
    refused(office, store, f"/residents/{aid}/close", {"note": "再来", "confirm": "1"}, "已销户")
    refused(office, store, f"/residents/{aid}/edit", {"holder": "x", "compound": "3", "building": "1", "unit": "1",
                                                      "room": "1"}, "已销户")


def test_card_lost_revoke_and_reissue(office, store):
    aid = plain_account(store, compound=4)
    c = ro(store)
    card = next(k for k in cards.cards_of(c, aid) if k.status == "active")
    c.close()
    office.follow(office.post(f"/residents/{aid}/cards/{card.card_id}/revoke", {"reason": "misused"}))
    assert cards.current(ro(store), card.card_id).status == "revoked"
    page = office.get(f"/residents/{aid}")
    assert f"/cards/{card.card_id}/reissue" in page.text
    refused(office, store, f"/residents/{aid}/cards/{card.card_id}/lost", {"reason": "lost"}, "已作废")
    page = office.follow(office.post(f"/residents/{aid}/cards/{card.card_id}/reissue", {}))
    assert f"第 {card.version + 1} 版" in page.text
    refused(office, store, f"/residents/{aid}/cards/{card.card_id}/reissue", {}, "仍然有效")
    refused(office, store, f"/residents/{aid}/cards/{card.card_id}/revoke", {"reason": "bored"}, "作废原因")
    other = plain_account(store, compound=5)
    refused(office, store, f"/residents/{other}/cards/{card.card_id}/revoke", {"reason": "lost"}, "不是储户")


def test_residents_paged_and_searched_by_address(office, store):
    page = office.get("/residents?compound=1")
    c = ro(store)
    total = c.execute("SELECT count(*) FROM accounts WHERE compound_id = 1").fetchone()[0]
    one = c.execute("SELECT account_id, building, unit, room FROM accounts WHERE compound_id = 1 ORDER BY account_id "
                    "LIMIT 1 OFFSET 60").fetchone()
    c.close()
    pages = -(-total // 50)
    assert f"第 1 / {pages} 页" in page.text and "page=2" in page.text and "下一页" in page.text
    second = office.get("/residents?compound=1&page=2")
    assert f'href="/residents/{one["account_id"]}"' in second.text
    assert f'href="/residents/{one["account_id"]}"' not in page.text
    found = office.get(f"/residents?compound=1&building={one['building']}&unit={one['unit']}&room={one['room']}")
    assert f'href="/residents/{one["account_id"]}"' in found.text and "第 1 / 1 页" not in found.text
    bad = office.get("/residents?building=abc")
    assert bad.status_code == 400 and "须为整数" in error_text(bad)


def test_merge_is_confirmed_and_undone_the_same_day(office, store):
    source, target = plain_account(store, compound=2), plain_account(store, compound=6)
    c = ro(store)
    s_bal, t_bal = ledger.balance(c, source), ledger.balance(c, target)
    s_names = [m["name"] for m in accounts.members(c, source)]
    c.close()
    office.follow(office.post(f"/residents/{source}/merge", {"target": str(target), "note": "两户合住", "confirm": "1"}))
    page = office.get(f"/residents/{target}")
    change = re.search(rf"/residents/{target}/merges/(\d+)/undo", page.text)
    assert change and "今天办理的并户" in page.text
    before = state(store)
    preview = office.post(change[0], {})
    assert preview.status_code == 200 and "确认撤销" in preview.text and state(store) == before
    assert all(n in preview.text for n in s_names)
    page = office.follow(office.post(change[0], {"confirm": "1"}))
    assert "已撤销并户" in page.text
    c = ro(store)
    assert accounts.get(c, source).status == "active" and ledger.balance(c, source) == s_bal
    assert ledger.balance(c, target) == t_bal and [m["name"] for m in accounts.members(c, source)] == s_names
    assert any(k.status == "active" for k in cards.cards_of(c, source))
    c.close()
    refused(office, store, change[0], {"confirm": "1"}, "已经撤销")
    assert "今天办理的并户" not in office.get(f"/residents/{target}").text


# --- merchants, offers, windows ------------------------------------------------------------------

def test_the_71st_merchant_from_joining_to_leaving(office, store):
    assert "现有 70 家" in office.get("/merchants/new").text
    form = {"name": "龙海第七十一家面馆", "category": "noodles", "compound": "3", "address": "龙海大道71号",
            "contact": "刘老板", "phone": "13900001111"}
    r = office.post("/merchants/new", form)
    mid = int(r.headers["location"].rsplit("/", 1)[1])
    assert "已新增商户" in office.follow(r).text
    refused(office, store, "/merchants/new", form, "已有名为")
    refused(office, store, "/merchants/new", {**form, "name": "新店", "category": "casino"}, "请选择“类别”")
    refused(office, store, "/merchants/new", {**form, "name": "新店", "phone": "1"}, "电话号码")
    office.follow(office.post(f"/merchants/{mid}/edit", {**form, "address": "龙海大道72号"}))
    assert merchants.get(ro(store), mid).address == "龙海大道72号"
    office.follow(office.post(f"/merchants/{mid}/offers", {"name": "小面", "points": "6", "value": "7"}))
    office.follow(office.post(f"/merchants/{mid}/suspend", {}))
    c = ro(store)
    assert merchants.get(c, mid).status == "suspended" and merchants.offers_of(c, mid) == []
    c.close()
    refused(office, store, f"/merchants/{mid}/suspend", {}, "不能暂停")
    office.follow(office.post(f"/merchants/{mid}/reinstate", {}))
    before = state(store)
    preview = office.post(f"/merchants/{mid}/leave", {})
    assert preview.status_code == 200 and "确认退出" in preview.text and "小面" in preview.text
    assert state(store) == before
    office.follow(office.post(f"/merchants/{mid}/leave", {"confirm": "1"}))
    c = ro(store)
    assert merchants.get(c, mid).status == "left" and not any(o.active for o in merchants.offers_of(c, mid, active_only=False))
    c.close()
    refused(office, store, f"/merchants/{mid}/leave", {}, "已经退出")


def test_offers_warn_below_a_yuan_a_point_edit_and_withdraw(office, store):
    c = ro(store)
    o = merchants.offers_of(c, 6)[0]
    c.close()
    before = state(store)
    warned = office.post(f"/offers/{o.offer_id}/edit", {"name": o.name, "points": str(o.points * 2), "value": "1"})
    assert warned.status_code == 200 and "低于积分银行“1分至少值1元”的承诺" in warned.text and "仍然保存" in warned.text
    assert state(store) == before
    page = office.follow(office.post(f"/offers/{o.offer_id}/edit", {"name": o.name, "points": str(o.points + 1),
                                                                     "value": f"{o.value_fen // 100 + 2}"}))
    assert "已修改" in page.text
    c = ro(store)
    assert merchants.offer(c, o.offer_id).points == o.points + 1
    assert [tuple(r)[:2] for r in merchants.price_history(c, o.offer_id)] == [(o.points, o.value_fen)]
    c.close()
    office.follow(office.post(f"/offers/{o.offer_id}/edit", {"name": o.name, "points": "20", "value": "3",
                                                            "confirm": "1"}))
    assert merchants.offer(ro(store), o.offer_id).value_fen == 300
    refused(office, store, f"/offers/{o.offer_id}/edit", {"name": o.name, "points": "0", "value": "3"}, "所需积分")
    refused(office, store, f"/offers/{o.offer_id}/edit", {"name": o.name, "points": "2", "value": "3.333"}, "金额")
    refused(office, store, "/offers/999999/edit", {"name": "x", "points": "2", "value": "3"}, "没有编号", status=404)
    cheap = office.post("/merchants/6/offers", {"name": "试吃", "points": "5", "value": "1"})
    assert cheap.status_code == 200 and "仍然保存" in cheap.text
    office.follow(office.post(f"/offers/{o.offer_id}/withdraw", {}))
    assert not merchants.offer(ro(store), o.offer_id).active
    assert "已撤下" in office.get("/merchants/6").text
    refused(office, store, f"/offers/{o.offer_id}/withdraw", {}, "已经撤下")
    page = office.follow(office.post("/merchants/6/offers", {"name": o.name, "points": "6", "value": "8"}))
    assert "重新上架" in page.text and merchants.offer(ro(store), o.offer_id).active


def test_redemption_windows_of_a_merchant_and_the_community_point(office, store):
    form = {"place": "店内", "day_0": "1", "day_1": "1", "day_2": "1", "opens": "08:00", "closes": "20:30"}
    page = office.follow(office.post("/merchants/7/windows", form))
    assert "周一至周三 08:00-20:30" in page.text
    page = office.follow(office.post("/redemption-point/windows", {**form, "place": "社区办公室一楼", "day_5": "1"}))
    assert "社区兑换点兑换时间" in page.text
    c = ro(store)
    point = policy.windows(c, None)
    assert [w.describe() for w in point] == ["周一、周二、周三、周六 08:00-20:30"]
    c.close()
    assert "社区办公室一楼" in office.get("/merchants").text
    refused(office, store, "/merchants/7/windows", {**form, "day_0": "", "day_1": "", "day_2": ""}, "至少选择一天")
    refused(office, store, "/merchants/7/windows", {**form, "closes": "07:00"}, "开始早于结束")
    refused(office, store, "/merchants/7/windows", {**form, "opens": "8点"}, "HH:MM")
    office.follow(office.post(f"/windows/{point[0].window_id}/remove", {}))
    assert policy.windows(ro(store), None) == []
    refused(office, store, f"/windows/{point[0].window_id}/remove", {}, "没有编号", status=404)


# --- volunteer teams -----------------------------------------------------------------------------

def test_teams_registration_and_members(office, store):
    r = office.post("/teams", {"name": "银发助学队", "description": "退休教师辅导功课", "registered_on": "2026-03-01"})
    tid = int(r.headers["location"].rsplit("/", 1)[1])
    assert "已新增志愿服务队" in office.follow(r).text
    assert "2026-03-01" in office.get("/teams").text
    refused(office, store, "/teams", {"name": "银发助学队"}, "已有名为")
    refused(office, store, "/teams", {"name": "新队", "registered_on": "2999-01-01"}, "不能晚于今天")
    refused(office, store, "/teams", {"name": "新队", "registered_on": "3月1日"}, "日期")
    aid = plain_account(store, members=2, compound=5)
    c = ro(store)
    person = next(m for m in accounts.members(c, aid) if m["team_id"] is None)
    busy = c.execute("SELECT member_id FROM members WHERE team_id IS NOT NULL LIMIT 1").fetchone()[0]
    c.close()
    lookup = office.get(f"/teams/{tid}?account={aid}")
    assert person["name"] in lookup.text and "加入本队" in lookup.text
    office.follow(office.post(f"/teams/{tid}/members", {"member": str(person["member_id"])}))
    assert [m["member_id"] for m in teams.members(ro(store), tid)] == [person["member_id"]]
    refused(office, store, f"/teams/{tid}/members", {"member": str(person["member_id"])}, "已是银发助学队队员")
    refused(office, store, f"/teams/{tid}/members", {"member": str(busy)}, "请先退出")
    office.follow(office.post(f"/teams/{tid}/edit", {"name": "银发助学志愿队", "description": "", "registered_on": ""}))
    assert (teams.get(ro(store), tid).name, teams.get(ro(store), tid).registered_on) == ("银发助学志愿队", None)
    office.follow(office.post(f"/teams/{tid}/members/{person['member_id']}/remove", {}))
    assert teams.members(ro(store), tid) == []
    refused(office, store, f"/teams/{tid}/members/{person['member_id']}/remove", {}, "不是")


def test_the_team_service_form_starts_on_the_general_volunteering_item(office, store):
    page = office.get("/monthly").text
    form = page[page.index('action="/monthly/team-service"'):]
    form = form[:form.index("</form>")]
    selected = re.findall(r'<option value="(\w+)" selected>', form)
    assert selected == ["ML02"] and "参加志愿服务" in form
    assert "ML01" in form       # a specific deed can still be chosen, but is never the default


# --- convention ----------------------------------------------------------------------------------

def test_amend_add_rename_retire_and_confirm_a_sign_change(office, store):
    c = ro(store)
    base = convention.latest(c)
    c.close()
    future = (clock.local_date(clock.now_utc()) + dt.timedelta(days=40)).isoformat()
    form = {"effective_from": future, "note": "第二版:新增文明停车"}
    for i in base.items:
        form |= {f"name_{i.code}": i.name, f"points_{i.code}": str(i.points), f"cap_{i.code}": "" if i.cap is None else str(i.cap)}
    form |= {"name_RJ03": "门前楼道整洁有序", "retire_YC06": "1", "points_XS02": "-1",
             "new_product_1": "XS", "new_heading_1": "信守公德", "new_name_1": "文明停车", "new_points_1": "1",
             "new_cap_1": "1", "new_description_1": "规范停放非机动车"}
    before = state(store)
    preview = office.post("/convention/amend", form)
    assert preview.status_code == 200 and "由加分改为扣分" in preview.text and "XS02" in preview.text
    assert state(store) == before
    refused(office, store, "/convention/amend", {**form, "new_points_1": "0"}, "不为0")
    refused(office, store, "/convention/amend", {**form, "name_RJ03": ""}, "请填写“RJ03 项目名称”")
    refused(office, store, "/convention/amend", {**form, "new_heading_1": "别的"}, "公约条目")
    refused(office, store, "/convention/amend", {**form, "effective_from": clock.local_date(clock.now_utc()).isoformat()},
            "晚于今天")
    page = office.follow(office.post("/convention/amend", form | {"confirm": "1"}))
    assert f"自 {future} 起施行" in page.text and "新增 1 项" in page.text and "停用 1 项" in page.text
    c = ro(store)
    new = convention.latest(c)
    assert new.version == base.version + 1 and new.item("XS02").points == -1
    assert new.item("RJ03").name == "门前楼道整洁有序" and new.item("XS08").name == "文明停车"
    assert "YC06" not in [i.code for i in new.items]
    c.close()
    listing = office.get("/convention").text
    assert "待生效的版本" in listing and f"/convention/{new.version}/withdraw" in listing
    office.follow(office.post(f"/convention/{new.version}/withdraw", {}))
    c = ro(store)
    assert convention.latest(c).version == base.version
    assert convention.version_on(c, dt.date.fromisoformat(future)) == base.version
    c.close()
    refused(office, store, f"/convention/{new.version}/withdraw", {}, "已经撤回")
    refused(office, store, f"/convention/{base.version}/withdraw", {}, "不能撤回")


# --- who may do what -----------------------------------------------------------------------------

POSTS = [("/residents/new", NEW), ("/residents/7/edit", {}), ("/residents/7/holder", {}), ("/residents/7/suspend", {}),
         ("/residents/7/reinstate", {}), ("/residents/7/close", {"note": "x", "confirm": "1"}),
         ("/residents/7/members/1/remove", {}), ("/residents/7/cards/100001/revoke", {"reason": "lost"}),
         ("/residents/7/merges/1/undo", {"confirm": "1"}), ("/merchants/new", {"name": "x", "category": "noodles"}),
         ("/merchants/5/edit", {}), ("/merchants/5/suspend", {}), ("/merchants/5/leave", {"confirm": "1"}),
         ("/merchants/5/windows", {}), ("/redemption-point/windows", {}), ("/windows/1/remove", {}),
         ("/offers/1/edit", {}), ("/offers/1/withdraw", {}), ("/teams", {"name": "x"}), ("/teams/1/edit", {}),
         ("/teams/1/members", {"member": "1"}), ("/convention/1/withdraw", {})]


@pytest.mark.parametrize("name", ["李委员", "钱组员", "小面店"])
def test_only_the_office_registers(app, store, name):
    b = Browser(app, name)
    before = state(store)
    for path, data in POSTS:
        r = b.post(path, data)
        assert r.status_code == 403 and "没有权限" in error_text(r), (name, path, r.status_code)
    assert state(store) == before
    for path in ("/residents/new", "/merchants/new"):
        assert b.get(path).status_code == 403
    assert b.get("/teams").status_code == (200 if name == "李委员" else 403)


def test_the_audit_page_names_actions_in_chinese(office, store):
    codes = ("account.close", "merchant.add", "offer.edit", "offer.withdraw", "team.add", "convention.withdraw",
             "household.merge_undo")
    conn = db.connect(store)
    for code in codes:
        audit.record(conn, "王主任", code, "test", {})
    conn.close()
    r = office.post("/residents/new", NEW)        # one real action of the console, the rest recorded above
    assert r.status_code == 303, error_text(r)
    page = office.get("/audit").text
    for label in ("开户", "销户", "新增商户", "修改兑换项目", "撤下兑换项目", "新增志愿服务队", "撤回积分细则版本", "撤销并户"):
        assert f">{label}</td>" in page, label
    filtered = office.get("/audit?action=account.open").text
    assert '<option value="account.open" selected>开户</option>' in filtered
    sheet = openpyxl.load_workbook(io.BytesIO(office.get("/exports/audit.xlsx?action=account.open").content)).active
    header = [c.value for c in sheet[3]]            # a title row, a blank row, then the headers
    row = dict(zip(header, [c.value for c in sheet[4]]))
    assert (row["操作"], row["操作人"]) == ("开户", "王主任") and "操作代码" not in header   # no English codes
