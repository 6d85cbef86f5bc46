"""What the office sends a device when it pulls: a signed full snapshot or a delta."""

from __future__ import annotations

import datetime as dt
import sqlite3

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bank import accounts, alerts, cards, clock, community, convention, devices, merchants, objections, policy, validity
from bank.db import transaction
from sync import wire

from . import acknowledged, auth, kiosk_snapshot, quarantine


ACCOUNT_FIELDS = ("account", "balance", "status", "name", "has_pin", "kind")


def signing_key(conn: sqlite3.Connection) -> tuple[str, Ed25519PrivateKey]:
    """The community's current issuing key (from its key file): it signs cards and, domain-separated, pulls."""
    return cards.signing_key(conn)


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
        # settlement judges a tablet's events by what it knew at its last pull (the deny list,
        # account states): the time is taken before the snapshot is read, so nothing the
        # snapshot holds can be later than it
        auth.note_contact(conn, device, skew, now, "last_pull_at")
        acknowledged.compare_pull(conn, device, last, acked, now)
    conn.execute("BEGIN")  # one read snapshot: balances, deny list and applied_seq agree
    try:
        payload = snapshot(conn, device, cursor, now)
    finally:
        conn.execute("COMMIT")
    return wire.sign_pull(private, key_id, payload, cards.endorsements(conn))


