"""Several processes of one tablet at once (the app's background syncer, a redemption's immediate
push, ``python -m sync`` from a timer) against a real office server: no request is refused as a
replay, because one lock per device home orders the signed requests. Before the lock, 4 of 120
concurrent syncs (13 of 120 under load) were refused ``replayed_request`` and exited 1."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from bank import db
from sync import home as home_mod

from .conftest import ROOT, cli, enrol_cli

pytestmark = pytest.mark.slow

ROUNDS = 30


def _refusals_in(log_text: str) -> list[dict]:
    """Every request the server answered with 401 (the replay refusal's status) in its JSON log."""
    out = []
    for line in log_text.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            entry = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("status") == 401:
            out.append(entry)
    return out


def test_four_processes_of_one_tablet_never_see_a_replay_refusal(town, server, tmp_path):
    from bank import ledger, policy
    conn = db.connect(town.path)
    with db.transaction(conn):     # enough points and daily room for every round's redemption
        ledger.record_adjustment(conn, town.rich[0], 10_000, recorded_by="test", note="plenty")
        policy.set_policy(conn, None, per_card_daily_cap=1000)
    conn.close()
    home = tmp_path / "tablet"
    enrol_cli(town, server, home, town.noodles)
    cli("sync", "--home", home)
    results: list = []

    def cli_loop():                # python -m sync, as the nightly timer or a person runs it
        for _ in range(ROUNDS):
            r = subprocess.run([sys.executable, "-m", "sync", "--home", str(home), "--json"], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
            results.append(("cli", r.returncode, r.stdout.strip() or r.stderr.strip()))

    def worker(*extra):            # a long-lived process: the app's syncer, with redemptions
        r = subprocess.run([sys.executable, "-m", "tests.e2e.sync_worker", str(home), str(ROUNDS), *extra],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
        results.append(("worker", r.returncode, r.stdout.strip() or r.stderr.strip()))

    threads = [threading.Thread(target=cli_loop), threading.Thread(target=cli_loop),
               threading.Thread(target=worker),
               threading.Thread(target=worker, args=(town.rich[2], str(town.bowl)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [r for r in results if r[1] != 0]
    assert failed == [] and len(results) == 2 * ROUNDS + 2, failed
    assert _refusals_in(server.log_path.read_text("utf-8", "replace")) == []
    redeemed = json.loads([r for r in results if r[0] == "worker" and '"redeemed": 30' in r[2]][0][2])
    assert redeemed["refused"] == []
    # every redemption is at the office once, and the chain there is the tablet's
    cli("sync", "--home", home)
    h = home_mod.open_home(home)
    local = [tuple(r) for r in h.replica().execute("SELECT seq, hash FROM outbox ORDER BY seq")]
    conn = db.connect(town.path)
    try:
        held = [tuple(r) for r in conn.execute("SELECT seq, hash FROM device_events WHERE device_id = ? ORDER BY seq",
                                               (h.device_id,))]
        refs = conn.execute("SELECT count(*), count(DISTINCT ref) FROM ledger_entries WHERE ref LIKE ?",
                            (f"dev:{h.device_id}:%",)).fetchone()
    finally:
        conn.close()
    assert len(local) == ROUNDS and held == local and tuple(refs) == (ROUNDS, ROUNDS)
