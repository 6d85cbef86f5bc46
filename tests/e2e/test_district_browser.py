"""The district view in a real browser against a real ``python -m office serve`` on a district
store of three communities (PostgreSQL): a district user logs in at /district/, sorts the table,
opens a community read-only. Screenshots console-district*.png (docs/ only for ``make screenshots``)."""

from __future__ import annotations

import pytest

from tests import district_view_kit as kit
from tests.e2e.browser_kit import new_page, shot
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


class DistrictServer(Server):
    """``office serve`` on a district store: up when a community's sync API answers."""

    def transport(self, timeout: float = 10.0):
        from sync import client
        return client.HttpTransport(self.url + "/c/JS", timeout)


@pytest.fixture(scope="module")
def district_server(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dbrowser")
    built = kit.build(pg_server, tmp)
    s = DistrictServer(built["app"], tmp / "server.log", insecure_http=True,
               extra=["--key-dir", built["keys"].directory]).start()
    yield s, built
    s.stop()
    pg_server.drop_database(built["name"])


def test_a_district_user_sees_every_community_and_one_read_only(browser, district_server):
    server, built = district_server
    url = server.url + "/district"
    page = new_page(browser)
    page.goto(url + "/")
    page.wait_for_url(url + "/login*")
    assert "区级工作人员" in page.inner_text("h1")
    page.fill("#name", kit.DISTRICT_USER)
    page.fill("#password", kit.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    page.select_option("select[name=month]", "2026-11")
    page.click("button:has-text('查看')")
    page.wait_for_url(url + "/?month=2026-11")
    page.click("#district th a:has-text('加分')")
    page.wait_for_url("**sort=awarded")
    page.click("#district th a:has-text('加分')")          # again: largest first
    page.wait_for_url("**sort=awarded&desc=1")
    first = page.locator("#district tr").nth(1).locator("td").first.inner_text()
    assert first == max(built["wrote"], key=lambda c: built["wrote"][c]["award"])
    assert "逾期未核查" in page.inner_text("#district")
    shot(page, "district")
    page.click("a:has-text('龙海社区')")
    page.wait_for_url(url + "/community/LH?month=2026-11")
    assert "只读查看" in page.inner_text("main")
    assert page.locator("main form").count() == 0
    shot(page, "district-community")
    assert not page.csp_violations
