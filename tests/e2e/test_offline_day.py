"""A merchant's offline day, through the real command lines and a real server process."""

from __future__ import annotations

import json

import pytest

from tests.sync.kit import office_balance

from .conftest import cli, enrol_cli

pytestmark = pytest.mark.slow


@pytest.mark.engines("sqlite", "postgresql")
def test_offline_day(town, server, tmp_path):
    home = tmp_path / "tablet"
    enrol_cli(town, server, home, town.noodles)
    first = json.loads(cli("sync", "--home", home, "--json").stdout)
    assert first["ok"] is True
    server.stop()
    aid, _, qr = town.rich
    refused = cli("terminal", "redeem", "--home", home, "--card", qr, "--offer", town.feast, "--json", check=1)
    assert json.loads(refused.stdout)["reason"] == "floor_limit_offline"
    for offer in (town.bowl, town.beef, town.bowl):
        receipt = json.loads(cli("terminal", "redeem", "--home", home, "--card", qr, "--offer", offer, "--json").stdout)
        assert receipt["ok"] and not receipt["pushed"]
    down = cli("sync", "--home", home, "--json", check=3)
    assert json.loads(down.stdout)["error"] == "unreachable"
    status = json.loads(cli("terminal", "status", "--home", home, "--json").stdout)
    assert (status["pending_events"], status["pending_points"]) == (3, 24)
    assert office_balance(town.path, aid) == 100

    server.start()
    result = json.loads(cli("sync", "--home", home, "--json").stdout)
    assert result["pushed"] == 3 and result["acked_seq"] == 3 and result["pending"] == 0
    office = json.loads(cli("office", "balance", "--db", town.path, aid, "--json").stdout)
    assert office["balance"] == 76
    again = json.loads(cli("sync", "--home", home, "--json").stdout)
    assert again["pushed"] == 0
    assert json.loads(cli("office", "balance", "--db", town.path, aid, "--json").stdout)["balance"] == 76
    status = json.loads(cli("terminal", "status", "--home", home, "--json").stdout)
    assert status["pending_events"] == 0 and status["last_seq"] == 3
    devices = json.loads(cli("office", "devices", "--db", town.path, "--json").stdout)
    assert devices[0]["last_seq"] == 3 and devices[0]["last_sync_at"]


def test_cli_refusals_are_plain(town, server, tmp_path):
    r = cli("terminal", "redeem", "--home", tmp_path / "nowhere", "--card", "x", "--offer", 1, check=1)
    assert "Traceback" not in r.stderr and "enrol" in r.stderr
    r = cli("sync", "--home", tmp_path / "nowhere", check=1)
    assert "Traceback" not in r.stderr
    home = tmp_path / "tablet"
    enrol_cli(town, server, home, town.noodles)
    r = cli("terminal", "redeem", "--home", home, "--card", "MPB1:XX", "--offer", town.bowl, check=1)
    assert "card_not_our_format" in r.stdout
    cli("office", "revoke-device", "--db", town.path, "T0001")
    r = cli("sync", "--home", home, "--json", check=1)
    assert json.loads(r.stdout)["error"] == "device_revoked"


def test_push_fuzz_against_the_real_server(town, server):
    transport = server.transport(10)
    for body in (b"", b"{", b"[]", b'{"protocol":1}', b"\xff" * 100, b"{" * 100000, b'{"a":"\\ud800"}'):
        status, _ = transport.post("/api/v1/push", body, {})
        assert 400 <= status < 500
    assert transport.post("/api/v1/push", b"x" * (3 * 1024 * 1024), {})[0] == 413
    assert transport.get("/api/v1/health")[0] == 200
