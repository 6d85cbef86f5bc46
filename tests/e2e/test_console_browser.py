"""The office console in a real browser (Playwright + Debian's chromium) against a real
``python -m office serve``: log in, record an award, run a quarter (verification -> posting ->
objection -> ruling -> boards), print cards. Screenshots of the main pages go to a temporary
folder, or with MPB_SCREENSHOT_DIR set (``make screenshots``) to docs/screenshots/console-*.png,
which the office guide shows."""

from __future__ import annotations

import re

import pytest

from bank import db, ledger

from tests.e2e.browser_kit import SHOTS, new_page, shot
from tests.office.console_kit import PASSWORD

pytestmark = pytest.mark.slow
def flash(page) -> str:
    return page.locator(".flash").inner_text()


def test_office_day_in_the_browser(browser, console_server):
    url = console_server.url
    page = new_page(browser)
    assert url.startswith("https://")
    first = page.goto(url + "/")
    assert page.url.startswith(url + "/login")
    assert "frame-ancestors 'none'" in first.headers["content-security-policy"]
    shot(page, "login")
    page.fill("#name", "王主任")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.inner_text(".error")
    page.fill("#name", "王主任")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    assert page.evaluate("document.fonts.check('16px \"Noto Sans SC Subset\"', '龙海社区')")
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith('"Noto Sans SC Subset"')
    shot(page, "dashboard")
    # the charts are drawn by classes now (no inline style): the bars have their heights
    tallest = page.evaluate("Math.max(...[...document.querySelectorAll('.bars .bar i')]"
                            ".map(e => e.getBoundingClientRect().height))")
    assert tallest > 50

    # Residents: search, the account page, record an award.
    page.click("nav >> text=储户与卡")
    page.fill("input[name=q]", "13")
    page.click("button:has-text('查找')")
    page.click("table >> a[href='/residents/13'] >> nth=0")
    before = int(page.locator(".stat b").first.inner_text())
    page.select_option("select[name=item]", "YC04")
    page.fill("input[name=note]", "参加普法宣传")
    page.click("button:has-text('记录') >> nth=0")
    assert "已为储户 13 记录 +2 分" in flash(page)
    assert int(page.locator(".stat b").first.inner_text()) == before + 2
    shot(page, "account")

    # Print cards: the card sheet for three accounts.
    page.click("nav >> text=储户与卡")
    sheet = page.context.request.get(url + "/cards/sheet.pdf?accounts=1,2,3")
    assert sheet.ok and sheet.body()[:4] == b"%PDF"
    assert page.locator("button:has-text('打印卡片 PDF')").count() == 1

    # The quarter: verification, clear an anomaly, publish compound 1's posting.
    page.goto(url + "/quarterly?quarter=2026Q3")
    page.click("button:has-text('开始核查')")
    assert "核查完成" in flash(page)
    first = page.locator("#anomalies form").first
    first.locator("input[name=note]").fill("已核实,属正常欠分")
    first.locator("button").click()
    assert "已处理" in flash(page)
    row = page.locator("#postings tr", has_text="龙海花园")
    row.locator("button:has-text('发布公示')").click()
    assert re.search(r"公示期为 \d{4}-\d\d-\d\d 至 \d{4}-\d\d-\d\d", flash(page))
    shot(page, "quarterly")
    posting = page.context.request.get(url + "/quarterly/posting.pdf?quarter=2026Q3&compound=1")
    assert posting.ok and posting.body()[:4] == b"%PDF"

    # An objection to an award of compound 1, through to filing; the upheld ruling reverses it.
    conn = db.connect(console_server.db_path, readonly=True)
    award = conn.execute("SELECT e.entry_id, e.account_id, e.points FROM ledger_entries e JOIN accounts a "
                         "USING (account_id) WHERE a.compound_id = 1 AND e.kind = 'award' AND NOT EXISTS "
                         "(SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id) "
                         "ORDER BY e.entry_id DESC LIMIT 1").fetchone()
    conn.close()
    page.click("nav >> text=异议")
    page.fill("input[name=account]", str(award["account_id"]))
    page.fill("input[name=entry]", str(award["entry_id"]))
    page.fill("input[name=raised_by]", "邻居王某")
    page.fill("input[name=reason]", "该户本月并未参加此项活动")
    page.click("button:has-text('登记')")
    assert "已登记异议" in flash(page)
    assert str(award["points"]) in page.inner_text("td.warn")          # the points are held
    page.fill("input[name=to]", "李委员")
    page.click("button:has-text('分派')")
    page.fill("textarea[name=findings]", "走访楼长和活动签到表,确认该户未参加。")
    page.click("button:has-text('记录调查情况')")
    page.check("input[value=upheld]")
    page.fill("textarea[name=note]", "异议成立,冲正该笔加分。")
    page.click("button:has-text('裁定')")
    assert "更正记录" in page.inner_text("main")
    shot(page, "objection")
    page.fill("textarea[name=answer]", "已向提出人和该户当面说明,双方无异议。")
    page.click("button:has-text('记录答复')")
    page.click("button:has-text('备案')")
    assert "已备案" in page.inner_text("h1")
    conn = db.connect(console_server.db_path, readonly=True)
    assert conn.execute("SELECT 1 FROM ledger_entries WHERE reverses_entry_id = ?", (award["entry_id"],)).fetchone()
    assert ledger.balance(conn, award["account_id"]) is not None
    conn.close()

    # Boards.
    page.goto(url + "/quarterly?quarter=2026Q3&compound=1#boards")
    assert page.locator("#boards table").first.locator("tr").count() > 1
    page.locator("#boards").screenshot(path=str(SHOTS / "console-boards.png"))

    # A few more pages for the guide.
    for path, name in (("/monthly", "monthly"), ("/merchants", "merchants"), ("/convention", "convention"),
                       ("/audit", "audit")):
        page.goto(url + path)
        assert "Traceback" not in page.content()
        shot(page, name)
    page.goto(url + "/merchants/5")
    page.click("button:has-text('登记新平板')")
    page.wait_for_url("**/devices/enrolment/*")   # the code's page is reached by a redirect
    assert page.locator(".qr svg").count() == 1
    assert console_server.fingerprint[:2].upper() + ":" in page.inner_text("code.fp")
    shot(page, "enrol")
    assert page.csp_violations == []
    page.context.close()


