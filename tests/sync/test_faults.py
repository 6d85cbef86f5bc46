"""Devices fail loud: a home or replica that cannot be trusted stops every device command and the
apps with one plain sentence that says what to do, writes nothing, and never makes a new replica
in place of a lost one."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from bank import clock
from terminal import redeem as engine
from kiosk.__main__ import main as kiosk_main
from sync import client, home as home_mod, replica
from sync.__main__ import main as sync_main
from sync.faults import DeviceFault
from terminal.__main__ import main as terminal_main
from terminal.flow import Step, TerminalFlow

from tests.kiosk.conftest import enrol_kiosk
from tests.sync.kit import enrol_tablet

# The sync suite runs on both office engines (tests/conftest.py: town, store_location).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _down():
    class Down:
        def post(self, *a):
            raise client.Unreachable("down", "down")
    return Down()


def _flip_pages(path):
    """Overwrite the middle of the file (past the header page) with junk, as a failing card might."""
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 4 * page, len(data)
    for at in range(page, len(data) - page, 3 * page):
        data[at:at + 1000] = b"\xa5" * 1000      # from the page header on: never free space only
    path.write_bytes(bytes(data))


def _config_without(field):
    def damage(home):
        path = home / "config.json"
        config = json.loads(path.read_text("utf-8"))
        del config[field]
        path.write_text(json.dumps(config), "utf-8")
    return damage


def _fresh_sqlite(home):
    (home / "replica.sqlite").unlink()
    sqlite3.connect(home / "replica.sqlite").execute("CREATE TABLE t (x)").connection.close()


DAMAGES = {
    "replica emptied": (lambda h: (h / "replica.sqlite").write_bytes(b""), "replica_empty"),
    "replica replaced by a new SQLite file": (_fresh_sqlite, "replica_empty"),
    "replica not SQLite": (lambda h: (h / "replica.sqlite").write_bytes(b"PK\x03\x04" + b"\x00" * 5000),
                           "replica_damaged"),
    "replica pages damaged": (lambda h: _flip_pages(h / "replica.sqlite"), "replica_damaged"),
    "replica missing": (lambda h: (h / "replica.sqlite").unlink(), "replica_missing"),
    "device.key truncated": (lambda h: (h / "device.key").write_bytes((h / "device.key").read_bytes()[:20]),
                             "key_damaged"),
    "device.key missing": (lambda h: (h / "device.key").unlink(), "key_damaged"),
    "config without server": (_config_without("server"), "config_incomplete"),
    "config without device_id": (_config_without("device_id"), "config_incomplete"),
    "config not JSON": (lambda h: (h / "config.json").write_text("{\"device_id\": \"T0", "utf-8"), "config_damaged"),
}


@pytest.fixture
def tab(town, hub, tmp_path):
    """An enrolled tablet with 200 accounts (a replica of several pages) and two unsynced redemptions."""
    from bank import accounts, cards, db
    conn = db.connect(town.path)
    with db.transaction(conn):
        for n in range(200):
            aid = accounts.open_account(conn, kind="single", holder=f"居民{n}", compound_id=1, building=1, unit=1,
                                        room=str(n), now=clock.now_utc())
            cards.issue(conn, aid)
    conn.close()
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    for _ in range(2):
        engine.redeem(h, town.rich[2], town.bowl, now=clock.now_utc(), transport=_down())
    return h


def _one_plain_line(result, code: str) -> str:
    """Exit 1, no traceback, one line naming the fault's sentence."""
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    out = result.output.strip()
    assert "\n" not in out and "Traceback" not in out, out
    assert "社区办公室" in out, out          # what to do
    sentence = DeviceFault(code, **_values(code)).zh.split("(")[0][:12]
    assert sentence in out, (sentence, out)
    return out


