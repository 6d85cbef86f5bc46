"""The device's local replica: what the office last sent (signed), and the outbox of events.

One SQLite file per device, WAL and ``synchronous=FULL`` (an event is money-like: once a receipt
is shown it must survive a power cut). Schema version in ``PRAGMA user_version`` with numbered
all-or-nothing steps, like the office store.

Balances: the replica holds each account's balance as of the last pull, and the sequence number
of this device's last event that balance already includes (``applied_seq``). The spendable
balance is that minus this device's later events, whether acknowledged or not; so a push that
succeeded before a pull that failed can never count an event twice or forget it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bank import cardcode, clock
from bank.devices import GENESIS
from bank.errors import BankError

from . import events as ev
from . import wire
from .faults import DeviceFault

V1 = """
    CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE accounts (
        account_id  INTEGER PRIMARY KEY,
        balance     INTEGER NOT NULL,
        status      TEXT NOT NULL,
        masked_name TEXT NOT NULL,
        pin_hash    TEXT
    );
    CREATE TABLE cards (
        card_id    TEXT PRIMARY KEY,
        version    INTEGER NOT NULL,
        account_id INTEGER NOT NULL
    );
    CREATE INDEX cards_by_account ON cards (account_id);
    CREATE TABLE deny (
        card_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        reason  TEXT NOT NULL,
        PRIMARY KEY (card_id, version)
    );
    CREATE TABLE offers (
        offer_id  INTEGER PRIMARY KEY,
        name      TEXT NOT NULL,
        points    INTEGER NOT NULL,
        value_fen INTEGER NOT NULL
    );
    -- Every event this device made, kept after acknowledgement as its journal. ``points`` is what
    -- the event takes from the account (a reversal gives it back: negative).
    CREATE TABLE outbox (
        seq        INTEGER PRIMARY KEY,
        hash       TEXT NOT NULL UNIQUE,
        prev       TEXT NOT NULL,
        kind       TEXT NOT NULL,
        event      TEXT NOT NULL,
        created_at TEXT NOT NULL,
        local_day  TEXT NOT NULL,
        card_id    TEXT,
        account_id INTEGER,
        points     INTEGER NOT NULL DEFAULT 0,
        acked      INTEGER NOT NULL DEFAULT 0 CHECK (acked IN (0, 1))
    );
    CREATE INDEX outbox_pending ON outbox (acked, seq);
    CREATE INDEX outbox_by_card_day ON outbox (card_id, local_day);
"""

# A kiosk's view of its compound (see sync/kiosk_pull.py); tablets leave these tables empty.
V2_KIOSK = """
    CREATE TABLE kiosk_households (
        account_id INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        building   INTEGER NOT NULL,
        unit       INTEGER NOT NULL,
        room       TEXT NOT NULL
    );
    CREATE INDEX kiosk_households_by_address ON kiosk_households (building, unit);
    CREATE TABLE kiosk_entries (
        entry_id    INTEGER PRIMARY KEY,
        account_id  INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        points      INTEGER NOT NULL,
        item_code   TEXT,
        title       TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        reverses    INTEGER,
        period_key  TEXT,
        device_id   TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        ref         TEXT              -- 'dev:<device>:<seq>' for an entry a device's event made
    );
    CREATE INDEX kiosk_entries_by_account ON kiosk_entries (account_id, entry_id);
    CREATE INDEX kiosk_entries_by_time ON kiosk_entries (recorded_at);
    CREATE TABLE kiosk_lots (
        account_id     INTEGER NOT NULL,
        last_valid_day TEXT NOT NULL,
        points         INTEGER NOT NULL,
        PRIMARY KEY (account_id, last_valid_day)
    );
"""

# What a tablet's card screen shows besides the balance (see hub._tablet_accounts); kiosks leave
# these empty. The cursor is dropped so the first pull after the upgrade is a full snapshot: a
# delta would fill them only for the accounts that happened to change.
V3_TABLET = """
    CREATE TABLE tablet_households (
        account_id INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,          -- household or single
        members    INTEGER NOT NULL
    );
    CREATE TABLE tablet_lots (
        account_id     INTEGER NOT NULL,
        last_valid_day TEXT NOT NULL,
        points         INTEGER NOT NULL,
        PRIMARY KEY (account_id, last_valid_day)
    );
    CREATE TABLE tablet_held (
        account_id INTEGER PRIMARY KEY,
        points     INTEGER NOT NULL        -- under an open objection: not redeemable
    );
    DELETE FROM state WHERE key = 'cursor';
