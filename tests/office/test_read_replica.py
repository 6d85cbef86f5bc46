"""The console's read-only pages on a real streaming replica (tests/pg_kit.py: a second PostgreSQL
cluster on another port, made by pg_basebackup -R): a page marked for the replica reads it - shown
by pausing the replica's replay and seeing the page lag behind the primary -, says so when it is
more than a few seconds behind, reads the primary when the replica lags past the bound or is
down; a page right after an action, the login and every write stay on the primary."""

from __future__ import annotations

import logging
import time

import pytest

from bank import audit, db, keystore, replication
from office import district_server, server
from tests import district_kit, pg_kit
from tests.office.console_kit import CSRF, Browser, TestClient

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

NOTE = "数据可能有几秒延迟"
MARKED = ["/", "/monthly", "/quarterly", "/yearly", "/audit", "/reports/monthly.pdf?month=2026-03",
          "/reports/monthly.xlsx?month=2026-03", "/quarterly/posting.pdf?compound=1&quarter=2026Q1",
          "/quarterly/boards.pdf?quarter=2026Q1"]


@pytest.fixture(scope="module")
def pair():
    """A primary and its streaming replica, for this module only (the tests pause and stop it)."""
    with pg_kit.streaming_pair() as both:
        yield both


@pytest.fixture(scope="module")
def site(pair, tmp_path_factory):
    """A community store on the primary, the office app reading the replica, 王主任 logged in."""
    primary, replica = pair
    name = primary.new_database()
    url = primary.url(name, pg_kit.APP)
    keys = keystore.KeyStore(tmp_path_factory.mktemp("replica") / "keys")
    conn = db.connect(url)
    keystore.use(conn, keys)
    district_kit.populate(conn, "LH", "龙海社区", marker="龙海")
    conn.close()
    pg_kit.wait_caught_up(primary, replica)
    app = server.create_app(url, keys, read_replica=replica.url(name, pg_kit.APP))
    browser = Browser(app, "王主任")
    with browser.client:
        yield app.state.console, browser, url


def _mark(url: str, text: str) -> None:
    """An audit record written on the primary, which the audit page lists."""
    conn = db.connect(url, migrate=False)
    try:
        with db.transaction(conn):
            audit.record(conn, "测试", "login", text)
    finally:
        conn.close()


def _audit_page(browser) -> str:
    r = browser.get("/audit")
    assert r.status_code == 200
    return r.text


def test_every_marked_page_answers_from_the_replica(site, pair, caplog):
    console, browser, url = site
    primary, replica = pair
    name = url.split("/")[3].split("?")[0]
    pg_kit.wait_caught_up(primary, replica)          # the login's session, written on the primary
    lags = {}
    for which, server_ in (("primary", primary), ("replica", replica)):
        conn = db.connect(server_.url(name, pg_kit.APP), readonly=True)
        try:
            lags[which] = replication.standby_lag(conn)
        finally:
            conn.close()
    assert lags["primary"] is None and 0.0 <= lags["replica"] < 5   # a primary is no standby; seconds behind
    caplog.set_level(logging.WARNING, logger="office.console")
    for path in MARKED:
        r = browser.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    assert caplog.records == []           # no fallback: nothing of these pages wrote on the replica


def test_a_marked_page_reads_the_replica_and_lags_with_it(site, pair, caplog):
    primary, replica = pair
    console, browser, url = site
    _mark(url, "副本一号")
    lag = pg_kit.wait_caught_up(primary, replica)
    assert lag < 5
    assert "副本一号" in _audit_page(browser)

    pg_kit.pause_replay(replica)
    try:
        _mark(url, "副本二号")
        time.sleep(1.2)
        console.replica.note_above_s = 1.0
        page = _audit_page(browser)
        assert "副本一号" in page and "副本二号" not in page     # read on the paused replica
        assert NOTE in page                                       # and it says it may be behind

        console.replica.lag_bound_s = 1.0                         # now too far behind: the primary
        caplog.set_level(logging.WARNING, logger="office.console")
        page = _audit_page(browser)
        assert "副本二号" in page and NOTE not in page
        assert any("lags" in r.getMessage() for r in caplog.records)
    finally:
        console.replica.lag_bound_s = 30.0
        console.replica.note_above_s = 3.0
        pg_kit.resume_replay(replica)
    pg_kit.wait_caught_up(primary, replica)
    page = _audit_page(browser)
    assert "副本二号" in page and NOTE not in page


