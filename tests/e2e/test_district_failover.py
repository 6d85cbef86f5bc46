"""Failover of a whole district store, with two real PostgreSQL clusters on this machine: a
district of two communities on a primary with a streaming replica; the primary crashes, the
replica is promoted, and ``python -m office failover`` on the district store records it in
every community (its audit log and a new pull epoch, so each community's devices take a full pull
and re-send what the lost primary had acknowledged); the district server then serves both
communities from the new primary, their people logging in and the office writing there. A
failover run again (the operator not sure it took) records it once more and breaks nothing.
(One community's failover with tablets re-sending their events: tests/e2e/test_failover.py.)"""

from __future__ import annotations

import re
import warnings

import pytest

from bank import audit, db, district, keystore, replication, users
from office import district_server
from tests import district_kit, pg_kit

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

CODES = ("LH", "JS")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def clusters():
    with pg_kit.streaming_pair() as both:
        yield both


def _epochs(url: str) -> list[str]:
    conn = db.connect(url, migrate=False)
    try:
        return [r[0] for r in conn.execute("SELECT epoch FROM store_restores ORDER BY restore_id")]
    finally:
        conn.close()


def _failovers(url: str) -> list[audit.AuditRecord]:
    conn = db.connect(url, migrate=False)
    try:
        return replication.failovers(conn)
    finally:
        conn.close()


def test_a_district_fails_over_to_its_replica_in_every_community(clusters, tmp_path):
    primary, replica = clusters
    name = "district"
    with primary.admin() as conn:       # no drop at the end: the primary is gone by then
        conn.execute(f"CREATE DATABASE {name} OWNER {pg_kit.OWNER}")
    owner = primary.url(name, pg_kit.OWNER)
    keys = keystore.KeyStore(tmp_path / "keys")
    district.create(owner, app_role=pg_kit.APP)
    for code in CODES:
        district.add_community(owner, code=code, name=f"{code}社区", compounds=district_kit.COMPOUNDS,
                               now=district_kit.T0, keys=keys, app_role=pg_kit.APP)
        conn = db.connect(district.community_url(primary.url(name, pg_kit.APP), code), migrate=False)
        with db.transaction(conn):
            users.add_user(conn, name="王主任", role="office", password=district_kit.PASSWORD)
            audit.record(conn, "测试", "login", f"{code}切换前")
        conn.close()
    old_url, new_url = primary.url(name, pg_kit.APP), replica.url(name, pg_kit.APP)
    pg_kit.wait_caught_up(primary, replica)
    before = {code: _epochs(district.community_url(new_url, code)) for code in CODES}

    # still a standby: refused, nothing written
    refused = district_kit.run("failover", "--db", new_url, "--by", "演练", check=1, key_dir=tmp_path / "keys")
    assert "仍是只读副本" in refused.stdout + refused.stderr

    pg_kit.stop_cluster(primary, "immediate")      # the primary crashes
    pg_kit.promote(replica)
    done = district_kit.run("failover", "--db", new_url, "--by", "演练", "--old-primary", old_url, check=0,
                            key_dir=tmp_path / "keys")
    assert f"已写入{len(CODES)} 个社区的操作记录" in done.stdout and "现在是主库" in done.stdout
    for code in CODES:
        url = district.community_url(new_url, code)
        records = _failovers(url)
        assert len(records) == 1 and records[0].actor == "演练"
        epochs = _epochs(url)
        assert epochs[:-1] == before[code] and len(epochs) == len(before[code]) + 1    # a new epoch each
    assert len({_epochs(district.community_url(new_url, code))[-1] for code in CODES}) == len(CODES)

    again = district_kit.run("failover", "--db", new_url, "--by", "演练", check=0, key_dir=tmp_path / "keys")
    assert "现在是主库" in again.stdout
    assert all(len(_failovers(district.community_url(new_url, code))) == 2 for code in CODES)

    # the district server on the new primary: every community's people log in (a session written
    # there) and see the failover and their own community's records only
    app = district_server.create_district_app(new_url, keys)
    with TestClient(app, follow_redirects=False) as tc:
        for code in CODES:
            prefix = f"/c/{code}"
            page = tc.get(prefix + "/login")
            r = tc.post(prefix + "/login", data={"csrf": CSRF.search(page.text)[1], "name": "王主任",
                                                 "password": district_kit.PASSWORD, "next": "/"})
            assert r.status_code == 303, r.text[:300]
            trail = tc.get(prefix + "/audit")
            assert trail.status_code == 200 and f"{code}切换前" in trail.text
            assert "数据库故障切换" in trail.text
            other = "JS" if code == "LH" else "LH"
            assert f"{other}切换前" not in trail.text
            assert tc.get(prefix + "/api/v1/health").status_code == 200