def test_review_groups_users_households_and_year_end(browser, console_server):
    url = console_server.url
    page = new_page(browser)
    page.goto(url + "/login")
    page.fill("#name", "王主任")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    conn = db.connect(console_server.db_path, readonly=True)
    aid, name = conn.execute("SELECT account_id, display_name FROM accounts WHERE compound_id = 1 AND status = 'active' "
                             "AND account_id NOT IN (SELECT account_id FROM reviewers) "
                             "AND account_id NOT IN (SELECT account_id FROM objections) "
                             "AND (SELECT count(*) FROM members m WHERE m.account_id = accounts.account_id) >= 3 "
                             "ORDER BY account_id LIMIT 1").fetchone()
    conn.close()

    # Review group: pick the household, the member, set the PIN; print the staff cards.
    page.click("nav >> text=评议小组")
    page.fill("input[name=account]", str(aid))
    page.click("button:has-text('查看家庭成员')")
    page.select_option("select[name=name]", name)
    page.fill("input[name=pin]", "1357")
    page.fill("input[name=pin2]", "1357")
    page.click("button:has-text('加入评议小组并发工作卡')")
    assert f"{name}已加入评议小组" in flash(page)
    shot(page, "reviewers")
    sheet = page.context.request.get(url + "/reviewers/cards.pdf")
    assert sheet.ok and sheet.body()[:4] == b"%PDF"

    # Users: a log-in for the new member.
    page.click("nav >> text=用户")
    page.fill("form[action='/users'] input[name=name]", "新组员")
    page.select_option("select[name=role]", "reviewer")
    conn = db.connect(console_server.db_path, readonly=True)
    rid = conn.execute("SELECT reviewer_id FROM reviewers WHERE account_id = ? AND active = 1", (aid,)).fetchone()[0]
    conn.close()
    page.select_option("select[name=reviewer]", str(rid))
    page.fill("form[action='/users'] input[name=password]", "a-long-password")
    page.fill("form[action='/users'] input[name=password2]", "a-long-password")
    page.click("button:has-text('添加用户')")
    assert "已添加用户 新组员" in flash(page)
    shot(page, "users")

    # Households: split one member off the household of another account.
    conn = db.connect(console_server.db_path, readonly=True)
    other = conn.execute("SELECT a.account_id FROM accounts a WHERE a.compound_id = 2 AND a.status = 'active' "
                         "AND a.account_id NOT IN (SELECT account_id FROM reviewers) "
                         "AND a.account_id NOT IN (SELECT account_id FROM objections) "
                         "AND (SELECT count(*) FROM members m WHERE m.account_id = a.account_id) >= 3 "
                         "ORDER BY a.account_id LIMIT 1").fetchone()[0]
    conn.close()
    page.goto(url + f"/residents/{other}")
    page.locator("#household input[name=member]").first.check()
    page.fill("#household input[name=points]", "0")
    page.fill("#household form[action$='/split'] input[name=note]", "子女成家另立户")
    page.locator("#household").screenshot(path=str(SHOTS / "console-household.png"))
    page.click("button:has-text('办理分户')")
    assert "确认分户" in page.inner_text("main")        # nothing happens before the confirmation
    shot(page, "split-confirm")
    page.click("button:has-text('确认分户')")
    assert "已从储户" in flash(page)

    # Year end: publish compound 1's summary posting for last year.
    page.goto(url + "/yearly?year=2025")
    row = page.locator("#postings tr", has_text="龙海花园")
    row.locator("input[name=opens_on]").fill("2026-01-05")
    row.locator("button:has-text('发布公示')").click()
    assert "年度汇总公示期为 2026-01-05" in flash(page)
    shot(page, "yearly")

    # An address that does not exist: a page in Chinese, with the menu.
    page.goto(url + "/no-such-page")
    assert "找不到页面" in page.inner_text("h1")
    shot(page, "not-found")
    page.go_back()          # the error page's 返回上一页 is script now: it still goes back
    page.goto(url + "/no-such-page")
    page.click("text=返回上一页")
    page.wait_for_url(lambda u: u.startswith(url + "/yearly?year=2025"), wait_until="commit")
    assert page.csp_violations == []
    page.context.close()


