"""The year's routine at the office: the expiry run (command line, the server's own daily run at
02:00 local, the console's button) and the printed passbook (command line and console)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

import pytest

from bank import accounts, audit, cards, clock, db, ledger, objections, validity
from office import expiry, server
from tests.conftest import copy_store

from .console_kit import Browser, busiest, count, error_text, make_store
from .pdf_kit import pdf_text, render

NEW_YEAR = dt.date(2027, 1, 1)       # the demo's 2025 points were valid to 2026-12-31


def run(*args, check=None):
    proc = subprocess.run([sys.executable, "-m", "office", *map(str, args)], capture_output=True, text=True,
                          timeout=120)
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc


@pytest.fixture
def store(demo_db, tmp_path):
    return copy_store(demo_db, tmp_path / "store.sqlite")


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.LOCAL_TZ).astimezone(clock.UTC)


# --- python -m office expire ---------------------------------------------------------------------

def test_expire_posts_what_is_due_once_and_says_how_much(store):
    conn = db.connect(store, readonly=True)
    due = validity.due_before(conn, NEW_YEAR)
    assert due, "the demo has 2025 points that are still unspent"
    some = due[0]
    before = ledger.balance(conn, some.account_id)
    conn.close()
    out = run("expire", "--db", store, "--as-of", NEW_YEAR, "--json", check=0).stdout
    assert json.loads(out) == {"as_of": "2027-01-01", "accounts": len({d.account_id for d in due}),
                               "points": sum(d.points for d in due)}
    conn = db.connect(store, readonly=True)
    assert ledger.balance(conn, some.account_id) == before - sum(d.points for d in due if d.account_id == some.account_id)
    assert validity.due_before(conn, NEW_YEAR) == []
    assert audit.search(conn, action="expiry.run")[0].actor == "命令行"
    entries = count(store, "ledger_entries")
    again = run("expire", "--db", store, "--as-of", NEW_YEAR, check=0).stdout
    assert again.strip() == "没有到期的积分,未作任何改动。(截至 2027-01-01)"
    assert count(store, "ledger_entries") == entries


def test_expire_with_a_bad_date_is_one_plain_line_and_writes_nothing(store):
    entries = count(store, "ledger_entries")
    proc = run("expire", "--db", store, "--as-of", "2027-13-01", check=1)
    assert proc.stderr.strip().count("\n") == 0 and "不是日期" in proc.stderr
    assert count(store, "ledger_entries") == entries


def test_expire_as_of_today_by_default(store):
    out = run("expire", "--db", store, check=0).stdout
    assert f"截至 {clock.local_date(clock.now_utc()).isoformat()}" in out


# --- the server's own daily run -------------------------------------------------------------------

def test_next_run_is_two_in_the_morning_chongqing_time():
    assert expiry.next_run(local(dt.date(2026, 12, 31), 23, 0)) == local(NEW_YEAR, 2)
    assert expiry.next_run(local(NEW_YEAR, 1, 59)) == local(NEW_YEAR, 2)
    assert expiry.next_run(local(NEW_YEAR, 2, 0)) == local(dt.date(2027, 1, 2), 2)


class JumpingClock:
    """The scheduler's clock and sleep: a wait jumps the clock instead of sleeping."""

    def __init__(self, start: dt.datetime, waits: int):
        self.t = start
        self.waits: list[dt.datetime] = []
        self.left = waits

    def now(self) -> dt.datetime:
        return self.t

    def wait(self, seconds: float) -> bool:
        if not self.left:
            return True              # the server stops
        self.left -= 1
        self.t += dt.timedelta(seconds=seconds)
        self.waits.append(self.t)
        return False


