"""Ledger benchmark: record 1,000,000 entries over 100,000 accounts, then look up balances and
passbooks; every figure is printed beside the raw SQLite rate measured in the same run.

    python -m bench.ledger [--accounts 100000] [--entries 1000000] [--lookups 5000]

The machine is shared and noisy: read the ratios and the medians, not single times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from bank import accounts, clock, community, convention, db, ledger
from bank.errors import CapExceeded

START = dt.datetime(2025, 12, 1, tzinfo=clock.LOCAL_TZ).astimezone(clock.UTC)
BATCH = 1000


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def new_store(path: Path, n_accounts: int):
    conn = db.connect(path, create=True)
    with db.transaction(conn):
        community.found(conn, code="LH", name="bench")
        convention.install(conn, convention.load_file(), effective_from=dt.date(2025, 1, 1), now=START)
        for i in range(6):
            community.add_compound(conn, f"小区{i + 1}", 10, service_point=f"服务点{i + 1}")
        for i in range(n_accounts):
            accounts.open_account(conn, kind="single", holder="张三", compound_id=i % 6 + 1, building=1,
                                  unit=1, room="101", now=START)
    return conn


def plan(n_entries: int, n_accounts: int, rng: random.Random):
    """(account, item, time) in time order: a year of entries, uncapped items weighted up."""
    codes = [i["code"] for i in convention.load_file()["items"]]
    times = sorted(rng.random() for _ in range(n_entries))
    return [(rng.randint(1, n_accounts), rng.choice(codes), START + dt.timedelta(days=365 * t)) for t in times]


def record_all(conn, work) -> tuple[int, int, float]:
    recorded = refused = 0
    started = time.perf_counter()
    for i in range(0, len(work), BATCH):
        with db.transaction(conn):
            for account_id, code, at in work[i:i + BATCH]:
                try:
                    ledger.record_item(conn, account_id, code, recorded_by="bench", now=at)
                    recorded += 1
                except CapExceeded:
                    refused += 1
    return recorded, refused, time.perf_counter() - started


def raw_insert_rate(path: Path, work) -> float:
    """The same rows, same schema and indexes, through plain executemany in the same batches."""
    conn = db.connect(path, create=True)
    with db.transaction(conn):
        community.found(conn, code="LH", name="raw")
        convention.install(conn, convention.load_file(), effective_from=dt.date(2025, 1, 1), now=START)
        community.add_compound(conn, "小区", 10, service_point="服务点")
        conn.executemany("INSERT INTO accounts (kind, display_name, compound_id, building, unit, room, created_at) "
                         "VALUES ('single', '张三', 1, 1, 1, '101', '2025-01-01T00:00:00.000000Z')",
                         [()] * max(a for a, _, _ in work))
    rows = [(a, "award", 1, c, 1, "D2025-12-01", "bench", "office", clock.to_text(t), "") for a, c, t in work]
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        with db.transaction(conn):
            conn.executemany("INSERT INTO ledger_entries (account_id, kind, points, item_code, catalog_version, "
                             "period_key, recorded_by, device_id, recorded_at, note) VALUES (?,?,?,?,?,?,?,?,?,?)",
                             rows[i:i + BATCH])
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


def single_commit_latency(conn, n_accounts: int, rng: random.Random, n: int = 300):
    """Durable writes one at a time (its own transaction, synchronous=FULL), as a tablet does."""
    bank_ms, raw_ms = [], []
    at = START + dt.timedelta(days=366)
    for _ in range(n):
        aid = rng.randint(1, n_accounts)
        t = time.perf_counter()
        ledger.record_item(conn, aid, "XS06", recorded_by="bench", now=at)
        bank_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        with db.transaction(conn):
            conn.execute("INSERT INTO ledger_entries (account_id, kind, points, item_code, catalog_version, "
                         "recorded_by, recorded_at) VALUES (?, 'deduction', -10, 'XS06', 1, 'raw', ?)",
                         (aid, clock.to_text(at)))
        raw_ms.append((time.perf_counter() - t) * 1000)
    return bank_ms, raw_ms


def lookups(conn, n_accounts: int, n: int, rng: random.Random):
    times = {"balance": [], "passbook(20)": [], "raw last 20 rows": []}
    for _ in range(n):
        aid = rng.randint(1, n_accounts)
        t = time.perf_counter()
        ledger.balance(conn, aid)
        times["balance"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        ledger.passbook(conn, aid, limit=20)
        times["passbook(20)"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        conn.execute("SELECT * FROM ledger_entries WHERE account_id = ? ORDER BY entry_id DESC LIMIT 20",
                     (aid,)).fetchall()
        times["raw last 20 rows"].append((time.perf_counter() - t) * 1000)
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.accounts < 1 or args.entries < 1 or args.lookups < 1:
        parser.error("counts must be positive")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        tmp = Path(tmp)
        print(f"ledger benchmark: {args.entries:,} entries over {args.accounts:,} accounts (batches of {BATCH})")
        conn = new_store(tmp / "bank.sqlite", args.accounts)
        work = plan(args.entries, args.accounts, rng)
        raw_rate = raw_insert_rate(tmp / "raw.sqlite", work)
        recorded, refused, elapsed = record_all(conn, work)
        rate = recorded / elapsed
        print(f"\n{'recording':<34}{'entries/s':>12}")
        print(f"{'bank.ledger.record_item':<34}{rate:>12,.0f}   ({recorded:,} recorded, {refused:,} refused by caps, "
              f"{elapsed:.1f} s)")
        print(f"{'raw SQLite executemany (same rows)':<34}{raw_rate:>12,.0f}   ratio bank/raw = {rate / raw_rate:.2f}")
        bank_ms, raw_ms = single_commit_latency(conn, args.accounts, rng)
        print(f"\n{'durable single-entry commit':<34}{'median ms':>12}{'p99 ms':>10}")
        print(f"{'bank.ledger.record_item':<34}{statistics.median(bank_ms):>12.3f}{pct(bank_ms, 0.99):>10.3f}")
        print(f"{'raw SQLite INSERT + COMMIT':<34}{statistics.median(raw_ms):>12.3f}{pct(raw_ms, 0.99):>10.3f}")
        times = lookups(conn, args.accounts, args.lookups, rng)
        print(f"\n{'lookup (' + format(args.lookups, ',') + ' random accounts)':<34}{'median ms':>12}{'p99 ms':>10}")
        for name, values in times.items():
            print(f"{name:<34}{statistics.median(values):>12.3f}{pct(values, 0.99):>10.3f}")
        conn.close()


if __name__ == "__main__":
    main()
