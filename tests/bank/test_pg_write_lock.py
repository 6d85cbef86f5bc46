"""The writer's lock on PostgreSQL is one per schema: in a district store (one schema per
community) community A's writer does not wait for community B's, while two writers of one
community still take turns (the bank's read-check-write steps rely on that)."""

from __future__ import annotations

import threading
import time

import pytest

from bank import audit, db, district
from tests import district_kit


@pytest.fixture(scope="module")
def two_communities(pg_server, request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lock")
    owner, app = district_kit.new_database(pg_server, request)
    from tests import pg_kit
    from bank import keystore
    keys = keystore.KeyStore(tmp / "keys")
    district.create(owner, app_role=pg_kit.APP)
    for code in ("LH", "JS"):
        district.add_community(owner, code=code, name=f"{code}社区", compounds=district_kit.COMPOUNDS,
                               now=district_kit.T0, keys=keys, app_role=pg_kit.APP)
    return {code: district.community_url(app, code) for code in ("LH", "JS")}


def test_one_communitys_writer_does_not_block_anothers(two_communities):
    a = db.connect(two_communities["LH"], migrate=False)
    b = db.connect(two_communities["JS"], migrate=False, busy_timeout=2)
    try:
        with db.transaction(a):
            audit.record(a, "王主任", "login", "LH")        # A holds its write transaction open ...
            started = time.perf_counter()
            with db.transaction(b):                        # ... and B writes meanwhile
                audit.record(b, "王主任", "login", "JS")
            waited = time.perf_counter() - started
        assert waited < 1.0
        assert b.execute("SELECT count(*) FROM audit_log WHERE target = 'JS'").fetchone()[0] == 1
    finally:
        a.close()
        b.close()


def test_two_writers_of_one_community_still_take_turns(two_communities):
    first = db.connect(two_communities["LH"], migrate=False)
    second = db.connect(two_communities["LH"], migrate=False, busy_timeout=0.3)
    try:
        with db.transaction(first):
            audit.record(first, "王主任", "login", "first")
            with pytest.raises(Exception) as refused:       # the lock timeout: "busy, retry" upstream
                with db.transaction(second):
                    audit.record(second, "王主任", "login", "second")
            assert db.is_busy(refused.value)
            assert not second.in_transaction               # a writer that gave up holds nothing
        # and a waiting writer goes on as soon as the first commits
        done = threading.Event()
        patient = db.connect(two_communities["LH"], migrate=False, busy_timeout=5)

        def write():
            with db.transaction(patient):
                audit.record(patient, "王主任", "login", "patient")
            done.set()
        with db.transaction(first):
            worker = threading.Thread(target=write)
            worker.start()
            time.sleep(0.3)
            assert not done.is_set()                       # it waits for the first writer ...
        worker.join(5)
        assert done.is_set()                               # ... and writes once it has committed
        patient.close()
    finally:
        first.close()
        second.close()