def test_the_server_runs_the_expiry_at_two_on_new_years_night_and_then_daily(store):
    fake = JumpingClock(local(dt.date(2026, 12, 31), 21, 30), waits=2)
    daily = expiry.DailyExpiry(store, now=fake.now, wait=fake.wait)
    daily.loop()
    assert fake.waits == [local(NEW_YEAR, 2), local(dt.date(2027, 1, 2), 2)]
    (day1, first), (day2, second) = daily.runs
    assert (day1, day2) == (NEW_YEAR, dt.date(2027, 1, 2))
    assert first.accounts > 0 and first.points > 0 and second.accounts == 0     # idempotent
    conn = db.connect(store, readonly=True)
    assert validity.due_before(conn, NEW_YEAR) == []
    runs = audit.search(conn, action="expiry.run")
    assert len(runs) == 1 and runs[0].actor.startswith("系统")


def test_a_failed_run_is_logged_and_tried_again_and_the_scheduler_goes_on(store, caplog):
    fake = JumpingClock(local(dt.date(2026, 12, 31), 23, 0), waits=3)
    tries = []

    def connect():
        tries.append(fake.now())
        if len(tries) == 1:
            raise db.sqlite3.OperationalError("database is locked")
        return db.connect(store, migrate=False)

    daily = expiry.DailyExpiry(store, now=fake.now, wait=fake.wait, connect=connect)
    daily.loop()
    assert [r is None for _, r in daily.runs] == [True, False, False]
    assert tries[1] - tries[0] == dt.timedelta(seconds=expiry.RETRY_AFTER_S)
    assert "expiry_failed" in caplog.text
    assert daily.runs[1][1].points > 0


def test_serve_starts_the_daily_run_and_it_stops_with_the_app(store):
    app = server.create_app(store, daily_expiry=True)
    assert app.state.daily_expiry.thread.is_alive()
    app.state.daily_expiry.stop()
    assert not app.state.daily_expiry.thread.is_alive()
    assert not hasattr(server.create_app(store).state, "daily_expiry")


# --- the printed passbook -------------------------------------------------------------------------

def test_passbook_pdf_has_every_entry_with_its_running_balance_and_the_header(demo_db, tmp_path):
    aid = busiest(demo_db)
    conn = db.connect(demo_db, readonly=True)
    card = next(c for c in cards.cards_of(conn, aid) if c.status == "active")
    lines = ledger.passbook(conn, aid, limit=None)
    holder = accounts.get(conn, aid).display_name
    out = tmp_path / "存折.pdf"
    msg = run("passbook", "--db", demo_db, card.card_id, "--out", out, check=0).stdout
    assert "积分存折" in msg and holder not in msg
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "龙海社区道德积分银行 积分存折" in text
    assert f"储户编号:{aid}" in text and accounts.mask_name(holder) in text and holder not in text
    assert f"当前余额:{ledger.balance(conn, aid)} 分" in text and "60天内到期" in text and "打印时间" in text
    assert len(lines) > 45 and text.count("\f") >= 2                              # several pages
    assert text.count("记录人") == text.count("\f")                             # the header row on each page
    rows = [ln for ln in text.splitlines() if re.match(r"\s*\d{4}-\d{2}-\d{2}\s", ln)]
    assert len(rows) == len(lines)
    for ln, row in zip(reversed(lines), rows):
        assert row.split()[0] == ln.local_date.isoformat()
        assert f"{ln.entry.points:+d}" in row and re.search(rf"\s{ln.balance_after}\s", row)
    # who recorded each entry, as bank.recorders labels it (members' names masked)
    assert re.search(r"评议小组成员 \S\*", text) and "社区办公室" in text
    page = render(out.read_bytes(), tmp_path, dpi=60)
    # nothing runs off the page: the right margin stays blank (the table is 180 mm on 210 mm)
    right = page.convert("L").crop((page.width - 20, 0, page.width, page.height))
    assert right.getextrema()[0] > 200


def test_passbook_of_an_unknown_account_is_one_plain_line(demo_db, tmp_path):
    proc = run("passbook", "--db", demo_db, "999999", "--out", tmp_path / "x.pdf", check=1)
    assert proc.stderr.count("\n") == 1 and not (tmp_path / "x.pdf").exists()
    proc = run("passbook", "--db", demo_db, "1", "--out", tmp_path / "x.txt", check=1)
    assert ".pdf" in proc.stderr


