"""``python -m office serve --db postgresql://... --workers 2 --read-replica URL``: two real uvicorn
worker processes over HTTPS, each building its own console from the environment
(``$MPB_SERVE_READ_REPLICA``, office/workers.py), in front of a real primary and its streaming
replica (tests/pg_kit.py). The console is driven as a person's browser would: plain HTTPS
requests with the session cookie, each on a connection of its own, so the kernel hands it to
either worker; which worker answered is read from /proc (the worker process that holds the
server end of the connection), so "every worker" below is shown, not assumed.

What a person sees: a page marked for the replica lags with the paused replica on every worker
and catches up when it replays; a write made while it is paused lands on the primary; with the
replica down every page still answers, from the primary."""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import http.cookies
import os
import re
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from bank import audit, db, keystore
from tests import district_kit, pg_kit

from .conftest import Server

pytestmark = [pytest.mark.slow, pytest.mark.engines("postgresql")]

WORKERS = 2
NOTE = "数据可能有几秒延迟"       # office.console.web.REPLICA_NOTE: shown above 3 s of replica lag
NOTE_ABOVE_S = 3.0               # office.console.replica_reads.NOTE_ABOVE_S (a served process: not changeable)
ROUNDS = 30                      # of two requests at once, each on a new connection, until both workers answered
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# The pages marked replica=True (office/console: @console.page(..., replica=True)).
MARKED = ["/", "/monthly", "/quarterly", "/yearly", "/audit", "/reports/monthly.pdf?month=2026-03",
          "/reports/monthly.xlsx?month=2026-03", "/quarterly/posting.pdf?compound=1&quarter=2026Q1",
          "/quarterly/boards.pdf?quarter=2026Q1"]


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    pid: int | None       # the worker process that answered

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _workers(supervisor: int) -> set[int]:
    """uvicorn's worker processes: the children of its supervisor that multiprocessing spawned
    (not multiprocessing's resource tracker, also a child of it)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:         # gone meanwhile
            continue
        # the name (field 2) is in parentheses and may hold spaces: the fields after it are plain
        if int(stat.rsplit(")", 1)[1].split()[1]) == supervisor and b"spawn_main" in cmdline:
            found.add(int(entry))
    return found


def _tcp_table() -> list[str]:
    """The IPv4 TCP sockets of this machine (/proc/net/tcp, one line each)."""
    return Path("/proc/net/tcp").read_text().splitlines()[1:]


def _answering_worker(supervisor: int, server_port: int, client_port: int) -> int | None:
    """The worker process holding the server end of the open connection from ``client_port``:
    the socket's inode from /proc/net/tcp, then the worker whose descriptors include it."""
    # The kernel hands the table out a page per read and resumes its walk by position, so a
    # connection can be skipped when others close meanwhile (seen here while another server
    # churned connections): look again when it is missed.
    for _ in range(5):
        for line in _tcp_table():
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
                link = f"socket:[{fields[9]}]"
                for pid in _workers(supervisor):
                    try:
                        if any(os.readlink(f"/proc/{pid}/fd/{fd}") == link for fd in os.listdir(f"/proc/{pid}/fd")):
                            return pid
                    except OSError:     # a descriptor closed meanwhile
                        continue
        time.sleep(0.01)
    return None


class Console:
    """A person's browser on the served console: HTTPS with the office certificate checked against
    its fingerprint (as a device pins it; the console's own certificate is in no trust store),
    cookies kept between requests, every request on a new connection."""

    def __init__(self, server: Server):
        self.server = server
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.context = ssl.create_default_context()
        self.context.check_hostname = False          # the pin below is the check
        self.context.verify_mode = ssl.CERT_NONE

    def request(self, method: str, path: str, form: dict | None = None) -> Answer:
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=30, context=self.context)
        try:
            conn.connect()
            presented = hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()
            assert presented == self.server.fingerprint      # the office's own certificate, not another
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            # asked while the connection is still open: the worker holds its end until we close
            pid = _answering_worker(self.server.proc.pid, self.server.port, conn.sock.getsockname()[1])
            for raw in response.headers.get_all("set-cookie") or []:
                for name, morsel in http.cookies.SimpleCookie(raw).items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)       # deleted (starlette: Max-Age=0)
                    else:
                        self.cookies[name] = morsel.value
            return Answer(response.status, response.headers, data, pid)
        finally:
            conn.close()

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> Answer:
        return self.request("POST", path, {"csrf": self.csrf, **form})

    def follow(self, answer: Answer) -> Answer:
        assert answer.status == 303, (answer.status, answer.text[:500])
        return self.get(answer.headers["location"])

    def login(self, name: str, password: str) -> Answer:
        page = self.get("/login")
        assert page.status == 200
        r = self.request("POST", "/login", {"csrf": CSRF.search(page.text)[1], "name": name, "password": password,
                                            "next": "/"})
        assert r.status == 303, (r.status, r.text[:500])
        home = self.follow(r)
        assert home.status == 200
        self.csrf = CSRF.search(home.text)[1]
        return home


@pytest.fixture(scope="module")
def pair():
    """A primary and its streaming replica, for this module only (the tests pause and stop it)."""
    with pg_kit.streaming_pair() as both:
        yield both


