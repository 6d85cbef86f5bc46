"""The office console in a real browser (Playwright + Debian's chromium) against a real
``python -m office serve``: log in, record an award, run a quarter (verification -> posting ->
objection -> ruling -> boards), print cards. Screenshots of the main pages go to a temporary
folder, or with MPB_SCREENSHOT_DIR set (``make screenshots``) to docs/screenshots/console-*.png,
which the office guide shows."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

from bank import db, ledger

from tests.e2e.conftest import Server
from tests.office.console_kit import PASSWORD, make_store

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
# Tests must not rewrite tracked files: docs/ only on request.
SHOTS = Path(os.environ.get("MPB_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="console-shots-"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def console_server(demo_db, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    store = make_store(demo_db, tmp / "store.sqlite")
    s = Server(store, tmp / "server.log").start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: `make test` installs it (apt install chromium)")
        pytest.skip("Debian's chromium is not installed (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def new_page(browser):
    """A page in its own context: the office serves HTTPS with its own certificate (the browser
    warns once, as it will for the staff), and every Content-Security-Policy violation the page
    reports is kept in ``page.csp_violations`` (an inline style or script the policy blocks)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", ignore_https_errors=True)
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page


def shot(page, name: str) -> None:
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


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
