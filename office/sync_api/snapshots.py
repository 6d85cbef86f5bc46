"""What the office sends a device when it pulls: a signed full snapshot or a delta."""

from __future__ import annotations

import datetime as dt
import sqlite3

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bank import accounts, alerts, cards, clock, community, convention, devices, merchants, objections, policy, validity
from bank.db import transaction
from bank.errors import NotFound
from sync import wire

from . import acknowledged, auth, kiosk_snapshot


def signing_key(conn: sqlite3.Connection) -> tuple[str, Ed25519PrivateKey]:
    """The community's current issuing key: it signs cards and, domain-separated, pulls."""
    row = conn.execute("SELECT key_id, private_key FROM issuing_keys WHERE retired_at IS NULL "
                       "AND private_key IS NOT NULL").fetchone()
    if row is None:
        raise NotFound("没有可用的社区签名密钥。", "the store has no current issuing key with its private part")
    return row[0], Ed25519PrivateKey.from_private_bytes(bytes(row[1]))


def store_epoch(conn: sqlite3.Connection) -> str | None:
    """Which restore of the store this is (None: never restored); see ``store_restores``."""
    row = conn.execute("SELECT epoch FROM store_restores ORDER BY restore_id DESC LIMIT 1").fetchone()
    return row[0] if row else None


def _cursor_text(entry: int, change: int, epoch: str | None) -> str:
    """``E<last ledger entry>.C<last replica change>``, and ``.R<epoch>`` once the store has been
    restored from a backup: ids after a restore are handed out again for other rows, so a cursor
    from before it must not pass for a delta base once the restored store has caught up."""
    return f"E{entry}.C{change}" + (f".R{epoch}" if epoch else "")


def _parse_cursor(cursor, epoch: str | None = None) -> tuple[int, int] | None:
    """The cursor's (entry, change), or None (a full snapshot) when it is unusable or was handed
    out before the store's latest restore."""
    if not isinstance(cursor, str) or len(cursor) > 60:
        return None
    try:
        parts = cursor.split(".")
        e, c = parts[:2]
        theirs = parts[2][1:] if len(parts) == 3 and parts[2][:1] == "R" else None
        if e[0] != "E" or c[0] != "C" or len(parts) > 3 or (len(parts) == 3 and theirs is None):
            return None
        if theirs != epoch:
            return None
        return int(e[1:]), int(c[1:])
    except (ValueError, IndexError):
        return None


def pull(conn: sqlite3.Connection, device: devices.Device, body: bytes, now: dt.datetime,
         skew: int | None = None) -> dict:
    """A signed snapshot (no or unusable cursor) or delta since the device's cursor."""
    obj = wire.parse_json(body, wire.MAX_SMALL_BYTES)
    if not isinstance(obj, dict) or set(obj) - {"cursor", "full", "last_seq", "acked_seq"}:
        raise wire.malformed("a pull body has cursor and optionally full, last_seq, acked_seq")
    last, acked = acknowledged.claimed(obj, "last_seq"), acknowledged.claimed(obj, "acked_seq")
    cursor = None if obj.get("full") is True else _parse_cursor(obj.get("cursor"), store_epoch(conn))
    key_id, private = signing_key(conn)
    with transaction(conn):
        auth.note_contact(conn, device, skew, now, "last_pull_at")
        acknowledged.compare_pull(conn, device, last, acked, now)
    conn.execute("BEGIN")  # one read snapshot: balances, deny list and applied_seq agree
    try:
        payload = snapshot(conn, device, cursor, now)
    finally:
        conn.execute("COMMIT")
    return wire.sign_pull(private, key_id, payload)


