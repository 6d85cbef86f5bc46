"""A device's home directory: its config, its private key (mode 0600) and its replica database.

Layout::

    HOME/config.json      device id, kind, merchant or service point, office URL, community
    HOME/device.key       the device's Ed25519 private key, raw 32 bytes, readable by its user only
    HOME/replica.sqlite   the local replica and the outbox of events (:mod:`sync.replica`)
    HOME/sync.lock        held (flock) by whichever process of the device is making a signed request

It lives in ``sync`` (not ``device``) because ``python -m sync --home DIR`` must open it and
``sync`` may not import ``device``; ``device`` builds enrolment and redemption on top of it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from bank.errors import BankError

from . import replica
from .faults import DeviceFault

CONFIG = "config.json"
KEY = "device.key"
REPLICA = "replica.sqlite"
LOCK = "sync.lock"


class HomeError(BankError):
    code = "home"


# What every enrolled device's config names; a tablet also its merchant, a kiosk its service point.
CONFIG_FIELDS = ("device_id", "kind", "server", "community")
KIND_FIELDS = {"tablet": "merchant_id", "kiosk": "service_point_id"}
KEY_BYTES = 32


@dataclass(frozen=True)
class Home:
    path: Path
    config: dict

    @property
    def device_id(self) -> str:
        return self.config["device_id"]

    @property
    def server(self) -> str:
        return self.config["server"]

    def private_key(self) -> Ed25519PrivateKey:
        raw = _read_key(self.path)
        return Ed25519PrivateKey.from_private_bytes(raw)

    def with_config(self, **changes) -> "Home":
        """Save a changed config (durably, in one step) and return the home as it now is."""
        config = {**self.config, **changes}
        _check_config(config)
        write_json(self.path / CONFIG, config)
        return Home(self.path, config)

    def replica(self) -> sqlite3.Connection:
        """The replica, checked cheaply on every open: present, SQLite, not empty, this device's."""
        conn = replica.connect(self.path / REPLICA)
        try:
            replica.check_owner(conn, self.device_id)
        except BaseException:
            conn.close()
            raise
        return conn


def open_home(path: str | Path, *, thorough: bool = True) -> Home:
    """Open an enrolled device's home directory, or refuse with one plain sentence.

    Not enrolled (no config) is a :class:`HomeError`; a config without a field, a damaged key, a
    replica that is missing, empty, damaged (``thorough``: ``PRAGMA integrity_check``) or another
    device's is a :class:`~sync.faults.DeviceFault`: the device must not redeem or record.
    """
    path = Path(path)
    try:
        text = (path / CONFIG).read_text("utf-8")
    except FileNotFoundError:
        raise HomeError(f"{path} 不是已登记设备的目录,请先登记(enrol)。",
                        f"{path} is not an enrolled device's home: run enrol first", code="not_enrolled") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeviceFault("config_damaged", detail=str(exc)) from None
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise DeviceFault("config_damaged", detail=f"not JSON: {exc}") from None
    _check_config(config)
    _read_key(path)
    h = Home(path, config)
    conn = h.replica()
    try:
        if thorough:
            replica.check_integrity(conn)
    finally:
        conn.close()
    return h


def _check_config(config) -> None:
    if not isinstance(config, dict):
        raise DeviceFault("config_damaged", detail="not a JSON object")
    for name in CONFIG_FIELDS:
        if not isinstance(config.get(name), str) or not config[name]:
            raise DeviceFault("config_incomplete", field=name)
    if config["kind"] not in KIND_FIELDS:
        raise DeviceFault("config_damaged", detail=f"unknown device kind {config['kind']!r}")
    if not isinstance(config.get(KIND_FIELDS[config["kind"]]), int):
        raise DeviceFault("config_incomplete", field=KIND_FIELDS[config["kind"]])


def _read_key(path: Path) -> bytes:
    try:
        raw = (path / KEY).read_bytes()
    except FileNotFoundError:
        raise DeviceFault("key_damaged", detail="missing") from None
    except OSError as exc:
        raise DeviceFault("key_damaged", detail=str(exc)) from None
    if len(raw) != KEY_BYTES:
        raise DeviceFault("key_damaged", detail=f"{len(raw)} bytes, not {KEY_BYTES}")
    return raw


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def prepare(path: str | Path) -> Path:
    """Check that ``path`` can become a new home: absent, or an empty directory."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise HomeError(f"目录 {path} 已存在且不为空,不会覆盖。", f"{path} exists and is not empty: not overwriting")
    return path


def create(path: str | Path, config: dict, private: Ed25519PrivateKey) -> Home:
    """Write a new home: the key first (0600, never world-readable even for an instant), then the
    replica, then the config last, so a half-made home is never taken for an enrolled one."""
    path = prepare(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    fd = os.open(path / KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, raw)
        os.fsync(fd)
    finally:
        os.close(fd)
    conn = replica.connect(path / REPLICA, create=True)
    replica.set_state(conn, device_id=config["device_id"], community=config["community"],
                      issuing_keys=config["issuing_keys"], kind=config["kind"])
    conn.close()
    write_json(path / CONFIG, config)
    return Home(path, config)


def write_json(path: Path, data) -> None:
    """Replace a small JSON file so that a power cut leaves the old one or the new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)        # the rename itself reaches the disk
    finally:
        os.close(dir_fd)
