"""The issuing private key lives in a key file, never in the store: a copy of the store (a backup
on a USB stick) cannot print a card; the file is 0600, optionally encrypted, tied to the store's
public key; rotation keeps old cards valid."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from bank import cards, db, keystore
from tests.conftest import T0

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _private_bytes(store) -> bytes:
    _, private = cards.signing_key(store)
    return private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _file_bytes(path) -> bytes:
    return b"".join(Path(p).read_bytes() for p in (str(path), f"{path}-wal") if os.path.exists(p))


@pytest.mark.engines("sqlite")   # the store as one file; PostgreSQL's backups are later work (issue 13)
def test_a_copy_of_the_store_alone_cannot_sign(store, account, tmp_path):
    card = cards.issue(store, account, now=T0)
    secret = _private_bytes(store)
    path = tmp_path / "store.sqlite"
    assert secret not in _file_bytes(path)
    assert store.execute("SELECT count(*) FROM issuing_keys WHERE private_key IS NOT NULL").fetchone()[0] == 0
    # the backup: the database file only, copied elsewhere
    (tmp_path / "usb").mkdir()
    copy = tmp_path / "usb" / "store.sqlite"
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(path, copy)
    assert secret not in copy.read_bytes()
    stolen = db.connect(copy)
    with pytest.raises(keystore.KeyFileError) as refused:
        with db.transaction(stolen):
            cards.issue(stolen, account, now=T0)
    assert "找不到发卡密钥文件" in refused.value.zh
    # reading still works: the copy verifies cards, it cannot make them
    assert cards.verify_text(stolen, card.qr)[1].card_id == card.card_id
    assert len(cards.all_cards(stolen)) == 1
    stolen.close()


def test_the_key_file_is_0600_in_a_0700_directory_beside_the_store(store, tmp_path):
    directory = tmp_path / "store.keys"
    files = list(directory.iterdir())
    assert [f.name for f in files] == [f"LH-K1-{keystore.fingerprint(cards.public_keys(store)['K1'])}.pem"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert files[0].read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_the_store_refuses_a_private_key_even_by_raw_sql(store, engine):
    zero, one = ("x'00'", "x'01'") if engine == "sqlite" else ("'\\x00'::bytea", "'\\x01'::bytea")
    with pytest.raises(sqlite3.IntegrityError, match="key files"):
        store.execute("INSERT INTO issuing_keys (key_id, public_key, private_key, created_at) VALUES "
                      f"('K9', {zero}, {one}, '2026-01-01T00:00:00.000000Z')")
    with pytest.raises(sqlite3.IntegrityError, match="key files"):
        store.execute(f"UPDATE issuing_keys SET private_key = {one}")


def test_rotation_signs_with_the_new_key_and_keeps_old_cards(store, account, tmp_path):
    old = cards.issue(store, account, now=T0)
    assert cards.create_issuing_key(store, now=T0) == "K2"
    assert cards.signing_key(store)[0] == "K2"
    new = cards.issue(store, account, now=T0)
    assert ":K2:" in new.qr
    assert cards.verify_text(store, old.qr)[1].card_id == old.card_id
    assert sorted(f.name[:5] for f in (tmp_path / "store.keys").iterdir()) == ["LH-K1", "LH-K2"]
    # a retired key's file may go to a safe: its cards stay valid, signing goes on with K2
    next((tmp_path / "store.keys").glob("LH-K1-*")).unlink()
    assert cards.verify_text(store, old.qr)[1].card_id == old.card_id
    assert ":K2:" in cards.reissue(store, old.card_id, now=T0).qr
    states = {k["key_id"]: k["state"] for k in cards.key_states(store)}
    assert states == {"K1": "missing", "K2": "ok"}


def test_a_loose_mode_a_wrong_file_or_a_damaged_file_is_refused(store, account, tmp_path):
    keys = keystore.KeyStore(tmp_path / "store.keys")
    path = next((tmp_path / "store.keys").iterdir())
    path.chmod(0o644)
    keystore.use(store, keys)
    with pytest.raises(keystore.KeyFileError, match="chmod 600"):
        cards.issue(store, account, now=T0)
    path.chmod(0o600)
    good = path.read_bytes()
    path.write_bytes(b"not a key")
    with pytest.raises(keystore.KeyFileError) as damaged:
        cards.issue(store, account, now=T0)
    assert "已损坏" in damaged.value.zh
    # another key under this key's name (a file from another store of the same community)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    with pytest.raises(keystore.KeyFileError) as mismatch:
        cards.issue(store, account, now=T0)
    assert "不符" in mismatch.value.zh
    path.write_bytes(good)
    assert cards.issue(store, account, now=T0).card_id


def test_a_passphrase_protected_key(tmp_path, account, store):
    public = cards.public_keys(store)
    plain = keystore.KeyStore(tmp_path / "store.keys")
    assert plain.protect("LH", public, "lotus-pond-42") == [next((tmp_path / "store.keys").iterdir())]
    head = next((tmp_path / "store.keys").iterdir()).read_bytes()
    assert head.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    for keys, words in ((keystore.KeyStore(tmp_path / "store.keys"), "已加密,需要口令"),
                        (keystore.KeyStore(tmp_path / "store.keys", "wrong"), "口令不正确")):
        keystore.use(store, keys)
        with pytest.raises(keystore.KeyFileError) as refused:
            cards.issue(store, account, now=T0)
        assert words in refused.value.zh
    keystore.use(store, keystore.KeyStore(tmp_path / "store.keys", "lotus-pond-42"))
    assert ":K1:" in cards.issue(store, account, now=T0).qr
    # a new key made with the passphrase at hand is encrypted too
    cards.create_issuing_key(store, now=T0)
    assert next((tmp_path / "store.keys").glob("LH-K2-*")).read_bytes().startswith(b"-----BEGIN ENCRYPTED")


def test_the_location_rule(tmp_path, monkeypatch):
    assert keystore.default_directory(tmp_path / "community.sqlite") == tmp_path / "community.keys"
    monkeypatch.delenv(keystore.DIR_ENV, raising=False)
    monkeypatch.delenv(keystore.PASSPHRASE_ENV, raising=False)
    assert keystore.for_store(tmp_path / "a.sqlite").directory == tmp_path / "a.keys"
    assert keystore.for_store(tmp_path / "a.sqlite", directory=tmp_path / "k").directory == tmp_path / "k"
    monkeypatch.setenv(keystore.DIR_ENV, str(tmp_path / "all-communities"))
    monkeypatch.setenv(keystore.PASSPHRASE_ENV, "from-env")
    keys = keystore.for_store(None)        # no file to sit beside (a server store): by community code
    assert keys.directory == tmp_path / "all-communities" and keys.passphrase == b"from-env"
    assert "from-env" not in repr(keys)
    assert keys.path("LH", "K1", b"x").name.startswith("LH-K1-")
    with pytest.raises(keystore.KeyFileError):
        keys.path("../etc", "K1", b"x")
    monkeypatch.delenv(keystore.DIR_ENV)
    with pytest.raises(keystore.KeyFileError, match="--key-dir"):
        keystore.for_store(None)