def snapshot(conn: sqlite3.Connection, device: devices.Device, since: tuple[int, int] | None,
             now: dt.datetime) -> dict:
    """What the device needs (unsigned), as a full snapshot or, with ``since``, a delta."""
    top_entry = conn.execute("SELECT coalesce(max(entry_id), 0) FROM ledger_entries").fetchone()[0]
    top_change = conn.execute("SELECT coalesce(max(change_id), 0) FROM replica_changes").fetchone()[0]
    if since is not None and (since[0] > top_entry or since[1] > top_change):
        since = None   # the office store was restored from an older copy: start over
    epoch = store_epoch(conn)
    applied_seq = conn.execute("SELECT last_seq FROM devices WHERE device_id = ?", (device.device_id,)).fetchone()[0]
    if since is None:
        acct_rows = conn.execute(
            "SELECT a.account_id, coalesce(b.bal, 0), a.status, a.display_name, a.pin_hash FROM accounts a "
            "LEFT JOIN (SELECT account_id, sum(points) AS bal FROM ledger_entries GROUP BY account_id) b "
            "ON b.account_id = a.account_id ORDER BY a.account_id").fetchall()
        card_rows = conn.execute("SELECT card_id, version, account_id FROM cards WHERE status = 'active' "
                                 "ORDER BY card_id").fetchall()
    else:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS pull_changed (account_id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM temp.pull_changed")
        conn.execute("INSERT OR IGNORE INTO temp.pull_changed SELECT account_id FROM ledger_entries "
                     "WHERE entry_id > ?", (since[0],))
        conn.execute("INSERT OR IGNORE INTO temp.pull_changed SELECT account_id FROM replica_changes "
                     "WHERE change_id > ?", (since[1],))
        acct_rows = conn.execute(
            "SELECT a.account_id, (SELECT coalesce(sum(points), 0) FROM ledger_entries e "
            "WHERE e.account_id = a.account_id), a.status, a.display_name, a.pin_hash "
            "FROM temp.pull_changed p JOIN accounts a ON a.account_id = p.account_id ORDER BY a.account_id").fetchall()
        card_rows = conn.execute(
            "SELECT c.card_id, c.version, c.account_id FROM temp.pull_changed p JOIN cards c "
            "ON c.account_id = p.account_id WHERE c.status = 'active' ORDER BY c.card_id").fetchall()
    deny = alerts.deny_list(conn)
    payload = {
        "protocol": wire.PROTOCOL, "device_id": device.device_id, "kind": "full" if since is None else "delta",
        "since": None if since is None else _cursor_text(since[0], since[1], epoch),
        "cursor": _cursor_text(top_entry, top_change, epoch), "server_time": clock.to_text(now),
        "applied_seq": applied_seq, "community": community.code(conn),
        "issuing_keys": {k: wire.b64e(v) for k, v in cards.public_keys(conn).items()},
        "accounts": [[r[0], r[1], r[2], accounts.mask_name(r[3]), r[4]] for r in acct_rows],
        "cards": [list(r) for r in card_rows],
        "deny_list": {"version": wire.sha256_hex(wire.canonical(deny))[:16], "cards": [list(d) for d in deny]},
    }
    payload.update(_device_config(conn, device))
    if device.kind == "tablet":
        payload["tablet"] = _tablet_accounts(conn, acct_rows)
    if device.kind == "kiosk":
        changed = None if since is None else [r[0] for r in acct_rows]
        payload["kiosk"] = kiosk_snapshot.kiosk_data(conn, device, None if since is None else since[0], changed, now)
    return payload


def _tablet_accounts(conn: sqlite3.Connection, acct_rows: list) -> dict:
    """What the card screen shows besides the balance, for the accounts in this pull.

    ``households`` (kind, member count) and ``lots`` (points per last valid day) follow the
    accounts of the pull, so a delta carries them exactly when it carries the balance. Lots, not
    "expiring soon", because the tablet judges "within 60 days" by its own date between pulls.
    ``held`` (points under an open objection) is sent whole every time: an objection raised or
    ruled leaves no trace the delta cursor sees, and open cases are few.
    """
    ids = [r[0] for r in acct_rows]
    households, lots = [], []
    for chunk in range(0, len(ids), 900):
        part = ids[chunk:chunk + 900]
        marks = ",".join("?" * len(part))
        households += [list(r) for r in conn.execute(
            f"SELECT a.account_id, a.kind, (SELECT count(*) FROM members m WHERE m.account_id = a.account_id) "
            f"FROM accounts a WHERE a.account_id IN ({marks}) ORDER BY a.account_id", part)]
    # No open lots without a positive balance: only those accounts are replayed, in bulk.
    replayed = validity.lots_of_many(conn, [r[0] for r in acct_rows if r[1] > 0])
    for account_id, (open_lots, _debt) in replayed.items():
        totals: dict[str, int] = {}
        for lot in open_lots:
            day = lot.last_valid_day.isoformat()
            totals[day] = totals.get(day, 0) + lot.remaining
        lots.append([account_id, sorted(totals.items())])
    held = conn.execute(
        f"SELECT account_id, sum(points_held) FROM objections WHERE status IN ({','.join('?' * len(objections.OPEN))}) "
        "GROUP BY account_id HAVING sum(points_held) > 0 ORDER BY account_id", objections.OPEN).fetchall()
    return {"households": households, "lots": [[a, [list(d) for d in days]] for a, days in lots],
            "held": [list(r) for r in held]}


def _device_config(conn: sqlite3.Connection, device: devices.Device) -> dict:
    """Offers, catalog, offline policy and windows: small, so sent whole with every pull."""
    catalog = convention.in_force(conn, clock.local_date(clock.now_utc()))
    out = {"catalog": {"version": catalog.version,
                       "items": [[i.code, i.product.code, i.name, i.points, i.cap] for i in catalog.items]}}
    if device.kind == "tablet":
        m = merchants.get(conn, device.merchant_id)
        out["merchant"] = {"merchant_id": m.merchant_id, "name": m.name, "category": m.category, "status": m.status}
        out["offers"] = [[o.offer_id, o.name, o.points, o.value_fen] for o in merchants.offers_of(conn, m.merchant_id)]
        out["policy"] = vars(policy.offline_policy(conn, m.merchant_id))
        out["windows"] = [[w.place, w.weekdays, w.opens, w.closes] for w in policy.windows(conn, m.merchant_id)]
    else:
        out["merchant"] = None
        out["offers"] = []
        out["policy"] = vars(policy.offline_policy(conn, None))
        out["windows"] = []
    return out
