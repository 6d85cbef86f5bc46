"""Office commands for devices: enrol (with QR), devices, revoke-device, merchants, serve refusals."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bank import clock, db, devices
from office import tls
from office.cli import main
from tests.sync.kit import enrol_tablet


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_enrol_prints_code_on_last_line_and_writes_qr(town, tmp_path):
    png = tmp_path / "code.png"
    assert run("enrol", "--db", town.path, "--merchant", town.noodles, "--qr", png).exit_code != 0  # no --server
    # plain HTTP to another machine would be refused by the device: refused here first
    r = run("enrol", "--db", town.path, "--merchant", town.noodles, "--qr", png, "--server", "http://10.0.0.5:8080/")
    assert r.exit_code == 2 and "https://" in r.output and not png.exists()
    r = run("enrol", "--db", town.path, "--merchant", town.noodles, "--qr", png, "--server", "https://10.0.0.5:8080/")
    assert r.exit_code == 0, r.output
    code = r.output.strip().splitlines()[-1]
    assert len(code) == 34 and code.count("-") == 6
    # the office made its own certificate beside the store, the key for its user only
    cert, key = tls.own_paths(town.path)
    assert cert.exists() and key.stat().st_mode & 0o777 == 0o600
    fp = tls.fingerprint(cert)
    assert tls.spaced(fp) in r.output
    assert devices.parse_code(code).fingerprint_check == devices.fingerprint_check(fp)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    from pyzbar import pyzbar
    (read,) = pyzbar.decode(Image.open(png))
    assert read.type == "QRCODE" and read.data.decode() == f"MPB-ENROL:https://10.0.0.5:8080#{code}#{fp}"


def test_enrol_refuses_bad_targets(town):
    assert run("enrol", "--db", town.path).exit_code == 1
    r = run("enrol", "--db", town.path, "--merchant", 999)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert run("enrol", "--db", town.path, "--kiosk", 1).exit_code == 0
    # the American spelling still works (people type it), though --help lists only enrol
    assert run("enroll", "--db", town.path, "--kiosk", 1).exit_code == 0
    assert "enroll" not in run("--help").output


def test_devices_list_and_revoke(town, hub, tmp_path):
    enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    r = run("devices", "--db", town.path, "--json")
    rows = json.loads(r.output)
    assert rows[0]["device_id"] == "T0001" and rows[0]["merchant"] == "老街小面" and rows[0]["last_sync_at"]
    assert "worst case" in run("devices", "--db", town.path).output
    assert run("revoke-device", "--db", town.path, "T0001").exit_code == 0
    assert json.loads(run("devices", "--db", town.path, "--json").output)[0]["status"] == "revoked"
    assert run("revoke-device", "--db", town.path, "T0001").exit_code == 1
    assert run("revoke-device", "--db", town.path, "T9999").exit_code == 1


def test_devices_list_reads_in_local_time_and_chinese(town, hub, tmp_path):
    """The list a person reads gives the last sync in Chongqing time (it once printed the stored UTC)."""
    enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    synced = json.loads(run("devices", "--db", town.path, "--json").output)[0]["last_sync_at"]
    out = run("devices", "--db", town.path).output
    row = next(ln for ln in out.splitlines() if ln.startswith("T0001"))
    assert clock.local(clock.from_text(synced)).strftime("%Y-%m-%d %H:%M") in row and synced not in out
    assert "\t商户平板\t老街小面\t有效\t" in row and "北京时间" in out
    revoked = run("revoke-device", "--db", town.path, "T0001").output
    with db.connect(town.path, readonly=True) as c:
        at = devices.get(c, "T0001").revoked_at
    assert clock.local(clock.from_text(at)).strftime("%Y-%m-%d %H:%M") in revoked and at not in revoked


def test_merchants_json_shape(town):
    rows = json.loads(run("merchants", "--db", town.path, "--json").output)
    assert {"merchant_id", "name", "category", "offers"} <= set(rows[0])
    assert rows[0]["offers"][0] == {"offer_id": town.bowl, "name": "小面", "points": 6, "value_yuan": "7.00"}


def test_serve_refuses_a_database_it_cannot_open(tmp_path):
    r = run("serve", "--db", tmp_path / "missing.sqlite")
    assert r.exit_code == 1 and "not found" in r.output
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    assert run("serve", "--db", junk).exit_code == 1


def test_serve_refuses_plain_http_off_this_machine_and_bad_certificates(town, tmp_path):
    r = run("serve", "--db", town.path, "--host", "0.0.0.0", "--insecure-http")
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1
    assert "127.0.0.1" in r.output and "Traceback" not in r.output
    r = run("serve", "--db", town.path, "--tls-cert", tmp_path / "a.pem")
    assert r.exit_code == 2 and "--tls-key" in r.output
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    r = run("serve", "--db", town.path, "--tls-cert", junk, "--tls-key", junk)
    assert r.exit_code == 1 and r.output.startswith("错误:") and "Traceback" not in r.output
    assert not tls.own_paths(town.path)[0].exists()      # the operator's files were asked for: none made
