"""Import benchmark: a 10,000-row roster spreadsheet (with the oddities real ones hold) read,
checked and imported into a new store, each card issued; the same file again (adds nothing); then
opening balances for every household. Beside it, the reference measured in the same run:
openpyxl's plain read of the same file (load and every row's values, as the import reads it).

    python -m bench.imports [--rows 10000]

Target (issue 11): a 10,000-row file imports in under 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import tempfile
import time
import warnings
from pathlib import Path

import openpyxl

from bank import cards, clock, community, convention, db, demo, imports
from office import spreadsheets

RELATIONS = ("配偶", "儿子", "女儿", "父亲", "母亲", "孙子", "孙女")
FULL = str.maketrans({c: c + 0xFEE0 for c in range(0x30, 0x3A)})


def roster_file(rows: int, seed: int = 11) -> tuple[bytes, list[tuple]]:
    """A roster of about ``rows`` rows in households of 1 to 4 people: a merged title row, suffixes
    written in some cells and not others, full-width digits, padded names, an empty row now and
    then. Returns the file and each household's (compound, building, unit, room, holder)."""
    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "储户名册"
    ws.append(["龙海社区储户名册"])
    ws.merge_cells("A1:H1")
    ws.append(["序号", "小区", "楼栋", "单元", "房号", "户主", "成员姓名", "与户主关系"])
    houses, n, seen = [], 0, set()
    while n < rows:
        name_, b, u, room, cmp = None, 0, 0, "", None
        while name_ is None or (cmp, b, u, room, name_) in seen:
            cmp, buildings, _ = rng.choice(demo.COMPOUNDS)
            b, u, room = rng.randint(1, buildings), rng.randint(1, 4), f"{rng.randint(1, 32)}{rng.randint(1, 4):02d}"
            name_ = demo._name(rng)
        seen.add((cmp, b, u, room, name_))
        houses.append((cmp, b, u, room, name_))
        odd = rng.random()
        cells = ([cmp, f"{b}栋", f"{u}单元", f"{room}室"] if odd < 0.4 else
                 [cmp, str(b).translate(FULL), str(u).translate(FULL), room.translate(FULL)] if odd < 0.6 else
                 [cmp, b, u, int(room)])
        holder = name_ if len(name_) > 2 or odd < 0.5 else f"{name_[0]}  {name_[1]}"
        size = min(rng.choice((1, 1, 2, 3, 3, 4)), rows - n)
        ws.append([n + 1, *cells, holder, None, "本人"])
        n += 1
        taken = {name_}
        for rel in rng.sample(RELATIONS, size - 1):
            member = name_
            while member in taken:
                member = name_[0] + demo._name(rng)[1:]
            taken.add(member)
            ws.append([n + 1, *cells, holder, member, rel])
            n += 1
        if n % 1000 == 0:
            ws.append([])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), houses


def balances_file(houses: list[tuple], until: dt.date) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "期初余额"
    ws.append(["小区", "楼栋", "单元", "房号", "户主", "积分", "有效期至"])
    for i, (cmp, b, u, room, name_) in enumerate(houses):
        ws.append([cmp, b, u, room, name_, 1 + i % 97, until if i % 2 else until.strftime("%Y年%m月%d日")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def new_store(path: Path):
    conn = db.connect(path, create=True)
    with db.transaction(conn):
        community.found(conn, code="LH", name="龙海社区")
        cards.create_issuing_key(conn)
        convention.install(conn, convention.load_file(), effective_from=dt.date(2025, 1, 1))
        for name_, buildings, point in demo.COMPOUNDS:
            community.add_compound(conn, name_, buildings, service_point=point)
    return conn


def plain_read(data: bytes) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    return sum(1 for ws in wb.worksheets for _ in ws.iter_rows(values_only=True))


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be positive")
    data, houses = roster_file(args.rows)
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        conn = new_store(Path(tmp) / "community.sqlite")
        _, ref = timed(lambda: plain_read(data))
        book, read_s = timed(lambda: spreadsheets.read(data, "roster"))
        dry, check_s = timed(lambda: imports.run(conn, book, recorded_by="基准", dry_run=True))
        if not dry.plan.ok:
            raise SystemExit("\n".join(p.text() for p in dry.plan.problems[:20]))
        result, write_s = timed(lambda: imports.run(conn, book, recorded_by="基准"))
        again, again_s = timed(lambda: imports.run(conn, spreadsheets.read(data, "roster"), recorded_by="基准"))
        assert again.plan.counts["households"] == 0 and again.plan.counts["households_existing"] == len(houses)
        until = dt.date(clock.local_date(clock.now_utc()).year + 1, 12, 31)
        bal = balances_file(houses, until)
        _, bal_ref = timed(lambda: plain_read(bal))
        bal_result, bal_s = timed(lambda: imports.run(conn, spreadsheets.read(bal, "balances"), recorded_by="基准"))
        assert bal_result.written and bal_result.plan.counts["adjustments"] == len(houses)
        conn.close()
    rows = book.rows
    total = read_s + write_s
    print(f"import benchmark: roster of {rows:,} rows ({len(data) / 1024:,.0f} KB), "
          f"{result.plan.counts['households']:,} households, {len(result.cards):,} cards issued")
    print(f"{'step':<44}{'seconds':>9}{'rows/s':>10}")
    print(f"{'(reference) openpyxl plain read, same file':<44}{ref:>9.2f}{rows / ref:>10,.0f}")
    print(f"{'read (openpyxl + merged cells + layout)':<44}{read_s:>9.2f}{rows / read_s:>10,.0f}")
    print(f"{'check every row (dry run)':<44}{check_s:>9.2f}{rows / check_s:>10,.0f}")
    print(f"{'check + write + issue cards (one transaction)':<44}{write_s:>9.2f}{rows / write_s:>10,.0f}")
    print(f"{'the same file again (adds nothing)':<44}{again_s:>9.2f}{rows / again_s:>10,.0f}")
    print(f"roster import, read to commit: {total:.1f} s (target: under 30 s); "
          f"ratio to openpyxl's plain read {total / ref:.1f}x")
    print(f"opening balances for {len(houses):,} households: {bal_s:.2f} s read to commit, "
          f"openpyxl plain read {bal_ref:.2f} s ({bal_s / bal_ref:.1f}x)")


if __name__ == "__main__":
    main()
