"""The office console in process (FastAPI TestClient): every page and form, roles and scopes,
CSRF and sessions, bad input (a clear message and nothing written), PDFs and Excel files."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import subprocess

import openpyxl
import pytest

from bank import audit, cards, clock, db, ledger, objections, users
from office import server

from .console_kit import PASSWORD, Browser, count, error_text, make_store

PAGES = ["/", "/residents", "/residents?q=张", "/residents/7", "/merchants", "/merchants/devices", "/merchants/5",
         "/convention", "/convention?version=1", "/monthly", "/monthly?month=2026-10&compound=3", "/quarterly",
         "/quarterly?quarter=2026Q2", "/objections", "/objections?status=open", "/yearly", "/exports", "/audit",
         "/audit?actor=王主任&action=login&q=x", "/password"]


@pytest.fixture
def store(demo_db, tmp_path):
    return make_store(demo_db, tmp_path / "store.sqlite")


@pytest.fixture
def app(store):
    return server.create_app(store)


@pytest.fixture
def office(app):
    return Browser(app, "王主任")


@pytest.fixture
def council(app):
    return Browser(app, "李委员")


@pytest.fixture
def reviewer(app):
    return Browser(app, "钱组员")


@pytest.fixture
def merchant(app):
    return Browser(app, "小面店")


def conn_of(store):
    return db.connect(store, readonly=True)


def an_award(store, compound: int = 1) -> ledger.Entry:
    c = conn_of(store)
    row = c.execute("SELECT e.entry_id FROM ledger_entries e JOIN accounts a USING (account_id) WHERE e.kind = 'award' "
                    "AND a.compound_id = ? AND a.status = 'active' AND e.points >= 3 AND NOT EXISTS (SELECT 1 FROM "
                    "ledger_entries r WHERE r.reverses_entry_id = e.entry_id) AND NOT EXISTS (SELECT 1 FROM objections o "
                    "WHERE o.entry_id = e.entry_id) ORDER BY e.entry_id DESC LIMIT 1", (compound,)).fetchone()
    e = ledger.entry(c, row[0])
    c.close()
    return e


# --- log-in, sessions, CSRF -------------------------------------------------------------------

def test_pages_need_a_login(app):
    anon = Browser(app, None)
    for path in ("/", "/residents/1", "/quarterly"):
        r = anon.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert anon.get("/login").status_code == 200
    r = anon.post("/residents/1/cards", {"csrf": "x"}, csrf=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_login_refusals(app, store):
    anon = Browser(app, None)
    page = anon.get("/login")
    assert "用户名" in page.text and "/static/console.css" in page.text
    token = page.cookies.get("mpb_login_csrf") or anon.client.cookies.get("mpb_login_csrf")
    r = anon.client.post("/login", data={"csrf": token, "name": "王主任", "password": "wrong-password"})
    assert r.status_code == 401 and "用户名或密码不正确" in r.text
    r = anon.client.post("/login", data={"csrf": "forged", "name": "王主任", "password": PASSWORD})
    assert r.status_code == 403 and "mpb_session" not in r.headers.get("set-cookie", "")
    r = anon.client.post("/login", data={"name": "王主任", "password": PASSWORD})
    assert r.status_code == 403
    r = anon.client.post("/login", data={"csrf": token, "name": "x" * 5000, "password": "y" * 5000})
    assert r.status_code in (400, 401)
    page = anon.get("/login?next=//evil.example/")
    assert 'value="/"' in page.text


def test_sessions_expire_and_logout_ends_them(app, store):
    b = Browser(app, "李委员")
    assert b.get("/objections").status_code == 200
    c = db.connect(store)
    old = clock.to_text(clock.now_utc() - dt.timedelta(minutes=users.IDLE_MINUTES + 5))
    c.execute("UPDATE console_sessions SET seen_at = ? WHERE ended_at IS NULL AND user_id = "
              "(SELECT user_id FROM console_users WHERE name = '李委员')", (old,))
    c.close()
    assert b.get("/objections").status_code == 303
    b2 = Browser(app, "李委员")
    assert b2.follow(b2.post("/logout")).url.path == "/login"
    assert b2.get("/objections").status_code == 303


def test_a_form_without_the_csrf_token_writes_nothing(office, store):
    before = count(store, "ledger_entries"), count(store, "audit_log")
    for token in (None, "", "forged-token"):
        data = {"item": "XS01"} | ({"csrf": token} if token is not None else {})
        r = office.post("/residents/7/entries", data, csrf=False)
        assert r.status_code == 403 and "页面已过期" in error_text(r)
    assert (count(store, "ledger_entries"), count(store, "audit_log")) == before


# --- every page ------------------------------------------------------------

def test_every_page_answers_in_chinese(office):
    # Their speed (within 200 ms at demo scale) is measured by `python -m bench.console`.
    for path in PAGES:
        r = office.get(path)
        assert r.status_code == 200, (path, r.text[:400])
        assert "道德积分银行" in r.text and "Traceback" not in r.text


@pytest.mark.parametrize("path", ["/residents/abc", "/residents/99999999", "/objections/x", "/objections/999",
                                  "/merchants/-1", "/merchants/9999", "/convention?version=abc",
                                  "/monthly?month=2026-13", "/quarterly?quarter=2026Q9", "/yearly?year=12345",
                                  "/exports/nothing.xlsx", "/exports/accounts.csv", "/residents?compound=x"])
def test_bad_urls_get_a_plain_page(office, path):
    r = office.get(path)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert error_text(r) and "Traceback" not in r.text and "<html" in r.text


def test_static_files_serve_the_cjk_font(office):
    r = office.get("/static/font.otf")
    assert r.status_code == 200 and r.content[:4] == b"OTTO"
    assert "@font-face" in office.get("/static/console.css").text
    assert office.get("/static/nothing").status_code == 404


# --- residents and cards ----------------------------------------------------------------------

def test_record_an_award_from_the_office_and_the_caps_hold(office, store):
    before = count(store, "ledger_entries")
    r = office.post("/residents/13/entries", {"item": "YC02", "note": "献血"})
    page = office.follow(r)
    assert "已为储户 13 记录 +5 分" in page.text
    assert count(store, "ledger_entries") == before + 1
    r = office.post("/residents/13/entries", {"item": "YC02"})
    assert r.status_code == 400 and "本期已记满" in error_text(r)
    for data, message in (({"item": ""}, "请填写"), ({"item": "NOPE"}, "没有编号为 NOPE"),
                          ({"item": "XS01", "note": "长" * 201}, "不能超过200个字"), ({"item": "X" * 5000}, "太长")):
        r = office.post("/residents/13/entries", data)
        assert r.status_code in (400, 404) and message in error_text(r), (data, error_text(r))
    assert count(store, "ledger_entries") == before + 1
    c = conn_of(store)
    assert c.execute("SELECT count(*) FROM audit_log WHERE action = 'entry.record' AND actor = '王主任'").fetchone()[0] >= 1
    c.close()


def test_monthly_page_records_by_account_number(office, store):
    before = count(store, "ledger_entries")
    assert office.follow(office.post("/monthly/entries", {"account": "19", "item": "ML04"})).status_code == 200
    for data in ({"account": "abc", "item": "ML04"}, {"account": "", "item": "ML04"}, {"account": "99999", "item": "ML04"},
                 {"account": "1.5", "item": "ML04"}):
        r = office.post("/monthly/entries", data)
        assert r.status_code in (400, 404) and error_text(r)
    assert count(store, "ledger_entries") == before + 1


def test_cards_issue_lost_reissue_pin_and_print(office, store, tmp_path):
    c = conn_of(store)
    no_card = c.execute("SELECT account_id FROM cards GROUP BY account_id HAVING sum(status = 'active') = 0").fetchone()[0]
    c.close()
    page = office.follow(office.post(f"/residents/{no_card}/cards"))
    assert "已发卡" in page.text
    r = office.post(f"/residents/{no_card}/cards")
    assert r.status_code == 400 and "已有有效的卡" in error_text(r)
    c = conn_of(store)
    card = [k for k in cards.cards_of(c, 25) if k.status == "active"][0]
    c.close()
    r = office.post(f"/residents/25/cards/{card.card_id}/lost", {"reason": "nonsense"})
    assert r.status_code == 400
    page = office.follow(office.post(f"/residents/25/cards/{card.card_id}/lost", {"reason": "lost"}))
    assert f"已补办第 {card.version + 1} 版" in page.text
    r = office.post(f"/residents/26/cards/{card.card_id}/lost", {"reason": "lost"})
    assert r.status_code == 400          # not that account's card
    for pin in ("12", "12ab", "1234567", ""):
        assert office.post("/residents/25/pin", {"pin": pin}).status_code == 400
    assert "已设置兑换密码" in office.follow(office.post("/residents/25/pin", {"pin": "4321"})).text
    assert "已取消兑换密码" in office.follow(office.post("/residents/25/pin", {"clear": "1"})).text
    pdf = office.get("/residents/25/card.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "card.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert f"第{card.version + 1}版" in text.replace(" ", "") and "储户卡" in text
    sheet = office.get("/cards/sheet.pdf?accounts=1,2,3")
    assert sheet.status_code == 200 and sheet.content[:4] == b"%PDF"
    for bad in ("", "a,b", "99999"):
        assert office.get(f"/cards/sheet.pdf?accounts={bad}").status_code in (400, 404)
    assert office.follow(office.post("/residents/25/members", {"name": "张小宝", "relation": "孙子"})).status_code == 200
    assert office.post("/residents/25/members", {"name": "", "relation": "孙子"}).status_code == 400
    assert office.post("/residents/25/members", {"name": "张", "relation": "邻居"}).status_code == 400


# --- roles and scopes -------------------------------------------------------------------------

def test_reviewer_reaches_only_their_compound(reviewer, store):
    assert reviewer.get("/residents/7").status_code == 200          # compound 1
    r = reviewer.get("/residents/8")                                # compound 2
    assert r.status_code == 403 and "本小区" in error_text(r)
    page = reviewer.get("/residents?compound=2")                  # the list is their compound's, in address order
    listed = {int(a) for a in re.findall(r'href="/residents/(\d+)"', page.text)}
    conn = db.connect(store, readonly=True)
    try:
        assert listed and {r[0] for r in conn.execute(
            "SELECT DISTINCT compound_id FROM accounts WHERE account_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(listed)),))} == {1}
    finally:
        conn.close()
    found = reviewer.get("/residents?compound=2&q=7").text            # account 7 by its number, account 8 never
    assert "/residents/7\"" in found and "/residents/8\"" not in reviewer.get("/residents?compound=2&q=8").text
    assert "龙海花园 ·" in reviewer.get("/monthly?compound=2").text  # forced to their own compound
    for path in ("/", "/quarterly", "/objections", "/merchants", "/audit", "/exports/accounts.xlsx"):
        assert reviewer.get(path).status_code == 403, path
    before = count(store, "ledger_entries")
    r = reviewer.post("/residents/8/entries", {"item": "XS01"})
    assert r.status_code == 403 and "本小区" in error_text(r)
    r = reviewer.post("/monthly/entries", {"account": "8", "item": "XS01"})
    assert r.status_code == 403
    assert reviewer.post("/residents/7/cards").status_code == 403
    assert count(store, "ledger_entries") == before
    assert reviewer.follow(reviewer.post("/monthly/entries", {"account": "31", "item": "RJ03"})).status_code == 200


def test_recusal_in_own_household_is_by_account_not_name(app, store):
    from bank import reviewers
    c = db.connect(store)
    holder = c.execute("SELECT display_name FROM accounts WHERE account_id = 43").fetchone()[0]
    with db.transaction(c):
        # A member of account 43's household, logging in under a name that is no resident's name.
        member, _ = reviewers.add(c, compound_id=1, account_id=43, name="孙某", pin="1357")
        users.add_user(c, name="孙组员", role="reviewer", password=PASSWORD, reviewer_id=member.reviewer_id)
        # A member of another household who happens to share the holder's name: no recusal for 43.
        elsewhere = c.execute("SELECT max(account_id) FROM accounts WHERE compound_id = 1 AND status = 'active'").fetchone()[0]
        namesake, _ = reviewers.add(c, compound_id=1, account_id=elsewhere, name=holder, pin="1357")
        users.add_user(c, name=holder, role="reviewer", password=PASSWORD, reviewer_id=namesake.reviewer_id)
    c.close()
    before = count(store, "ledger_entries")
    b = Browser(app, "孙组员")
    for path, data in (("/residents/43/entries", {"item": "XS01"}), ("/monthly/entries", {"account": "43", "item": "XS01"})):
        r = b.post(path, data)
        assert r.status_code == 403 and "回避" in error_text(r)
    assert count(store, "ledger_entries") == before
    other = Browser(app, holder)
    assert other.follow(other.post("/residents/43/entries", {"item": "XS01"})).status_code == 200
    assert count(store, "ledger_entries") == before + 1


def test_a_weighty_entry_needs_a_second_member_with_pin(app, store, reviewer):
    from bank import reviewers
    before = count(store, "ledger_entries")
    c = db.connect(store, readonly=True)
    others = [m for m in reviewers.of_compound(c, 1) if m.reviewer_id != 1]
    c.close()
    for data, words in (({}, "另一位评议小组成员确认"),
                        ({"second": str(others[0].reviewer_id), "second_pin": "0000"}, "密码不正确"),
                        ({"second": "1", "second_pin": "2468"}, "另一位成员"),
                        ({"second": "4", "second_pin": "2468"}, "另一位成员")):       # member 4 is compound 2's
        r = reviewer.post("/monthly/entries", {"account": "31", "item": "XS06"} | data)
        assert r.status_code == 403 and words in error_text(r), (data, error_text(r))
    assert count(store, "ledger_entries") == before
    r = reviewer.post("/monthly/entries", {"account": "31", "item": "XS06", "second": str(others[0].reviewer_id),
                                           "second_pin": "2468"})
    assert reviewer.follow(r).status_code == 200 and count(store, "ledger_entries") == before + 1
    c = db.connect(store, readonly=True)
    by = c.execute("SELECT recorded_by FROM ledger_entries ORDER BY entry_id DESC LIMIT 1").fetchone()[0]
    c.close()
    assert by == f"评议小组成员:钱组员;复核:{others[0].name}"


def test_merchant_sees_only_own_redemptions(merchant, store):
    page = merchant.get("/merchants/5")
    assert page.status_code == 200 and "兑换统计" in page.text and "<form class=\"row\" method=\"post\"" not in page.text
    for path in ("/merchants/6", "/exports/merchant-6.xlsx", "/residents", "/residents/1", "/", "/monthly",
                 "/merchants", "/exports/accounts.xlsx"):
        r = merchant.get(path)
        assert r.status_code == 403, path
    x = merchant.get("/exports/merchant-5.xlsx?month=2026-10")
    assert x.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert ws.cell(3, 1).value == "兑换项目"
    before = count(store, "offers")
    assert merchant.post("/merchants/5/offers", {"name": "x", "points": "1", "value": "1"}).status_code == 403
    assert count(store, "offers") == before


def test_council_cannot_do_office_only_work(council, store):
    assert council.post("/residents/7/cards").status_code == 403
    assert council.post("/policy", {"per_card_daily_cap": "1"}).status_code == 403
    assert council.get("/residents/7/card.pdf").status_code == 403


# --- objections and office redemption ---------------------------------------------------------

def test_objection_lifecycle_holds_points_and_upheld_reverses(office, council, store):
    e = an_award(store)
    r = office.post("/objections", {"account": str(e.account_id), "entry": str(e.entry_id), "raised_by": "邻居",
                                    "reason": "不属实"})
    page = office.follow(r)
    oid = int(r.headers["location"].rsplit("/", 1)[1])
    assert "暂停兑换" in page.text
    c = conn_of(store)
    assert objections.held_points(c, e.account_id) == e.points
    c.close()
    for step, data in (("rule", {"ruling": "upheld", "note": "x"}), ("file", {})):
        r = council.post(f"/objections/{oid}/{step}", data)
        assert r.status_code == 400 and "不能办理这一步" in error_text(r)
    assert council.post(f"/objections/{oid}/assign", {"to": ""}).status_code == 400
    assert council.post(f"/objections/{oid}/jump", {}).status_code == 404
    council.follow(council.post(f"/objections/{oid}/assign", {"to": "李委员"}))
    council.follow(council.post(f"/objections/{oid}/investigate", {"findings": "走访核实,记录有误"}))
    assert council.post(f"/objections/{oid}/rule", {"ruling": "maybe", "note": "x"}).status_code == 400
    before = count(store, "ledger_entries")
    page = council.follow(council.post(f"/objections/{oid}/rule", {"ruling": "upheld", "note": "误记,冲正"}))
    assert "更正记录" in page.text and count(store, "ledger_entries") == before + 1
    council.follow(council.post(f"/objections/{oid}/answer", {"answer": "已当面答复"}))
    page = council.follow(council.post(f"/objections/{oid}/file", {}))
    assert "已备案" in page.text
    c = conn_of(store)
    assert objections.get(c, oid).status == "filed" and objections.held_points(c, e.account_id) == 0
    c.close()


def test_office_redemption_honours_held_points(office, store):
    c = conn_of(store)
    offer = c.execute("SELECT o.offer_id, o.points FROM offers o JOIN merchants m USING (merchant_id) "
                      "WHERE m.category = 'redemption_point' ORDER BY o.points DESC LIMIT 1").fetchone()
    c.close()
    e = an_award(store, compound=2)
    c = conn_of(store)
    bal = ledger.balance(c, e.account_id)
    c.close()
    office.follow(office.post("/objections", {"account": str(e.account_id), "entry": str(e.entry_id),
                                              "raised_by": "居民", "reason": "有疑问"}))
    qty = max(1, (bal - e.points) // offer[1] + 1)
    before = count(store, "ledger_entries")
    if bal >= offer[1] * qty:       # the balance alone would cover it: refused only because of the hold
        r = office.post(f"/residents/{e.account_id}/redeem", {"offer": str(offer[0]), "quantity": str(qty)})
        assert r.status_code == 400 and "异议处理中" in error_text(r)
    for data in ({"offer": "x", "quantity": "1"}, {"offer": str(offer[0]), "quantity": "0"},
                 {"offer": str(offer[0]), "quantity": "100"}, {"offer": "999999", "quantity": "1"}):
        assert office.post(f"/residents/{e.account_id}/redeem", data).status_code in (400, 404)
    assert count(store, "ledger_entries") == before


# --- quarter, convention, merchants, tips, honours, exports -----------------------------------

def test_quarter_verification_posting_and_boards(council, store, tmp_path):
    assert council.post("/quarterly/postings", {"quarter": "2026Q2", "compound": "1", "opens_on": "2026-07-01",
                                                "days": "7"}).status_code == 400          # verify first
    page = council.follow(council.post("/quarterly/verify", {"quarter": "2026Q2"}))
    assert "核查完成" in page.text
    c = conn_of(store)
    aid = c.execute("SELECT anomaly_id FROM anomalies WHERE cleared_at IS NULL ORDER BY anomaly_id LIMIT 1").fetchone()[0]
    c.close()
    assert council.post(f"/quarterly/anomalies/{aid}/clear", {"note": ""}).status_code == 400
    assert "已处理" in council.follow(council.post(f"/quarterly/anomalies/{aid}/clear",
                                                   {"note": "已核实", "quarter": "2026Q2"})).text
    assert council.post(f"/quarterly/anomalies/{aid}/clear", {"note": "again"}).status_code == 404
    for bad in ({"kind": "overdraft", "note": ""}, {"kind": "nonsense", "note": "x"}):
        assert council.post("/quarterly/anomalies/clear-kind", {"quarter": "2026Q2"} | bad).status_code == 400
    page = council.follow(council.post("/quarterly/anomalies/clear-kind", {"quarter": "2026Q2", "kind": "overdraft",
                                                                         "note": "均为扣分形成的欠分,已知悉"}))
    assert "“余额为负”" in page.text
    assert council.post("/quarterly/anomalies/clear-kind", {"quarter": "2026Q2", "kind": "overdraft",
                                                            "note": "again"}).status_code == 404
    for data in ({"opens_on": "2026-06-01", "days": "7"}, {"opens_on": "2026-07-01", "days": "0"},
                 {"opens_on": "tomorrow", "days": "7"}, {"opens_on": "2026-07-01", "days": "x"}):
        r = council.post("/quarterly/postings", {"quarter": "2026Q2", "compound": "1"} | data)
        assert r.status_code == 400 and error_text(r), data
    page = council.follow(council.post("/quarterly/postings", {"quarter": "2026Q2", "compound": "1",
                                                               "opens_on": "2026-07-03", "days": "7"}))
    assert "2026-07-03 至 2026-07-09" in page.text
    assert council.post("/quarterly/postings", {"quarter": "2026Q2", "compound": "1", "opens_on": "2026-07-03",
                                                "days": "7"}).status_code == 400
    pdf = council.get("/quarterly/posting.pdf?quarter=2026Q2&compound=1")
    path = tmp_path / "posting.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "公示期:2026-07-03至2026-07-09" in "".join(text.split()) and "*" in text
    assert council.get("/quarterly/boards.pdf?quarter=2026Q2").content[:4] == b"%PDF"
    page = council.get("/quarterly?quarter=2026Q2&compound=1")
    assert "红榜" in page.text and "黑榜" in page.text
    assert council.get("/quarterly/posting.pdf?kind=yearly&year=2026&compound=2").status_code == 200


def test_convention_amend(office, store):
    page = office.get("/convention")
    assert "XS01" in page.text and 'name="points_XS01"' in page.text
    c = conn_of(store)
    items = c.execute("SELECT code, points, cap FROM rule_items WHERE catalog_version = "
                      "(SELECT max(version) FROM catalog_versions)").fetchall()
    c.close()
    form = {f"points_{code}": str(points) for code, points, _ in items}
    form |= {f"cap_{code}": "" if cap is None else str(cap) for code, _, cap in items}
    future = (clock.local_date(clock.now_utc()) + dt.timedelta(days=30)).isoformat()
    before = count(store, "catalog_versions")
    for bad in ({"effective_from": "2020-01-01", "note": "x", "points_XS01": "2"},
                {"effective_from": future, "note": "x"},                               # nothing changed
                {"effective_from": future, "note": "x", "points_XS01": "0"},
                {"effective_from": future, "note": "x", "points_XS01": "abc"},
                {"effective_from": future, "note": "", "points_XS01": "2"},
                {"effective_from": future, "note": "x", "cap_XS01": "-1"}):
        r = office.post("/convention/amend", form | bad)
        assert r.status_code == 400 and error_text(r), bad
    assert count(store, "catalog_versions") == before
    page = office.follow(office.post("/convention/amend", form | {"effective_from": future, "note": "垃圾分类加分调整",
                                                                  "points_XS01": "2"}))
    assert f"自 {future} 起施行" in page.text
    assert count(store, "catalog_versions") == before + 1


def test_merchants_offers_devices_and_policy(office, store):
    before = count(store, "offers")
    c = conn_of(store)
    existing = c.execute("SELECT name FROM offers WHERE merchant_id = 5 LIMIT 1").fetchone()[0]
    c.close()
    for data in ({"name": "", "points": "5", "value": "5"}, {"name": "豆浆", "points": "0", "value": "5"},
                 {"name": "豆浆", "points": "5", "value": "abc"}, {"name": "豆浆", "points": "5", "value": "1.234"},
                 {"name": existing, "points": "5", "value": "5"}):
        assert office.post("/merchants/5/offers", data).status_code == 400, data
    assert "已添加" in office.follow(office.post("/merchants/5/offers", {"name": "豆浆", "points": "2", "value": "2.50"})).text
    assert count(store, "offers") == before + 1
    codes = count(store, "enrolment_codes")
    r = office.post("/merchants/5/enrol", {"hours": "24"})
    page = office.follow(r)     # a redirect: a refresh shows the same code, it never makes another
    assert "<svg" in page.text and "只能使用一次" in page.text
    again = office.get(r.headers["location"])
    assert re.search(r'class="code">([^<]+)<', again.text)[1] == re.search(r'class="code">([^<]+)<', page.text)[1]
    assert count(store, "enrolment_codes") == codes + 1
    assert office.post("/merchants/5/enrol", {"hours": "999"}).status_code == 400
    assert "<svg" in office.follow(office.post("/devices/enrol-kiosk", {"service_point": "1", "hours": "2"})).text
    assert office.post("/devices/enrol-kiosk", {"service_point": "99", "hours": "2"}).status_code == 404
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from bank import devices
    c = db.connect(store)
    with db.transaction(c):
        code = devices.new_enrolment_code(c, merchant_id=5)
        d = devices.enrol(c, code, Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
                          label="前台平板")
    c.close()
    assert d.device_id in office.get("/merchants/devices").text
    assert "已注销" in office.follow(office.post(f"/devices/{d.device_id}/revoke")).text
    assert office.post(f"/devices/{d.device_id}/revoke").status_code == 400
    assert office.post("/devices/NOPE/revoke").status_code == 404
    policy = {"per_card_daily_cap": "50", "floor_limit": "40", "unsynced_cap": "600", "max_sync_age_hours": "72",
              "void_minutes": "15", "pin_above": "20", "breaches_to_hold": "3", "retention_days": "30"}
    for bad in ({"per_card_daily_cap": "0"}, {"floor_limit": "x"}, {"unsynced_cap": ""}, {"retention_days": "0"}):
        assert office.post("/policy", policy | bad).status_code == 400
    page = office.follow(office.post("/policy", policy))
    assert "最坏情况每天可兑换" in page.text


def test_tips_team_service_and_honours(office, council, store):
    assert office.post("/tips", {"channel": "phone", "content": ""}).status_code == 400
    assert office.post("/tips", {"channel": "fax", "content": "x"}).status_code == 400
    page = office.follow(office.post("/tips", {"channel": "visit", "content": "有人占用楼道", "account": "7"}))
    assert "已登记举报" in page.text
    c = conn_of(store)
    tid = c.execute("SELECT max(tip_id) FROM tips").fetchone()[0]
    team = c.execute("SELECT team_id FROM members WHERE team_id IS NOT NULL GROUP BY team_id "
                     "ORDER BY count(*) LIMIT 1").fetchone()[0]
    c.close()
    assert "已办结" in council.follow(council.post(f"/tips/{tid}/follow-up", {"status": "closed", "note": "已清理"})).text
    assert council.post(f"/tips/{tid}/follow-up", {"status": "closed", "note": "again"}).status_code == 400
    today = clock.local_date(clock.now_utc()).isoformat()
    assert office.post("/monthly/team-service", {"team": str(team), "item": "ML02", "served_on": "2099-01-01",
                                                 "description": "x"}).status_code == 400
    page = office.follow(office.post("/monthly/team-service", {"team": str(team), "item": "ML02", "served_on": today,
                                                               "description": "义务巡逻"}))
    assert "志愿服务积分" in page.text
    nom = {"year": "2026", "honour": "moral_model", "account": "7", "source": "assembly", "nominator": "居民代表大会",
           "reason": "孝老爱亲"}
    for bad in ({"honour": "king"}, {"source": "self"}, {"account": "x"}, {"reason": ""}, {"year": "1"}):
        assert council.post("/yearly/nominations", nom | bad).status_code in (400, 404), bad
    assert "已登记推荐" in council.follow(council.post("/yearly/nominations", nom)).text
    c = conn_of(store)
    nid = c.execute("SELECT max(nomination_id) FROM honour_nominations").fetchone()[0]
    c.close()
    assert council.post(f"/yearly/nominations/{nid}/decide", {"decision": "maybe"}).status_code == 400
    assert "授予" in council.follow(council.post(f"/yearly/nominations/{nid}/decide",
                                                 {"decision": "awarded", "year": "2026"})).text


@pytest.mark.parametrize("name", ["accounts", "entries", "merchants", "devices", "objections", "tips", "nominations",
                                  "audit"])
def test_exports_read_back(office, name):
    r = office.get(f"/exports/{name}.xlsx")
    assert r.status_code == 200, r.text[:300]
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert ws.cell(1, 1).value and ws.cell(3, 1).value


def test_monthly_table_downloads(office):
    x = office.get("/reports/monthly.xlsx?month=2026-10")
    assert openpyxl.load_workbook(io.BytesIO(x.content)).active.cell(1, 1).value.endswith("积分兑换统计表")
    assert office.get("/reports/monthly.pdf?month=2026-10").content[:4] == b"%PDF"
    assert office.get("/reports/monthly.pdf?month=abc").status_code == 400


def test_audit_view_filters(office, store):
    conn = db.connect(store)
    audit.record(conn, "王主任", "card.issue", "account 1", {"card": "000001"})
    conn.close()
    page = office.get("/audit?action=card")
    assert "card.issue" in page.text and "login" not in page.text.split("<table>")[1].replace("login.failed", "")
    assert "王主任" in office.get("/audit?actor=王主任").text
    assert office.get("/audit?actor=" + "x" * 50).status_code == 400


def test_api_is_untouched(office):
    assert office.get("/api/v1/health").json()["ok"] is True


def _row_numbers(html: str, label: str) -> list[int]:
    row = re.search(rf"<tr><td>{label}</td>(.*?)</tr>", html, re.S)[1]
    return [int(n) for n in re.findall(r'<td class="n">(-?\d+)</td>', row)]


def test_monthly_page_and_dashboard_agree_on_a_month_with_a_reversal(office, store):
    """One month, one number: the monthly page's per-compound totals add up to the dashboard's
    figure for the month, and an award reversed this month counts in neither."""
    month = clock.local_date(clock.now_utc()).strftime("%Y-%m")

    def figures():
        monthly = office.get(f"/monthly?month={month}").text
        dash = office.get("/").text
        return ((sum(_row_numbers(monthly, "加分")), sum(_row_numbers(monthly, "扣分"))),
                (_row_numbers(dash, "加分")[-1], _row_numbers(dash, "扣分")[-1]))

    before_monthly, before_dash = figures()
    assert before_monthly == before_dash
    page = office.follow(office.post("/monthly/entries", {"account": "19", "item": "ML04", "month": month}))
    entry_id = int(re.search(r"台账第 (\d+) 号", page.text)[1])
    awarded_monthly, awarded_dash = figures()
    assert awarded_monthly == awarded_dash and awarded_monthly[0] > before_monthly[0]
    c = db.connect(store)
    with db.transaction(c):
        ledger.reverse(c, entry_id, recorded_by="社区办公室:王主任", note="记错了户")
    c.close()
    assert figures() == (before_monthly, before_dash)


def test_team_service_by_a_council_member_is_labelled_with_the_council(council, store):
    """Recorded by 李委员 of the council, the team's entries say so on the monthly page, never 社区办公室."""
    c = conn_of(store)
    team = c.execute("SELECT team_id FROM members WHERE team_id IS NOT NULL GROUP BY team_id "
                     "ORDER BY count(*) LIMIT 1").fetchone()[0]
    compound = c.execute("SELECT a.compound_id FROM members m JOIN accounts a USING (account_id) WHERE m.team_id = ? "
                         "LIMIT 1", (team,)).fetchone()[0]
    c.close()
    today = clock.local_date(clock.now_utc())
    council.follow(council.post("/monthly/team-service", {"team": str(team), "item": "ML02", "served_on": today.isoformat(),
                                                          "description": "义务巡逻"}))
    page = council.get(f"/monthly?month={today:%Y-%m}&compound={compound}").text
    rows = [r for r in page.split("<tr>")[1:] if "李委员" in r]
    assert rows and all("道德评议会 李委员" in r and "社区办公室" not in r for r in rows)
    c = conn_of(store)
    assert c.execute("SELECT recorded_by FROM ledger_entries ORDER BY entry_id DESC LIMIT 1").fetchone()[0] == "道德评议会:李委员"
    c.close()