"""

# A tablet's basket: its lines are separate redemption events (the wire format is one offer per
# event); this local table says which events one receipt is made of, so a void reverses them all.
V4_RECEIPTS = """
    CREATE TABLE tablet_receipt_lines (
        seq     INTEGER PRIMARY KEY,       -- a redemption event of this device
        receipt INTEGER NOT NULL           -- the receipt's number: its first event's seq
    );
    CREATE INDEX tablet_receipt_lines_by_receipt ON tablet_receipt_lines (receipt);
"""

# Protocol 2: a device holds no PIN verifier (PINs are checked by the office, online) and no
# member counts; ``has_pin`` says only whether the office will ask for one. Every snapshot row
# is dropped and the cursor with them, so the next pull is a full one in the new form; dropped
# rows are overwritten on disk (``secure_delete``, set at every connection).
V5_NO_SECRETS = """
    DELETE FROM accounts;
    DELETE FROM cards;
    ALTER TABLE accounts DROP COLUMN pin_hash;
    ALTER TABLE accounts ADD COLUMN has_pin INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE accounts ADD COLUMN kind TEXT NOT NULL DEFAULT 'household';
    DROP TABLE tablet_households;
    DELETE FROM tablet_lots;
    DELETE FROM state WHERE key IN ('cursor', 'kiosk_reviewers', 'kiosk_posting');
    -- What the office decided about this device's quarantined events (the Today screen shows them).
    CREATE TABLE decisions (
        seq       INTEGER PRIMARY KEY,
        status    TEXT NOT NULL,          -- open, posted, rejected
        rule      TEXT NOT NULL,
        rule_text TEXT NOT NULL,
        reason    TEXT NOT NULL
    );
"""

MIGRATIONS = [V1, V2_KIOSK, V3_TABLET, V4_RECEIPTS, V5_NO_SECRETS]


class ReplicaError(BankError):
    code = "replica"


SQLITE_HEADER = b"SQLite format 3\x00"


def connect(path: str | Path, *, create: bool = False) -> sqlite3.Connection:
    """Open the replica (migrating it), or with ``create`` make a new one.

    An existing replica that is missing, empty (a file emptied, or a new SQLite file in its
    place) or not SQLite is refused with a :class:`~sync.faults.DeviceFault`: it is never
    silently given a fresh schema, which would start a new chain of events from 1 and lose the
    unsynced ones without a word.
    """
    path = Path(path)
    if not create:
        _check_file(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    except sqlite3.Error as exc:
        raise DeviceFault("replica_damaged", detail=str(exc)) from None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise ReplicaError("设备数据库版本比本程序新。", f"replica schema {version} is newer than this program")
        if version == 0 and not create:      # before anything is written, even the journal mode
            raise DeviceFault("replica_empty")
        conn.execute("PRAGMA secure_delete=ON")   # what is deleted from a device is gone from its disk
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        from bank.schema import statements
        for number in range(version + 1, len(MIGRATIONS) + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements(MIGRATIONS[number - 1]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={number}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DeviceFault("replica_damaged", detail=str(exc)) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _check_file(path: Path) -> None:
    """Missing, empty or not SQLite at all: refuse before SQLite would make a new database."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        raise DeviceFault("replica_missing") from None
    except OSError as exc:
        raise DeviceFault("replica_damaged", detail=str(exc)) from None
    if not header:
        raise DeviceFault("replica_empty")
    if header != SQLITE_HEADER:
        raise DeviceFault("replica_damaged", detail="not an SQLite database")


def check_integrity(conn: sqlite3.Connection) -> None:
    """``PRAGMA integrity_check``: apps run it at start and before every sync, the device commands
    once per command (0.3 s on a 100,000-account, 15 MB tablet replica here; Longhai's is a tenth)."""
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(3)")]
    except sqlite3.DatabaseError as exc:
        raise DeviceFault("replica_damaged", detail=str(exc)) from None
    if rows != ["ok"]:      # the first problem, on one line (SQLite's own text has line breaks)
        raise DeviceFault("replica_damaged", detail=" ".join(rows[0].split())[:160])