def login(browser, url: str):
    page = new_page(browser)
    page.goto(url + "/login")
    page.fill("#name", "王主任")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    return page


def test_registration_open_print_and_redeem_at_a_tablet(browser, console_server, tmp_path):
    """Open an account and print its card (the PDF's QR decodes to the signed card), add the 71st
    merchant with an offer, enrol a real tablet home for it against the real server, and redeem
    the new card there with terminal.redeem; the office settles it."""
    import zxingcpp

    from bank import cards, merchants
    from terminal import redeem
    from sync import home as home_mod
    from tests.e2e.conftest import cli
    from tests.office.pdf_kit import render

    url = console_server.url
    page = login(browser, url)

    # Open a household with two members; the account page says to print its card.
    page.click("nav >> text=储户与卡")
    page.click("a:has-text('开户')")
    page.fill("input[name=holder]", "周新")
    page.fill("input[name=phone]", "13800001111")
    page.select_option("select[name=compound]", "2")
    page.fill("input[name=building]", "3")
    page.fill("input[name=unit]", "1")
    page.fill("input[name=room]", "301")
    page.fill("input[name=name_1]", "李玥")
    page.select_option("select[name=relation_1]", "配偶")
    page.fill("input[name=name_2]", "周小雨")
    page.select_option("select[name=relation_2]", "女儿")
    shot(page, "account-new")
    page.click("button:has-text('开户并发卡')")
    assert "已开户" in flash(page) and "打印储户卡" in flash(page)
    aid = int(re.search(r"/residents/(\d+)", page.url)[1])
    shot(page, "account-opened")
    href = page.get_attribute("a:has-text('打印储户卡')", "href")
    pdf = page.context.request.get(url + href)
    assert pdf.ok and pdf.body()[:4] == b"%PDF"
    decoded = {r.text for r in zxingcpp.read_barcodes(render(pdf.body(), tmp_path, dpi=200))}
    conn = db.connect(console_server.db_path, readonly=True)
    card = next(c for c in cards.cards_of(conn, aid) if c.status == "active")
    conn.close()
    assert decoded == {card.qr}
    qr = decoded.pop()

    # Ten points for the new household, recorded at the office.
    for item in ("YC01", "YC02"):
        page.select_option("select[name=item]", item)
        page.click("button:has-text('记录') >> nth=0")
        assert "记录 +5 分" in flash(page)

    # The 71st merchant, its offer, then a tablet enrolled for it.
    page.click("nav >> text=商户与设备")
    page.click("a:has-text('新增商户')")
    page.fill("input[name=name]", "龙海第七十一家面馆")
    page.select_option("select[name=category]", "noodles")
    page.fill("input[name=address]", "龙海大道71号")
    page.fill("input[name=contact]", "刘老板")
    shot(page, "merchant-new")
    page.click("button:has-text('新增商户')")
    assert "已新增商户" in flash(page)
    mid = int(re.search(r"/merchants/(\d+)", page.url)[1])
    offers = page.locator("#offers form[action$='/offers']")
    offers.locator("input[name=name]").fill("小面")
    offers.locator("input[name=points]").fill("6")
    offers.locator("input[name=value]").fill("7")
    offers.locator("button").click()
    assert "已添加兑换项目" in flash(page)
    offers = page.locator("#offers form[action$='/offers']")
    offers.locator("input[name=name]").fill("馒头")
    offers.locator("input[name=points]").fill("3")
    offers.locator("input[name=value]").fill("1")
    offers.locator("button").click()
    assert "1分至少值1元" in page.inner_text(".warn")            # warned before anything is saved
    shot(page, "offer-warning")
    page.click("a:has-text('取消,返回')")
    page.click("button:has-text('登记新平板')")
    page.wait_for_url("**/devices/enrolment/*")   # the code's page is reached by a redirect
    code = page.inner_text(".code").strip()
    home = tmp_path / "tablet"
    cli("terminal", "enrol", "--home", home, "--server", url, "--code", code)
    conn = db.connect(console_server.db_path, readonly=True)
    bowl = next(o for o in merchants.offers_of(conn, mid) if o.name == "小面")
    conn.close()
    receipt = redeem.redeem(home_mod.open_home(home), qr, bowl.offer_id)
    assert receipt.points == 6 and receipt.balance_after == 4 and receipt.pushed
    conn = db.connect(console_server.db_path, readonly=True)
    assert ledger.balance(conn, aid) == 4
    entry = ledger.entries(conn, aid)[-1]
    assert (entry.kind, entry.merchant_id, entry.offer_id) == ("redemption", mid, bowl.offer_id)
    conn.close()

    # The merchant's hours, after the redemption (a window would not let the test depend on the clock).
    page.goto(url + f"/merchants/{mid}")
    windows = page.locator("#windows form")
    windows.locator("input[name=opens]").fill("09:00")
    windows.locator("input[name=closes]").fill("21:00")
    windows.locator("button").click()
    assert "周一至周五 09:00-21:00" in flash(page)
    shot(page, "merchant-registration")
    assert page.csp_violations == []
    page.context.close()