def _values(code):
    return {"field": "server", "detail": "", "other": "", "device": "", "office_seq": 0, "device_seq": 0, "seq": 0}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_every_device_command_and_the_app_refuse_a_damaged_home_with_one_plain_line(tab, town, damage):
    do, code = DAMAGES[damage]
    do(tab.path)
    damaged = {p.name: p.read_bytes() for p in tab.path.iterdir() if p.is_file() and not p.name.endswith("-shm")}
    with pytest.raises(DeviceFault) as exc:
        home_mod.open_home(tab.path)
    assert exc.value.code == code
    runner = CliRunner()
    home = str(tab.path)
    for main, args in ((terminal_main, ["status", "--home", home]),
                       (terminal_main, ["redeem", "--home", home, "--card", town.rich[2], "--offer", str(town.bowl)]),
                       (terminal_main, ["void", "--home", home, "--seq", "1"]),
                       (kiosk_main, ["status", "--home", home]),
                       (sync_main, ["--home", home])):
        _one_plain_line(runner.invoke(main, args), code)
    json_out = json.loads(runner.invoke(sync_main, ["--home", home, "--json"]).output)
    assert json_out["ok"] is False and json_out["fault"] is True and json_out["error"] == code
    # the tablet app starts on the enrolment screen, its banner saying what is wrong and what to do
    flow = TerminalFlow(tab.path, transport=_down())
    assert flow.step is Step.ENROL and flow.message.code == code and flow.message.level == "error"
    assert not flow.scan(town.rich[2])
    # and nothing was written: in particular no fresh replica in place of the damaged one
    after = {p.name: p.read_bytes() for p in tab.path.iterdir() if p.is_file() and not p.name.endswith("-shm")}
    assert set(after) - {"sync.lock"} == set(damaged) - {"sync.lock"}
    assert all(after[name] == damaged[name] for name in damaged if name != "sync.lock")


def test_an_emptied_replica_is_never_given_a_new_schema_and_the_office_keeps_its_chain(tab, town, hub):
    """Before: the emptied file got a fresh schema, the two unsynced redemptions were gone without a
    word and every later sync failed with chain_fork."""
    assert replica.pending_summary(tab.replica())[0] == 2
    (tab.path / "replica.sqlite").write_bytes(b"")
    for attempt in range(2):
        with pytest.raises(DeviceFault) as exc:
            client.sync_once(tab, hub)
        assert exc.value.code == "replica_empty"
        assert "未上传的记录可能已丢失" in exc.value.zh and "重新登记" in exc.value.zh
    with pytest.raises(DeviceFault):
        engine.redeem(tab, town.rich[2], town.bowl, now=clock.now_utc(), transport=hub)
    assert (tab.path / "replica.sqlite").read_bytes() == b""
    from tests.sync.kit import count
    assert count(town.path, "device_events") == 0


def test_a_replica_of_another_device_is_refused(town, hub, tmp_path):
    first = enrol_tablet(town.path, hub, tmp_path / "a", town.noodles)
    second = enrol_tablet(town.path, hub, tmp_path / "b", town.noodles)
    shutil.copy(first.path / "replica.sqlite", second.path / "replica.sqlite")
    with pytest.raises(DeviceFault) as exc:
        home_mod.open_home(second.path)
    assert exc.value.code == "replica_foreign" and first.device_id in exc.value.zh and second.device_id in exc.value.zh
    out = _one_plain_line(CliRunner().invoke(sync_main, ["--home", str(second.path)]), "replica_foreign")
    assert first.device_id in out


def test_the_kiosk_app_starts_with_the_fault_on_its_banner(kt, hub, tmp_path):
    from kiosk.flow import KioskFlow
    home = enrol_kiosk(kt.path, hub, tmp_path / "kiosk").path
    (home / "device.key").write_bytes(b"\x00" * 31)
    flow = KioskFlow(home, transport=hub)
    assert flow.home is None and flow.fault_message().code == "key_damaged"
    assert flow.sync_line().code == "key_damaged" and flow.sync_line().level == "error"
    _one_plain_line(CliRunner().invoke(kiosk_main, ["status", "--home", str(home)]), "key_damaged")


@pytest.fixture
def kt(tmp_path):
    from tests.kiosk.conftest import make_town
    return make_town(tmp_path / "office.sqlite")


@pytest.fixture
def town(kt):
    return kt.town


def test_the_tablet_app_enrols_again_over_a_damaged_home_and_keeps_the_old_one(tab, town, hub):
    from bank import db, devices
    (tab.path / "replica.sqlite").write_bytes(b"")
    flow = TerminalFlow(tab.path, transport=hub)
    assert flow.step is Step.ENROL and flow.message.code == "replica_empty"
    conn = db.connect(town.path)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, merchant_id=town.noodles)
    conn.close()
    assert flow.enrol("http://office.test", code)
    assert flow.step is Step.SCAN and flow.fault is None and flow.home.device_id != tab.device_id
    (aside,) = [p for p in tab.path.parent.iterdir() if p.name.startswith("tab.replaced-")]
    assert (aside / "replica.sqlite").read_bytes() == b"" and (aside / "device.key").exists()
    assert flow.scan(town.rich[2])