def check_owner(conn: sqlite3.Connection, device_id: str) -> None:
    """The replica is this device's (a copy of another device's would sign nothing right)."""
    other = state(conn, "device_id")
    if other is None:          # a schema and nothing in it: made afresh in place of the real one
        raise DeviceFault("replica_empty")
    if other != device_id:
        raise DeviceFault("replica_foreign", other=other, device=device_id)


def fault(conn: sqlite3.Connection) -> DeviceFault | None:
    """The fault this replica has recorded (behind or forked), if any."""
    data = state(conn, "fault")
    return DeviceFault.from_state(data) if data else None


def set_fault(conn: sqlite3.Connection, exc: DeviceFault, now: dt.datetime) -> None:
    set_state(conn, fault={**exc.as_state(), "at": clock.to_text(now)})


def check_usable(conn: sqlite3.Connection) -> None:
    """Raise the recorded fault: no event may be written on a replica that is behind or forked."""
    found = fault(conn)
    if found is not None:
        raise found


class _txn:
    """BEGIN IMMEDIATE ... COMMIT/ROLLBACK (joins an outer transaction)."""

    def __init__(self, conn):
        self.conn, self.outer = conn, False

    def __enter__(self):
        self.outer = not self.conn.in_transaction
        if self.outer:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, *_):
        if self.outer:
            self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


# --- state ------------------------------------------------------------------------------------

def set_state(conn: sqlite3.Connection, **values) -> None:
    with _txn(conn):
        for key, value in values.items():
            conn.execute("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                         "SET value = excluded.value", (key, json.dumps(value, ensure_ascii=False)))


def state(conn: sqlite3.Connection, key: str, default=None):
    row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


# --- outbox -----------------------------------------------------------------------------------

def record(conn: sqlite3.Connection, kind: str, body: dict, *, now: dt.datetime, card_id: str | None = None,
           account_id: int | None = None, points: int = 0, card_text: str | None = None) -> dict:
    """Append the device's next event to the chain, durably (committed, synchronous=FULL).

    ``card_text``: the QR text of the card in front of the device, for the event's ``proof``
    (:func:`sync.events.card_proof`); it is not stored. A ``receipt`` of None in the body is
    this event's own number (the first line of a receipt).
    """
    device_id = state(conn, "device_id")
    with _txn(conn):
        check_usable(conn)
        last = conn.execute("SELECT seq, hash FROM outbox ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        body = dict(body)
        if "receipt" in body and body["receipt"] is None:
            body["receipt"] = seq
        if card_text is not None:
            body["proof"] = ev.card_proof(card_text, device_id, seq)
        event = ev.make(device_id, seq, prev, kind, clock.to_text(now), body)
        conn.execute("INSERT INTO outbox (seq, hash, prev, kind, event, created_at, local_day, card_id, "
                     "account_id, points) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, ev.digest(event), prev, kind, wire.canonical(event).decode("utf-8"), event["at"],
                      clock.local_date(now).isoformat(), card_id, account_id, points))
    return event


def pending(conn: sqlite3.Connection, limit: int = 500) -> list[dict]:
    return [json.loads(r[0]) for r in conn.execute(
        "SELECT event FROM outbox WHERE acked = 0 ORDER BY seq LIMIT ?", (limit,))]


def acknowledge(conn: sqlite3.Connection, acked_seq: int) -> None:
    with _txn(conn):
        conn.execute("UPDATE outbox SET acked = 1 WHERE acked = 0 AND seq <= ?", (acked_seq,))
        set_state(conn, acked_seq=max(acked_seq, state(conn, "acked_seq", 0)))


def pending_summary(conn: sqlite3.Connection) -> tuple[int, int]:
    """(events not yet acknowledged, points they take)."""
    row = conn.execute("SELECT count(*), coalesce(sum(points), 0) FROM outbox WHERE acked = 0").fetchone()
    return row[0], row[1]


def last_seq(conn: sqlite3.Connection) -> int:
    """The sequence number of this device's newest event (0 before the first); pruning always
    keeps the newest event, so this is the head of the chain."""
    return conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0]


