"""District benchmark (issue 13): many communities in one PostgreSQL store, a night's sync of
their tablets over HTTP against the real district server, beside PostgreSQL's own insert rate
for the same rows measured in the same run; the same figures for one community on SQLite.

    python -m bench.district [--communities 200] [--accounts 1100] [--merchants 70] [--tablets N]
                             [--events 200] [--run 500] [--clients 16] [--workers 2] [--pg-url URL]

1. Build (timed, not part of the figures): a durable PostgreSQL 15 cluster of its own
   (tests/pg_kit.py with fsync, synchronous commit and full page writes on) unless --pg-url
   names an empty database; ``bank.district.add_community`` per community (its schema migrated,
   compounds, issuing key) and the convention installed; accounts, cards, balances, merchants and
   offers written with bulk SQL (executemany, pipelined by psycopg); ``--tablets`` tablets per
   community enrolled directly in the store with real Ed25519 keys.
2. The night: ``--clients`` threads take the tablets in a shuffled order (every community's
   tablets mixed, as a night's sync is) and push each one's ``--events`` chained, signed
   redemptions in runs of ``--run`` (each run one signed device request, the tablet's runs in
   order; the default is the tablet's own batch, ``sync.client.PUSH_BATCH``, so a tablet's night
   is one push, as it is in service; ``--run 50`` shows what the office's per-push work costs) to
   ``python -m office serve`` on the district store at 127.0.0.1, every community at
   /c/CODE/. A 503 (busy) is retried. Afterwards every community's device_events and ledger
   redemptions are counted: each event settled exactly once.
3. The ceilings: the same rows (a ledger row and a device_events row per event) inserted with
   plain INSERTs by as many clients, one transaction per run (the tablet's push), committed:
   into each community's real tables in a copy of the store made before the night (``CREATE
   DATABASE ... TEMPLATE``: every index, constraint, foreign key and trigger, as the SQLite
   ceiling below inserts into the real schema); the target is set against this one. Beside it,
   a stricter one: into one scratch copy of the two tables (``CREATE TABLE ... (LIKE ...
   INCLUDING ALL)``: indexes, unique and check constraints, no foreign keys or triggers).
4. A tablet's and a kiosk's full pull of one community over HTTP (median of several), the
   console's pages through the district server (p95), the district view's when it is there.
5. The same for one community on SQLite (a store file of its own, ``office serve`` on it,
   the ceiling of bench.ingest: plain INSERTs into the real schema).

The machine is shared and noisy: read ratios, not single times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import queue
import random
import re
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bank import clock, db, devices, district, keystore, policy, users
from bench.ingest.__main__ import build_store, free_port, raw_schema_rate
from device import enrolment
from sync import client, events, home, wire

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=clock.UTC)
USER, PASSWORD = "基准测试", "bench-password"
PAGES = ["/", "/residents", "/residents?q=张", "/merchants", "/merchants/devices", "/monthly", "/audit"]
DISTRICT_PAGES = ["/", "/?sort=awarded&desc=1", "/community/{code}", "/export.xlsx"]


def pct(values, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def codes(n: int) -> list[str]:
    """``n`` distinct community codes (capital letters only, as a card's QR text wants)."""
    letters = string.ascii_uppercase
    return ["C" + "".join(p) for p in itertools.islice(itertools.product(letters, repeat=3), n)]


# --- building the district ------------------------------------------------------------------------

def fill_community(conn, n_accounts: int, n_merchants: int) -> None:
    """Permissive policy, merchants with one offer each, accounts with a card and a balance, in one
    transaction of bulk SQL (the card QR texts are placeholders, as bench.ingest's); the community's
    convention came with add_community."""
    at = clock.to_text(T0)
    with db.transaction(conn):
        policy.set_policy(conn, None, per_card_daily_cap=10**6, unsynced_cap=10**6)
        key_id = conn.execute("SELECT key_id FROM issuing_keys").fetchone()[0]
        compound = conn.execute("SELECT min(compound_id) FROM compounds").fetchone()[0]
        conn.executemany("INSERT INTO merchants (merchant_id, name, category, compound_id) VALUES (?, ?, 'noodles', ?)",
                         ((m, f"商户{m}", compound) for m in range(1, n_merchants + 1)))
        conn.executemany("INSERT INTO offers (offer_id, merchant_id, name, points, value_fen) VALUES (?, ?, '小面', 6, 700)",
                         ((m, m) for m in range(1, n_merchants + 1)))
        conn.executemany("INSERT INTO accounts (account_id, kind, display_name, compound_id, building, unit, room, "
                         "created_at) VALUES (?, 'single', '张三明', ?, 1, 1, '101', ?)",
                         ((i, compound, at) for i in range(1, n_accounts + 1)))
        conn.executemany("INSERT INTO cards (card_id, version, account_id, key_id, qr, status, issued_at) "
                         "VALUES (?, 1, ?, ?, ?, 'active', ?)",
                         ((f"{100000 + i:06d}", i, key_id, f"bench-{i}", at) for i in range(1, n_accounts + 1)))
        conn.executemany("INSERT INTO ledger_entries (account_id, kind, points, recorded_by, recorded_at, note) "
                         "VALUES (?, 'adjustment', 1000000, 'bench', ?, 'bench')",
                         ((i, at) for i in range(1, n_accounts + 1)))
        users.add_user(conn, name=USER, role="office", password=PASSWORD)


def enrol(conn, n: int, n_merchants: int) -> list[tuple[str, object, int]]:
    """``n`` tablets enrolled in the store with real keys, pulled a minute ago."""
    out = []
    with db.transaction(conn):
        for m in range(1, n + 1):
            merchant = (m - 1) % n_merchants + 1
            code = devices.new_enrolment_code(conn, merchant_id=merchant, now=T0)
            key = home.new_key()
            out.append((devices.enrol(conn, code, home.public_bytes(key), now=T0).device_id, key, merchant))
        conn.execute("UPDATE devices SET last_pull_at = ?", (clock.to_text(clock.now_utc() - dt.timedelta(minutes=1)),))
    return out


def build_district(owner_url: str, app_role: str | None, keys, args) -> tuple[list[str], float]:
    started = time.perf_counter()
    district.create(owner_url, app_role=app_role)
    if has_district_view():
        directory = db.connect(district.directory_url(owner_url), migrate=False)
        try:
            with db.transaction(directory):
                users.add_user(directory, name=USER, role="district", password=PASSWORD)
        finally:
            directory.close()
    compounds = [district.CompoundPlan("龙海花园", 9, "龙海花园党群服务点")]
    all_codes = codes(args.communities)
    for i, code in enumerate(all_codes):
        entry = district.add_community(owner_url, code=code, name=f"{code}社区", compounds=compounds, now=T0,
                                       keys=keys, app_role=app_role)
        conn = db.connect(entry.url, migrate=False)
        try:
            keystore.use(conn, keys)
            fill_community(conn, args.accounts, args.merchants)
        finally:
            conn.close()
        if i == 0:
            first = time.perf_counter() - started
            print(f"  first community built in {first:.1f} s", flush=True)
    return all_codes, time.perf_counter() - started


# --- the night ------------------------------------------------------------------------------------

def make_runs(tablet, people, n_events: int, run: int, rng: random.Random) -> list[bytes]:
    """A tablet's ``n_events`` chained redemptions as signed push bodies of ``run`` events each."""
    device_id, key, merchant_id = tablet
    at = clock.to_text(clock.now_utc())
    prev, evs = devices.GENESIS, []
    for seq in range(1, n_events + 1):
        account = rng.randrange(1, people + 1)
        e = {"device": device_id, "seq": seq, "prev": prev, "kind": "redemption", "at": at,
             "body": {"card": f"{100000 + account:06d}", "card_version": 1, "offer": merchant_id, "qty": 1,
                      "points": 6, "receipt": seq, "proof": events.card_proof(f"bench-{account}", device_id, seq),
                      "auth": None}}
        prev = events.digest(e)
        evs.append(e)
    return [wire.canonical(events.sign_batch(key, device_id, evs[i:i + run])) for i in range(0, n_events, run)]


class Server:
    """``python -m office serve`` on a store (a district store or a SQLite file), plain HTTP on 127.0.0.1."""

    def __init__(self, store: str, key_dir: Path | None, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "office", "serve", "--db", str(store), "--port", str(self.port), "--insecure-http",
               "--no-daily-expiry"]
        if key_dir is not None:
            cmd += ["--key-dir", str(key_dir)]
        if workers > 1:
            cmd += ["--workers", str(workers)]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 300       # 200 communities: each app opens its store first
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"server exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                if requests.get(self.url + "/", timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise SystemExit("server did not start")

    def log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def has_district_view() -> bool:
    """Whether the district view (office.district, /district/) is there to be measured."""
    import importlib.util
    return importlib.util.find_spec("office.district") is not None


def serve_has_workers() -> bool:
    out = subprocess.run([sys.executable, "-m", "office", "serve", "--help"], cwd=ROOT, capture_output=True, text=True)
    return "--workers" in out.stdout


def night(base: str, work: list[tuple[str, str, object, list[bytes]]], clients: int) -> dict:
    """Push every tablet's runs (``work``: prefix, device id, key, bodies) with ``clients`` threads."""
    todo: queue.Queue = queue.Queue()
    for item in work:
        todo.put(item)
    latencies: list[float] = []
    retries = [0]
    failures: list[str] = []
    lock = threading.Lock()

    def worker():
        mine, busy = [], 0
        while True:
            try:
                prefix, device_id, key, bodies = todo.get_nowait()
            except queue.Empty:
                break
            # a connection of the tablet's own, as a tablet has: the server's workers share them out
            session = requests.Session()
            session.trust_env = False
            path = prefix + wire.API + "/push"
            for body in bodies:
                for attempt in range(200):
                    headers = wire.sign_request(key, "POST", path, device_id, clock.to_text(clock.now_utc()), body)
                    headers["content-type"] = "application/json"
                    t = time.perf_counter()
                    r = session.post(base + path, data=body, headers=headers, timeout=120)
                    if r.status_code == 503:     # busy: a tablet retries; here after a short pause
                        busy += 1
                        time.sleep(0.05 * min(attempt + 1, 10))
                        continue
                    mine.append(time.perf_counter() - t)
                    if r.status_code != 200:
                        with lock:
                            failures.append(f"{path}: HTTP {r.status_code} {r.text[:200]}")
                    break
            session.close()
        with lock:
            latencies.extend(mine)
            retries[0] += busy

    wall = run_threads(worker, clients)
    return {"wall": wall, "latencies": latencies, "retries": retries[0], "failures": failures}


def run_threads(worker, n: int) -> float:
    """Seconds for ``n`` threads running ``worker`` at once, all of them finished."""
    threads = [threading.Thread(target=worker) for _ in range(n)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


class ConnectionSampler:
    """The most sessions the PostgreSQL server held during the night (pg_stat_activity, each second)."""

    def __init__(self, url: str):
        import psycopg
        self.conn = psycopg.connect(url, autocommit=True)
        self.peak, self.stop_flag = 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            n = self.conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").fetchone()[0]
            self.peak = max(self.peak, n - 1)       # not this one
            if self.stop_flag.wait(0.5):
                return

    def stop(self) -> int:
        self.stop_flag.set()
        self.thread.join()
        self.conn.close()
        return self.peak


def verify(urls: dict[str, str], per_tablet: int, tablets: int) -> None:
    """Every event settled exactly once, in its own community."""
    want = per_tablet * tablets
    for code, url in urls.items():
        conn = db.connect(url, migrate=False)
        try:
            held, distinct = conn.execute("SELECT count(*), count(DISTINCT device_id || ':' || seq) FROM device_events").fetchone()
            ledger = conn.execute("SELECT count(*) FROM ledger_entries WHERE kind = 'redemption'").fetchone()[0]
        finally:
            conn.close()
        if not held == distinct == ledger == want:
            raise SystemExit(f"{code}: {held} device events ({distinct} distinct), {ledger} redemptions; want {want} each")


# --- the ceiling ----------------------------------------------------------------------------------

def pg_ceiling(url: str, work, clients: int, *, scratch: bool) -> float:
    """Events/s of plain INSERTs of each event's ledger and device_events rows, one transaction per
    run, ``clients`` connections at once. Into each community's own two tables of ``url`` (a copy
    of the store made before the night: every index, constraint, foreign key and trigger), or
    with ``scratch`` into copies of the two tables without foreign keys or triggers, one for all
    communities, in a scratch schema."""
    import psycopg
    if scratch:
        first = district.schema_of(work[0][0].rsplit("/", 1)[1])
        with psycopg.connect(url, autocommit=True) as raw:
            raw.execute("DROP SCHEMA IF EXISTS bench_scratch CASCADE")
            raw.execute("CREATE SCHEMA bench_scratch")
            for table in ("ledger_entries", "device_events"):
                raw.execute(f"CREATE TABLE bench_scratch.{table} (LIKE {first}.{table} INCLUDING ALL)")
    at = clock.to_text(clock.now_utc())
    next_id = itertools.count(10_000_000)
    prepared = []
    for prefix, device_id, _, bodies in work:
        own = district.schema_of(prefix.rsplit("/", 1)[1])
        schema = "bench_scratch" if scratch else own
        dev = f"{own}:{device_id}" if scratch else device_id   # one scratch table: device ids repeat across communities
        for body in bodies:
            _, evs, hashes, texts, _ = events.parse_batch(wire.parse_json(body, wire.MAX_PUSH_BYTES))
            rows, drows = [], []
            for e, h, text in zip(evs, hashes, texts):
                entry, offer = next(next_id), e["body"]["offer"]     # the bench's offer n is merchant n's
                rows.append((entry, int(e["body"]["card"]) - 100000, -e["body"]["points"], offer, offer,
                             e["body"]["qty"], f"device:{dev}", dev, e["at"], at, f"dev:{dev}:{e['seq']}"))
                drows.append((dev, e["seq"], h, e["prev"], e["kind"], text, e["at"], at, entry, None))
            prepared.append((schema, rows, drows))
    todo: queue.Queue = queue.Queue()
    for p in prepared:
        todo.put(p)

    def worker():
        with psycopg.connect(url) as conn:
            while True:
                try:
                    schema, rows, drows = todo.get_nowait()
                except queue.Empty:
                    return
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(f"INSERT INTO {schema}.ledger_entries (entry_id, account_id, kind, points, "
                                    "merchant_id, offer_id, quantity, recorded_by, device_id, device_time, recorded_at, ref) "
                                    "VALUES (%s, %s, 'redemption', %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
                    cur.executemany(f"INSERT INTO {schema}.device_events (device_id, seq, hash, prev_hash, kind, body, "
                                    "device_time, received_at, entry_id, signature) "
                                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", drows)

    elapsed = run_threads(worker, clients)
    if scratch:
        with psycopg.connect(url, autocommit=True) as raw:
            raw.execute("DROP SCHEMA bench_scratch CASCADE")
    return sum(len(r) for _, r, _ in prepared) / elapsed


# --- pulls and pages ------------------------------------------------------------------------------

def pull_times(store_url: str, base: str, tmp: Path, rounds: int) -> dict[str, list[float]]:
    """A tablet's and a kiosk's full pull over HTTP (enrolled over HTTP first), ``rounds`` times each."""
    out = {}
    for kind in ("tablet", "kiosk"):
        conn = db.connect(store_url, migrate=False)
        try:
            where = {"merchant_id": 1} if kind == "tablet" else {
                "service_point_id": conn.execute("SELECT min(service_point_id) FROM service_points").fetchone()[0]}
            with db.transaction(conn):
                code = devices.new_enrolment_code(conn, **where)
        finally:
            conn.close()
        h, pulled = enrolment.enrol(tmp / f"{kind}-{len(list(tmp.iterdir()))}", base, code, kind=kind)
        if not pulled:
            raise SystemExit(f"the {kind} enrolled at {base} but its first pull failed")
        rconn = h.replica()
        transport = client.HttpTransport(base, 300)
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            client.pull(h, rconn, transport, full=True)
            times.append(time.perf_counter() - t)
        rconn.close()
        out[kind] = times
    return out


def page_times(base: str, pages: list[str], rounds: int) -> dict[str, list[float]]:
    """Milliseconds per console page (logged in as the bench user), after two warming requests;
    the first (cold) request of each page is kept under ``cold:``."""
    session = requests.Session()
    session.trust_env = False
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(base + "/login").text)[1]
    r = session.post(base + "/login", data={"csrf": token, "name": USER, "password": PASSWORD, "next": "/"},
                     allow_redirects=False)
    if r.status_code != 303:
        raise SystemExit(f"login at {base}: HTTP {r.status_code}")
    out = {}
    for page in pages:
        for i in range(2):
            t = time.perf_counter()
            r = session.get(base + page)
            if i == 0:
                out["cold:" + page] = [(time.perf_counter() - t) * 1000]
            if r.status_code != 200:
                raise SystemExit(f"{base}{page}: HTTP {r.status_code}")
        ms = []
        for _ in range(rounds):
            t = time.perf_counter()
            session.get(base + page)
            ms.append((time.perf_counter() - t) * 1000)
        out[page] = ms
    return out


# --- the run --------------------------------------------------------------------------------------

def report_night(label: str, result: dict, n_events: int, ceilings: list[tuple[str, float]]) -> float:
    """Print the night's figures beside each ceiling (the first is the one the target is set against)."""
    rate = n_events / result["wall"]
    lat = [x * 1000 for x in result["latencies"]]
    print(f"  {label}: {n_events:,} events in {result['wall']:.1f} s = {rate:,.0f} events settled/s; "
          f"push p50 {pct(lat, .5):.0f} ms, p99 {pct(lat, .99):.0f} ms ({len(lat):,} pushes, "
          f"{result['retries']} busy answers retried)")
    for what, ceiling in ceilings:
        print(f"  {label}: ceiling (plain INSERTs of the same rows {what}) {ceiling:,.0f} events/s; "
              f"settle reaches {rate / ceiling:.0%} of it")
    if result["failures"]:
        raise SystemExit(f"{len(result['failures'])} pushes failed, e.g. {result['failures'][0]}")
    return rate


def run_postgres(args, tmp: Path, rng: random.Random) -> None:
    from tests import pg_kit
    cluster = None
    if args.pg_url:
        owner_url = app_url = args.pg_url
        app_role = None
    else:
        cluster = pg_kit.start(durable=True, max_connections=args.max_connections)
        with cluster.admin() as conn:
            conn.execute(f"CREATE DATABASE district OWNER {pg_kit.OWNER}")
        owner_url, app_url, app_role = cluster.url("district", pg_kit.OWNER), cluster.url("district", pg_kit.APP), pg_kit.APP
    try:
        import psycopg
        with psycopg.connect(owner_url, autocommit=True) as raw:
            settings = {k: raw.execute(f"SHOW {k}").fetchone()[0] for k in ("fsync", "synchronous_commit", "full_page_writes")}
        print(f"PostgreSQL district: {args.communities} communities x {args.accounts} accounts x {args.merchants} merchants, "
              f"{args.tablets} tablets each x {args.events} events (pushes of {min(args.run, args.events)}), {args.clients} clients, "
              f"{os.cpu_count()} CPUs; " + ", ".join(f"{k}={v}" for k, v in settings.items()), flush=True)
        keys = keystore.KeyStore(tmp / "keys")
        all_codes, built = build_district(owner_url, app_role, keys, args)
        print(f"  built {len(all_codes)} communities in {built:.0f} s "
              f"({built / len(all_codes):.2f} s each: add_community + bulk SQL)", flush=True)
        started = time.perf_counter()
        urls = {code: district.community_url(owner_url, code) for code in all_codes}
        work = []
        for code in all_codes:
            conn = db.connect(urls[code], migrate=False)
            try:
                for tablet in enrol(conn, args.tablets, args.merchants):
                    work.append((f"/c/{code}", tablet[0], tablet[1],
                                 make_runs(tablet, args.accounts, args.events, args.run, rng)))
            finally:
                conn.close()
        rng.shuffle(work)
        print(f"  enrolled {len(work):,} tablets and signed their events in {time.perf_counter() - started:.0f} s", flush=True)
        workers = args.workers
        if workers > 1 and not serve_has_workers():
            print(f"  NOTE: 'office serve' has no --workers yet: one worker, not {workers}")
            workers = 1
        if cluster is not None:     # the ceiling's store: this one as it is before the night
            started = time.perf_counter()
            with cluster.admin() as conn:
                conn.execute(f"CREATE DATABASE ceiling TEMPLATE district STRATEGY FILE_COPY OWNER {pg_kit.OWNER}")
            print(f"  copied the store for the ceiling in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        server = Server(app_url, tmp / "keys", workers)
        print(f"  district server up in {time.perf_counter() - started:.1f} s ({workers} worker(s))", flush=True)
        total = len(work) * args.events
        try:
            sampler = ConnectionSampler(cluster.url() if cluster is not None else owner_url)
            result = night(server.url, work, args.clients)
            peak = sampler.stop()
            if result["failures"]:
                raise SystemExit(f"{len(result['failures'])} pushes failed, e.g. {result['failures'][0]}\n"
                                 f"server log: {server.log_tail()}")
            verify(urls, args.events, args.tablets)
            ceilings = [("without foreign keys or triggers, into one scratch copy of the two tables",
                         pg_ceiling(owner_url, work, args.clients, scratch=True))]
            if cluster is not None:
                ceilings.insert(0, ("into the real schema, a copy of the store made before the night",
                                    pg_ceiling(cluster.url("ceiling", pg_kit.OWNER), work, args.clients, scratch=False)))
            rate = report_night("PostgreSQL night", result, total, ceilings)
            print(f"  every event settled exactly once ({args.tablets * args.events:,} per community, checked in all "
                  f"{len(all_codes)}); peak PostgreSQL sessions during the night: {peak}")
            full = 14_000 * 200
            print(f"  a full night (14,000 tablets x 200 events = {full:,}) at this rate: {full / rate / 60:.1f} min "
                  f"(target: under 10 min)")
            base = server.url + f"/c/{all_codes[0]}"
            pulls = pull_times(urls[all_codes[0]], base, tmp, args.rounds)
            for kind, times in pulls.items():
                print(f"  {kind} full pull of community {all_codes[0]} ({args.accounts} accounts) over HTTP: "
                      f"median {statistics.median(times):.2f} s of {len(times)}")
            pages = page_times(base, PAGES, args.pages_rounds)
            print_pages(f"console pages of community {all_codes[0]} through the district server", pages)
            if has_district_view():
                view = page_times(server.url + "/district", [p.format(code=all_codes[-1]) for p in DISTRICT_PAGES],
                                  args.pages_rounds)
                print_pages(f"district view pages ({len(all_codes)} communities; its figures are cached 60 s)", view)
            else:
                print("  district view: not there yet (office.district); not measured")
        finally:
            server.stop()
    finally:
        if cluster is not None:
            pg_kit.stop(cluster)


def print_pages(title: str, pages: dict[str, list[float]]) -> None:
    print(f"  {title} (ms, median / p95; target p95 under 300 ms):")
    for page, ms in pages.items():
        if not page.startswith("cold:"):
            print(f"    {page:<36}{statistics.median(ms):>8.1f}{pct(ms, .95):>8.1f}   (first request {pages['cold:' + page][0]:.0f})")
    print(f"    slowest p95: {max(pct(ms, .95) for p, ms in pages.items() if not p.startswith('cold:')):.1f} ms")


def run_sqlite(args, tmp: Path, rng: random.Random) -> None:
    path = tmp / "one.sqlite"
    build_store(path, args.accounts, args.merchants)
    conn = db.connect(path)
    try:
        with db.transaction(conn):
            policy.set_policy(conn, None, per_card_daily_cap=10**6, unsynced_cap=10**6)
            users.add_user(conn, name=USER, role="office", password=PASSWORD)
        tablets = enrol(conn, args.sqlite_tablets, args.merchants)
    finally:
        conn.close()
    work = [("", t[0], t[1], make_runs(t, args.accounts, args.events, args.run, rng)) for t in tablets]
    shutil.copy(path, tmp / "ceiling.sqlite")
    print(f"SQLite, one community: {args.accounts} accounts x {args.merchants} merchants, {args.sqlite_tablets} tablets x "
          f"{args.events} events, {args.clients} clients", flush=True)
    server = Server(str(path), None)
    try:
        result = night(server.url, work, args.clients)
        verify({"sqlite": str(path)}, args.events, args.sqlite_tablets)
        ceiling = raw_schema_rate(tmp / "ceiling.sqlite", [(d, k, b) for _, d, k, bodies in work for b in bodies])
        report_night("SQLite night", result, len(work) * args.events, [("into the real schema", ceiling)])
        pulls = pull_times(str(path), server.url, tmp, args.rounds)
        for kind, times in pulls.items():
            print(f"  {kind} full pull ({args.accounts} accounts) over HTTP: median {statistics.median(times):.2f} s "
                  f"of {len(times)}")
        print_pages("console pages", page_times(server.url, PAGES, args.pages_rounds))
    finally:
        server.stop()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--communities", type=int, default=200)
    ap.add_argument("--accounts", type=int, default=1100)
    ap.add_argument("--merchants", type=int, default=70)
    ap.add_argument("--tablets", type=int, default=70, help="tablets per community (a district: 14,000 / 200 = 70)")
    ap.add_argument("--sqlite-tablets", type=int, default=None,
                    help="tablets of the one SQLite community (default: --tablets)")
    ap.add_argument("--events", type=int, default=200, help="events per tablet")
    ap.add_argument("--run", type=int, default=client.PUSH_BATCH,
                    help="events per push (default: the tablet's own batch, sync.client.PUSH_BATCH)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5, help="pulls of each kind")
    ap.add_argument("--pages-rounds", type=int, default=20)
    ap.add_argument("--max-connections", type=int, default=3000,
                    help="of the cluster started here (the district server holds a session per community per thread)")
    ap.add_argument("--pg-url", default=None, help="an empty database to build the district in (default: a cluster of its own)")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args(argv)
    if args.sqlite_tablets is None:
        args.sqlite_tablets = args.tablets
    for name in ("communities", "accounts", "merchants", "tablets", "sqlite_tablets", "events", "run", "clients", "workers", "rounds",
                 "pages_rounds"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.run > wire.MAX_BATCH:
        ap.error(f"--run: at most {wire.MAX_BATCH} events, the most one push may carry")
    if args.communities > 26 ** 3:
        ap.error("--communities: at most 17,576")
    if max(args.tablets, args.sqlite_tablets) > args.merchants:
        ap.error("--tablets: at most one tablet per merchant (--merchants)")
    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="bench-district-"))
    try:
        run_postgres(args, tmp, rng)
        if not args.no_sqlite:
            run_sqlite(args, tmp, rng)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
