"""One connection pool per database in an office process (office.pool): the communities of a
district server share it, each request borrows a connection and gives it back clean."""

from __future__ import annotations

import re
import threading
import warnings

import pytest
from psycopg import conninfo

from bank import db, district, keystore
from office import district_server, pool
from tests import district_kit, pg_kit

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

CODES = ("LH", "JS", "YJ", "LJ")
POOL_SIZE = 2
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def served(pg_server, request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pool")
    owner, app_url = district_kit.new_database(pg_server, request)
    keys = keystore.KeyStore(tmp / "keys")
    district.create(owner, app_role=pg_kit.APP)
    for code in CODES:
        with district.new_community(owner, code=code, name=f"{code}社区", app_role=pg_kit.APP) as url:
            conn = db.connect(url)
            keystore.use(conn, keys)
            district_kit.populate(conn, code, f"{code}社区", marker=code)
            conn.close()
    mp = pytest.MonkeyPatch()
    mp.setenv(pool.ENV_SIZE, str(POOL_SIZE))
    app = district_server.create_district_app(app_url, keys)
    with TestClient(app, follow_redirects=False) as tc:
        yield {"tc": tc, "app": app, "url": app_url, "db": conninfo.conninfo_to_dict(owner)["dbname"], "admin": pg_server}
    mp.undo()


def _sessions(served) -> tuple[int, int]:
    """(the application role's sessions on the database, those of them holding a serving lock)."""
    with served["admin"].admin() as conn:
        total = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND datname = %s",
                             (pg_kit.APP, served["db"])).fetchone()[0]
        serving = conn.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.classid = %s AND a.datname = %s",
            (0x4D50, served["db"])).fetchone()[0]
    return total, serving


def test_the_communities_of_a_district_server_share_one_small_pool(served):
    tc = served["tc"]
    failures = []

    def browse(code):
        for _ in range(3):
            page = tc.get(f"/c/{code}/login")
            if page.status_code != 200 or f"{code}社区" not in page.text:
                failures.append((code, page.status_code))
            health = tc.get(f"/c/{code}/api/v1/health")
            if health.status_code != 200:
                failures.append((code, health.status_code))
    threads = [threading.Thread(target=browse, args=(c,)) for c in CODES * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    total, serving = _sessions(served)
    # each community's serving claim is a session of its own (bank.backup); every page and device
    # request of all of them went through the pool's POOL_SIZE connections
    assert serving == len(CODES)
    assert total - serving <= POOL_SIZE


def test_a_failed_request_gives_its_connection_back_clean(served):
    lh = served["app"].apps["LH"].app
    source = pool.Loans(district.community_url(served["url"], "LH"), None, 2.0)

    @lh.get("/test-fails-inside-a-transaction")
    def fails():
        conn = source.get()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE devices SET label = label")
        raise RuntimeError("the request fails with its transaction open")

    r = served["tc"].get("/c/LH/test-fails-inside-a-transaction")
    assert r.status_code == 500 and r.json()["error"] == "internal"
    the_pool = pool.pool_for(source.base)
    borrowed = [the_pool.getconn() for _ in range(POOL_SIZE)]     # every connection the pool has
    try:
        for raw in borrowed:
            assert raw.info.transaction_status == 0                    # no transaction left open
            assert raw.execute("SHOW search_path").fetchone()[0] == '"$user", public'
    finally:
        for raw in borrowed:
            the_pool.putconn(raw)
    # and the community's writer lock is free: another writer goes on at once
    conn = db.connect(district.community_url(served["url"], "LH"), migrate=False, busy_timeout=1)
    with db.transaction(conn):
        conn.execute("UPDATE devices SET label = label")
    conn.close()