def reopen(conn: sqlite3.Connection, office_seq: int) -> int:
    """The office holds this device's events only up to ``office_seq`` although it acknowledged
    more (it was restored from an older backup): mark the later ones unacknowledged again, so the
    next push re-sends them. Returns how many. Raises :class:`OfficeMissing` when the outbox no
    longer holds event ``office_seq + 1`` (pruned after the retention period)."""
    with _txn(conn):
        first = conn.execute("SELECT min(seq) FROM outbox WHERE seq > ?", (office_seq,)).fetchone()[0]
        if first is None:
            return 0
        if first != office_seq + 1:
            raise OfficeMissing(office_seq + 1, first - 1)
        count = conn.execute("UPDATE outbox SET acked = 0 WHERE acked = 1 AND seq > ?", (office_seq,)).rowcount
        set_state(conn, acked_seq=office_seq)
    return count


class OfficeMissing(BankError):
    """The office lacks events of this device that the device no longer holds: a gap at both ends."""

    code = "office_missing_events"

    def __init__(self, first: int, last: int):
        super().__init__(f"社区办公室缺少本机第 {first} 至 {last} 条记录,本机已超过保留期不再保存这些记录。"
                         "请联系社区办公室核对;本机之后的记录都已保留。",
                         f"the office lacks this device's events {first} to {last}, which the device no longer "
                         "holds (past the retention period); ask the office to check; later events are kept")
        self.first, self.last = first, last


def prune(conn: sqlite3.Connection, now: dt.datetime, retention_days: int) -> int:
    """Forget events the office acknowledged and a pull already counted, once they are older than
    the policy's retention period; return how many. Until then the device can re-send them to an
    office restored from an older backup. The newest event always stays: it is the chain's head
    (the next event's ``prev``) and says how far the device has got."""
    cutoff = clock.to_text(now - dt.timedelta(days=retention_days))
    applied = state(conn, "applied_seq", 0)
    with _txn(conn):
        top = last_seq(conn)
        doomed = "acked = 1 AND seq <= ? AND seq < ? AND created_at < ?"
        args = (applied, top, cutoff)
        conn.execute(f"DELETE FROM tablet_receipt_lines WHERE seq IN (SELECT seq FROM outbox WHERE {doomed})", args)
        return conn.execute(f"DELETE FROM outbox WHERE {doomed}", args).rowcount


# --- reading the replica ----------------------------------------------------------------------
# No table of the replica is queried outside this module: the engines call these functions.

@dataclass(frozen=True)
class AccountRow:
    status: str
    masked_name: str
    has_pin: bool
    kind: str                  # household or single


@dataclass(frozen=True)
class KioskEntry:
    entry_id: int
    account_id: int
    kind: str
    points: int
    item_code: str | None
    title: str
    recorded_at: str           # UTC text
    reverses: int | None
    period_key: str | None
    recorded_by: str
    ref: str | None            # 'dev:<device>:<seq>' for an entry a device's event made


def spendable(conn: sqlite3.Connection, account_id: int) -> int:
    """Balance from the last pull minus this device's events that pull did not include yet."""
    applied = state(conn, "applied_seq", 0)
    row = conn.execute("SELECT a.balance - coalesce((SELECT sum(points) FROM outbox o WHERE o.account_id = "
                       "a.account_id AND o.seq > ?), 0) FROM accounts a WHERE a.account_id = ?",
                       (applied, account_id)).fetchone()
    return row[0] if row else 0


def held(conn: sqlite3.Connection, account_id: int) -> int:
    """Points of the account under an open objection at the last pull."""
    row = conn.execute("SELECT points FROM tablet_held WHERE account_id = ?", (account_id,)).fetchone()
    return row[0] if row else 0


def available(conn: sqlite3.Connection, account_id: int) -> int:
    """What the account may redeem here: spendable minus points held by an open objection."""
    return max(0, spendable(conn, account_id) - held(conn, account_id))


def lots(conn: sqlite3.Connection, account_id: int) -> list[tuple[str, int]]:
    """[(last valid day, points)] of the account's points expiring soon at the last pull, soonest first."""
    return [tuple(r) for r in conn.execute("SELECT last_valid_day, points FROM tablet_lots WHERE account_id = ? "
                                           "ORDER BY last_valid_day", (account_id,))]


def redeemed_today(conn: sqlite3.Connection, card_id: str, local_day: str) -> int:
    """Points this card took on this device on a local day (a reversal gives them back)."""
    return conn.execute("SELECT coalesce(sum(points), 0) FROM outbox WHERE card_id = ? AND local_day = ?",
                        (card_id, local_day)).fetchone()[0]