def test_registration_pages_for_the_guide(browser, console_server):
    """The other registration pages, each checked and photographed: the residents list paged,
    editing an account, closing (the confirmation), a merge confirmed and undone, teams, and a
    convention amendment whose sign change is confirmed."""
    url = console_server.url
    page = login(browser, url)
    page.goto(url + "/residents?compound=1")
    assert re.search(r"第 1 / \d+ 页", page.inner_text(".pager"))
    page.click(".pager >> text=下一页")
    assert "第 2 /" in page.inner_text(".pager")
    shot(page, "residents")

    conn = db.connect(console_server.db_path, readonly=True)
    plain = [r[0] for r in conn.execute(
        "SELECT a.account_id FROM accounts a WHERE a.compound_id = 4 AND a.status = 'active' "
        "AND a.account_id NOT IN (SELECT account_id FROM reviewers) AND a.account_id NOT IN (SELECT account_id FROM objections) "
        "AND (SELECT count(*) FROM members m WHERE m.account_id = a.account_id) >= 2 "
        "AND (SELECT sum(points) FROM ledger_entries e WHERE e.account_id = a.account_id) > 5 ORDER BY a.account_id LIMIT 3")]
    conn.close()
    page.goto(url + f"/residents/{plain[0]}/edit")
    shot(page, "account-edit")
    page.fill("form[action$='/close'] input[name=note]", "全家迁出社区")
    page.click("button:has-text('销户…')")
    assert "确认销户" in page.inner_text("main") and "作废" in page.inner_text(".confirm")
    shot(page, "account-close")
    page.click("a:has-text('取消,返回')")

    page.goto(url + f"/residents/{plain[1]}")
    page.fill("#household input[name=target]", str(plain[2]))
    page.fill("#household form[action$='/merge'] input[name=note]", "两户合住")
    page.click("button:has-text('办理并户')")
    assert page.locator(".sides .card").count() == 2
    shot(page, "merge-confirm")
    page.click("button:has-text('确认并户')")
    assert "当天可撤销" in flash(page)
    page.click("button:has-text('撤销这次并户')")
    page.click("button:has-text('确认撤销')")
    assert "已撤销并户" in flash(page)

    page.click("nav >> text=志愿服务队")
    assert page.locator("table tr").count() >= 14
    shot(page, "teams")
    page.click("table >> a >> nth=1")
    page.fill("input[name=account]", str(plain[0]))
    page.click("button:has-text('查看家庭成员')")
    page.locator("button:has-text('加入本队')").first.click()
    assert "已加入本队" in flash(page)
    shot(page, "team")

    page.click("nav >> text=居民公约")
    page.fill("input[name=points_XS02]", "-1")
    page.fill("input[name=name_RJ03]", "门前楼道整洁有序")
    page.fill("input[name=new_name_1]", "文明停车")
    page.fill("input[name=new_points_1]", "1")
    page.fill("input[name=effective_from]", "2099-01-01")
    page.fill("input[name=note]", "新增文明停车,文明养犬改为未牵绳扣分")
    page.click("button:has-text('保存为新版本')")
    assert "由加分改为扣分" in page.inner_text(".confirm")
    shot(page, "convention-sign")
    page.click("button:has-text('确认修订')")
    assert "已生成第" in flash(page)
    page.goto(url + "/convention")
    assert "待生效的版本" in page.inner_text("main")
    shot(page, "convention-scheduled")
    page.click("button:has-text('撤回(不生效)')")
    assert "已撤回" in flash(page)

    page.goto(url + "/audit")
    assert "开户" in page.inner_text("table")
    assert page.csp_violations == []
    page.context.close()


