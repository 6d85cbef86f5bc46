"""举报 end to end with real processes: the office serves over HTTPS, a kiosk enrolled with the
command line records an anonymous tip (the kiosk flow, as its screen does), ``python -m sync``
pushes it, and the office has it in the council's queue of tips."""

from __future__ import annotations

import json

import pytest

from bank import db, tips
from kiosk.flow import KioskFlow
from kiosk.steps import Step
from tests.kiosk.conftest import make_town

from .conftest import Server, cli

pytestmark = pytest.mark.slow


def test_a_kiosk_tip_reaches_the_office_by_the_next_sync(tmp_path):
    kt = make_town(tmp_path / "office.sqlite")
    server = Server(kt.path, tmp_path / "server.log").start()
    try:
        home = tmp_path / "kiosk"
        code = cli("office", "enrol", "--db", kt.path, "--kiosk", 1).stdout.strip().splitlines()[-1]
        cli("kiosk", "enrol", "--home", home, "--server", server.url, "--code", code)
        flow = KioskFlow(home)
        try:
            flow.scan(kt.town.poor[2])
            flow.go("tip")
            flow.choose_tip_category("throwing")
            flow.send_tip(2)
            assert flow.step is Step.HOME and flow.message.zh.startswith("举报已收到")
        finally:
            flow.conn.close()
        result = json.loads(cli("sync", "--home", home, "--json", timeout=120).stdout)
        assert result["ok"] and result["pushed"] == 1 and result["pending"] == 0
    finally:
        server.stop()
    conn = db.connect(kt.path)
    try:
        queued = tips.search(conn)
        assert [(t.channel, t.compound_id, t.account_id, t.content) for t in queued] == \
            [("kiosk", 1, None, "【高空抛物】2栋")]
        held = conn.execute("SELECT kind, body FROM device_events WHERE kind = 'tip'").fetchall()
        assert len(held) == 1 and json.loads(held[0][1])["body"] == {"category": "throwing", "building": 2}
    finally:
        conn.close()
