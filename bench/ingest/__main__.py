"""Office ingest and pull benchmark, beside the raw SQLite insert rate measured in the same run.

    python -m bench.ingest [--tablets 70] [--events 500] [--big 100000]

1. Ingest: ``--tablets`` enrolled tablets each push ``--events`` signed, chained redemptions in one
   batch, all at once (one thread per tablet) to a real ``python -m office serve`` process. The
   same batches are then settled in-process (no HTTP) into a fresh copy of the store, and the
   same number of rows is inserted raw into a ledger-shaped SQLite table (WAL, synchronous=FULL,
   one transaction per batch): the floor that SQLite itself sets on this machine.
2. Pull: a full signed snapshot for 1,000 and for ``--big`` accounts over HTTP (office builds and
   signs it, the device verifies and applies it), with its size.

Building the data is not timed. The machine is shared and noisy: read ratios, not single times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bank import cards, clock, community, convention, db, devices, merchants, policy
from office import sync_api
from sync import client, events, home, replica, wire

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=clock.UTC)


def build_store(path: Path, n_accounts: int, n_merchants: int = 70) -> list[tuple[int, str]]:
    """A store with merchants (one offer each) and accounts with cards and plenty of points.

    Accounts and cards are written with bulk SQL (the bank API signs every card one by one, which
    is not what is measured here); the card QR texts are placeholders.
    """
    conn = db.connect(path, create=True)
    with db.transaction(conn):
        community.found(conn, code="LH", name="bench")
        cards.create_issuing_key(conn, now=T0)
        convention.install(conn, convention.load_file(), effective_from=dt.date(2025, 1, 1), now=T0)
        community.add_compound(conn, "小区", 10, service_point="服务点")
        for m in range(n_merchants):
            mid = merchants.add_merchant(conn, f"商户{m + 1}", "noodles", compound_id=1)
            merchants.add_offer(conn, mid, "小面", 6, 700)
        at = clock.to_text(T0)
        conn.executemany("INSERT INTO accounts (account_id, kind, display_name, compound_id, building, unit, room, "
                         "created_at) VALUES (?, 'single', '张三明', 1, 1, 1, '101', ?)",
                         ((i, at) for i in range(1, n_accounts + 1)))
        conn.executemany("INSERT INTO cards (card_id, version, account_id, key_id, qr, status, issued_at) "
                         "VALUES (?, 1, ?, 'K1', ?, 'active', ?)",
                         ((f"{100000 + i:06d}", i, f"bench-{i}", at) for i in range(1, n_accounts + 1)))
        conn.executemany("INSERT INTO ledger_entries (account_id, kind, points, recorded_by, recorded_at, note) "
                         "VALUES (?, 'adjustment', 1000000, 'bench', ?, 'bench')",
                         ((i, at) for i in range(1, n_accounts + 1)))
    conn.close()
    return [(i, f"{100000 + i:06d}") for i in range(1, n_accounts + 1)]


def enrol_tablets(path: Path, n: int) -> list[tuple[str, object]]:
    """Tablets enrolled and pulled just now, under a policy every bench event keeps: the night's
    sync of tablets that followed the rules is measured with every settlement check applied."""
    out = []
    conn = db.connect(path)
    with db.transaction(conn):
        policy.set_policy(conn, None, per_card_daily_cap=10**6, unsynced_cap=10**6)
        for m in range(1, n + 1):
            code = devices.new_enrolment_code(conn, merchant_id=(m - 1) % 70 + 1, now=T0)
            key = home.new_key()
            d = devices.enrol(conn, code, home.public_bytes(key), now=T0)
            out.append((d.device_id, key, (m - 1) % 70 + 1))
        conn.execute("UPDATE devices SET last_pull_at = ?", (clock.to_text(clock.now_utc() - dt.timedelta(minutes=1)),))
    conn.close()
    return out


def make_batches(tablets, people, n_events: int, rng: random.Random) -> list[tuple[str, object, bytes]]:
    """Per tablet: its signed push body of ``n_events`` chained redemptions."""
    out = []
    at = clock.to_text(clock.now_utc())
    for device_id, key, merchant_id in tablets:
        prev, evs = devices.GENESIS, []
        for seq in range(1, n_events + 1):
            account, card = rng.choice(people)
            e = {"device": device_id, "seq": seq, "prev": prev, "kind": "redemption", "at": at,
                 "body": {"card": card, "card_version": 1, "offer": merchant_id, "qty": 1, "points": 6,
                          "receipt": seq, "proof": events.card_proof(f"bench-{account}", device_id, seq),
                          "auth": None}}
            prev = events.digest(e)
            evs.append(e)
        out.append((device_id, key, wire.canonical(events.sign_batch(key, device_id, evs))))
    return out


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # plain HTTP on this machine: the numbers stay comparable with earlier runs (TLS is
        # measured apart: the ingest cost is the office's, not the cipher's)
        self.proc = subprocess.Popen([sys.executable, "-m", "office", "serve", "--db", str(path), "--port",
                                      str(self.port), "--insecure-http"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(400):
            try:
                if requests.get(self.url + "/api/v1/health", timeout=0.5).ok:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise SystemExit("server did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def push_concurrently(url: str, batches) -> tuple[float, list[int]]:
    barrier = threading.Barrier(len(batches) + 1)
    statuses: list[int] = []

    def one(device_id, key, body):
        headers = wire.sign_request(key, "POST", "/api/v1/push", device_id, clock.to_text(clock.now_utc()), body)
        session = requests.Session()
        barrier.wait()
        r = session.post(url + "/api/v1/push", data=body, headers=headers, timeout=300)
        statuses.append(r.status_code)

    threads = [threading.Thread(target=one, args=b) for b in batches]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started, statuses


def settle_in_process(path: Path, batches) -> float:
    conn = db.connect(path)
    devs = {d.device_id: d for d in devices.all_devices(conn)}
    now = clock.now_utc()
    started = time.perf_counter()
    for device_id, _, body in batches:
        sync_api.push(conn, devs[device_id], body, now)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_insert_rate(directory: Path, n_batches: int, per_batch: int) -> float:
    """Rows/s of plain INSERTs into a ledger-shaped table, one transaction per batch."""
    conn = sqlite3.connect(directory / "raw.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, account_id INTEGER, kind TEXT, points INTEGER, "
                 "offer_id INTEGER, recorded_by TEXT, device_id TEXT, device_time TEXT, recorded_at TEXT, "
                 "ref TEXT UNIQUE)")
    conn.execute("CREATE INDEX t_acct ON t (account_id, id, points)")
    at = clock.to_text(clock.now_utc())
    started = time.perf_counter()
    for b in range(n_batches):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO t VALUES (NULL, ?, 'redemption', -6, 1, 'bench', 'T', ?, ?, ?)",
                         ((i % 1000, at, at, f"dev:T{b}:{i}") for i in range(per_batch)))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return n_batches * per_batch / elapsed


def raw_schema_rate(path: Path, batches) -> float:
    """Events/s of plain INSERTs of each event's two rows into the real store (``ledger_entries``
    and ``device_events``, with their indexes, constraints and foreign keys, WAL,
    synchronous=FULL), one transaction per batch, no Python logic: the ceiling for settle."""
    conn = db.connect(path)
    devs = {d.device_id: d for d in devices.all_devices(conn)}
    at = clock.to_text(clock.now_utc())
    next_id = conn.execute("SELECT max(entry_id) + 1 FROM ledger_entries").fetchone()[0]
    prepared = []
    for device_id, _, body in batches:
        _, evs, hashes, texts, _ = events.parse_batch(wire.parse_json(body, wire.MAX_PUSH_BYTES))
        merchant = devs[device_id].merchant_id
        rows, drows = [], []
        for e, h, text in zip(evs, hashes, texts):
            rows.append((next_id, int(e["body"]["card"]) - 100000, -e["body"]["points"], merchant, merchant,
                         e["body"]["qty"], f"device:{device_id}", device_id, e["at"], at, f"dev:{device_id}:{e['seq']}"))
            drows.append((device_id, e["seq"], h, e["prev"], e["kind"], text, e["at"], at, next_id, None))
            next_id += 1
        prepared.append((rows, drows))
    started = time.perf_counter()
    for rows, drows in prepared:
        with db.transaction(conn):
            conn.executemany("INSERT INTO ledger_entries (entry_id, account_id, kind, points, merchant_id, offer_id, "
                             "quantity, recorded_by, device_id, device_time, recorded_at, ref) "
                             "VALUES (?, ?, 'redemption', ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO device_events (device_id, seq, hash, prev_hash, kind, body, device_time, "
                             "received_at, entry_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", drows)
    elapsed = time.perf_counter() - started
    conn.close()
    return sum(len(r) for r, _ in prepared) / elapsed


def pull_full(store: Path, n_accounts: int, work: Path) -> dict:
    """One full pull over HTTP into a fresh replica: total time, payload size, office build time."""
    conn = db.connect(store)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, merchant_id=1)
    conn.close()
    server = Server(store)
    try:
        h, _ = __import__("device.enrolment", fromlist=["enrol"]).enrol(work / f"tab{n_accounts}", server.url, code)
        rconn = h.replica()
        transport = client.HttpTransport(server.url, 300)
        started = time.perf_counter()
        payload = client.pull(h, rconn, transport, full=True)
        total = time.perf_counter() - started
        assert len(payload["accounts"]["rows"]) == n_accounts
        oconn = db.connect(store)
        device = devices.get(oconn, h.device_id)
        body = wire.canonical({"cursor": None, "full": True})
        t = time.perf_counter()
        message = sync_api.pull(oconn, device, body, clock.now_utc())
        office_s = time.perf_counter() - t
        size = len(wire.canonical(message))
        t = time.perf_counter()
        replica.set_state(rconn, cursor=None)
        replica.apply_pull(rconn, message, now=clock.now_utc())
        apply_s = time.perf_counter() - t
        oconn.close()
        rconn.close()
        return {"accounts": n_accounts, "total_s": total, "office_s": office_s, "device_apply_s": apply_s,
                "bytes": size}
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tablets", type=int, default=70)
    ap.add_argument("--events", type=int, default=500)
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--big", type=int, default=100_000)
    args = ap.parse_args()
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        store = work / "office.sqlite"
        people = build_store(store, args.accounts)
        tablets = enrol_tablets(store, args.tablets)
        shutil.copy(store, work / "inproc.sqlite")
        shutil.copy(store, work / "rawschema.sqlite")
        batches = make_batches(tablets, people, args.events, rng)
        total_events = args.tablets * args.events
        print(f"ingest: {args.tablets} tablets x {args.events} events = {total_events} events, "
              f"{args.accounts} accounts, {os.cpu_count()} CPUs")

        server = Server(store)
        try:
            elapsed, statuses = push_concurrently(server.url, batches)
        finally:
            server.stop()
        ok = statuses.count(200)
        print(f"  HTTP, concurrent (real server): {elapsed:.2f} s, {total_events / elapsed:,.0f} events/s "
              f"({ok}/{len(statuses)} batches acknowledged)")
        inproc = settle_in_process(work / "inproc.sqlite", batches)
        print(f"  in-process settle (sync_api.push, no HTTP): {inproc:.2f} s, {total_events / inproc:,.0f} events/s")
        raw = raw_insert_rate(work, args.tablets, args.events)
        print(f"  raw SQLite INSERT, same rows and transactions: {raw:,.0f} rows/s "
              f"(settle is {raw / (total_events / inproc):.1f}x slower than the raw floor)")
        ceiling = raw_schema_rate(work / "rawschema.sqlite", batches)
        print(f"  raw INSERT of each event's 2 rows into the real schema (indexes, constraints, foreign keys): "
              f"{ceiling:,.0f} events/s (settle reaches {total_events / inproc / ceiling:.0%} of it)")
        conn = db.connect(store)
        held = conn.execute("SELECT count(*) FROM device_events").fetchone()[0]
        conn.close()
        assert held == total_events, f"office holds {held} of {total_events} events"

        print("pull (full signed snapshot over HTTP, verified and applied by the device):")
        for i, n in enumerate((args.accounts, args.big)):
            path = work / f"pull{i}-{n}.sqlite"      # --big may equal --accounts
            build_store(path, n)
            (work / f"p{i}").mkdir()
            r = pull_full(path, n, work / f"p{i}")
            print(f"  {n:>7,} accounts: {r['total_s']:.2f} s total; office build+sign {r['office_s']:.2f} s; "
                  f"device verify+apply {r['device_apply_s']:.2f} s; {r['bytes'] / 1e6:.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