def test_import_a_roster_in_the_browser(browser, console_server, tmp_path):
    """Upload a roster with a bad row, see it in the preview, fix the file, confirm once."""
    from tests.office.sheets_kit import xlsx

    head = ["序号", "小区", "楼栋", "单元", "房号", "户主", "成员姓名", "与户主关系"]
    rows = [head, [1, "龙海花园", "9栋", "4单元", "9801室", "网页甲"], [2, "龙海花园", "9栋", "4单元", "9801室", "网页甲", "网页乙", "配偶"],
            [3, "金色港湾", "12栋", "1单元", "101", "网页丙"]]
    bad = xlsx(tmp_path / "储户名册.xlsx", {"储户名册": rows})
    url = console_server.url
    page = new_page(browser)
    page.goto(url + "/login")
    page.fill("#name", "王主任")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    page.click("nav >> text=导入")
    assert page.locator("form[action='/imports/preview']").count() == 3
    shot(page, "imports")
    template = page.context.request.get(url + "/imports/templates/roster.xlsx")
    assert template.ok and template.body()[:2] == b"PK"

    page.set_input_files("#import-roster input[type=file]", str(bad))
    page.click("#import-roster button:has-text('上传并检查')")
    assert "没有第 12 栋:金色港湾共 8 栋" in page.inner_text("#problems")
    assert page.locator("button:has-text('确认导入')").count() == 0
    shot(page, "import-preview")

    rows[3][2] = "8栋"                      # fixed in Excel, uploaded again from the preview page
    fixed = xlsx(tmp_path / "储户名册.xlsx", {"储户名册": rows})
    page.set_input_files("input[type=file]", str(fixed))
    page.click("button:has-text('上传并检查')")
    assert "将新开储户 2 户(发卡 2 张),新增家庭成员 1 人" in page.inner_text("#counts")
    conn = db.connect(console_server.db_path, readonly=True)
    assert conn.execute("SELECT count(*) FROM accounts WHERE display_name LIKE '网页%'").fetchone()[0] == 0
    conn.close()
    page.click("button:has-text('确认导入')")
    assert "已导入“储户名册.xlsx”" in flash(page)
    assert "已为 2 户新储户发卡" in page.inner_text("#result")
    shot(page, "import-done")
    href = page.locator("#result a").first.get_attribute("href")
    sheet = page.context.request.get(url + href)
    assert sheet.ok and sheet.body()[:4] == b"%PDF"
    conn = db.connect(console_server.db_path, readonly=True)
    got = [tuple(r) for r in conn.execute(
        "SELECT a.display_name, a.building, (SELECT count(*) FROM members m WHERE m.account_id = a.account_id), "
        "(SELECT count(*) FROM cards c WHERE c.account_id = a.account_id) FROM accounts a "
        "WHERE a.display_name LIKE '网页%' ORDER BY a.account_id")]
    conn.close()
    assert got == [("网页甲", 9, 2, 1), ("网页丙", 8, 1, 1)]
    assert page.csp_violations == []
    page.context.close()


def test_enrolment_qr_decodes_from_a_screenshot(browser, console_server, tmp_path):
    """The 登记码 page's QR, as the browser draws it, reads back to the enrolment text a tablet needs
    (it was once an SVG without a viewBox squeezed to 220 px: cropped, unreadable)."""
    from PIL import Image
    from pyzbar import pyzbar

    from bank import devices

    url = console_server.url
    page = login(browser, url)
    page.goto(url + "/merchants/5")
    page.click("button:has-text('登记新平板')")
    page.wait_for_url("**/devices/enrolment/*")   # the code's page is reached by a redirect
    code = page.inner_text("p.code").strip()
    png = tmp_path / "enrol.png"
    page.screenshot(path=str(png), full_page=True)
    found = [s.data.decode() for s in pyzbar.decode(Image.open(png).convert("L"), symbols=[pyzbar.ZBarSymbol.QRCODE])]
    expected = devices.enrol_qr_text(url + "/", code, console_server.fingerprint)
    assert found == [expected]
    assert page.csp_violations == []
    page.context.close()
