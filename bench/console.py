"""Console benchmark: every main page of the office console over real HTTP at demo scale, and a
compound's quarterly posting PDF, each beside a reference measured in the same run.

    python -m bench.console [--rounds 20]

Targets (issue 7): pages within 200 ms, a posting within 2 s. References: the server's minimal
route (/api/v1/health) for pages, and an empty page with the same embedded CJK font for the PDF.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import tempfile
import time
from pathlib import Path

import requests

from bank import db, demo, periods, users
from demo.office import OfficeProcess
from office import pdfkit, reports

PAGES = ["/", "/residents", "/residents?q=张", "/residents/7", "/merchants", "/merchants/devices", "/merchants/5",
         "/convention", "/monthly", "/quarterly", "/objections", "/yearly", "/exports", "/audit", "/reviewers",
         "/users"]
USER, PASSWORD = "基准测试", "bench-password"


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def login(session: requests.Session, url: str) -> None:
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(url + "/login").text)[1]
    r = session.post(url + "/login", data={"csrf": token, "name": USER, "password": PASSWORD, "next": "/"},
                     allow_redirects=False)
    if r.status_code != 303:
        raise SystemExit(f"log-in failed: {r.status_code}")


def timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be positive")
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        path = Path(tmp) / "community.sqlite"
        demo.build(path, seed=1, until=dt.date(2026, 11, 26))
        conn = db.connect(path)
        with db.transaction(conn):
            users.add_user(conn, name=USER, role="office", password=PASSWORD)
        office = OfficeProcess(path, insecure_http=True)   # page times, not the cipher's
        try:
            session = requests.Session()
            login(session, office.url)
            reference = timed(lambda: session.get(office.url + "/api/v1/health"), args.rounds)
            print(f"console pages over HTTP at demo scale, {args.rounds} rounds each (target: within 200 ms)")
            print(f"{'page':<28}{'median ms':>10}{'p95 ms':>9}")
            print(f"{'(reference) /api/v1/health':<28}{statistics.median(reference):>10.1f}{pct(reference, .95):>9.1f}")
            worst = 0.0
            for page in PAGES:
                for _ in range(2):
                    r = session.get(office.url + page)  # warm: templates compiled
                    if r.status_code != 200:
                        raise SystemExit(f"{page}: HTTP {r.status_code}")
                ms = timed(lambda page=page: session.get(office.url + page), args.rounds)
                worst = max(worst, pct(ms, .95))
                print(f"{page:<28}{statistics.median(ms):>10.1f}{pct(ms, .95):>9.1f}")
            print(f"slowest page p95: {worst:.1f} ms")
        finally:
            office.stop()
        quarter = periods.quarter("2026Q3")
        rounds = max(3, args.rounds // 4)
        posting = timed(lambda: reports.posting_pdf(conn, quarter, 1), rounds)

        def empty_page():
            doc = pdfkit.new_document("基准")
            doc.add_page()
            doc.set_font(pdfkit.FONT, "", 12)
            doc.cell(text="龙海社区")
            doc.output()

        empty = timed(empty_page, rounds)
        print(f"\nquarterly posting PDF of one compound, {rounds} rounds (target: within 2 s)")
        print(f"{'posting_pdf (compound 1, 2026Q3)':<36}{statistics.median(posting):>10.0f} ms")
        print(f"{'(reference) one page, same font':<36}{statistics.median(empty):>10.0f} ms")
        conn.close()


if __name__ == "__main__":
    main()
