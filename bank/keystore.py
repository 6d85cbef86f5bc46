"""Where the community's issuing private keys live: in key files outside the store.

Whoever holds the issuing private key can print cards that every tablet accepts and sign pulls
that every device applies. A store file travels (backups on a USB stick, a copy mailed for a
report), so the store keeps only the public keys and each private key is a file of its own:

- **Directory:** the one given to the office (``--key-dir``, or the environment variable
  ``MPB_KEY_DIR``); otherwise a directory beside a SQLite store named after it:
  ``community.sqlite`` -> ``community.keys/``. Mode 0700.
- **File:** ``<community code>-<key id>-<fingerprint>.pem``, e.g. ``LH-K1-3f2a9c0d1e7b5a44.pem``:
  addressed by community code and key id, so one directory can serve many communities (a later
  store on PostgreSQL has no file to sit beside); the fingerprint (the first 16 hex digits of the
  SHA-256 of the public key the store holds) ties the file to that store's key, so a file left
  by an unfinished transaction or by another store of the same community is never taken for it.
- **Format:** PKCS#8 PEM, mode 0600. With a passphrase (``MPB_KEY_PASSPHRASE``, or a prompt of
  the office command line) it is encrypted (``BestAvailableEncryption``); a copy of the directory
  alone then signs nothing either.

A file that is missing, readable by others, encrypted without the passphrase at hand, or holds a
key other than the store's public key is refused with a sentence that says which file and what to
do. The loaded key is kept in memory by the :class:`KeyStore` object (one per process).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import stat
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (BestAvailableEncryption, Encoding, NoEncryption,
                                                          PrivateFormat, PublicFormat, load_pem_private_key)

from .errors import BankError

DIR_ENV = "MPB_KEY_DIR"
PASSPHRASE_ENV = "MPB_KEY_PASSPHRASE"
_CODE = re.compile(r"[A-Za-z0-9_]{1,16}")
_KEY_ID = re.compile(r"K[0-9]{1,6}")


class KeyFileError(BankError):
    """The issuing key file cannot be used; the sentence names the file and what to do."""

    code = "key_file"


def fingerprint(public: bytes) -> str:
    return hashlib.sha256(bytes(public)).hexdigest()[:16]


def raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def default_directory(store_path: str | Path) -> Path:
    """The key directory beside a SQLite store: ``community.sqlite`` -> ``community.keys``."""
    store_path = Path(store_path)
    return store_path.with_name(store_path.stem + ".keys")


class KeyStore:
    """The key files of one directory, with the passphrase (if any) that opens them."""

    def __init__(self, directory: str | Path, passphrase: str | bytes | None = None):
        self.directory = Path(directory)
        if isinstance(passphrase, str):
            passphrase = passphrase.encode()
        self.passphrase = passphrase or None
        self._loaded: dict[Path, Ed25519PrivateKey] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:     # never the passphrase
        return f"KeyStore({str(self.directory)!r}, encrypted={self.passphrase is not None})"

    def path(self, community: str, key_id: str, public: bytes) -> Path:
        if not _CODE.fullmatch(community or "") or not _KEY_ID.fullmatch(key_id or ""):
            raise KeyFileError("社区代码或密钥编号不能用作文件名。", f"bad community code or key id: {community!r} {key_id!r}")
        return self.directory / f"{community}-{key_id}-{fingerprint(public)}.pem"

    # --- writing ------------------------------------------------------------------------------

    def save(self, community: str, key_id: str, private: Ed25519PrivateKey) -> Path:
        """Write the key file (0600, atomically; an existing file of the same key is kept)."""
        path = self.path(community, key_id, raw_public(private))
        self._make_directory()
        if path.exists():
            return path
        self._write(path, self._pem(private, self.passphrase))
        with self._lock:
            self._loaded[path] = private
        return path

    def protect(self, community: str, keys: dict[str, bytes], new_passphrase: str | bytes | None) -> list[Path]:
        """Rewrite every key file of ``keys`` (key id -> public key) under a new passphrase (or none)."""
        if isinstance(new_passphrase, str):
            new_passphrase = new_passphrase.encode()
        rewritten = []
        for key_id, public in keys.items():
            path = self.path(community, key_id, public)
            if not path.exists():
                continue    # a retired key whose file was removed on purpose: nothing left to sign with
            private = self.load(community, key_id, public)
            self._write(path, self._pem(private, new_passphrase or None), replace=True)
            rewritten.append(path)
        self.passphrase = new_passphrase or None
        return rewritten

    def _make_directory(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyFileError(f"无法建立密钥目录 {self.directory}:{exc.strerror}。",
                               f"cannot make the key directory {self.directory}: {exc.strerror}") from None

    @staticmethod
    def _pem(private: Ed25519PrivateKey, passphrase: bytes | None) -> bytes:
        encryption = BestAvailableEncryption(passphrase) if passphrase else NoEncryption()
        return private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)

    def _write(self, path: Path, data: bytes, *, replace: bool = False) -> None:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            if replace:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)     # never overwrites: a key file is not replaced by accident
                except FileExistsError:
                    pass
                tmp.unlink()
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise KeyFileError(f"无法写入密钥文件 {path}:{exc.strerror}。",
                               f"cannot write the key file {path}: {exc.strerror}") from None

    # --- reading ------------------------------------------------------------------------------

    def load(self, community: str, key_id: str, public: bytes) -> Ed25519PrivateKey:
        """The private key of ``key_id``, checked against the store's public key."""
        path = self.path(community, key_id, public)
        with self._lock:
            if path in self._loaded:
                return self._loaded[path]
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise FileNotFoundError
            data = path.read_bytes()
        except FileNotFoundError:
            raise KeyFileError(
                f"找不到发卡密钥文件 {path}。请把密钥目录放回原处,或用 --key-dir 指明它所在的目录。",
                f"issuing key file not found: {path} (restore the key directory or give --key-dir)") from None
        except OSError as exc:
            raise KeyFileError(f"无法读取发卡密钥文件 {path}:{exc.strerror}。",
                               f"cannot read the issuing key file {path}: {exc.strerror}") from None
        if info.st_mode & 0o077:
            raise KeyFileError(f"发卡密钥文件 {path} 其他人也能读取,不安全。请运行:chmod 600 {path}",
                               f"the issuing key file {path} is readable by others: run chmod 600 {path}")
        private = self._parse(path, data)
        if raw_public(private) != bytes(public):
            raise KeyFileError(f"发卡密钥文件 {path} 与数据库中的公钥不符。",
                               f"the issuing key file {path} does not match the store's public key")
        with self._lock:
            self._loaded[path] = private
        return private

    def _parse(self, path: Path, data: bytes) -> Ed25519PrivateKey:
        encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
        if encrypted and self.passphrase is None:
            raise KeyFileError(f"发卡密钥文件 {path} 已加密,需要口令:请设置环境变量 {PASSPHRASE_ENV},"
                               "或在命令后加 --ask-passphrase 输入口令。",
                               f"the issuing key file {path} is encrypted: set {PASSPHRASE_ENV} or use --ask-passphrase")
        try:
            private = load_pem_private_key(data, self.passphrase if encrypted else None)
        except (ValueError, TypeError):
            if encrypted:
                raise KeyFileError(f"发卡密钥文件 {path} 的口令不正确。",
                                   f"wrong passphrase for the issuing key file {path}") from None
            raise KeyFileError(f"发卡密钥文件 {path} 已损坏或不是密钥文件。",
                               f"the issuing key file {path} is damaged or not a key file") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyFileError(f"发卡密钥文件 {path} 不是 Ed25519 密钥。", f"{path} is not an Ed25519 key")
        return private

    def state(self, community: str, key_id: str, public: bytes) -> str:
        """For listings: 'ok', 'encrypted' (found, needs the passphrase), 'missing' or 'unusable'."""
        path = self.path(community, key_id, public)
        if not path.exists():
            return "missing"
        try:
            self.load(community, key_id, public)
        except KeyFileError:
            head = path.read_bytes()[:64] if os.access(path, os.R_OK) else b""
            return "encrypted" if b"ENCRYPTED" in head and self.passphrase is None else "unusable"
        return "ok"


