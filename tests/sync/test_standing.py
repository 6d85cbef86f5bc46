"""Where a device's chain stands against the office's: compared at every sync. A device behind the
office (its replica an old copy) or forked from it stops; an office behind the device (restored
from an older backup) gets the events again and books each once; a range neither end still holds
is an alert at both ends. Never a silent gap."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from bank import alerts, clock, db, policy
from kiosk import residents as kiosk_residents, staff as kiosk_staff, status as kiosk_status
from terminal import redeem as engine
from kiosk.__main__ import main as kiosk_main
from sync import client, replica
from sync.__main__ import main as sync_main
from sync.faults import DeviceFault
from terminal.__main__ import main as terminal_main
from terminal.flow import Step, TerminalFlow

from tests.sync.kit import enrol_tablet, office_balance

# The sync suite runs on both office engines (tests/conftest.py: town, store_location).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _down():
    class Down:
        def post(self, *a):
            raise client.Unreachable("down", "down")
    return Down()


def _copy_sqlite(src, dst) -> None:
    """A consistent copy of a live SQLite file (the backup API), as a backup tool would make."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def _put_back(copy, path) -> None:
    """Replace a device's replica file by an older copy, as restoring a tablet's backup would."""
    for suffix in ("-wal", "-shm"):
        (path.parent / (path.name + suffix)).unlink(missing_ok=True)
    shutil.copy(copy, path)


def _alerts(path, kind):
    conn = db.connect(path)
    try:
        return alerts.open_alerts(conn, kind)
    finally:
        conn.close()


def _refs(path, device_id):
    conn = db.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT ref FROM ledger_entries WHERE ref LIKE ? ORDER BY entry_id",
                                           (f"dev:{device_id}:%",))]
    finally:
        conn.close()


def _redeem(h, town, transport, n=1, now=None):
    for _ in range(n):
        engine.redeem(h, town.rich[2], town.bowl, now=now or clock.now_utc(), transport=transport)


@pytest.fixture
def tab(town, hub, tmp_path):
    return enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)


def test_a_replica_put_back_from_an_old_copy_stops_and_both_ends_say_so(town, hub, tab, tmp_path):
    _redeem(tab, town, hub)
    old = tmp_path / "old-replica.sqlite"
    _copy_sqlite(tab.path / "replica.sqlite", old)
    _redeem(tab, town, hub, 2)
    ledger_before = _refs(town.path, tab.device_id)
    assert ledger_before == [f"dev:{tab.device_id}:{n}" for n in (1, 2, 3)]
    _put_back(old, tab.path / "replica.sqlite")
    for _attempt in range(2):      # and it stays stopped
        with pytest.raises(DeviceFault) as exc:
            client.sync_once(tab, hub)
        assert exc.value.code == "device_behind" and exc.value.values == {"office_seq": 3, "device_seq": 1}
        assert "第 3 条" in exc.value.zh and "第 1 条" in exc.value.zh and "重新登记" in exc.value.zh
    (alert,) = _alerts(town.path, "device_behind")       # one alert, not one per sync
    assert alert.device_id == tab.device_id and json.loads(alert.detail)["missing"] == [2, 3]
    with pytest.raises(DeviceFault) as exc:
        _redeem(tab, town, _down())
    assert exc.value.code == "device_behind"
    status = engine.status(tab)
    assert not status["can_redeem"] and status["cannot_redeem"]["code"] == "device_behind"
    assert status["fault"]["code"] == "device_behind" and status["acked_seq"] == 3 and status["last_seq"] == 1
    out = CliRunner().invoke(sync_main, ["--home", str(tab.path)])
    assert out.exit_code == 1 and out.output.strip().count("\n") == 0 and "旧副本" in out.output
    assert "device_behind" in CliRunner().invoke(terminal_main, ["status", "--home", str(tab.path)]).output
    flow = TerminalFlow(tab.path, transport=hub)
    assert flow.step is Step.SCAN and not flow.scan(town.rich[2]) and flow.message.code == "device_behind"
    assert flow.sync_line().code == "device_behind" and flow.sync_line().level == "error"
    assert _refs(town.path, tab.device_id) == ledger_before and office_balance(town.path, town.rich[0]) == 82


