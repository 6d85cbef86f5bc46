"""The ledger (台账): append-only entries of integer points, balances and the passbook.

Nothing in the ledger is ever updated or deleted; the database itself refuses it (triggers). A
mistake is corrected by a reversal entry pointing at the original, and an entry can be reversed
once. Each entry names the rule item or offer, who recorded it, on which device, the device's
clock and the recording clock, and a note.

Periods for caps are decided by the recording time (the office's clock, or the store's), never by
a device's clock, so a device with a wrong clock cannot move an entry into another period.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import sqlite3
from dataclasses import dataclass

from . import accounts, clock, convention, merchants
from .db import insert_rows, transaction
from .errors import AccountInactive, AlreadyReversed, CapExceeded, InsufficientPoints, InvalidInput, NotFound

KINDS = ("award", "deduction", "redemption", "reversal", "expiry", "adjustment")
KIND_NAMES = {"award": "加分", "deduction": "扣分", "redemption": "兑换", "reversal": "冲正",
              "expiry": "积分到期", "adjustment": "调整"}
REVERSIBLE = ("award", "deduction", "redemption", "adjustment")
MAX_NOTE = 200

_COLUMNS = ("entry_id, account_id, kind, points, item_code, catalog_version, period_key, merchant_id, "
            "offer_id, quantity, reverses_entry_id, recorded_by, device_id, device_time, recorded_at, note, ref, "
            "valid_until")


@dataclass(frozen=True)
class Entry:
    entry_id: int
    account_id: int
    kind: str
    points: int
    item_code: str | None
    catalog_version: int | None
    period_key: str | None
    merchant_id: int | None
    offer_id: int | None
    quantity: int | None
    reverses_entry_id: int | None
    recorded_by: str
    device_id: str
    device_time: str | None
    recorded_at: str
    note: str
    ref: str | None
    valid_until: str | None = None   # moved points keep their validity (local date), see validity


@dataclass(frozen=True)
class PassbookLine:
    entry: Entry
    description: str   # rule item name, or merchant and offer, or what the entry is
    balance_after: int
    reversed: bool

    @property
    def local_date(self) -> dt.date:
        return clock.local_date(clock.from_text(self.entry.recorded_at))


def entry(conn: sqlite3.Connection, entry_id: int) -> Entry:
    row = conn.execute(f"SELECT {_COLUMNS} FROM ledger_entries WHERE entry_id = ?", (entry_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {entry_id} 的台账记录。", f"no ledger entry {entry_id}")
    return Entry(*row)


def by_ref(conn: sqlite3.Connection, ref: str) -> Entry | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM ledger_entries WHERE ref = ?", (ref,)).fetchone()
    return Entry(*row) if row else None


def _check_note(note: str) -> str:
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise InvalidInput(f"备注不能超过{MAX_NOTE}个字。", f"note is limited to {MAX_NOTE} characters")
    return note.strip()


def append(conn: sqlite3.Connection, *, account_id: int, kind: str, points: int, recorded_by: str,
           device_id: str, device_time: str | None, now: dt.datetime, note: str, ref: str | None,
           **extra) -> Entry:
    """Insert one entry as given (no business checks): the one place that writes the ledger."""
    if type(points) is not int:
        raise InvalidInput("积分必须是整数。", "points must be an integer")
    if not recorded_by:
        raise InvalidInput("必须写明记录人。", "an entry must name who recorded it")
    cols = dict(account_id=account_id, kind=kind, points=points, recorded_by=recorded_by,
                device_id=device_id, device_time=device_time, recorded_at=clock.to_text(now),
                note=_check_note(note), ref=ref, **extra)
    names = ", ".join(cols)
    marks = ", ".join("?" for _ in cols)
    entry_id = conn.execute(f"INSERT INTO ledger_entries ({names}) VALUES ({marks})",
                            tuple(cols.values())).lastrowid
    return entry(conn, entry_id)


def _active_account(conn: sqlite3.Connection, account_id: int, *, redeeming: bool = False):
    acct = accounts.get(conn, account_id)
    if acct.status == "closed" or (redeeming and acct.status == "suspended"):
        status = {"closed": "已销户", "suspended": "已暂停"}[acct.status]
        raise AccountInactive(f"该储户账户{status},不能办理。", f"account {account_id} is {acct.status}")
    return acct


def period_count(conn: sqlite3.Connection, account_id: int, item_code: str, period_key: str) -> int:
    """How many unreversed entries of this item the account has in the period."""
    return conn.execute(
        "SELECT count(*) FROM ledger_entries e WHERE account_id = ? AND item_code = ? AND period_key = ? "
        "AND kind IN ('award', 'deduction') AND NOT EXISTS "
        "(SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id)",
        (account_id, item_code, period_key)).fetchone()[0]


def record_item(conn: sqlite3.Connection, account_id: int, item_code: str, *, recorded_by: str,
                device_id: str = "office", device_time: str | None = None, note: str = "",
                now: dt.datetime | None = None, ref: str | None = None) -> Entry:
    """Record an award or deduction under a rule item of the catalog in force.

    The item's points decide the kind (positive: award, negative: deduction). Refused with
    :class:`CapExceeded` when the account already has ``cap`` entries of the item in the current
    period of the item's product. With ``ref`` the call is idempotent: a second call with the same
    ref returns the first entry and writes nothing.
    """
    now = now or clock.now_utc()
    with transaction(conn):
        if ref is not None and (existing := by_ref(conn, ref)) is not None:
            return existing
        _active_account(conn, account_id)
        catalog = convention.in_force(conn, clock.local_date(now))
        item = catalog.item(item_code)
        key = clock.period_key(item.product.cadence, now)
        if item.cap is not None and period_count(conn, account_id, item.code, key) >= item.cap:
            raise CapExceeded(
                f"“{item.name}”{item.cap_text},本期已记满,不能再记。",
                f"'{item.code}' is capped at {item.cap} per {item.product.cadence} period; "
                f"the account already has {item.cap} in {key}")
        return append(conn, account_id=account_id, kind="award" if item.points > 0 else "deduction",
                       points=item.points, recorded_by=recorded_by, device_id=device_id,
                       device_time=device_time, now=now, note=note, ref=ref, item_code=item.code,
                       catalog_version=catalog.version, period_key=key)


def record_redemption(conn: sqlite3.Connection, account_id: int, offer_id: int, quantity: int = 1, *,
                      recorded_by: str, device_id: str = "office", device_time: str | None = None,
                      note: str = "", now: dt.datetime | None = None, ref: str | None = None,
                      allow_overdraft: bool = False) -> Entry:
    """Record a redemption of ``quantity`` of an offer.

    At the office the balance must cover it. A redemption made offline on a tablet has already
    been handed over, so settlement passes ``allow_overdraft=True`` and the account may go
    negative (the caller flags it for the council).
    """
    if type(quantity) is not int or not 1 <= quantity <= 99:
        raise InvalidInput("数量须为1到99的整数。", "quantity must be an integer from 1 to 99")
    now = now or clock.now_utc()
    with transaction(conn):
        if ref is not None and (existing := by_ref(conn, ref)) is not None:
            return existing
        _active_account(conn, account_id, redeeming=not allow_overdraft)
        offer = merchants.offer(conn, offer_id)
        points = offer.points * quantity
        if not allow_overdraft:
            have = balance(conn, account_id)
            if have < points:
                raise InsufficientPoints(f"积分不足:需要 {points} 分,现有 {have} 分。",
                                         f"not enough points: {points} needed, {have} available")
        return append(conn, account_id=account_id, kind="redemption", points=-points,
                       recorded_by=recorded_by, device_id=device_id, device_time=device_time, now=now,
                       note=note, ref=ref, merchant_id=offer.merchant_id, offer_id=offer.offer_id,
                       quantity=quantity)


def settle_redemptions(conn: sqlite3.Connection,
                       items: list[tuple[int, merchants.Offer, int, int, str | None, str]], *,
                       recorded_by: str, device_id: str, now: dt.datetime) -> dict[str, int | None]:
    """Settle many offline redemptions at once: ``(account_id, offer, quantity, points, device_time, ref)``.

    The bulk form of ``record_redemption(..., allow_overdraft=True, ref=...)`` for device sync:
    a few queries per batch instead of several per entry. The goods were handed over, so balances
    may go negative (the caller flags that). ``points`` is what the resident paid at the counter
    (the device's price): the ledger records that, even where it differs from the office's price
    for the offer (the caller flags the difference). Returns ref -> entry id; None for an item
    whose account is closed (not settled: the caller raises an alert). A ref already in the ledger
    keeps its first entry and writes nothing.
    """
    if not items:
        return {}
    refs = [it[5] for it in items]
    # json_each binds one parameter however many refs a push carries (SQLite caps bound ones).
    out: dict[str, int | None] = dict(conn.execute(
        "SELECT ref, entry_id FROM ledger_entries WHERE ref IN (SELECT value FROM json_each(?))",
        (json.dumps(refs),)).fetchall())
    ids = sorted({it[0] for it in items})
    closed = {r[0] for r in conn.execute(
        "SELECT account_id FROM accounts WHERE status = 'closed' AND account_id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),))}
    at = clock.to_text(now)
    # entry ids are assigned here (the caller holds the write transaction) so they are known
    # without reading every row back; the ledger is append-only, so max + 1 is always free.
    next_id = conn.execute("SELECT coalesce(max(entry_id), 0) + 1 FROM ledger_entries").fetchone()[0]
    rows = []
    for account_id, offer, quantity, points, device_time, ref in items:
        if ref in out:
            continue
        if account_id in closed:
            out[ref] = None
            continue
        if type(quantity) is not int or not 1 <= quantity <= 99:
            raise InvalidInput("数量须为1到99的整数。", "quantity must be an integer from 1 to 99")
        if type(points) is not int or points < 1:
            raise InvalidInput("兑换积分须为正整数。", "redemption points must be a positive integer")
        rows.append((next_id, account_id, "redemption", -points, offer.merchant_id, offer.offer_id, quantity,
                     recorded_by, device_id, device_time, at, ref))
        out[ref] = next_id
        next_id += 1
    insert_rows(conn, "ledger_entries", ("entry_id", "account_id", "kind", "points", "merchant_id", "offer_id",
                                         "quantity", "recorded_by", "device_id", "device_time", "recorded_at", "ref"),
                rows)
    return out


def record_adjustment(conn: sqlite3.Connection, account_id: int, points: int, *, recorded_by: str,
                      note: str, now: dt.datetime | None = None, ref: str | None = None,
                      valid_until: dt.date | None = None) -> Entry:
    """An office adjustment (e.g. carrying over a paper ledger); the note must say why.

    ``valid_until`` (positive adjustments only) keeps moved points valid to the day they were
    valid to in the account they came from, instead of a fresh validity from today.
    """
    if valid_until is not None and (type(points) is not int or points <= 0):
        raise InvalidInput("只有转入的积分可以沿用原有效期。", "only incoming points can carry a validity")
    if not _check_note(note):
        raise InvalidInput("调整积分必须写明原因。", "an adjustment needs a note saying why")
    if type(points) is not int or points == 0:
        raise InvalidInput("调整的积分须为非零整数。", "an adjustment is a non-zero integer")
    with transaction(conn):
        if ref is not None and (existing := by_ref(conn, ref)) is not None:
            return existing
        _active_account(conn, account_id)
        extra = {} if valid_until is None else {"valid_until": valid_until.isoformat()}
        return append(conn, account_id=account_id, kind="adjustment", points=points, recorded_by=recorded_by,
                       device_id="office", device_time=None, now=now or clock.now_utc(), note=note, ref=ref,
                       **extra)


def reverse(conn: sqlite3.Connection, entry_id: int, *, recorded_by: str, note: str,
            device_id: str = "office", device_time: str | None = None,
            now: dt.datetime | None = None, ref: str | None = None) -> Entry:
    """Post a reversal of an entry (once only); the original stays in the ledger."""
    with transaction(conn):
        if ref is not None and (existing := by_ref(conn, ref)) is not None:
            return existing
        original = entry(conn, entry_id)
        if original.kind not in REVERSIBLE:
            raise InvalidInput(f"“{KIND_NAMES[original.kind]}”记录不能冲正。",
                               f"a {original.kind} entry cannot be reversed")
        if conn.execute("SELECT 1 FROM ledger_entries WHERE reverses_entry_id = ?", (entry_id,)).fetchone():
            raise AlreadyReversed(f"第 {entry_id} 号记录已经冲正过,不能重复冲正。",
                                  f"entry {entry_id} was already reversed")
        return append(conn, account_id=original.account_id, kind="reversal", points=-original.points,
                       recorded_by=recorded_by, device_id=device_id, device_time=device_time,
                       now=now or clock.now_utc(), note=note, ref=ref, reverses_entry_id=entry_id,
                       item_code=original.item_code, catalog_version=original.catalog_version,
                       period_key=original.period_key, merchant_id=original.merchant_id,
                       offer_id=original.offer_id, quantity=original.quantity)


def balance(conn: sqlite3.Connection, account_id: int) -> int:
    """The account's points: the sum of its entries (an index covers it)."""
    return conn.execute("SELECT coalesce(sum(points), 0) FROM ledger_entries WHERE account_id = ?",
                        (account_id,)).fetchone()[0]


def negative_balances(conn: sqlite3.Connection, account_ids: list[int]) -> list[tuple[int, int]]:
    """``(account_id, balance)`` of those accounts whose balance is below zero, by account id.

    One covering-index query for all of them, for settlement, instead of one per account.
    """
    rows = conn.execute("SELECT account_id, sum(points) AS bal FROM ledger_entries WHERE account_id IN "
                        "(SELECT value FROM json_each(?)) GROUP BY account_id HAVING sum(points) < 0",
                        (json.dumps(sorted(set(account_ids))),))
    return sorted(tuple(r) for r in rows)


def entries(conn: sqlite3.Connection, account_id: int) -> list[Entry]:
    return [Entry(*row) for row in conn.execute(
        f"SELECT {_COLUMNS} FROM ledger_entries WHERE account_id = ? ORDER BY entry_id", (account_id,))]


def entries_of_many(conn: sqlite3.Connection, account_ids: list[int]) -> list[Entry]:
    """The entries of several accounts, by account then entry."""
    return [Entry(*row) for row in conn.execute(
        f"SELECT {_COLUMNS} FROM ledger_entries WHERE account_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY account_id, entry_id", (json.dumps(list(account_ids)),))]


_PASSBOOK = f"""
SELECT {", ".join("e." + c.strip() for c in _COLUMNS.split(","))},
       coalesce(ri.name, o.name, '') AS item_name,
       coalesce(m.name, '') AS merchant_name,
       EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id) AS reversed
FROM ledger_entries e
LEFT JOIN rule_items ri ON ri.catalog_version = e.catalog_version AND ri.code = e.item_code
LEFT JOIN offers o ON o.offer_id = e.offer_id
LEFT JOIN merchants m ON m.merchant_id = e.merchant_id
WHERE e.account_id = :account AND (:before IS NULL OR e.entry_id < :before)
ORDER BY e.entry_id DESC
LIMIT :limit OFFSET :offset
"""


_ALL = 2 ** 62  # LIMIT for "every row" in both engines (SQLite's -1 is an error in PostgreSQL)


def running_balances(points, opening: int = 0) -> list[int]:
    """The balance after each of ``points`` (oldest first), starting from ``opening``.

    The one place the running balance (余额) of a passbook is computed: the office's passbook
    and the printed one through :func:`passbook`, the kiosk's over the entries its replica holds.
    """
    return list(itertools.accumulate(points, initial=opening))[1:]


def entry_count(conn: sqlite3.Connection, account_id: int) -> int:
    return conn.execute("SELECT count(*) FROM ledger_entries WHERE account_id = ?", (account_id,)).fetchone()[0]


def passbook(conn: sqlite3.Connection, account_id: int, *, limit: int | None = 20,
             before_entry_id: int | None = None, offset: int = 0) -> list[PassbookLine]:
    """The newest ``limit`` entries (None: all; before an entry id or after ``offset`` newer ones,
    for paging), newest first, each with the balance after it."""
    rows = conn.execute(_PASSBOOK, {"account": account_id, "before": before_entry_id,
                                    "limit": _ALL if limit is None else limit, "offset": offset}).fetchall()
    if not rows:
        return []
    opening = conn.execute("SELECT coalesce(sum(points), 0) FROM ledger_entries WHERE account_id = ? AND entry_id < ?",
                           (account_id, rows[-1][0])).fetchone()[0]
    balances = running_balances([r[3] for r in reversed(rows)], opening)[::-1]
    lines = []
    for row, balance_after in zip(rows, balances):
        e = Entry(*row[:18])
        item_name, merchant_name, reversed_ = row[18:]
        lines.append(PassbookLine(e, _describe(e, item_name, merchant_name), balance_after, bool(reversed_)))
    return lines


def _describe(e: Entry, item_name: str, merchant_name: str) -> str:
    if e.kind in ("award", "deduction"):
        return item_name
    if e.kind == "redemption":
        qty = f" ×{e.quantity}" if e.quantity and e.quantity > 1 else ""
        return f"{merchant_name} · {item_name}{qty}"
    if e.kind == "reversal":
        target = f"{merchant_name} · {item_name}" if e.merchant_id else item_name
        return f"冲正第{e.reverses_entry_id}号:{target}".rstrip(":")
    return e.note or KIND_NAMES[e.kind]
