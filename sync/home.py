"""A device's home directory: its config, its private key (mode 0600) and its replica database.

Layout::

    HOME/config.json      device id, kind, merchant or service point, office URL, community
    HOME/device.key       the device's Ed25519 private key, raw 32 bytes, readable by its user only
    HOME/replica.sqlite   the local replica and the outbox of events (:mod:`sync.replica`)

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

CONFIG = "config.json"
KEY = "device.key"
REPLICA = "replica.sqlite"


class HomeError(BankError):
    code = "home"


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
        return Ed25519PrivateKey.from_private_bytes((self.path / KEY).read_bytes())

    def replica(self) -> sqlite3.Connection:
        return replica.connect(self.path / REPLICA)


def open_home(path: str | Path) -> Home:
    """Open an enrolled device's home directory, or refuse with a plain message."""
    path = Path(path)
    try:
        config = json.loads((path / CONFIG).read_text("utf-8"))
    except FileNotFoundError:
        raise HomeError(f"{path} 不是已登记设备的目录,请先登记(enroll)。",
                        f"{path} is not an enrolled device's home: run enroll first") from None
    except (OSError, ValueError) as exc:
        raise HomeError(f"无法读取设备配置 {path / CONFIG}。", f"cannot read {path / CONFIG}: {exc}") from None
    if not (path / KEY).is_file() or not (path / REPLICA).is_file():
        raise HomeError(f"设备目录 {path} 不完整。", f"device home {path} is incomplete (key or replica missing)")
    return Home(path, config)


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
    tmp = path / (CONFIG + ".tmp")
    tmp.write_text(json.dumps(config, ensure_ascii=False, indent=2), "utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path / CONFIG)
    return Home(path, config)