def test_a_put_back_replica_that_redeems_again_forks_and_stops(town, hub, tab, tmp_path):
    _redeem(tab, town, hub)
    old = tmp_path / "old-replica.sqlite"
    _copy_sqlite(tab.path / "replica.sqlite", old)
    _redeem(tab, town, hub)
    _put_back(old, tab.path / "replica.sqlite")
    _redeem(tab, town, _down())               # offline: it cannot know yet; seq 2 again, other content
    with pytest.raises(DeviceFault) as exc:
        client.sync_once(tab, hub)
    assert exc.value.code == "chain_forked" and exc.value.values == {"seq": 2}
    assert [a.device_id for a in _alerts(town.path, "chain_fork")] == [tab.device_id]
    with pytest.raises(DeviceFault):
        _redeem(tab, town, _down())
    with pytest.raises(DeviceFault):           # nothing more is pushed: no second fork alert
        client.sync_once(tab, hub)
    assert len(_alerts(town.path, "chain_fork")) == 1
    assert _refs(town.path, tab.device_id) == [f"dev:{tab.device_id}:1", f"dev:{tab.device_id}:2"]


def _restore_office(copy, town) -> None:
    """Put an older copy of the office store back under the running in-process office."""
    _copy_sqlite(copy, town.path)


def test_an_office_restored_from_an_older_copy_gets_the_events_again_each_booked_once(town, hub, tab, tmp_path):
    _redeem(tab, town, hub, 2)
    copy = tmp_path / "office-copy.sqlite"
    _copy_sqlite(town.path, copy)
    _redeem(tab, town, hub, 3)
    client.sync_once(tab, hub)
    assert replica.state(tab.replica(), "acked_seq") == 5
    _restore_office(copy, town)
    assert len(_refs(town.path, tab.device_id)) == 2

    # nothing pending: the pull shows the office holds 2, the device re-sends 3..5
    result = client.sync_once(tab, hub)
    assert (result.resent, result.acked_seq, result.last_seq, result.pending) == (3, 5, 5, 0)
    assert _refs(town.path, tab.device_id) == [f"dev:{tab.device_id}:{n}" for n in range(1, 6)]
    assert office_balance(town.path, town.rich[0]) == 100 - 5 * 6
    assert replica.spendable(tab.replica(), town.rich[0]) == 70
    (alert,) = _alerts(town.path, "office_behind")
    assert json.loads(alert.detail)["missing"] == [3, 5]
    assert client.sync_once(tab, hub).resent == 0 and len(_alerts(town.path, "office_behind")) == 1
    assert not _alerts(town.path, "chain_gap")

    # restored again while the device holds a new event: the push says what the device believes
    # acknowledged, the office answers what it holds, the device re-sends from there
    _restore_office(copy, town)
    _redeem(tab, town, _down())
    result = client.sync_once(tab, hub)
    assert (result.resent, result.acked_seq, result.pending) == (3, 6, 0)
    assert _refs(town.path, tab.device_id) == [f"dev:{tab.device_id}:{n}" for n in range(1, 7)]
    assert office_balance(town.path, town.rich[0]) == 100 - 6 * 6
    assert not _alerts(town.path, "chain_gap")


def test_events_past_retention_are_forgotten_and_a_range_neither_end_holds_is_an_alert_at_both(
        town, hub, tab, tmp_path, now):
    conn = db.connect(town.path)
    with db.transaction(conn):
        policy.set_policy(conn, None, retention_days=1)
    conn.close()
    client.sync_once(tab, hub, now=now())
    assert engine.policy(tab).retention_days == 1
    _redeem(tab, town, _down(), 1, now=now())
    copy = tmp_path / "office-copy.sqlite"
    client.sync_once(tab, hub, now=now())
    _copy_sqlite(town.path, copy)                       # the office holds 1
    _redeem(tab, town, _down(), 2, now=now())
    now.advance(days=2)                                 # the office and the tablet, two days on
    assert client.sync_once(tab, hub, now=now()).pruned == 2   # 1 and 2 are gone, 3 stays: the chain's head
    conn = tab.replica()
    assert [r[0] for r in conn.execute("SELECT seq FROM outbox")] == [3]
    _redeem(tab, town, hub, now=now())                  # 4 follows 3: the chain still joins
    assert _refs(town.path, tab.device_id)[-1] == f"dev:{tab.device_id}:4"
    result = client.sync_once(tab, hub, now=now())
    assert result.pruned == 1 and [r[0] for r in conn.execute("SELECT seq FROM outbox")] == [4]

    _restore_office(copy, town)                          # the office lost 2..4; the device holds only 4
    with pytest.raises(client.Refused) as exc:
        client.sync_once(tab, hub, now=now())
    assert exc.value.code == "office_missing_events" and "第 2 至 3 条" in exc.value.zh
    (alert,) = _alerts(town.path, "office_behind")
    assert json.loads(alert.detail)["missing"] == [2, 4]
    assert [r[0] for r in conn.execute("SELECT seq FROM outbox")] == [4]     # kept for the office


