"""The restore drill, end to end with real processes: the office serves, two tablets and a kiosk
redeem, record and sync; a backup is made while the server runs; work goes on; the office is
stopped and restored from the backup; served again, every device syncs. Every redemption and
entry any device was ever told was acknowledged is in the office exactly once, and each device's
journal and the office's chain for it are the same."""

from __future__ import annotations

import json

import pytest

from bank import alerts, clock, db
from kiosk import residents as kiosk_residents, staff as kiosk_staff
from sync import home as home_mod, replica

from tests.kiosk.conftest import make_town

from .conftest import Server, cli, enrol_cli, outbox_journal

pytestmark = pytest.mark.slow


def _enrol_kiosk(kt, server, home):
    code = cli("office", "enrol", "--db", kt.path, "--kiosk", 1).stdout.strip().splitlines()[-1]
    cli("kiosk", "enrol", "--home", home, "--server", server.url, "--code", code)


def _redeem(home, card, offer, n=1):
    for _ in range(n):
        cli("terminal", "redeem", "--home", home, "--card", card, "--offer", offer)


def _award(home, account_id, staff_qr):
    """A review-group member opens a session (their card and PIN, checked by the office online) and
    records a small award at the kiosk (the kiosk engine, as its screen does)."""
    from sync import client
    from tests.kiosk.conftest import STAFF_PIN
    h = home_mod.open_home(home)
    conn = h.replica()
    try:
        member = kiosk_staff.staff_login(h, conn, client.transport_for(h), kiosk_residents.identify(conn, staff_qr),
                                          STAFF_PIN, clock.now_utc())
        item = next(i for _p, items in kiosk_staff.items_for(conn, account_id, clock.now_utc()) for i in items
                    if 0 < i.points <= 3 and not i.full)
        kiosk_staff.record_entry(conn, member, account_id, item.code, note="演练", now=clock.now_utc())
    finally:
        conn.close()


def _sync(home) -> dict:
    return json.loads(cli("sync", "--home", home, "--json", timeout=120).stdout)


def test_restore_drill_loses_nothing_and_doubles_nothing(tmp_path):
    kt = make_town(tmp_path / "office.sqlite")
    town = kt.town
    server = Server(kt.path, tmp_path / "server.log").start()
    try:
        noodles, pharmacy, kiosk = tmp_path / "noodles", tmp_path / "pharmacy", tmp_path / "kiosk"
        enrol_cli(town, server, noodles, town.noodles)
        enrol_cli(town, server, pharmacy, town.pharmacy)
        _enrol_kiosk(kt, server, kiosk)
        zhao = kt.staff[2][1]              # the member's staff card
        _redeem(noodles, town.rich[2], town.bowl, 2)
        _redeem(pharmacy, town.rich[2], town.masks)
        _award(kiosk, town.poor[0], zhao)
        for home in (noodles, pharmacy, kiosk):
            _sync(home)

        out = cli("office", "backup", "--db", kt.path, "--to", tmp_path / "second-disk", "--keep", 7)
        (backup_file,) = (tmp_path / "second-disk").iterdir()
        assert "检查通过" in out.stdout

        _redeem(noodles, town.rich[2], town.beef)
        _redeem(pharmacy, town.poor[2], town.masks)
        _award(kiosk, town.rich[0], zhao)
        for home in (noodles, pharmacy, kiosk):
            _sync(home)
        _redeem(noodles, town.rich[2], town.bowl)          # pushed at once, no sync after it
        acked = {home: replica.state(home_mod.open_home(home).replica(), "acked_seq") for home in
                 (noodles, pharmacy, kiosk)}
        assert acked == {noodles: 4, pharmacy: 2, kiosk: 2}

        refused = cli("office", "restore", "--from", backup_file, "--db", kt.path, "--yes", check=1)
        assert "正在使用" in refused.stderr
        server.stop()
        plan = cli("office", "restore", "--from", backup_file, "--db", kt.path, check=1)
        assert "将被替换" in plan.stdout and "--yes" in plan.stderr
        cli("office", "restore", "--from", backup_file, "--db", kt.path, "--yes", "--by", "演练")
        server.start()

        resent = {home: _sync(home)["resent"] for home in (noodles, pharmacy, kiosk)}
        assert resent == {noodles: 2, pharmacy: 1, kiosk: 1}
        again = {home: _sync(home) for home in (noodles, pharmacy, kiosk)}
        assert all(r["resent"] == 0 and r["pending"] == 0 for r in again.values())
    finally:
        server.stop()

    office = db.connect(kt.path)
    try:
        assert office.execute("SELECT ref FROM ledger_entries WHERE ref LIKE 'dev:%' GROUP BY ref "
                              "HAVING count(*) > 1").fetchall() == []
        for home in (noodles, pharmacy, kiosk):
            h = home_mod.open_home(home)
            journal = outbox_journal(home)
            held = [tuple(r) for r in office.execute(
                "SELECT seq, hash, kind FROM device_events WHERE device_id = ? ORDER BY seq", (h.device_id,))]
            assert held == journal and len(journal) == {noodles: 4, pharmacy: 2, kiosk: 2}[home]
            refs = {r[0] for r in office.execute("SELECT ref FROM ledger_entries WHERE device_id = ?", (h.device_id,))}
            assert refs == {f"dev:{h.device_id}:{seq}" for seq, _hash, _kind in journal}
            assert office.execute("SELECT count(*) FROM device_events WHERE device_id = ? AND entry_id IS NULL",
                                  (h.device_id,)).fetchone()[0] == 0
        balances = dict(office.execute("SELECT account_id, sum(points) FROM ledger_entries GROUP BY account_id"))
        tab = home_mod.open_home(noodles).replica()
        assert all(replica.spendable(tab, a) == balances.get(a, 0)
                   for (a,) in tab.execute("SELECT account_id FROM accounts"))
        assert balances[town.rich[0]] == 100 - 6 - 6 - 8 - 12 - 6 + _award_points(office, town.rich[0])
        behind = {a.device_id for a in alerts.open_alerts(office, "office_behind")}
        assert behind == {home_mod.open_home(h).device_id for h in (noodles, pharmacy, kiosk)}
        assert alerts.open_alerts(office, "chain_gap") == [] and alerts.open_alerts(office, "unsettled_event") == []
        assert office.execute("SELECT count(*) FROM store_restores").fetchone()[0] == 1
        assert office.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        office.close()


def _award_points(office, account_id) -> int:
    return office.execute("SELECT coalesce(sum(points), 0) FROM ledger_entries WHERE account_id = ? AND kind = 'award' "
                          "AND ref LIKE 'dev:K%'", (account_id,)).fetchone()[0]
