"""Accounts (储户): a household or a single resident, with members, a status and an optional PIN.

The rules of an account's own record live here: opening it, editing the holder's name, the
address and the phone, members joining and leaving, a change of holder, suspending and
reinstating. What also touches the ledger or the cards (opening with a card, closing, merging,
splitting) is in :mod:`bank.households`, above both.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
from dataclasses import dataclass

from . import clock
from .errors import InvalidInput, NotFound

STATUSES = ("active", "suspended", "closed")
STATUS_NAMES = {"active": "正常", "suspended": "暂停", "closed": "销户"}
KIND_NAMES = {"household": "家庭", "single": "个人"}
# Relations offered by the forms (any short text is accepted: older records hold others).
RELATIONS = ("配偶", "儿子", "女儿", "父亲", "母亲", "孙子", "孙女", "其他")
MAX_UNITS = 20
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
    phone: str = ""
    closed_at: str | None = None

    @property
    def address(self) -> str:
        return f"{self.building}栋{self.unit}单元{self.room}"


def _name(name, what: str = "姓名") -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 20 or not name.isprintable():
        raise InvalidInput(f"{what}不能为空,且不超过20个字。", "a name must be 1-20 printable characters")
    return name


def _relation(relation) -> str:
    relation = relation.strip() if isinstance(relation, str) else ""
    if not relation or len(relation) > 10 or not relation.isprintable():
        raise InvalidInput("与户主关系不能为空,且不超过10个字。", "a relation must be 1-10 printable characters")
    return relation


def check_address(conn: sqlite3.Connection, compound_id, building, unit, room) -> str:
    """Refuse an address the community does not have; return the room as stored."""
    row = conn.execute("SELECT buildings FROM compounds WHERE compound_id = ?", (compound_id,)).fetchone() \
        if type(compound_id) is int else None
    if row is None:
        raise InvalidInput(f"没有编号为 {compound_id} 的小区。", f"no compound {compound_id}")
    if not (type(building) is int and 1 <= building <= row[0]):
        raise InvalidInput(f"楼栋号须为1到{row[0]}。", f"building must be 1-{row[0]}")
    if not (type(unit) is int and 1 <= unit <= MAX_UNITS):
        raise InvalidInput(f"单元号须为1到{MAX_UNITS}。", f"unit must be 1-{MAX_UNITS}")
    room = room.strip() if isinstance(room, str) else ""
    if not room or len(room) > 10 or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in room):
        raise InvalidInput("房号须为1到10位数字或字母,如 1502。", "a room is 1-10 letters or digits, e.g. 1502")
    return room


_RUNS = re.compile(r"([0-9]+)")


def natural_key(text) -> tuple:
    """Sort key for a building, unit or room as people read it: 803 before 2603, 2-B before 10-A.
    Digit runs compare as numbers, the rest as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in _RUNS.split(str(text)) if part)


def address_key(building, unit, room) -> tuple:
    """The order of households everywhere addresses are listed: building, unit, room, naturally."""
    return natural_key(building), natural_key(unit), natural_key(room)


def check_phone(phone) -> str:
    """An optional phone number: digits, with an optional leading + and - or spaces between."""
    phone = phone.strip() if isinstance(phone, str) else ""
    if not phone:
        return ""
    digits = phone.lstrip("+").replace("-", "").replace(" ", "")
    if not (digits.isascii() and digits.isdigit() and 5 <= len(digits) <= 15) or "+" in phone[1:] or len(phone) > 20:
        raise InvalidInput("电话号码须为5到15位数字,如 13812345678 或 023-62345678。",
                           "a phone number is 5-15 digits, e.g. 13812345678")
    return phone


