"""Failover, end to end with real processes and two real PostgreSQL clusters on this machine: the
office serves a store on a primary with an asynchronous streaming replica; two tablets redeem and
sync; the replica catches up, then falls behind (stopped: its network "down") while the tablets
go on and the primary acknowledges more; the primary crashes (pg_ctl stop -m immediate); the
replica is promoted, ``office failover`` records it and the office serves the new primary on
the same address. The tablets sync again: what the old primary acknowledged but never streamed
comes back from them, and every acknowledged event is in the new primary exactly once."""

from __future__ import annotations

import json
import time

import pytest

from bank import db, replication
from sync import home as home_mod, replica as device_replica
from tests import pg_kit
from tests.sync.kit import build

from .conftest import Server, cli, enrol_cli, outbox_journal

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


def _sync(home) -> dict:
    return json.loads(cli("sync", "--home", home, "--json", timeout=120).stdout)


def _redeem(home, card, offer, n=1):
    for _ in range(n):
        cli("terminal", "redeem", "--home", home, "--card", card, "--offer", offer)


def _acked(home) -> int:
    conn = home_mod.open_home(home).replica()
    try:
        return device_replica.state(conn, "acked_seq")
    finally:
        conn.close()


def _held(url: str, device_id: str) -> list[tuple]:
    conn = db.connect(url, migrate=False)
    try:
        return [tuple(r) for r in conn.execute("SELECT seq, hash, kind FROM device_events WHERE device_id = ? "
                                                "ORDER BY seq", (device_id,))]
    finally:
        conn.close()


@pytest.fixture
def clusters():
    with pg_kit.streaming_pair() as both:
        yield both


def test_failover_to_the_replica_loses_no_acknowledged_event(clusters, tmp_path, monkeypatch):
    primary, standby = clusters
    monkeypatch.setenv("MPB_KEY_DIR", str(tmp_path / "keys"))     # the office's keys (and its certificate)
    name = primary.new_database()
    old_url, new_url = primary.url(name, pg_kit.APP), standby.url(name, pg_kit.APP)
    town = build(old_url)
    server = Server(old_url, tmp_path / "server.log", extra=["--read-replica", new_url]).start()
    noodles, pharmacy = tmp_path / "noodles", tmp_path / "pharmacy"
    try:
        assert "只读副本 (read replica)" in (tmp_path / "server.log").read_text()
        enrol_cli(town, server, noodles, town.noodles)
        enrol_cli(town, server, pharmacy, town.pharmacy)
        _redeem(noodles, town.rich[2], town.bowl, 2)
        _redeem(pharmacy, town.rich[2], town.masks)
        for home in (noodles, pharmacy):
            _sync(home)
        lag = pg_kit.wait_caught_up(primary, standby)
        print(f"replica caught up {lag * 1000:.0f} ms after the last sync")

        pg_kit.stop_cluster(standby)                 # the replica falls behind from here
        _redeem(noodles, town.rich[2], town.beef)
        _redeem(pharmacy, town.poor[2], town.masks)
        for home in (noodles, pharmacy):
            _sync(home)
        acked = {home: _acked(home) for home in (noodles, pharmacy)}
        assert acked == {noodles: 3, pharmacy: 2}    # the old primary acknowledged all of it

        crashed = time.monotonic()
        pg_kit.stop_cluster(primary, "immediate")    # the primary's machine dies
        server.stop()
        pg_kit.start_cluster(standby)                # still a standby, its primary gone
        refused = cli("office", "failover", "--db", new_url, "--by", "演练", check=1)
        assert "仍是只读副本" in refused.stderr and "promote" in refused.stderr

        promoting = time.monotonic()
        pg_kit.promote(standby)
        print(f"pg_ctl promote took {(time.monotonic() - promoting) * 1000:.0f} ms")
        done = cli("office", "failover", "--db", new_url, "--by", "演练", "--old-primary", old_url)
        assert "已记录故障切换" in done.stdout and "serve --db" in done.stdout and "重新上传" in done.stdout
        server.db_path, server.extra = new_url, []   # the same address, the new primary
        server.start()
        print(f"failover: {time.monotonic() - crashed:.1f} s from the crash to the office serving the new primary")

        resent = {home: _sync(home)["resent"] for home in (noodles, pharmacy)}
        assert resent == {noodles: 1, pharmacy: 1}   # what the replica never received came back
        again = {home: _sync(home) for home in (noodles, pharmacy)}
        assert all(r["resent"] == 0 and r["pending"] == 0 for r in again.values())
    finally:
        server.stop()

    office = db.connect(new_url, migrate=False)
    try:
        assert office.execute("SELECT ref FROM ledger_entries WHERE ref LIKE 'dev:%' GROUP BY ref "
                              "HAVING count(*) > 1").fetchall() == []
        for home, n in ((noodles, 3), (pharmacy, 2)):
            h = home_mod.open_home(home)
            journal = outbox_journal(home)
            assert len(journal) == n and _held(new_url, h.device_id) == journal
            refs = {r[0] for r in office.execute("SELECT ref FROM ledger_entries WHERE device_id = ?", (h.device_id,))}
            assert refs == {f"dev:{h.device_id}:{seq}" for seq, _hash, _kind in journal}
        (record,) = replication.failovers(office)
        assert record.actor == "演练" and json.loads(record.detail)["timeline"] == 2
        assert office.execute("SELECT count(*) FROM store_restores").fetchone()[0] == 1
        balances = dict(office.execute("SELECT account_id, sum(points) FROM ledger_entries GROUP BY account_id"))
        assert balances[town.rich[0]] == 100 - 6 - 6 - 8 - 12
        assert balances[town.poor[0]] == 20 - 8
    finally:
        office.close()