def account(conn: sqlite3.Connection, account_id: int) -> AccountRow | None:
    """The account as the last pull had it (None: not on this device)."""
    row = conn.execute("SELECT status, masked_name, has_pin, kind FROM accounts WHERE account_id = ?",
                       (account_id,)).fetchone()
    return None if row is None else AccountRow(row[0], row[1], bool(row[2]), row[3])


def masked_names(conn: sqlite3.Connection) -> dict[int, str]:
    """{account id: masked name} of every account on this device."""
    return dict(conn.execute("SELECT account_id, masked_name FROM accounts"))


def account_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM accounts").fetchone()[0]


def offers(conn: sqlite3.Connection) -> list[tuple[int, str, int]]:
    """(offer id, name, points) of the shop's offers, cheapest first."""
    return [tuple(r) for r in conn.execute("SELECT offer_id, name, points FROM offers ORDER BY points, offer_id")]


def offer(conn: sqlite3.Connection, offer_id: int) -> tuple[int, str, int] | None:
    row = conn.execute("SELECT offer_id, name, points FROM offers WHERE offer_id = ?", (offer_id,)).fetchone()
    return None if row is None else tuple(row)


def offer_names(conn: sqlite3.Connection) -> dict[int, str]:
    return dict(conn.execute("SELECT offer_id, name FROM offers"))


def _where(*conditions: tuple[str, object]) -> tuple[str, list]:
    """`` AND <condition>`` for each (condition, value) whose value is not None, and the values:
    the optional filters of a query (the conditions are this module's own text, never input)."""
    given = [(c, v) for c, v in conditions if v is not None]
    return "".join(f" AND {c}" for c, _ in given), [v for _, v in given]


def _kinds_in(kinds: tuple[str, ...] | None) -> tuple[str, object]:
    return "kind IN (SELECT value FROM json_each(?))", None if kinds is None else json.dumps(list(kinds))


# --- this device's own events (the outbox, kept as its journal) --------------------------------------

def events(conn: sqlite3.Connection, *, after: int | None = None, account_id: int | None = None,
           kinds: tuple[str, ...] | None = None) -> list[tuple[int, dict, bool]]:
    """(seq, event, acknowledged) of this device's events, oldest first: those after ``after``,
    of ``account_id``, of ``kinds`` (each None: all)."""
    where, args = _where(("seq > ?", after), ("account_id = ?", account_id), _kinds_in(kinds))
    return [(r[0], json.loads(r[1]), bool(r[2]))
            for r in conn.execute(f"SELECT seq, event, acked FROM outbox WHERE 1{where} ORDER BY seq", args)]


def event_row(conn: sqlite3.Connection, seq: int) -> tuple | None:
    """(seq, kind, created_at, card_id, account_id, points) of one of this device's events."""
    row = conn.execute("SELECT seq, kind, created_at, card_id, account_id, points FROM outbox WHERE seq = ?",
                       (seq,)).fetchone()
    return None if row is None else tuple(row)


def reversed_seqs(conn: sqlite3.Connection) -> set[int]:
    """The seqs of this device's events that one of its reversal events reverses."""
    return {r[0] for r in conn.execute("SELECT json_extract(event, '$.body.reverses_seq') FROM outbox "
                                       "WHERE kind = 'reversal'")}


def redemptions_on(conn: sqlite3.Connection, local_day: str) -> tuple[int, int]:
    """(how many, points) of this device's redemption events on a local day."""
    row = conn.execute("SELECT count(*), coalesce(sum(points), 0) FROM outbox WHERE kind = 'redemption' "
                       "AND local_day = ?", (local_day,)).fetchone()
    return row[0], row[1]


# --- a tablet's receipts and the office's decisions -------------------------------------------------

def add_receipt(conn: sqlite3.Connection, seqs: list[int]) -> None:
    """One receipt of redemption events ``seqs``: its number is the first one's seq."""
    conn.executemany("INSERT INTO tablet_receipt_lines (seq, receipt) VALUES (?, ?)", [(s, seqs[0]) for s in seqs])


