"""A store connection lent by the pool (office.pool) against one opened for the request, on PostgreSQL.

``python -m bench.pool [--db postgresql://...] [--n 200]``: the median milliseconds of each, in
the same run, each followed by one small query a request would make (the store's schema version).
Without ``--db`` a throw-away PostgreSQL cluster is started (the tests' kit, Debian's PostgreSQL).
"""

from __future__ import annotations

import argparse
import statistics
import time

from bank import db, pg
from office import pool


def measure(url: str, n: int) -> dict:
    source = pool.Loans(url, None, 2.0)
    with pool.request_scope():          # the pool opened, its first connection made
        source.get().execute("SELECT version FROM mpb_store").fetchone()
    loan, fresh = [], []
    for _ in range(n):
        started = time.perf_counter()
        with pool.request_scope():
            source.get().execute("SELECT version FROM mpb_store").fetchone()
        loan.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        conn = db.connect(url, migrate=False)
        conn.execute("SELECT version FROM mpb_store").fetchone()
        conn.close()
        fresh.append((time.perf_counter() - started) * 1000)
    return {"n": n, "loan_ms": statistics.median(loan), "connect_ms": statistics.median(fresh)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="a migrated store's postgresql:// URL (default: a throw-away cluster)")
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    server = None
    url = args.db
    if url is None:
        from tests import pg_kit          # the throw-away cluster of the tests
        server = pg_kit.start()
        url = server.url(server.new_database(), pg_kit.APP)
    try:
        r = measure(url, args.n)
    finally:
        pool.close_pools()
        if server is not None:
            from tests import pg_kit
            pg_kit.stop(server)
    print(f"store {pg.safe_url(url)}: {r['n']} rounds")
    print(f"  a loan from the pool + one query:   median {r['loan_ms']:.3f} ms")
    print(f"  a new connection + one query:       median {r['connect_ms']:.3f} ms")
    print(f"  the loan is {r['connect_ms'] / r['loan_ms']:.0f}x faster")


if __name__ == "__main__":
    main()
