"""The district view's figures on a real PostgreSQL district store of three communities: each
figure per community is what the test wrote there, computed by the same rules as a community's
own console; the cache keeps a month that is over."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from bank import db, district, district_figures, ledger, periods, quarterly_check, users
from bank.errors import InvalidInput
from tests import district_view_kit as kit

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
NOVEMBER = periods.month("2026-11")


@pytest.fixture(scope="module")
def site(pg_server, tmp_path_factory):
    built = kit.build(pg_server, tmp_path_factory.mktemp("dfig"))
    yield built
    pg_server.drop_database(built["name"])


def test_every_figure_of_every_community_is_what_was_written_there(site):
    rows = {r.code: r for r in district_figures.table(site["app"], NOVEMBER, now=kit.NOW)}
    assert list(rows) == ["JS", "LH", "XY"]
    for code, w in site["wrote"].items():
        r = rows[code]
        assert r.name == kit.NAMES[code]
        assert (r.card_holders, r.awarded, r.deducted, r.redeemed) == (w["holders"], w["award"], w["deduction"],
                                                                       w["redeemed"]), code
        assert (r.donated_fen, r.commitment_fen) == (w["donated"], w["commitment_fen"]), code
        assert (r.open_objections, r.open_alerts, r.silent_devices) == (w["objections"], w["alerts"], w["silent"])
        # 2026Q3 ended on 30 September: on 20 November, 51 days later, a quarter not verified is overdue
        assert r.quarter == "2026Q3" and r.verification == ("done" if w["verified"] else "overdue"), code
    total = district_figures.total(list(rows.values()))
    assert total["awarded"] == sum(w["award"] for w in site["wrote"].values())
    assert total["donated_fen"] == sum(w["donated"] for w in site["wrote"].values())
    assert (total["done"], total["overdue"]) == (1, 2)


def test_october_is_counted_by_beijing_time(site):
    rows = {r.code: r for r in district_figures.table(site["app"], periods.month("2026-10"), now=kit.NOW)}
    assert {c: r.awarded for c, r in rows.items()} == {c: w["october_award"] for c, w in site["wrote"].items()}
    assert all(r.redeemed == 0 and r.donated_fen == 0 for r in rows.values())


def test_verification_is_due_within_30_days_of_the_quarter_then_overdue(site):
    conn = db.connect(district.community_url(site["app"], "JS"), readonly=True)
    try:
        q3 = periods.quarter("2026Q3")
        on = lambda day: dt.datetime(2026, *day, 4, 0, tzinfo=dt.timezone.utc)  # noqa: E731
        assert quarterly_check.verification_status(conn, q3, on((9, 30))) == "running"
        assert quarterly_check.verification_status(conn, q3, on((10, 30))) == "due"
        assert quarterly_check.verification_status(conn, q3, on((10, 31))) == "overdue"
    finally:
        conn.close()


def test_a_month_that_is_over_is_read_once_and_the_cache_expires(site):
    cache = district_figures.Cache(site["app"], ttl=0, now=lambda: kit.NOW)
    october = periods.month("2026-10")
    first = {r.code: r.awarded for r in cache.table(october)}
    # a late entry dated in October cannot exist (entries are recorded now), so the frozen figures
    # of October are those of the first read; November's (open) figures follow the ledger
    before = {r.code: r.awarded for r in cache.table(NOVEMBER)}
    url = district.community_url(site["owner"], "JS")
    conn = db.connect(url)
    try:
        aid = conn.execute("SELECT min(account_id) FROM accounts").fetchone()[0]
        with db.transaction(conn):
            e = ledger.record_item(conn, aid, "XS05", recorded_by="社区办公室", now=kit.IN_MONTH[2])
        after = {r.code: (r.awarded, r.deducted) for r in cache.table(NOVEMBER)}
        assert after["JS"][1] == site["wrote"]["JS"]["deduction"] - e.points
        assert {r.code: r.awarded for r in cache.table(october)} == first
        assert after["LH"][0] == before["LH"]
        held = district_figures.Cache(site["app"], ttl=60, now=lambda: kit.NOW)
        one = held.table(NOVEMBER)
        assert held.table(NOVEMBER) is one          # within the TTL: not read again
        # past the TTL, a page is served the table it has while a thread reads the new one
        late = district_figures.Cache(site["app"], ttl=0, now=lambda: kit.NOW, background=True)
        stale = late.table(NOVEMBER)
        assert late.table(NOVEMBER) is stale
        deadline = time.monotonic() + 10
        while late._refreshing and time.monotonic() < deadline:
            time.sleep(0.02)
        assert late._tables[NOVEMBER.key][1] is not stale and late._tables[NOVEMBER.key][1] == stale
    finally:
        with db.transaction(conn):
            ledger.reverse(conn, e.entry_id, recorded_by="社区办公室", note="测试撤销", now=kit.IN_MONTH[2])
        conn.close()


def test_district_users_live_in_the_directory_only(site):
    community = db.connect(district.community_url(site["owner"], "LH"))
    directory = db.connect(district.directory_url(site["owner"]))
    try:
        with pytest.raises(InvalidInput, match="区级工作人员只能添加在区级数据库本身"):
            users.add_user(community, name="区李", role="district", password=kit.PASSWORD)
        with pytest.raises(InvalidInput, match="区级数据库本身只能添加区级工作人员"):
            users.add_user(directory, name="王主任2", role="office", password=kit.PASSWORD)
        # the same password: a district user is refused by a community's log-in rule and a
        # community user by the district's
        assert users.authenticate(directory, kit.DISTRICT_USER, kit.PASSWORD) is None
        assert users.authenticate(directory, kit.DISTRICT_USER, kit.PASSWORD, users.DISTRICT_ROLES).role == "district"
        assert users.authenticate(community, "王主任", kit.PASSWORD, users.DISTRICT_ROLES) is None
        assert users.authenticate(community, "王主任", kit.PASSWORD).role == "office"
    finally:
        community.close()
        directory.close()
