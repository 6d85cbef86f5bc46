"""The issuing key at the office: the server, the command line and the console find it in its key
file; rotation reaches enrolled devices; `office migrate` moves an old store's key out of the
database file; a missing or locked key stops only what signs."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from bank import cards, db, keystore
from office import cli, server
from sync import client, replica, wire
from tests.sync.kit import T0, enrol_tablet

DATA = Path(__file__).resolve().parents[1] / "bank" / "data"
PASSPHRASE = "lotus-pond-42"


def run(*args, env=None, input=None):
    return CliRunner().invoke(cli.main, [str(a) for a in args], env=env, input=input)


def _rotate(path: Path) -> str:
    conn = db.connect(path)
    with db.transaction(conn):
        key_id = cards.create_issuing_key(conn)
    conn.close()
    return key_id


def test_rotation_reaches_enrolled_devices(town, hub, tmp_path):
    tab = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    old_card = town.rich[2]
    assert _rotate(town.path) == "K2"
    # the tablet knew only K1: the pull is signed with K2 and carries K1's endorsement of K2
    result = client.sync_once(tab, hub)
    assert result.pulled, result
    assert set(_trusted(tab)) == {"K1", "K2"}
    conn = db.connect(town.path)
    with db.transaction(conn):
        new_card = cards.reissue(conn, town.poor[1], now=T0)
    conn.close()
    assert ":K2:" in new_card.qr
    client.sync_once(tab, hub)
    rep = tab.replica()
    try:
        assert replica.verify_card(rep, new_card.qr)[1] == town.poor[0]     # a K2 card, offline
        assert replica.verify_card(rep, old_card)[1] == town.rich[0]        # a K1 card stays valid
    finally:
        rep.close()
    # a device that slept through two rotations learns K3 through K2
    sleeper = enrol_tablet(town.path, hub, tmp_path / "sleeper", town.pharmacy)
    rep = sleeper.replica()
    replica.set_state(rep, issuing_keys={"K1": _trusted(tab)["K1"]})
    rep.close()
    assert _rotate(town.path) == "K3"
    assert client.sync_once(sleeper, hub).pulled
    assert set(_trusted(sleeper)) == {"K1", "K2", "K3"}


def _trusted(home) -> dict:
    rep = home.replica()
    try:
        return replica.state(rep, "issuing_keys")
    finally:
        rep.close()


def test_a_forged_endorsement_is_refused(town, hub, tmp_path):
    tab = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    # someone swaps in a key of their own, "endorsed" by a key the device never trusted
    conn = db.connect(town.path)
    rogue = Ed25519PrivateKey.generate()
    with db.transaction(conn):
        conn.execute("UPDATE issuing_keys SET retired_at = '2026-01-01T00:00:00.000000Z'")
        conn.execute("INSERT INTO issuing_keys (key_id, public_key, created_at, endorsed_by, endorsement) "
                     "VALUES ('K2', ?, '2026-01-01T00:00:00.000000Z', 'K1', ?)",
                     (rogue.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw), b"\0" * 64))
        keystore.of(conn).save("LH", "K2", rogue)
    conn.close()
    before = _trusted(tab)
    with pytest.raises(wire.PullRejected) as refused:
        client.sync_once(tab, hub)
    assert "签名不正确" in str(refused.value)
    assert _trusted(tab) == before


def test_the_server_refuses_to_start_without_its_key(town, tmp_path):
    keys_dir = keystore.default_directory(town.path)
    shutil.move(keys_dir, tmp_path / "elsewhere")
    with pytest.raises(keystore.KeyFileError) as refused:
        server.create_app(town.path)
    assert "找不到发卡密钥文件" in refused.value.zh
    r = run("serve", "--db", town.path, "--port", "1")
    assert r.exit_code == 1 and r.output.count("\n") == 1 and r.output.startswith("错误:找不到发卡密钥文件")
    # read-only commands that sign nothing still work
    for args in (["cards"], ["balance", town.rich[0]], ["verify-card", town.rich[2]], ["keys", "list"],
                 ["print-cards", "--out", tmp_path / "cards.pdf"]):
        r = run(*args, "--db", town.path)
        assert r.exit_code == 0, (args, r.output)
    assert "找不到文件" in run("keys", "list", "--db", town.path).output
    # pointed at the key directory, it starts
    assert server.create_app(town.path, keystore.for_store(town.path, directory=tmp_path / "elsewhere"))


def test_a_passphrase_protected_key_for_server_cli_and_console(town, tmp_path, monkeypatch):
    monkeypatch.delenv(keystore.PASSPHRASE_ENV, raising=False)
    r = run("keys", "protect", "--db", town.path, input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert r.exit_code == 0 and "已加密 1 个密钥文件" in r.output, r.output
    with pytest.raises(keystore.KeyFileError, match="encrypted"):
        server.create_app(town.path)
    r = run("serve", "--db", town.path, "--port", "1")
    assert r.exit_code == 1 and "已加密,需要口令" in r.output
    app = server.create_app(town.path, keystore.for_store(town.path, passphrase=PASSPHRASE))
    assert app.state.console.keys.passphrase == PASSPHRASE.encode()
    # the command line: a reviewer's staff card is issued with the passphrase from the environment
    conn = db.connect(town.path)
    from bank import accounts
    with db.transaction(conn):
        accounts.add_member(conn, town.rich[0], "张小明", relation="子女")
    before = len(cards.all_cards(conn))
    conn.close()
    pin = tmp_path / "pin.txt"
    pin.write_text("2468\n")
    args = ["reviewer", "add", "--db", town.path, "--compound", 1, "--account", town.rich[0], "--name", "张小明",
            "--pin-file", pin]
    r = run(*args)
    assert r.exit_code == 1 and "已加密" in r.output
    conn = db.connect(town.path, readonly=True)
    assert len(cards.all_cards(conn)) == before          # refused: nothing written
    conn.close()
    r = run(*args, env={keystore.PASSPHRASE_ENV: PASSPHRASE})
    assert r.exit_code == 0 and "工作卡卡号" in r.output, r.output
    r = run("keys", "rotate", "--db", town.path, "--ask-passphrase", input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert r.exit_code == 0 and "K2" in r.output, r.output
    r = run("keys", "list", "--db", town.path, env={keystore.PASSPHRASE_ENV: PASSPHRASE})
    assert r.output.count("可用") == 2, r.output


def test_the_console_issues_cards_with_a_protected_key(town, tmp_path):
    from tests.office.console_kit import PASSWORD, Browser
    from bank import users
    keystore.KeyStore(keystore.default_directory(town.path)).protect("LH", {"K1": _public(town.path)}, PASSPHRASE)
    conn = db.connect(town.path)
    with db.transaction(conn):
        users.add_user(conn, name="王主任", role="office", password=PASSWORD)
    conn.close()
    app = server.create_app(town.path, keystore.for_store(town.path, passphrase=PASSPHRASE))
    office = Browser(app, "王主任")
    r = office.follow(office.post(f"/residents/{town.rich[0]}/cards/{town.rich[1]}/lost", {"reason": "lost"}))
    assert "已补办第 2 版" in r.text
    conn = db.connect(town.path, readonly=True)
    assert len(cards.cards_of(conn, town.rich[0])) == 2
    conn.close()


def _public(path: Path) -> bytes:
    conn = db.connect(path, readonly=True)
    try:
        return cards.public_keys(conn)["K1"]
    finally:
        conn.close()


# --- migrating a store that still holds its private key ------------------------------------------

def _old_store_with_a_key(tmp_path: Path) -> tuple[Path, bytes]:
    """The saved v9 store, with a real key pair in the row where stores of that age kept it."""
    path = tmp_path / "old.sqlite"
    shutil.copy(DATA / "schema_v9.sqlite", path)
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    conn = sqlite3.connect(path)
    conn.execute("UPDATE issuing_keys SET public_key = ?, private_key = ? WHERE key_id = 'K1'",
                 (private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw), raw))
    conn.commit()
    conn.close()
    assert raw in path.read_bytes()
    return path, raw


def _store_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_migrate_moves_the_key_out_of_an_old_store(tmp_path):
    path, raw = _old_store_with_a_key(tmp_path)
    # before the move the server says what to do, in one line
    conn = db.connect(path)
    with pytest.raises(keystore.KeyFileError, match="office migrate"):
        cards.signing_key(conn)
    conn.close()
    r = run("migrate", "--db", path)
    assert r.exit_code == 0 and "已把发卡密钥 K1 移到密钥目录" in r.output, r.output
    assert raw not in _store_bytes(path)                    # not in a table, a free page or the log
    key_file = next((tmp_path / "old.keys").iterdir())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    conn = db.connect(path)
    assert conn.execute("SELECT count(*) FROM issuing_keys WHERE private_key IS NOT NULL").fetchone()[0] == 0
    key_id, private = cards.signing_key(conn)
    assert key_id == "K1" and private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()) == raw
    conn.close()
    r = run("migrate", "--db", path)
    assert r.exit_code == 0 and "移到" not in r.output      # nothing left to move


def test_migrate_with_a_passphrase_encrypts_the_moved_key(tmp_path):
    path, raw = _old_store_with_a_key(tmp_path)
    r = run("migrate", "--db", path, "--ask-passphrase", input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert r.exit_code == 0, r.output
    key_file = next((tmp_path / "old.keys").iterdir())
    assert key_file.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert raw not in key_file.read_bytes() and raw not in _store_bytes(path)


def test_migrate_the_saved_v9_store_as_it_is(tmp_path):
    path = tmp_path / "v9.sqlite"
    shutil.copy(DATA / "schema_v9.sqlite", path)
    r = run("migrate", "--db", path)
    assert r.exit_code == 0 and "移到" not in r.output, r.output
    assert not (tmp_path / "v9.keys").exists()