# --- which key store a connection uses --------------------------------------------------------

def for_store(store_path: str | Path | None, *, directory: str | Path | None = None,
              passphrase: str | bytes | None = None) -> KeyStore:
    """The key store of a store: ``directory``, else ``$MPB_KEY_DIR``, else beside the SQLite file;
    the passphrase given, else ``$MPB_KEY_PASSPHRASE``, else none."""
    chosen = directory or os.environ.get(DIR_ENV) or None
    if isinstance(store_path, str) and store_path.startswith(("postgresql://", "postgres://")):
        store_path = None       # a store on a database server has no file to keep its keys beside
    if chosen is None:
        if store_path is None:
            raise KeyFileError("没有指定发卡密钥目录:数据库在服务器上,密钥不能放在它旁边。"
                               f"请用 --key-dir 指明,或设置环境变量 {DIR_ENV}。",
                               f"no key directory: a store on a database server has no file to keep keys beside; "
                               f"give --key-dir or set {DIR_ENV}")
        chosen = default_directory(store_path)
    if passphrase is None:
        passphrase = os.environ.get(PASSPHRASE_ENV) or None
    return KeyStore(chosen, passphrase)


def use(conn: sqlite3.Connection, keys: KeyStore) -> None:
    """Make ``conn`` find its issuing keys in ``keys`` (the office does this for every connection)."""
    conn.cache["keystore"] = keys


def of(conn: sqlite3.Connection) -> KeyStore:
    """The key store a connection was given with :func:`use`, else the default for its file."""
    cache = getattr(conn, "cache", None)
    if cache is not None and "keystore" in cache:
        return cache["keystore"]
    if getattr(conn, "engine", "sqlite") == "sqlite":
        row = next((r for r in conn.execute("PRAGMA database_list") if r[1] == "main"), None)
        keys = for_store(row[2] if row is not None and row[2] else None)
    else:  # a server store has no file to keep keys beside: $MPB_KEY_DIR or keystore.use
        keys = for_store(None)
    if cache is not None:
        cache["keystore"] = keys
    return keys
