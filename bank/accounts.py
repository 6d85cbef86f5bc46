"""Accounts (储户): a household or a single resident, with members, a status and an optional PIN."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass

from . import clock
from .errors import InvalidInput, NotFound

STATUSES = ("active", "suspended", "closed")
# scrypt cost: ~50 ms on a tablet-class CPU, memory 16 MiB. A 4-6 digit PIN is weak on its own;
# the cost slows offline guessing from a copied replica, and devices also limit tries.
_SCRYPT = dict(n=2**14, r=8, p=1, dklen=32)


@dataclass(frozen=True)
class Account:
    account_id: int
    kind: str
    display_name: str
    compound_id: int
    building: int
    unit: int
    room: str
    status: str
    has_pin: bool


def open_account(conn: sqlite3.Connection, *, kind: str, holder: str, compound_id: int,
                 building: int, unit: int, room: str, now=None) -> int:
    """Open an account with its holder as the first member; return the account id."""
    if kind not in ("household", "single"):
        raise InvalidInput("账户类型只能是家庭或个人。", f"unknown account kind {kind!r}")
    holder = holder.strip()
    if not holder or len(holder) > 20:
        raise InvalidInput("户主姓名不能为空,且不超过20个字。", "holder name must be 1-20 characters")
    row = conn.execute("SELECT buildings FROM compounds WHERE compound_id = ?", (compound_id,)).fetchone()
    if row is None:
        raise InvalidInput(f"没有编号为 {compound_id} 的小区。", f"no compound {compound_id}")
    if not (type(building) is int and 1 <= building <= row[0] and type(unit) is int and 1 <= unit <= 20):
        raise InvalidInput("楼栋或单元号不正确。", f"building must be 1-{row[0]} and unit 1-20")
    at = clock.to_text(now or clock.now_utc())
    aid = conn.execute(
        "INSERT INTO accounts (kind, display_name, compound_id, building, unit, room, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, holder, compound_id, building, unit, room, at)).lastrowid
    conn.execute("INSERT INTO members (account_id, name, relation, is_holder) VALUES (?, ?, '本人', 1)",
                 (aid, holder))
    return aid


def add_member(conn: sqlite3.Connection, account_id: int, name: str, relation: str,
               team_id: int | None = None) -> int:
    get(conn, account_id)
    return conn.execute(
        "INSERT INTO members (account_id, name, relation, team_id) VALUES (?, ?, ?, ?)",
        (account_id, name, relation, team_id)).lastrowid


def get(conn: sqlite3.Connection, account_id: int) -> Account:
    row = conn.execute(
        "SELECT account_id, kind, display_name, compound_id, building, unit, room, status, "
        "pin_hash IS NOT NULL FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {account_id} 的储户。", f"no account {account_id}")
    return Account(*row[:8], bool(row[8]))


def members(conn: sqlite3.Connection, account_id: int) -> list[sqlite3.Row]:
    return conn.execute("SELECT member_id, name, relation, is_holder, team_id FROM members "
                        "WHERE account_id = ? ORDER BY is_holder DESC, member_id",
                        (account_id,)).fetchall()


def set_status(conn: sqlite3.Connection, account_id: int, status: str) -> None:
    if status not in STATUSES:
        raise InvalidInput("账户状态不正确。", f"unknown status {status!r}")
    get(conn, account_id)
    conn.execute("UPDATE accounts SET status = ? WHERE account_id = ?", (status, account_id))


def mask_name(name: str) -> str:
    """张*明 for 张三明, 李* for 李四: the middle hidden, as on public postings."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """A slow salted hash of a PIN, as 'scrypt$n$r$p$salt$hash' (hex)."""
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 6):
        raise InvalidInput("密码须为4到6位数字。", "a PIN is 4 to 6 digits")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, maxmem=64 * 2**20, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_pin(pin_hash: str, pin: str) -> bool:
    """True if ``pin`` matches ``pin_hash``; constant-time comparison."""
    try:
        _, n, r, p, salt, digest = pin_hash.split("$")
        got = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2, maxmem=64 * 2**20)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def set_pin(conn: sqlite3.Connection, account_id: int, pin: str | None) -> None:
    """Set (or with None clear) the account's PIN."""
    get(conn, account_id)
    conn.execute("UPDATE accounts SET pin_hash = ? WHERE account_id = ?",
                 (hash_pin(pin) if pin else None, account_id))


def verify_pin(conn: sqlite3.Connection, account_id: int, pin: str) -> bool:
    row = conn.execute("SELECT pin_hash FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
    if row is None or row[0] is None:
        return False
    return check_pin(row[0], pin)
