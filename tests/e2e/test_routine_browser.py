"""The year's routine in a real browser against a real ``python -m office serve``: the account
page's passbook download, its history's second page, an objection raised from an entry of that
page; the expiry page. Screenshots as in test_console_browser (docs/ only for ``make screenshots``)."""

from __future__ import annotations

import pytest

from bank import db, objections

from tests.e2e.browser_kit import new_page, shot
from tests.office.console_kit import PASSWORD, busiest

pytestmark = pytest.mark.slow


def test_passbook_download_history_page_two_and_an_objection_from_an_entry(browser, console_server):
    url = console_server.url
    aid = busiest(console_server.db_path)
    page = new_page(browser)
    page.goto(url + "/login")
    page.fill("#name", "王主任")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    page.click("text=积分到期:下月将到期的储户名单")
    page.wait_for_url(url + "/expiry")
    assert "将到期的积分" in page.inner_text("h1")
    shot(page, "expiry")

    page.goto(f"{url}/residents/{aid}")
    link = page.locator("a:has-text('打印积分存折')")
    pdf = page.context.request.get(url + link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:4] == b"%PDF"
    assert page.locator("input[name=entry]").count() == 0           # no entry number to type
    shot(page, "account-history")
    page.click("a:has-text('较早的记录')")
    page.wait_for_url(f"{url}/residents/{aid}?page=2#passbook")
    assert "第 2 / " in page.inner_text("#passbook h2")
    row = page.locator("#passbook tr", has=page.locator("a:has-text('提出异议')")).first
    entry_id = int(row.locator("td").first.inner_text())
    row.locator("a:has-text('提出异议')").click()
    page.wait_for_url(f"{url}/residents/{aid}/entries/{entry_id}/objection")
    page.fill("input[name=raised_by]", "户主本人")
    page.fill("input[name=reason]", "这笔记录的日期不对")
    shot(page, "objection-from-entry")
    page.click("button:has-text('登记异议')")
    page.wait_for_url(f"{url}/objections/*")
    assert "已登记异议" in page.locator(".flash").inner_text()
    assert not page.csp_violations
    conn = db.connect(console_server.db_path, readonly=True)
    case = objections.search(conn, account_id=aid)[0]
    assert (case.entry_id, case.reason, case.raised_by) == (entry_id, "这笔记录的日期不对", "户主本人")