def open_account(conn: sqlite3.Connection, *, kind: str, holder: str, compound_id: int,
                 building: int, unit: int, room: str, phone: str = "", now=None) -> int:
    """Open an account with its holder as the first member; return the account id."""
    if kind not in KIND_NAMES:
        raise InvalidInput("账户类型只能是家庭或个人。", f"unknown account kind {kind!r}")
    holder = _name(holder, "户主姓名")
    room = check_address(conn, compound_id, building, unit, room)
    phone = check_phone(phone)
    at = clock.to_text(now or clock.now_utc())
    aid = conn.execute(
        "INSERT INTO accounts (kind, display_name, compound_id, building, unit, room, phone, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, holder, compound_id, building, unit, room, phone, at)).lastrowid
    conn.execute("INSERT INTO members (account_id, name, relation, is_holder) VALUES (?, ?, '本人', 1)",
                 (aid, holder))
    return aid


def add_member(conn: sqlite3.Connection, account_id: int, name: str, relation: str,
               team_id: int | None = None) -> int:
    acct = get(conn, account_id)
    if acct.status == "closed":
        raise InvalidInput(f"储户 {account_id} 已销户,不能添加成员。", f"account {account_id} is closed")
    name, relation = _name(name), _relation(relation)
    if acct.kind == "single":
        # a second person makes it a household: a single account holds one resident
        conn.execute("UPDATE accounts SET kind = 'household' WHERE account_id = ?", (account_id,))
    return conn.execute(
        "INSERT INTO members (account_id, name, relation, team_id) VALUES (?, ?, ?, ?)",
        (account_id, name, relation, team_id)).lastrowid


def get(conn: sqlite3.Connection, account_id: int) -> Account:
    row = conn.execute(
        "SELECT account_id, kind, display_name, compound_id, building, unit, room, status, "
        "pin_hash IS NOT NULL, phone, closed_at FROM accounts WHERE account_id = ?", (account_id,)).fetchone() \
        if type(account_id) is int else None
    if row is None:
        raise NotFound(f"没有编号为 {account_id} 的储户。", f"no account {account_id}")
    return Account(*row[:8], bool(row[8]), row[9], row[10])


def members(conn: sqlite3.Connection, account_id: int) -> list[sqlite3.Row]:
    return conn.execute("SELECT member_id, name, relation, is_holder, team_id FROM members "
                        "WHERE account_id = ? ORDER BY is_holder DESC, member_id",
                        (account_id,)).fetchall()


def set_status(conn: sqlite3.Connection, account_id: int, status: str, *, now=None) -> None:
    """The one place an account's status changes (suspend, reinstate, close, merge and its undo).

    Records when: settlement accepts a tablet's redemption for an account suspended or closed
    after the tablet's last pull (it could not know), not before.
    """
    if status not in STATUSES:
        raise InvalidInput("账户状态不正确。", f"unknown status {status!r}")
    get(conn, account_id)
    at = clock.to_text(now or clock.now_utc())
    conn.execute("UPDATE accounts SET status = ?, closed_at = CASE WHEN ? = 'closed' THEN ? ELSE NULL END, "
                 "status_changed_at = CASE WHEN status IS ? THEN status_changed_at ELSE ? END WHERE account_id = ?",
                 (status, status, at, status, at, account_id))


def _open_for_change(conn, account_id: int) -> Account:
    acct = get(conn, account_id)
    if acct.status == "closed":
        raise InvalidInput(f"储户 {account_id} 已销户,不能修改。", f"account {account_id} is closed")
    return acct


def _active_reviewers(conn, account_id: int) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM reviewers WHERE account_id = ? AND active = 1",
                                       (account_id,))}


def member(conn: sqlite3.Connection, account_id: int, member_id) -> sqlite3.Row:
    for m in members(conn, account_id):
        if m["member_id"] == member_id:
            return m
    raise InvalidInput(f"所选成员不属于储户 {account_id}。", f"member {member_id} is not in account {account_id}")


def edit(conn: sqlite3.Connection, account_id: int, *, holder_name: str | None = None,
         compound_id: int | None = None, building: int | None = None, unit: int | None = None,
         room: str | None = None, phone: str | None = None) -> dict:
    """Change the holder's name, the address or the phone (None: unchanged). Returns what changed
    as {field: [before, after]} (empty if nothing did), for the audit log."""
    acct = _open_for_change(conn, account_id)
    after = {"compound_id": acct.compound_id if compound_id is None else compound_id,
             "building": acct.building if building is None else building,
             "unit": acct.unit if unit is None else unit,
             "room": acct.room if room is None else room}
    after["room"] = check_address(conn, after["compound_id"], after["building"], after["unit"], after["room"])
    after["phone"] = acct.phone if phone is None else check_phone(phone)
    after["display_name"] = acct.display_name if holder_name is None else _name(holder_name, "户主姓名")
    before = {"compound_id": acct.compound_id, "building": acct.building, "unit": acct.unit, "room": acct.room,
              "phone": acct.phone, "display_name": acct.display_name}
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    reviewers_here = _active_reviewers(conn, account_id)
    if "compound_id" in changed and reviewers_here:
        raise InvalidInput(f"{'、'.join(sorted(reviewers_here))}是评议小组成员,迁往其他小区前请先在“评议小组”办理退出。",
                           "a review-group member lives here: they leave the group before the household moves")
    if "display_name" in changed:
        if acct.display_name in reviewers_here:
            raise InvalidInput(f"{acct.display_name}是评议小组成员,改名前请先在“评议小组”办理退出。",
                               "the holder is a review-group member")
        conn.execute("UPDATE members SET name = ? WHERE account_id = ? AND is_holder = 1",
                     (after["display_name"], account_id))
    if changed:
        conn.execute("UPDATE accounts SET display_name = ?, compound_id = ?, building = ?, unit = ?, room = ?, "
                     "phone = ? WHERE account_id = ?",
                     (after["display_name"], after["compound_id"], after["building"], after["unit"], after["room"],
                      after["phone"], account_id))
    return changed