def test_an_entry_on_the_monthly_page_returns_to_the_same_compound_and_month(office, store):
    """Recording on compound 3's page of October leaves the user there (it once went back to
    compound 1 of this month), by a redirect, so a refresh never records twice."""
    c = conn_of(store)
    account, other = [r[0] for r in c.execute("SELECT account_id FROM accounts WHERE compound_id = 3 AND "
                                              "status = 'active' ORDER BY account_id LIMIT 2")]
    c.close()
    page = office.get("/monthly?month=2026-10&compound=3").text
    form = page[page.index('action="/monthly/entries"'):]
    back = html.unescape(re.search(r'name="back" value="([^"]*)"', form)[1])
    before = count(store, "ledger_entries")
    r = office.post("/monthly/entries", {"account": str(account), "item": "ML04", "back": back})
    assert r.status_code == 303 and r.headers["location"] == "/monthly?month=2026-10&compound=3"
    shown = office.client.get(r.headers["location"]).text
    assert "已为储户" in shown and '<option value="3" selected' in shown
    office.get(r.headers["location"])       # a refresh of the page it landed on records nothing
    assert count(store, "ledger_entries") == before + 1
    # a back field naming another page is not followed
    r = office.post("/monthly/entries", {"account": str(other), "item": "ML04", "back": "https://evil.example/x"})
    assert r.headers["location"] == "/monthly"