def snapshot(conn: sqlite3.Connection, device: devices.Device, since: tuple[int, int] | None,
             now: dt.datetime) -> dict:
    """What the device needs (unsigned), as a full snapshot or, with ``since``, a delta.

    Only what the device's work needs (DESIGN invariant 6): per account its balance, status,
    masked name and whether it has a PIN (never a verifier), its current cards; a tablet gets
    the community's accounts, a kiosk only its own compound's. Every record is an object with
    named fields.
    """
    top_entry = conn.execute("SELECT coalesce(max(entry_id), 0) FROM ledger_entries").fetchone()[0]
    top_change = conn.execute("SELECT coalesce(max(change_id), 0) FROM replica_changes").fetchone()[0]
    if since is not None and (since[0] > top_entry or since[1] > top_change):
        since = None   # the office store was restored from an older copy: start over
    epoch = store_epoch(conn)
    applied_seq = conn.execute("SELECT last_seq FROM devices WHERE device_id = ?", (device.device_id,)).fetchone()[0]
    compound_id = (kiosk_snapshot.compound_of(conn, device.service_point_id) if device.kind == "kiosk" else None)
    scope = "" if compound_id is None else f" AND a.compound_id = {int(compound_id)}"
    if since is None:
        acct_rows = conn.execute(
            "SELECT a.account_id, coalesce(b.bal, 0), a.status, a.display_name, a.pin_hash IS NOT NULL, a.kind "
            "FROM accounts a LEFT JOIN (SELECT account_id, sum(points) AS bal FROM ledger_entries GROUP BY account_id) b "
            f"ON b.account_id = a.account_id WHERE 1 = 1{scope} ORDER BY a.account_id").fetchall()
        card_rows = conn.execute("SELECT c.card_id, c.version, c.account_id FROM cards c JOIN accounts a "
                                 f"USING (account_id) WHERE c.status = 'active'{scope} ORDER BY c.card_id").fetchall()
    else:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS pull_changed (account_id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM temp.pull_changed")
        conn.execute("INSERT OR IGNORE INTO temp.pull_changed SELECT account_id FROM ledger_entries "
                     "WHERE entry_id > ?", (since[0],))
        conn.execute("INSERT OR IGNORE INTO temp.pull_changed SELECT account_id FROM replica_changes "
                     "WHERE change_id > ?", (since[1],))
        if device.kind == "tablet" and _expiry_horizon_moved_past_lots(conn, device.last_pull_at, now):
            conn.execute("INSERT OR IGNORE INTO temp.pull_changed SELECT account_id FROM ledger_entries "
                         "GROUP BY account_id HAVING sum(points) > 0")
        acct_rows = conn.execute(
            "SELECT a.account_id, (SELECT coalesce(sum(points), 0) FROM ledger_entries e "
            "WHERE e.account_id = a.account_id), a.status, a.display_name, a.pin_hash IS NOT NULL, a.kind "
            f"FROM temp.pull_changed p JOIN accounts a ON a.account_id = p.account_id WHERE 1 = 1{scope} "
            "ORDER BY a.account_id").fetchall()
        card_rows = conn.execute(
            "SELECT c.card_id, c.version, c.account_id FROM temp.pull_changed p JOIN cards c "
            f"ON c.account_id = p.account_id JOIN accounts a ON a.account_id = c.account_id "
            f"WHERE c.status = 'active'{scope} ORDER BY c.card_id").fetchall()
    deny = alerts.deny_list(conn)
    payload = {
        "protocol": wire.PROTOCOL, "device_id": device.device_id, "kind": "full" if since is None else "delta",
        "since": None if since is None else _cursor_text(since[0], since[1], epoch),
        "cursor": _cursor_text(top_entry, top_change, epoch), "server_time": clock.to_text(now),
        "applied_seq": applied_seq, "community": community.code(conn),
        "issuing_keys": {k: wire.b64e(v) for k, v in cards.public_keys(conn).items()},
        "accounts": wire.table(ACCOUNT_FIELDS, ((r[0], r[1], r[2], accounts.mask_name(r[3]), bool(r[4]), r[5])
                                                for r in acct_rows)),
        "cards": wire.table(("card", "version", "account"), card_rows),
        "deny_list": {"version": wire.sha256_hex(wire.canonical(deny))[:16],
                      "cards": wire.table(("card", "version", "reason"), deny)},
        "decisions": quarantine.decisions(conn, device.device_id, now=now),
        # a device the office put on hold: what it would record is not charged, so it stops
        "device_on_hold": conn.execute("SELECT held_at IS NOT NULL FROM devices WHERE device_id = ?",
                                       (device.device_id,)).fetchone()[0] == 1,
    }
    payload.update(_device_config(conn, device, now))
    if device.kind == "tablet":
        payload["tablet"] = _tablet_accounts(conn, acct_rows, now)
    if device.kind == "kiosk":
        changed = None if since is None else [r[0] for r in acct_rows]
        payload["kiosk"] = kiosk_snapshot.kiosk_data(conn, device, None if since is None else since[0], changed, now)
    return payload


def _horizon(instant: dt.datetime) -> dt.date:
    """The last day whose expiring points a tablet is told of: the warning window, plus the offline
    days a tablet may go without a pull (it judges "soon" by its own date in between)."""
    return clock.local_date(instant) + dt.timedelta(days=validity.EXPIRY_WARN_DAYS + 7)


def _expiry_horizon_moved_past_lots(conn: sqlite3.Connection, last_pull_at: str | None, now: dt.datetime) -> bool:
    """Whether points of some account came within the horizon since the device's last pull without
    any ledger change (time passed): then a delta must carry every account with points. Validity
    ends on 31 December or on a moved lot's own day, so this happens on a few days a year."""
    if last_pull_at is None:
        return False
    lo, hi = _horizon(clock.from_text(last_pull_at)), _horizon(now)
    if lo >= hi:
        return False
    if any(lo < dt.date(year, 12, 31) <= hi for year in range(lo.year, hi.year + 1)):
        return True
    return conn.execute("SELECT 1 FROM ledger_entries WHERE valid_until > ? AND valid_until <= ? LIMIT 1",
                        (lo.isoformat(), hi.isoformat())).fetchone() is not None


def _tablet_accounts(conn: sqlite3.Connection, acct_rows: list, now: dt.datetime) -> dict:
    """What the card screen shows besides the balance, for the accounts in this pull.

    ``expiring``: points whose validity ends within the warning window (plus the offline days a
    tablet may go without a pull, since it judges "soon" by its own date in between), following
    the pull's accounts so a delta carries them exactly when it carries the balance. ``held``
    (points under an open objection) is sent whole every time: an objection raised or ruled
    leaves no trace the delta cursor sees, and open cases are few.
    """
    horizon = _horizon(now)
    # No open lots without a positive balance: only those accounts are replayed, in bulk.
    replayed = validity.lots_of_many(conn, [r[0] for r in acct_rows if r[1] > 0])
    expiring = []
    for account_id, (open_lots, _debt) in replayed.items():
        totals: dict[str, int] = {}
        for lot in open_lots:
            if lot.last_valid_day <= horizon:
                day = lot.last_valid_day.isoformat()
                totals[day] = totals.get(day, 0) + lot.remaining
        expiring += [(account_id, day, pts) for day, pts in sorted(totals.items())]
    held = conn.execute(
        f"SELECT account_id, sum(points_held) FROM objections WHERE status IN ({','.join('?' * len(objections.OPEN))}) "
        "GROUP BY account_id HAVING sum(points_held) > 0 ORDER BY account_id", objections.OPEN).fetchall()
    return {"expiring": wire.table(("account", "day", "points"), expiring),
            "held": wire.table(("account", "points"), held)}


def _device_config(conn: sqlite3.Connection, device: devices.Device, now: dt.datetime) -> dict:
    """Offers, catalog, offline policy and windows: small, so sent whole with every pull.

    The catalog is the one in force on the pull's own day (``now``), never a second reading of
    the clock: near local midnight the two could differ.
    """
    catalog = convention.in_force(conn, clock.local_date(now))
    out = {"catalog": {"version": catalog.version,
                       "items": [{"code": i.code, "product": i.product.code, "name": i.name, "points": i.points,
                                  "cap": i.cap} for i in catalog.items]}}
    merchant_id = device.merchant_id if device.kind == "tablet" else None
    out["policy"] = vars(policy.offline_policy(conn, merchant_id))
    if device.kind == "tablet":
        m = merchants.get(conn, merchant_id)
        out["merchant"] = {"merchant_id": m.merchant_id, "name": m.name, "category": m.category, "status": m.status}
        out["offers"] = [{"offer": o.offer_id, "name": o.name, "points": o.points, "value_fen": o.value_fen}
                         for o in merchants.offers_of(conn, merchant_id)]
        out["windows"] = [{"place": w.place, "weekdays": w.weekdays, "opens": w.opens, "closes": w.closes}
                          for w in policy.windows(conn, merchant_id)]
    else:
        out.update(merchant=None, offers=[], windows=[])
    return out