def test_sync_json_reports_the_real_acknowledged_sequence(town, hub, tab, monkeypatch):
    _redeem(tab, town, hub, 2)                     # pushed at once: nothing left for the next sync
    import sync.__main__ as sync_cli
    monkeypatch.setattr(sync_cli.client, "transport_for", lambda home, timeout: hub)
    out = CliRunner().invoke(sync_main, ["--home", str(tab.path), "--json"])
    result = json.loads(out.output)
    assert result["ok"] and result["pushed"] == 0 and (result["acked_seq"], result["last_seq"]) == (2, 2)


def test_a_kiosk_status_never_claims_it_can_redeem(kt, hub, tmp_path):
    from tests.kiosk.conftest import enrol_kiosk
    home = enrol_kiosk(kt.path, hub, tmp_path / "kiosk")
    as_tablet = engine.status(home)
    assert as_tablet["can_redeem"] is False and as_tablet["cannot_redeem"]["code"] == "not_a_tablet"
    out = CliRunner().invoke(terminal_main, ["status", "--home", str(home.path)]).output
    assert "不能兑换" in out and "可以兑换" not in out
    status = kiosk_status.status(home)
    assert status["can_redeem"] is False and status["can_record"] is True and status["kind"] == "kiosk"
    out = CliRunner().invoke(kiosk_main, ["status", "--home", str(home.path)])
    assert out.exit_code == 0 and "可以记分" in out.output and "一体机不兑换" in out.output
    assert json.loads(CliRunner().invoke(kiosk_main, ["status", "--home", str(home.path), "--json"]).output)[
        "compound"] == "龙海花园"


@pytest.fixture
def kt(tmp_path):
    from tests.kiosk.conftest import make_town
    return make_town(tmp_path / "office.sqlite")


@pytest.fixture
def town(kt):
    return kt.town


def test_a_kiosk_put_back_from_an_old_copy_stops_recording_and_says_so(kt, hub, tmp_path):
    from kiosk.flow import KioskFlow
    from tests.kiosk.conftest import enrol_kiosk
    home = enrol_kiosk(kt.path, hub, tmp_path / "kiosk")
    conn = home.replica()
    from tests.kiosk.conftest import STAFF_PIN
    zhao = kiosk_staff.staff_login(home, conn, hub, kiosk_residents.identify(conn, kt.staff[2][1]), STAFF_PIN,
                                    clock.now_utc())       # a session the office opened online
    item = lambda account: next(i for _p, items in kiosk_staff.items_for(conn, account, clock.now_utc())  # noqa: E731
                                for i in items if 0 < i.points <= 3 and not i.full)
    kiosk_staff.record_entry(conn, zhao, kt.town.poor[0], item(kt.town.poor[0]).code, now=clock.now_utc())
    client.sync_once(home, hub)
    old = tmp_path / "old-replica.sqlite"
    _copy_sqlite(home.path / "replica.sqlite", old)
    kiosk_staff.record_entry(conn, zhao, kt.town.rich[0], item(kt.town.rich[0]).code, now=clock.now_utc())
    client.sync_once(home, hub)
    conn.close()
    _put_back(old, home.path / "replica.sqlite")
    with pytest.raises(DeviceFault):
        client.sync_once(home, hub)
    assert [a.device_id for a in _alerts(kt.path, "device_behind")] == [home.device_id]
    flow = KioskFlow(home.path, transport=hub)
    flow.scan(kt.town.poor[2])
    assert flow.message.code == "device_behind" and flow.account is None
    assert flow.sync_line().code == "device_behind"
    with pytest.raises(DeviceFault):
        kiosk_staff.record_entry(flow.conn, zhao, kt.town.poor[0], "XS02", now=clock.now_utc())
    status = kiosk_status.status(home)
    assert not status["can_record"] and status["cannot_record"]["code"] == "device_behind"
    out = CliRunner().invoke(kiosk_main, ["status", "--home", str(home.path)])
    assert "device_behind" in out.output and "旧副本" in out.output


def test_redeem_on_a_tablet_found_behind_is_one_plain_line(town, hub, tab, tmp_path):
    _redeem(tab, town, hub)
    old = tmp_path / "old.sqlite"
    _copy_sqlite(tab.path / "replica.sqlite", old)
    _redeem(tab, town, hub)
    _put_back(old, tab.path / "replica.sqlite")
    with pytest.raises(DeviceFault):
        client.sync_once(tab, hub)
    out = CliRunner().invoke(terminal_main, ["redeem", "--home", str(tab.path), "--card", town.rich[2],
                                             "--offer", str(town.bowl)])
    assert out.exit_code == 1 and out.output.strip().count("\n") == 0 and "旧副本" in out.output
    assert "Traceback" not in out.output