def test_tip_notes_and_the_audit_log_read_in_local_time_and_chinese(store):
    """At 01:30 on 1 December in Chongqing (17:30 UTC the day before) a follow-up note, the audit
    page and its Excel say 2026-12-01 01:30, name the action in Chinese and spell its details out
    (they once gave the UTC time, the action's code and the raw JSON)."""
    at = dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.timezone.utc)
    office = Browser(server.create_app(store, now=lambda: at), "王主任")
    office.follow(office.post("/tips", {"channel": "visit", "content": "楼道堆放杂物", "account": "7"}))
    c = conn_of(store)
    tid = c.execute("SELECT max(tip_id) FROM tips").fetchone()[0]
    c.close()
    office.follow(office.post(f"/tips/{tid}/follow-up", {"status": "following", "note": "已转交物业"}))
    monthly = office.get("/monthly?month=2026-12").text
    assert "2026-12-01 01:30 王主任:已转交物业" in monthly and "2026-11-30" not in monthly
    page = office.get("/audit?action=tip").text
    rows = [r for r in page.split("<tr>")[2:] if "举报" in r]
    assert rows and all("2026-12-01 01:30:00" in r for r in rows), rows
    assert "<td>跟进举报</td>" in page and "<td>登记举报</td>" in page and ">tip.follow_up<" not in page
    assert f"<td>举报 {tid}</td>" in page and '{"' not in page and "{&#34;" not in page
    assert "渠道 来访" in page and "状态 跟进中" in page
    book = openpyxl.load_workbook(io.BytesIO(office.get("/exports/audit.xlsx?action=tip").content))
    ws = book.active
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(i for i, r in enumerate(cells) if "时间" in r)
    body = [r for r in cells[header + 1:] if r[0] is not None]
    assert body and all(r[cells[header].index("时间")] == "2026-12-01 01:30:00" for r in body), body
    assert {r[cells[header].index("操作")] for r in body} == {"登记举报", "跟进举报"}
    assert not any(isinstance(v, str) and ("{" in v or "tip." in v) for r in body for v in r)


def test_the_quarter_page_keeps_its_compound_after_an_action(office):
    page = office.get("/quarterly?quarter=2026Q3&compound=4").text
    form = page[page.index('action="/quarterly/verify"'):]
    back = html.unescape(re.search(r'name="back" value="([^"]*)"', form)[1])
    quarter = re.search(r'name="quarter" value="([^"]*)"', form)[1]
    r = office.post("/quarterly/verify", {"quarter": quarter, "back": back})
    assert r.status_code == 303 and r.headers["location"] == "/quarterly?quarter=2026Q3&compound=4"