@pytest.fixture(scope="module")
def site(pair, tmp_path_factory):
    """A community store on the primary, served by two workers that read the replica; 王主任
    logged in. Yields the server, the console and the store's URL on the primary."""
    primary, replica = pair
    tmp = tmp_path_factory.mktemp("workers-replica")
    name = primary.new_database()
    url = primary.url(name, pg_kit.APP)
    conn = db.connect(url)
    keystore.use(conn, keystore.KeyStore(tmp / "keys"))
    district_kit.populate(conn, "LH", "龙海社区", marker="龙海")
    conn.close()
    pg_kit.wait_caught_up(primary, replica)
    served = Server(url, tmp / "server.log", extra=["--workers", WORKERS, "--key-dir", tmp / "keys",
                                                    "--read-replica", replica.url(name, pg_kit.APP)]).start()
    try:
        console = Console(served)
        console.login("王主任", district_kit.PASSWORD)
        yield served, console, url
    finally:
        served.stop()


def _mark(url: str, text: str) -> None:
    """An audit record written on the primary, which the audit page lists."""
    conn = db.connect(url, migrate=False)
    try:
        with db.transaction(conn):
            audit.record(conn, "测试", "login", text)
    finally:
        conn.close()


def _on_every_worker(served: Server, console: Console, path: str, check) -> set[int]:
    """Ask for ``path`` on new connections until each worker has answered it, ``check``-ing every
    answer; the workers that answered. Asked two at a time, as two people at once: one after the
    other, a costly page (a PDF) kept landing on the worker that had just answered - up to 20 times
    in a row here -; with a worker busy rendering, the other takes the next connection more often."""
    workers = _workers(served.proc.pid)
    assert len(workers) == WORKERS, workers
    answered: set[int] = set()
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        for _ in range(ROUNDS):
            for r in pool.map(lambda _: console.get(path), range(WORKERS)):
                assert r.status == 200, (path, r.status, r.text[:300])
                check(r)
                assert r.pid in workers, (r.pid, workers)
                answered.add(r.pid)
            if len(answered) == WORKERS:
                break
    assert len(answered) == WORKERS, f"{ROUNDS * WORKERS} new connections to {path} all reached worker {answered}"
    return answered


def test_a_paused_replica_holds_back_the_audit_page_on_every_worker_until_it_replays(site, pair):
    primary, replica = pair
    served, console, url = site
    # A commit replayed just before the pause: the replica's lag counts from it (standby_lag is
    # the age of the last replayed commit), so the pages below stay well under the 30 s bound at
    # which they would read the primary instead.
    _mark(url, "暂停前一条")
    pg_kit.wait_caught_up(primary, replica)
    pg_kit.pause_replay(replica)
    try:
        _mark(url, "暂停后一条")
        time.sleep(NOTE_ABOVE_S + 0.5)        # past the point where a page says it may be behind

        def lagging(r):
            assert "暂停前一条" in r.text and "暂停后一条" not in r.text    # read on the paused replica
            assert NOTE in r.text                                          # and saying it may be behind
        _on_every_worker(served, console, "/audit", lagging)
    finally:
        pg_kit.resume_replay(replica)
    pg_kit.wait_caught_up(primary, replica)

    def caught_up(r):
        assert "暂停后一条" in r.text and NOTE not in r.text
    _on_every_worker(served, console, "/audit", caught_up)


def test_a_console_write_while_the_replica_is_paused_lands_on_the_primary(site, pair):
    primary, replica = pair
    served, console, url = site
    _mark(url, "写入前一条")                  # a fresh replayed commit: the lag counts from it (see above)
    pg_kit.wait_caught_up(primary, replica)
    pg_kit.pause_replay(replica)
    try:
        r = console.post("/users", {"role": "council", "name": "赵委员", "password": "another-password-1",
                                    "password2": "another-password-1"})
        assert r.status == 303, (r.status, r.text[:500])
        done = console.follow(r)                 # the page after the action: its message, from the primary
        assert done.status == 200 and "已添加用户 赵委员" in done.text
        conn = db.connect(url, readonly=True, migrate=False)
        try:
            row = conn.execute("SELECT role, active FROM console_users WHERE name = ?", ("赵委员",)).fetchone()
            assert tuple(row) == ("council", 1)
        finally:
            conn.close()

        def not_replayed(r):      # the replica has not replayed the write: not listed yet
            assert "赵委员" not in r.text
        _on_every_worker(served, console, "/audit", not_replayed)
        newcomer = Console(served)              # the new user logs in: sessions are the primary's
        newcomer.login("赵委员", "another-password-1")
    finally:
        pg_kit.resume_replay(replica)
    pg_kit.wait_caught_up(primary, replica)

    def listed(r):
        assert "赵委员" in r.text
    _on_every_worker(served, console, "/audit", listed)


def test_with_the_replica_down_every_marked_page_answers_from_the_primary_on_every_worker(site, pair):
    primary, replica = pair
    served, console, url = site
    pg_kit.stop_cluster(replica)
    try:
        _mark(url, "副本停机后一条")

        def from_primary(r):
            assert "副本停机后一条" in r.text and NOTE not in r.text
        _on_every_worker(served, console, "/audit", from_primary)
        for path in MARKED:
            # what the person gets is the document itself: a PDF, a workbook (a zip), or the page
            start = b"%PDF" if ".pdf" in path else b"PK" if ".xlsx" in path else b"<!doctype html>"

            def answers(r, path=path, start=start):
                assert r.body.startswith(start) and b"Traceback" not in r.body, (path, r.body[:200])
            _on_every_worker(served, console, path, answers)
    finally:
        pg_kit.start_cluster(replica)
    pg_kit.wait_caught_up(primary, replica)
    log = served.log_path.read_text()
    # the operator is told why the pages read the primary (office.console.replica_reads.failed)
    assert re.search(r"read replica .* failed .*: pages read the primary", log), log[-2000:]
    assert "Traceback" not in log