def edit_member(conn: sqlite3.Connection, account_id: int, member_id: int, *, name: str | None = None,
                relation: str | None = None) -> dict:
    """Correct a member's name or relation to the holder (the holder's name also renames the
    account; the holder's relation is always 本人). Returns {field: [before, after]}."""
    _open_for_change(conn, account_id)
    m = member(conn, account_id, member_id)
    after = {"name": m["name"] if name is None else _name(name),
             "relation": m["relation"] if relation is None else _relation(relation)}
    if m["is_holder"] and after["relation"] != "本人":
        raise InvalidInput("户主与户主的关系是“本人”;更换户主请办理户主变更。", "the holder's relation is 本人")
    if not m["is_holder"] and after["relation"] == "本人":
        raise InvalidInput("只有户主的关系是“本人”。", "only the holder is 本人")
    changed = {k: [m[k], after[k]] for k in after if m[k] != after[k]}
    if "name" in changed and m["name"] in _active_reviewers(conn, account_id):
        raise InvalidInput(f"{m['name']}是评议小组成员,改名前请先在“评议小组”办理退出。",
                           "a review-group member keeps their name while in the group")
    if changed:
        conn.execute("UPDATE members SET name = ?, relation = ? WHERE member_id = ?",
                     (after["name"], after["relation"], member_id))
        if m["is_holder"] and "name" in changed:
            conn.execute("UPDATE accounts SET display_name = ? WHERE account_id = ?", (after["name"], account_id))
    return changed


def remove_member(conn: sqlite3.Connection, account_id: int, member_id: int) -> str:
    """A member leaves the household (moved away, passed away); returns the name. The holder
    stays (change the holder first); a member who moves into another household is a split."""
    _open_for_change(conn, account_id)
    m = member(conn, account_id, member_id)
    if m["is_holder"]:
        raise InvalidInput("户主不能移出;请先办理户主变更。", "the holder cannot be removed: change the holder first")
    if m["name"] in _active_reviewers(conn, account_id):
        raise InvalidInput(f"{m['name']}是评议小组成员,请先在“评议小组”办理退出。", "a review-group member cannot leave")
    # Nothing refers to a member row (entries name the account); the audit log keeps who left.
    conn.execute("DELETE FROM members WHERE member_id = ?", (member_id,))
    return m["name"]


def change_holder(conn: sqlite3.Connection, account_id: int, member_id: int, *, old_holder_relation: str) -> tuple[str, str]:
    """Make another member the holder (户主变更): the card and the account stay, the account takes
    the new holder's name; the old holder's relation to the new one is given. Returns the names
    (old, new)."""
    acct = _open_for_change(conn, account_id)
    m = member(conn, account_id, member_id)
    if m["is_holder"]:
        raise InvalidInput(f"{m['name']}已经是户主。", "this member is the holder already")
    relation = _relation(old_holder_relation)
    if relation == "本人":
        raise InvalidInput("请填写原户主与新户主的关系,如“配偶”。", "give the old holder's relation to the new one")
    conn.execute("UPDATE members SET is_holder = 0, relation = ? WHERE account_id = ? AND is_holder = 1",
                 (relation, account_id))
    conn.execute("UPDATE members SET is_holder = 1, relation = '本人' WHERE member_id = ?", (member_id,))
    conn.execute("UPDATE accounts SET display_name = ? WHERE account_id = ?", (m["name"], account_id))
    return acct.display_name, m["name"]


def suspend(conn: sqlite3.Connection, account_id: int, *, now=None) -> Account:
    """Suspend (暂停) an account: its card redeems nowhere (devices learn it at their next pull);
    awards and deductions are still recorded. Reinstate undoes it."""
    acct = _open_for_change(conn, account_id)
    if acct.status == "suspended":
        raise InvalidInput(f"储户 {account_id} 已经暂停。", f"account {account_id} is suspended already")
    set_status(conn, account_id, "suspended", now=now)
    return get(conn, account_id)


