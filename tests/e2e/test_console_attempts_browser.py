"""The attempt limits as a person meets them, in a real browser (Playwright + Debian's chromium)
against a real ``python -m office serve``: wrong log-ins end in a page that says how long to wait;
a wrong second-member PIN says how many tries are left, then the lock time; a password reset by
the office throws the old session out."""

from __future__ import annotations

import pytest

from bank import db, reviewers
from tests.e2e.browser_kit import new_page, shot
from tests.office.console_kit import PASSWORD

pytestmark = pytest.mark.slow


def _login(page, url, name, password):
    page.goto(url + "/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_the_pages_say_how_long_to_wait_and_how_many_tries_are_left(browser, console_server):
    url = console_server.url
    # The second member's PIN at the monthly form (a reviewer records a -10 entry).
    page = new_page(browser)
    _login(page, url, "钱组员", PASSWORD)
    page.wait_for_url(url + "/monthly")
    conn = db.connect(console_server.db_path, readonly=True)
    second = [m for m in reviewers.of_compound(conn, 1) if m.reviewer_id != 1][0]
    conn.close()
    messages = []
    for pin in ("0000", "0001", "0002", "0003", "0004", "2468"):
        page.goto(url + "/monthly")
        page.fill("input[name=account]", "31")
        page.select_option("select[name=item]", "XS06")
        page.select_option("select[name=second]", str(second.reviewer_id))
        page.fill("input[name=second_pin]", pin)
        page.click("form[action='/monthly/entries'] button")
        messages.append(page.inner_text(".error"))
    assert "还可以再试 4 次" in messages[0] and "还可以再试 1 次" in messages[3]
    assert "15 分钟后再试" in messages[4] and "以后可以再试" in messages[4]
    assert "15 分钟后再试" in messages[5]            # the right PIN, but locked
    shot(page, "pin-locked")
    page.context.close()

    # Wrong log-ins: a plain sentence with the time to wait.
    page = new_page(browser)
    for n in range(5):
        _login(page, url, "李委员", f"wrong-guess-{n}")
        assert "用户名或密码不正确" in page.inner_text(".error")
    assert "再错 5 次将锁定 15 分钟" in page.inner_text(".error")
    _login(page, url, "李委员", PASSWORD)         # at once: must wait first, even with the right one
    text = page.inner_text(".error")
    assert "秒后再试" in text and "北京时间" in text and page.url.startswith(url + "/login")
    shot(page, "login-wait")
    page.wait_for_timeout(1500)                    # the wait it named is over: the right password works
    _login(page, url, "李委员", PASSWORD)
    page.wait_for_url(url + "/")
    page.context.close()


def test_a_reset_throws_the_old_session_out(browser, console_server):
    url = console_server.url
    lost_laptop = browser.new_context(locale="zh-CN", ignore_https_errors=True)
    old = lost_laptop.new_page()
    _login(old, url, "小面店", PASSWORD)
    old.wait_for_url(url + "/merchants/5")
    office = browser.new_context(locale="zh-CN", ignore_https_errors=True).new_page()
    _login(office, url, "王主任", PASSWORD)
    office.wait_for_url(url + "/")
    office.goto(url + "/users")
    row = office.locator("tr", has_text="小面店")
    row.locator("input[name=password]").fill("noodle-shop-2026")
    row.locator("input[name=password2]").fill("noodle-shop-2026")
    row.locator("button:has-text('重设密码')").click()
    assert "已重设用户 小面店 的密码" in office.inner_text(".flash")
    old.goto(url + "/merchants/5")
    assert old.url.startswith(url + "/login")       # the old session is gone
    _login(old, url, "小面店", "noodle-shop-2026")
    old.wait_for_url(url + "/merchants/5")
    lost_laptop.close()
