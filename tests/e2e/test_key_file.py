"""The issuing key in a passphrase-protected key file, through the real command lines and a real
server process: the server starts only with the passphrase, devices sync, a rotation made while
it runs reaches the tablet, and the tablet then accepts a card signed with the new key."""

from __future__ import annotations

import json

import pytest

from bank import keystore
from tests.sync.kit import current_qr

from .conftest import Server, cli, enrol_cli

pytestmark = pytest.mark.slow
PASSPHRASE = "lotus-pond-42"


def test_protected_key_serve_rotate_and_sync(town, tmp_path, monkeypatch):
    monkeypatch.delenv(keystore.PASSPHRASE_ENV, raising=False)
    keystore.KeyStore(keystore.default_directory(town.path)).protect(
        "LH", {"K1": _public(town.path)}, PASSPHRASE)
    # without the passphrase the server says so in one line and does not start
    refused = cli("office", "serve", "--db", town.path, "--port", "1", check=1)
    assert refused.stderr.strip().count("\n") == 0 and "已加密,需要口令" in refused.stderr
    monkeypatch.setenv(keystore.PASSPHRASE_ENV, PASSPHRASE)   # the server and the commands inherit it
    server = Server(town.path, tmp_path / "server.log").start()
    try:
        home = tmp_path / "tablet"
        enrol_cli(town, server, home, town.noodles)
        assert json.loads(cli("sync", "--home", home, "--json").stdout)["ok"]
        out = cli("office", "keys", "rotate", "--db", town.path).stdout
        assert "K2" in out
        synced = json.loads(cli("sync", "--home", home, "--json").stdout)
        assert synced["ok"], synced
        # a card printed with K2 now redeems offline at the tablet
        from bank import cards, db
        conn = db.connect(town.path)
        with db.transaction(conn):
            new = cards.reissue(conn, town.rich[1])
        conn.close()
        assert ":K2:" in new.qr and current_qr(town.path, town.rich[1]) == new.qr
        cli("sync", "--home", home, "--json")
        receipt = json.loads(cli("terminal", "redeem", "--home", home, "--card", new.qr, "--offer", town.bowl,
                                 "--json").stdout)
        assert receipt["ok"], receipt
    finally:
        server.stop()


def _public(path):
    from bank import cards, db
    conn = db.connect(path, readonly=True)
    try:
        return cards.public_keys(conn)["K1"]
    finally:
        conn.close()