def reinstate(conn: sqlite3.Connection, account_id: int, *, now=None) -> Account:
    acct = _open_for_change(conn, account_id)
    if acct.status != "suspended":
        raise InvalidInput(f"储户 {account_id} 没有暂停。", f"account {account_id} is not suspended")
    set_status(conn, account_id, "active", now=now)
    return get(conn, account_id)


@dataclass(frozen=True)
class SearchPage:
    rows: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(conn: sqlite3.Connection, *, term: str = "", compound_id: int | None = None,
           building: int | None = None, unit: int | None = None, room: str = "", status: str = "",
           page: int = 1, per_page: int = 50) -> SearchPage:
    """The residents list: by name (any member's), account id or card id, and by compound,
    building, unit and room; in address order (:func:`address_key`), ``per_page`` rows from ``page`` (1-based)."""
    where, args = ["1 = 1"], []
    if compound_id is not None:
        where.append("a.compound_id = ?")
        args.append(compound_id)
    if building is not None:
        where.append("a.building = ?")
        args.append(building)
    if unit is not None:
        where.append("a.unit = ?")
        args.append(unit)
    if room:
        where.append("a.room = ?")
        args.append(room)
    if status:
        if status not in STATUSES:
            raise InvalidInput("账户状态不正确。", f"unknown status {status!r}")
        where.append("a.status = ?")
        args.append(status)
    term = term.strip()
    if term:
        if term.isascii() and term.isdigit():
            where.append("(a.account_id = ? OR a.account_id IN (SELECT account_id FROM cards WHERE card_id = ?))")
            args += [int(term), term]
        else:
            like = "%" + term.replace("\\", "").replace("%", "").replace("_", "") + "%"
            where.append("a.account_id IN (SELECT account_id FROM members WHERE name LIKE ?)")
            args.append(like)
    if type(page) is not int or page < 1 or type(per_page) is not int or not 1 <= per_page <= 500:
        raise InvalidInput("页码不正确。", "page must be 1 or more and per_page 1-500")
    cond = " AND ".join(where)
    # in address order (compound, then building, unit and room as people read them), which SQL's
    # text order of rooms is not: the page is cut from the sorted keys
    keys = conn.execute(f"SELECT a.account_id, a.compound_id, a.building, a.unit, a.room FROM accounts a "
                        f"WHERE {cond}", args).fetchall()
    keys.sort(key=lambda r: (r[1], address_key(r[2], r[3], r[4]), r[0]))
    total = len(keys)
    ids = [r[0] for r in keys[(page - 1) * per_page:page * per_page]]
    found = conn.execute(
        "SELECT a.account_id, a.display_name, a.kind, a.compound_id, c.name AS compound, a.building, a.unit, a.room, "
        "a.phone, a.status, (SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE e.account_id = a.account_id) "
        "AS balance, (SELECT card_id FROM cards k WHERE k.account_id = a.account_id AND k.status = 'active' "
        "AND k.role = 'resident' ORDER BY card_id LIMIT 1) AS card_id, "
        "(SELECT count(*) FROM members m WHERE m.account_id = a.account_id) AS member_count "
        "FROM accounts a JOIN compounds c USING (compound_id) WHERE a.account_id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),)).fetchall()
    by_id = {r[0]: r for r in found}
    return SearchPage([by_id[i] for i in ids], total, page, per_page)


def mask_name(name: str) -> str:
    """张*明 for 张三明, 李* for 李四: the middle hidden, as on public postings."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


PIN_LENGTHS = range(4, 7)    # a PIN (a card's, a reviewer's, a tablet's staff PIN) is 4 to 6 digits


def check_pin_rule(pin) -> str:
    """The PIN if it is 4 to 6 ASCII digits; otherwise :class:`InvalidInput` in plain words."""
    if not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and len(pin) in PIN_LENGTHS):
        raise InvalidInput("密码须为4到6位数字。", "a PIN is 4 to 6 digits")
    return pin


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """A slow salted hash of a PIN, as 'scrypt$n$r$p$salt$hash' (hex)."""
    check_pin_rule(pin)
    return _hash(pin, salt) if salt else _hash.__wrapped__(pin, secrets.token_bytes(16))


@functools.lru_cache(maxsize=64)
def _hash(pin: str, salt: bytes) -> str:
    # Cached only for a salt the caller chose (the deterministic demo gives every member the same
    # PIN and salt): each scrypt costs ~0.1 s, and the demo would spend seconds repeating one.
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