def receipt_seqs(conn: sqlite3.Connection, seq: int) -> list[int]:
    """The events of the receipt that ``seq`` belongs to (one event for redemptions made before
    baskets, which have no receipt rows)."""
    row = conn.execute("SELECT receipt FROM tablet_receipt_lines WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return [seq]
    return [r[0] for r in conn.execute("SELECT seq FROM tablet_receipt_lines WHERE receipt = ? ORDER BY seq",
                                       (row[0],))]


def receipt_lines_on(conn: sqlite3.Connection, local_day: str) -> list[tuple]:
    """(seq, receipt, created_at, card_id, account_id, points, event, acked) of this device's
    redemption events on a local day, oldest first (a line with no receipt row is its own receipt)."""
    return [tuple(r) for r in conn.execute(
        "SELECT o.seq, coalesce(r.receipt, o.seq), o.created_at, o.card_id, o.account_id, o.points, o.event, o.acked "
        "FROM outbox o LEFT JOIN tablet_receipt_lines r ON r.seq = o.seq "
        "WHERE o.kind = 'redemption' AND o.local_day = ? ORDER BY o.seq", (local_day,))]


def decisions(conn: sqlite3.Connection) -> dict[int, tuple[str, str, str]]:
    """{seq: (status, rule text, reason)} of every event of this device the office quarantined."""
    return {r[0]: (r[1], r[2], r[3]) for r in conn.execute("SELECT seq, status, rule_text, reason FROM decisions")}


# --- a kiosk's view of its compound -----------------------------------------------------------------

def kiosk_household(conn: sqlite3.Connection, account_id: int) -> tuple | None:
    """(account id, kind, building, unit, room) of a household of the kiosk's compound."""
    row = conn.execute("SELECT account_id, kind, building, unit, room FROM kiosk_households WHERE account_id = ?",
                       (account_id,)).fetchone()
    return None if row is None else tuple(row)


def kiosk_households(conn: sqlite3.Connection) -> dict[int, tuple]:
    """{account id: (account id, kind, building, unit, room)} of the kiosk's compound."""
    return {r[0]: tuple(r) for r in conn.execute("SELECT account_id, kind, building, unit, room FROM kiosk_households")}


def kiosk_households_at(conn: sqlite3.Connection, building: int, unit: int) -> list[tuple[int, str, str]]:
    """(account id, masked name, room) of the open households at a building and unit, in no order."""
    return [tuple(r) for r in conn.execute(
        "SELECT h.account_id, a.masked_name, h.room FROM kiosk_households h JOIN accounts a USING (account_id) "
        "WHERE h.building = ? AND h.unit = ? AND a.status <> 'closed'", (building, unit))]


def kiosk_buildings(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT DISTINCT building FROM kiosk_households")]


def kiosk_units(conn: sqlite3.Connection, building: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT DISTINCT unit FROM kiosk_households WHERE building = ?", (building,))]


def kiosk_lots(conn: sqlite3.Connection, account_id: int) -> list[tuple[str, int]]:
    """(last valid day, points) of the account's points, as the kiosk's last pull had them."""
    return [tuple(r) for r in conn.execute("SELECT last_valid_day, points FROM kiosk_lots WHERE account_id = ?",
                                           (account_id,))]


def kiosk_entries(conn: sqlite3.Connection, *, account_id: int | None = None, kinds: tuple[str, ...] | None = None,
                  since: str | None = None) -> list[KioskEntry]:
    """The office's ledger entries of the compound (of ``account_id``, of ``kinds``, recorded at or
    after the UTC text ``since``; each None: all), oldest first."""
    where, args = _where(("account_id = ?", account_id), _kinds_in(kinds), ("recorded_at >= ?", since))
    return [KioskEntry(*r) for r in conn.execute(
        "SELECT entry_id, account_id, kind, points, item_code, title, recorded_at, reverses, period_key, recorded_by, "
        f"ref FROM kiosk_entries WHERE 1{where} ORDER BY entry_id", args)]


def kiosk_reversed(conn: sqlite3.Connection, account_id: int | None = None) -> set[int]:
    """The entry ids that a reversal in the compound's ledger reverses (of ``account_id``: its own)."""
    where, args = _where(("account_id = ?", account_id))
    return {r[0] for r in conn.execute(f"SELECT reverses FROM kiosk_entries WHERE reverses IS NOT NULL{where}", args)}


class Registry:
    """The replica as a :class:`bank.cardcode.CardRegistry` (deny list first)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def deny_reason(self, card_id: str, version: int) -> str | None:
        row = self.conn.execute("SELECT reason FROM deny WHERE card_id = ? AND version >= ? ORDER BY "
                                "version LIMIT 1", (card_id, version)).fetchone()
        return row[0] if row else None

    def card_record(self, card_id: str) -> tuple[int, str] | None:
        row = self.conn.execute("SELECT version FROM cards WHERE card_id = ?", (card_id,)).fetchone()
        if row is None:
            top = self.conn.execute("SELECT version, reason FROM deny WHERE card_id = ? ORDER BY version DESC "
                                    "LIMIT 1", (card_id,)).fetchone()
            return None if top is None else (top[0], "revoked" if top[1] == "hold" else top[1])
        return row[0], "active"

    def account_of(self, card_id: str) -> int | None:
        row = self.conn.execute("SELECT account_id FROM cards WHERE card_id = ?", (card_id,)).fetchone()
        return row[0] if row else None


def verify_card(conn: sqlite3.Connection, text: str) -> tuple[cardcode.CardClaim, int | None, bool]:
    """Verify scanned card text offline against this replica: (claim, account id, on hold).

    Raises :class:`bank.cardcode.CardRefused` for a card that is not ours, forged, revoked,
    superseded or unknown; a card on hold (after an overdraft) passes, flagged, because a hold
    stops redemption but not looking up one's points.
    """
    keys = {k: wire.b64d(v, length=32) for k, v in state(conn, "issuing_keys", {}).items()}
    registry = Registry(conn)
    claim = cardcode.verify(text, community=state(conn, "community"), public_keys=keys)
    deny = registry.deny_reason(claim.card_id, claim.version)
    if deny is not None and deny != "hold":
        raise cardcode.ended(deny)
    cardcode.check_status(claim, registry)
    return claim, registry.account_of(claim.card_id), deny == "hold"


# --- applying a pull --------------------------------------------------------------------------

def apply_pull(conn: sqlite3.Connection, message: dict, *, now: dt.datetime) -> dict:
    """Verify a signed pull with the community keys this device trusts, then apply it atomically.

    Nothing is changed when the signature, the device id, or the delta's base cursor is wrong.
    Returns the payload.
    """
    keys = {k: wire.b64d(v, length=32) for k, v in state(conn, "issuing_keys", {}).items()}
    payload = wire.open_pull(message, keys, state(conn, "device_id"))
    if payload["kind"] == "delta" and payload["since"] != state(conn, "cursor"):
        raise wire.PullRejected("收到的增量数据与本机不衔接,将改为全量同步。",
                                f"delta since {payload['since']} does not follow local cursor {state(conn, 'cursor')}")
    full = payload["kind"] == "full"
    with _txn(conn):
        if full:
            for table in ("accounts", "cards", "deny", "offers"):
                conn.execute(f"DELETE FROM {table}")
        else:
            conn.executemany("DELETE FROM cards WHERE account_id = ?", [(a,) for (a,) in
                                                                        wire.columns(payload["accounts"], ("account",))])
        conn.executemany("INSERT OR REPLACE INTO accounts (account_id, balance, status, masked_name, has_pin, kind) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         wire.columns(payload["accounts"], ("account", "balance", "status", "name", "has_pin", "kind")))
        conn.executemany("INSERT OR REPLACE INTO cards VALUES (?, ?, ?)",
                         wire.columns(payload["cards"], ("card", "version", "account")))
        conn.execute("DELETE FROM deny")
        conn.executemany("INSERT INTO deny VALUES (?, ?, ?)",
                         wire.columns(payload["deny_list"]["cards"], ("card", "version", "reason")))
        conn.execute("DELETE FROM offers")
        conn.executemany("INSERT INTO offers VALUES (:offer, :name, :points, :value_fen)", payload["offers"])
        conn.execute("DELETE FROM decisions")
        conn.executemany("INSERT INTO decisions VALUES (:seq, :status, :rule, :rule_text, :reason)",
                         payload["decisions"])
        if "tablet" in payload:
            _apply_tablet(conn, payload["tablet"], [a for (a,) in wire.columns(payload["accounts"], ("account",))],
                          full=full)
        if "kiosk" in payload:
            _apply_kiosk(conn, payload["kiosk"], full=full)
        conn.execute("UPDATE outbox SET acked = 1 WHERE acked = 0 AND seq <= ?", (payload["applied_seq"],))
        set_state(conn, cursor=payload["cursor"], applied_seq=payload["applied_seq"],
                  last_pull_at=clock.to_text(now), server_time=payload["server_time"],
                  deny_version=payload["deny_list"]["version"], policy=payload["policy"],
                  windows=[[w["place"], w["weekdays"], w["opens"], w["closes"]] for w in payload["windows"]],
                  merchant=payload["merchant"], catalog=payload["catalog"],
                  issuing_keys=payload["issuing_keys"], community=payload["community"],
                  device_on_hold=payload["device_on_hold"],
                  acked_seq=max(payload["applied_seq"], state(conn, "acked_seq", 0)))
    return payload


def _apply_tablet(conn: sqlite3.Connection, data: dict, account_ids: list[int], *, full: bool) -> None:
    """The tablet part of a pull, inside apply_pull's transaction: points expiring soon replace
    those of the pull's accounts (all of them when full), held points are always whole."""
    if full:
        conn.execute("DELETE FROM tablet_lots")
    else:
        conn.executemany("DELETE FROM tablet_lots WHERE account_id = ?", [(a,) for a in account_ids])
    conn.executemany("INSERT OR REPLACE INTO tablet_lots VALUES (?, ?, ?)",
                     wire.columns(data["expiring"], ("account", "day", "points")))
    conn.execute("DELETE FROM tablet_held")
    conn.executemany("INSERT INTO tablet_held VALUES (?, ?)", wire.columns(data["held"], ("account", "points")))


def _apply_kiosk(conn: sqlite3.Connection, data: dict, *, full: bool) -> None:
    """The kiosk part of a pull, inside apply_pull's transaction.

    The kiosk engine reads compact rows; the wire's named fields are mapped to them here, the
    one place that knows both.
    """
    if full:
        for table in ("kiosk_households", "kiosk_entries", "kiosk_lots"):
            conn.execute(f"DELETE FROM {table}")
    conn.executemany("INSERT OR REPLACE INTO kiosk_households VALUES (?, ?, ?, ?, ?)",
                     wire.columns(data["households"], ("account", "kind", "building", "unit", "room")))
    conn.executemany("INSERT OR REPLACE INTO kiosk_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     wire.columns(data["entries"], ("entry", "account", "kind", "points", "item", "title",
                                                    "recorded_at", "reverses", "period", "device", "recorded_by",
                                                    "ref")))
    conn.executemany("DELETE FROM kiosk_lots WHERE account_id = ?", [(a,) for a in data["lots_of"]])
    conn.executemany("INSERT INTO kiosk_lots VALUES (?, ?, ?)", wire.columns(data["lots"], ("account", "day", "points")))
    cat = data["catalog"]
    boards = data["boards"]
    set_state(conn, kiosk_compound=data["compound"], kiosk_second_confirm_above=data["second_confirm_above"],
              kiosk_catalog={"version": cat["version"],
                             "products": [[p["code"], p["name"], p["slogan"], p["cadence"]] for p in cat["products"]],
                             "items": [[i["code"], i["product"], i["heading"], i["name"], i["points"], i["cap"],
                                        i["description"]] for i in cat["items"]]},
              # the merchant's compound (None: the community's own) orders the kiosk's shops nearest first
              kiosk_merchants=[[m["merchant"], m["name"], m["category"], m["address"], m.get("compound")]
                               for m in data["merchants"]],
              kiosk_offers=[[o["offer"], o["merchant"], o["name"], o["points"]] for o in data["offers"]],
              kiosk_windows=[[w["merchant"], w["place"], w["weekdays"], w["opens"], w["closes"]]
                             for w in data["windows"]],
              kiosk_boards={"period": boards["period"], "label": boards["label"],
                            "red": [[r["name"], r["building"], r["unit"], r["points"]] for r in boards["red"]],
                            "black": [[r["name"], r["building"], r["unit"], r["points"]] for r in boards["black"]]},
              kiosk_postings=[{**{k: v for k, v in p.items() if k != "rows"},
                               "rows": [list(r) for r in wire.columns(p["rows"], (
                                   "account", "name", "building", "unit", "awarded", "deducted", "redeemed", "balance"))]}
                              for p in data["postings"]],
              kiosk_reviewers=[[r["reviewer"], r["name"], r["account"], r["card"]] for r in data["reviewers"]])


def decision(conn: sqlite3.Connection, seq: int) -> tuple[str, str, str] | None:
    """(status, rule text, reason) the office gave one of this device's events, if it quarantined it."""
    row = conn.execute("SELECT status, rule_text, reason FROM decisions WHERE seq = ?", (seq,)).fetchone()
    return tuple(row) if row else None