def test_writes_and_the_page_after_them_stay_on_the_primary(site, pair):
    primary, replica = pair
    console, browser, url = site
    pg_kit.pause_replay(replica)
    try:
        r = browser.post("/users", {"role": "council", "name": "赵委员", "password": "another-password-1",
                                    "password2": "another-password-1"})
        done = browser.follow(r)                   # the write went to the primary ...
        assert "已添加用户 赵委员" in done.text
        r = browser.get("/audit")                  # ... the replica has not replayed it: not listed
        assert "赵委员" not in r.text
        _mark(url, "副本三号")
        r = browser.post("/users", {"role": "council", "name": "钱委员", "password": "another-password-1",
                                    "password2": "another-password-1"})
        assert r.status_code == 303
        after = browser.get("/audit")              # the page right after an action (its flash): primary
        assert "副本三号" in after.text and "钱委员" in after.text
    finally:
        pg_kit.resume_replay(replica)
    pg_kit.wait_caught_up(primary, replica)
    assert "赵委员" in _audit_page(browser)


def test_the_replica_down_pages_answer_from_the_primary(site, pair, caplog):
    primary, replica = pair
    console, browser, url = site
    caplog.set_level(logging.WARNING, logger="office.console")
    console.replica.retry_s = 0.5
    pg_kit.stop_cluster(replica)
    try:
        _mark(url, "副本四号")
        started = time.monotonic()
        page = _audit_page(browser)
        assert "副本四号" in page and NOTE not in page
        assert time.monotonic() - started < 5         # no waiting on the dead replica (libpq: 10 s)
        assert any("failed" in r.getMessage() for r in caplog.records)
        assert browser.get("/").status_code == 200
    finally:
        pg_kit.start_cluster(replica)
    pg_kit.wait_caught_up(primary, replica)
    time.sleep(0.6)                               # the retry pause over: the replica is read again
    pg_kit.pause_replay(replica)
    try:
        _mark(url, "副本五号")
        assert "副本五号" not in _audit_page(browser)
    finally:
        pg_kit.resume_replay(replica)
        console.replica.retry_s = 10.0


def test_a_district_server_reads_each_community_on_the_replica(pair, tmp_path, request):
    """Each community's console reads its own schema on the replica (the replica URL gets the
    community's search_path as the store URL does)."""
    from bank import district, users
    primary, replica = pair
    _owner, app_url, keys = district_kit.new_district(primary, request, tmp_path, codes=("LH", "JS"))
    for code in ("LH", "JS"):
        conn = db.connect(district.community_url(app_url, code), migrate=False)
        with db.transaction(conn):
            users.add_user(conn, name="王主任", role="office", password=district_kit.PASSWORD)
        conn.close()
        _mark(district.community_url(app_url, code), f"{code}社区第一条")
    pg_kit.wait_caught_up(primary, replica)
    name = app_url.split("/")[3].split("?")[0]
    app = district_server.create_district_app(app_url, keys, read_replica=replica.url(name, pg_kit.APP))
    with TestClient(app, follow_redirects=False) as tc:
        for code in ("LH", "JS"):
            prefix = f"/c/{code}"
            page = tc.get(prefix + "/login")
            r = tc.post(prefix + "/login", data={"csrf": CSRF.search(page.text)[1], "name": "王主任",
                                                 "password": district_kit.PASSWORD, "next": "/"})
            assert r.status_code == 303
        pg_kit.pause_replay(replica)
        try:
            for code in ("LH", "JS"):
                _mark(district.community_url(app_url, code), f"{code}社区第二条")
                page = tc.get(f"/c/{code}/audit").text
                assert f"{code}社区第一条" in page and f"{code}社区第二条" not in page   # its own schema, replica
                other = "JS" if code == "LH" else "LH"
                assert f"{other}社区" not in page
        finally:
            pg_kit.resume_replay(replica)


def test_bad_replica_options_and_a_failover_onto_a_standby_are_refused(site, pair, tmp_path):
    from click.testing import CliRunner

    from office.cli import main
    _primary, replica = pair
    _console, _browser, url = site
    runner = CliRunner()
    r = runner.invoke(main, ["serve", "--db", url, "--read-replica", "db2:5432", "--insecure-http"])
    assert r.exit_code == 2 and "--read-replica 须为 PostgreSQL 副本的地址" in r.output
    r = runner.invoke(main, ["serve", "--db", str(tmp_path / "x.sqlite"), "--read-replica", url, "--insecure-http"])
    assert r.exit_code == 2 and "只读副本只用于 PostgreSQL" in r.output
    r = runner.invoke(main, ["failover", "--db", str(tmp_path / "x.sqlite"), "--by", "演练"])
    assert r.exit_code == 1 and "故障切换只用于 PostgreSQL" in r.output and "Traceback" not in r.output
    name = url.split("/")[3].split("?")[0]
    r = runner.invoke(main, ["failover", "--db", replica.url(name, pg_kit.APP), "--by", "演练"])
    assert r.exit_code == 1 and "仍是只读副本" in r.output and "Traceback" not in r.output
    r = runner.invoke(main, ["failover", "--db", url, "--by", " "])
    assert r.exit_code == 2 and "--by" in r.output
    conn = db.connect(url, migrate=False)
    try:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'store.failover'").fetchone()[0] == 0
    finally:
        conn.close()