# --- the console ----------------------------------------------------------------------------------

@pytest.fixture
def console_store(demo_db, tmp_path):
    return make_store(demo_db, tmp_path / "console.sqlite")


@pytest.fixture
def app(console_store):
    return server.create_app(console_store)


def at(app, when: dt.datetime):
    app.state.console.clock = lambda: when


def test_the_expiry_page_lists_who_loses_points_next_month_masked_and_paged(app, console_store):
    at(app, local(dt.date(2026, 12, 10), 10))
    office = Browser(app, "王主任")
    assert 'href="/expiry"' in office.get("/").text
    conn = db.connect(console_store, readonly=True)
    due = validity.lost_in(conn, NEW_YEAR, dt.date(2027, 1, 31))
    assert len(due) > 50
    page = office.get("/expiry").text
    assert "2027年1月将到期的积分" in page and f"共 {len(due)} 笔" in page and "第 1 / " in page
    first = due[0]
    name = accounts.get(conn, first.account_id).display_name
    row = re.search(rf'<tr><td><a href="/residents/{first.account_id}">.*?</tr>', page, re.S)[0]
    assert accounts.mask_name(name) in row and name not in row
    assert f'<td class="n">{first.points}</td><td>2026-12-31</td>' in row
    second = office.get("/expiry?page=2").text
    assert f'/residents/{due[50].account_id}"' in second
    assert "处理积分到期" in page and "处理积分到期" not in Browser(app, "李委员").get("/expiry").text


def test_the_console_button_confirms_then_runs_the_expiry_once_audited(app, console_store):
    at(app, local(NEW_YEAR, 9))
    office = Browser(app, "王主任")
    conn = db.connect(console_store, readonly=True)
    due = validity.due_before(conn, NEW_YEAR)
    n, pts = len({d.account_id for d in due}), sum(d.points for d in due)
    entries = count(console_store, "ledger_entries")
    confirm = office.post("/expiry/run")
    assert confirm.status_code == 200 and f"{n} 户储户的 {pts} 分积分到期" in confirm.text
    assert count(console_store, "ledger_entries") == entries
    done = office.post("/expiry/run", {"confirm": "1"})
    assert done.status_code == 303 and done.headers["location"] == "/expiry"
    assert f"已处理积分到期:{n} 户,共 {pts} 分到期。" in office.follow(done).text
    assert count(console_store, "ledger_entries") == entries + len(due)
    assert audit.search(conn, action="expiry.run")[0].actor == "王主任"
    office.post("/expiry/run", {"confirm": "1"})
    assert count(console_store, "ledger_entries") == entries + len(due)
    refused = Browser(app, "李委员").post("/expiry/run", {"confirm": "1"})
    assert refused.status_code == 403 and error_text(refused)


