"""Kill -9 the office server and, separately, the sync client at random points during push and
pull; after a clean sync nothing is lost or doubled and the replica equals the office."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from bank import accounts, cards, clock, db, ledger, policy
from sync import home as home_mod, replica

from .conftest import ROOT, cli, enrol_cli

pytestmark = pytest.mark.slow

KILLS = 20
EVENTS_PER_ROUND = 1000


def _grow(town, extra_accounts: int = 6000) -> None:
    """More accounts make a full pull big enough to be killed in the middle of."""
    conn = db.connect(town.path)
    with db.transaction(conn):
        for n in range(extra_accounts):
            aid = accounts.open_account(conn, kind="single", holder=f"居民{n}", compound_id=1, building=1 + n % 9,
                                        unit=1, room=str(n), now=clock.now_utc())
            cards.issue(conn, aid)
            ledger.record_adjustment(conn, aid, 10 + n % 50, recorded_by="test", note="opening")
        ledger.record_adjustment(conn, town.rich[0], 10**6, recorded_by="test", note="plenty for the test")
        # this test is about durability, not the offline policy: every event must be booked
        policy.set_policy(conn, None, per_card_daily_cap=10**6, unsynced_cap=10**6)
    conn.close()


def _add_events(h, town, n: int) -> None:
    conn = h.replica()
    now = clock.now_utc()
    with replica._txn(conn):
        for _ in range(n):
            replica.record(conn, "redemption", {"card": town.rich[1], "card_version": 1, "offer": town.bowl,
                                                "qty": 1, "points": 6, "receipt": None, "proof": "", "auth": None},
                           now=now, card_id=town.rich[1], account_id=town.rich[0], points=6, card_text=town.rich[2])
    conn.close()


@pytest.mark.engines("sqlite", "postgresql")
def test_kill_nine_at_random_points(town, server, tmp_path, engine):
    # on PostgreSQL fewer rounds: the server's side of durability is the database's own (its
    # commit is durable before the push is answered); what is tested is the same protocol
    kills = KILLS if engine == "sqlite" else KILLS // 2
    _grow(town)
    home = tmp_path / "tablet"
    enrol_cli(town, server, home, town.noodles)
    h = home_mod.open_home(home)
    rng = random.Random(20261126)
    mid_flight = {"server": 0, "client": 0}
    # Calibrate: how long one sync of a round's work takes here (start-up, push, full pull).
    _add_events(h, town, EVENTS_PER_ROUND)
    conn = h.replica()
    replica.set_state(conn, cursor=None)
    conn.close()
    started = time.monotonic()
    cli("sync", "--home", home, "--json")
    span = time.monotonic() - started
    for round_ in range(kills):
        _add_events(h, town, EVENTS_PER_ROUND)
        if round_ % 3 == 0:
            conn = h.replica()
            replica.set_state(conn, cursor=None)      # make this round pull a full snapshot
            conn.close()
        client = subprocess.Popen([sys.executable, "-m", "sync", "--home", str(home), "--json"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.15, span))          # most of the span is interpreter start-up
        if round_ % 2 == 0:
            if client.poll() is None:
                mid_flight["server"] += 1
            server.kill9()
            client.wait(30)
            server.start()
        else:
            if client.poll() is None:
                mid_flight["client"] += 1
                os.kill(client.pid, signal.SIGKILL)
            client.wait(30)
    # now a clean sync, twice (the second must change nothing)
    cli("sync", "--home", home, "--json", timeout=120)
    cli("sync", "--home", home, "--json", timeout=120)
    total = (kills + 1) * EVENTS_PER_ROUND
    office = db.connect(town.path)
    conn = h.replica()
    try:
        assert conn.execute("SELECT count(*), sum(acked) FROM outbox").fetchone() == (total, total)
        local = conn.execute("SELECT seq, hash FROM outbox ORDER BY seq").fetchall()
        held = office.execute("SELECT seq, hash FROM device_events WHERE device_id = ? ORDER BY seq",
                              (h.device_id,)).fetchall()
        assert [tuple(r) for r in held] == [tuple(r) for r in local]
        assert office.execute("SELECT count(*) FROM ledger_entries WHERE ref LIKE ?",
                              (f"dev:{h.device_id}:%",)).fetchone()[0] == total
        balances = dict(office.execute("SELECT account_id, sum(points) FROM ledger_entries GROUP BY account_id"))
        replica_ids = [r[0] for r in conn.execute("SELECT account_id FROM accounts")]
        assert len(replica_ids) == office.execute("SELECT count(*) FROM accounts").fetchone()[0]
        assert all(replica.spendable(conn, aid) == balances.get(aid, 0) for aid in replica_ids)
        office_cards = {tuple(r) for r in office.execute(
            "SELECT card_id, version, account_id FROM cards WHERE status = 'active'")}
        assert {tuple(r) for r in conn.execute("SELECT card_id, version, account_id FROM cards")} == office_cards
        if engine == "sqlite":
            assert office.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        office.close()
        conn.close()
    print(f"sync span {span:.2f} s; kills that landed mid-sync: {mid_flight}")
    assert mid_flight["server"] + mid_flight["client"] >= kills // 3