def test_account_page_pages_the_whole_history_and_objects_to_a_picked_entry(app, console_store):
    aid = busiest(console_store)
    office = Browser(app, "王主任")
    conn = db.connect(console_store, readonly=True)
    lines = ledger.passbook(conn, aid, limit=None)
    page1 = office.get(f"/residents/{aid}").text
    assert f"共 {len(lines)} 笔" in page1 and 'name="entry"' not in page1
    oldest = lines[-1].entry.entry_id
    last = -(-len(lines) // 30)
    assert f"/entries/{oldest}/objection" not in page1
    page = office.get(f"/residents/{aid}?page={last}").text
    assert f"/residents/{aid}/entries/{oldest}/objection" in page and f"第 {last} / {last} 页" in page
    assert f'<td class="n">{lines[-1].balance_after}</td>' in page
    seen = set()
    for p in range(1, last + 1):
        seen |= {int(m) for m in re.findall(rf"/residents/{aid}/entries/(\d+)/objection", office.get(f"/residents/{aid}?page={p}").text)}
    assert seen == {ln.entry.entry_id for ln in lines}
    form = office.get(f"/residents/{aid}/entries/{oldest}/objection").text
    assert f'name="entry" value="{oldest}"' in form and lines[-1].description in form
    raised = office.post("/objections", {"account": str(aid), "entry": str(oldest), "raised_by": "本人",
                                         "reason": "这笔结转数目不对"})
    assert raised.status_code == 303
    case = objections.search(conn, account_id=aid)[0]
    assert case.entry_id == oldest and case.reason == "这笔结转数目不对"
    other = next(ln for ln in ledger.passbook(conn, aid + 1, limit=1))
    assert office.get(f"/residents/{aid}/entries/{other.entry.entry_id}/objection").status_code == 404


def test_the_account_page_prints_the_passbook(app, console_store, tmp_path):
    aid = busiest(console_store)
    office = Browser(app, "王主任")
    assert f'href="/residents/{aid}/passbook.pdf"' in office.get(f"/residents/{aid}").text
    r = office.get(f"/residents/{aid}/passbook.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert f"储户编号:{aid}" in pdf_text(r.content, tmp_path)
    conn = db.connect(console_store, readonly=True)
    assert audit.search(conn, action="passbook.print")[0].target == f"account {aid}"


# --- Excel exports --------------------------------------------------------------------------------

def sheet_rows(content: bytes):
    import io

    import openpyxl
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(ws.iter_rows(values_only=True))
    return rows[0][0], rows[2], rows[3:]


def test_the_entries_export_names_the_items_and_covers_a_range_of_months(app, console_store):
    office = Browser(app, "王主任")
    form = office.get("/exports").text
    assert 'name="from_month"' in form and 'name="to_month"' in form
    r = office.get("/exports/entries.xlsx?from_month=2026-08&to_month=2026-10")
    assert r.status_code == 200
    title, headers, rows = sheet_rows(r.content)
    assert title == "台账记录 2026年8月至2026年10月"
    months = {row[1][:7] for row in rows}
    assert months == {"2026-08", "2026-09", "2026-10"}
    conn = db.connect(console_store, readonly=True)
    n = conn.execute("SELECT count(*) FROM ledger_entries WHERE recorded_at >= ? AND recorded_at < ?",
                     ("2026-07-31T16:00:00", "2026-10-31T16:00:00")).fetchone()[0]
    assert len(rows) == n
    col = {h: i for i, h in enumerate(headers)}
    award = next(row for row in rows if row[col["类别"]] == "加分")
    item = conn.execute("SELECT name FROM rule_items WHERE code = ? ORDER BY catalog_version DESC",
                        (award[col["项目"]],)).fetchone()[0]
    assert award[col["项目名称"]] == item
    redemption = next(row for row in rows if row[col["类别"]] == "兑换")
    assert redemption[col["商户名称"]] and redemption[col["兑换项目名称"]]
    one = sheet_rows(office.get("/exports/entries.xlsx?month=2026-10").content)
    assert one[0] == "台账记录 2026年10月" and {row[1][:7] for row in one[2]} == {"2026-10"}


@pytest.mark.parametrize("query, message", [("from_month=2026-10&to_month=2026-08", "早于起始月份"),
                                            ("from_month=2023-01&to_month=2026-10", "最多导出 36 个月"),
                                            ("from_month=2026-13&to_month=2026-10", "不是月份")])
def test_a_bad_month_range_is_a_form_error_in_chinese(app, console_store, query, message):
    office = Browser(app, "王主任")
    exports = count(console_store, "audit_log")
    r = office.get(f"/exports/entries.xlsx?{query}")
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert message in error_text(r) and 'name="from_month"' in r.text
    assert count(console_store, "audit_log") == exports


@pytest.mark.parametrize("command", ["expire", "passbook"])
def test_the_routine_commands_have_help(command):
    out = run(command, "--help", check=0).stdout
    assert "--db" in out and "Usage" in out
