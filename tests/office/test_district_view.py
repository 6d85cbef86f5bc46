"""The district view (/district/ on the district server) on a real PostgreSQL district store of
three communities: district users log in there and nowhere else, see every community's figures
(what the test wrote in each) side by side and each community read-only, and take the month away
as an Excel table and a PDF report (read back with openpyxl and pdftotext)."""

from __future__ import annotations

import io
import re
import warnings

import openpyxl
import pytest

from bank import db, district, money
from office import district_server
from tests import district_view_kit as kit
from tests.office.pdf_kit import pdf_text
from tests.office.test_district_cli import run

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
MONTH = "2026-11"


@pytest.fixture(scope="module")
def site(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dview")
    built = kit.build(pg_server, tmp)
    app = district_server.create_district_app(built["app"], built["keys"], now=lambda: kit.NOW)
    tc = TestClient(app, follow_redirects=False)
    assert login(tc, "/district", kit.DISTRICT_USER).status_code == 303
    yield {**built, "tc": tc, "district": app, "tmp": tmp}
    tc.close()
    pg_server.drop_database(built["name"])


def login(tc: TestClient, prefix: str, user: str):
    page = tc.get(prefix + "/login")
    assert page.status_code == 200
    return tc.post(prefix + "/login", data={"csrf": CSRF.search(page.text)[1], "name": user,
                                            "password": kit.PASSWORD, "next": "/"})


def cells(html: str, row_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{row_id}">(.*?)</table>', html, re.S)[1]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


def test_a_district_user_logs_in_to_the_district_view_only_and_a_community_user_never(site):
    fresh = TestClient(site["district"], follow_redirects=False)
    assert fresh.get("/district/").headers["location"].startswith("/district/login")
    r = login(fresh, "/district", kit.DISTRICT_USER)
    assert r.status_code == 303 and r.headers["location"] == "/district/"
    assert "Path=/district" in r.headers["set-cookie"]
    # the same user name and password at a community's console: no such user there
    assert login(fresh, "/c/LH", kit.DISTRICT_USER).status_code == 401
    # a community's office user, right password, at the district view: refused
    other = TestClient(site["district"], follow_redirects=False)
    refused = login(other, "/district", "王主任")
    assert refused.status_code == 401 and "用户名或密码不正确" in refused.text
    assert other.get("/district/").status_code == 303
    assert login(other, "/c/LH", "王主任").status_code == 303      # and is fine at home
    # a community session is not a district session, even sent there by hand
    token = next(c.value for c in other.cookies.jar if c.name == "mpb_session")
    forged = TestClient(site["district"], follow_redirects=False, cookies={"mpb_session": token})
    assert forged.get("/district/").status_code == 303


def test_the_table_shows_every_community_and_the_totals(site):
    page = site["tc"].get(f"/district/?month={MONTH}")
    assert page.status_code == 200
    rows = cells(page.text, "district")
    heading, body, totals = rows[0], rows[1:-1], rows[-1]
    assert heading[0] == "代码 ▲" and heading[1:4] == ["社区", "持卡储户", "加分"]    # sorted by code
    assert [r[0] for r in body] == ["JS", "LH", "XY"]
    for r in body:
        w = site["wrote"][r[0]]
        assert r[1] == kit.NAMES[r[0]]
        assert [int(v) for v in r[2:6]] == [w["holders"], w["award"], w["deduction"], w["redeemed"]]
        assert r[6] == money.yuan(w["donated"]) and r[7].startswith(money.yuan(w["commitment_fen"]))
        assert r[8] == "2026Q3 " + ("已核查" if w["verified"] else "逾期未核查")
        assert [int(v) for v in r[9:12]] == [w["objections"], w["alerts"], w["silent"]]
    wrote = site["wrote"].values()
    assert totals[:2] == ["合计", "3 个社区"]
    assert int(totals[3]) == sum(w["award"] for w in wrote) and totals[6] == money.yuan(sum(w["donated"] for w in wrote))
    assert totals[8] == "已核查 1,逾期 2"
    # the drill-down links stay inside the district view
    assert f'href="/district/community/LH?month={MONTH}"' in page.text


def test_the_table_sorts_by_any_column(site):
    page = site["tc"].get(f"/district/?month={MONTH}&sort=awarded&desc=1")
    order = [r[0] for r in cells(page.text, "district")[1:-1]]
    awarded = {c: w["award"] for c, w in site["wrote"].items()}
    assert order == sorted(awarded, key=awarded.get, reverse=True)
    ascending = site["tc"].get(f"/district/?month={MONTH}&sort=awarded")
    assert f'href="/district/?month={MONTH}&amp;sort=awarded&amp;desc=1"' in ascending.text   # a second click: desc
    nonsense = site["tc"].get(f"/district/?month={MONTH}&sort=password_hash")
    assert [r[0] for r in cells(nonsense.text, "district")[1:-1]] == ["JS", "LH", "XY"]


def test_a_bad_or_future_month_is_a_plain_refusal(site):
    for month, words in (("2026-13", "不是月份"), ("2099-01", "还没有到"), ("%ED%A0%80", "乱码")):
        page = site["tc"].get(f"/district/?month={month}")
        assert page.status_code == 400 and words in page.text, month
    assert site["tc"].get("/district/community/ZZ").status_code == 404


def _written(site, code: str) -> tuple:
    conn = db.connect(district.community_url(site["app"], code), readonly=True)
    try:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("audit_log", "ledger_entries", "console_sessions", "attempt_limits"))
    finally:
        conn.close()


def test_a_community_drill_down_is_read_only(site):
    before = _written(site, "LH")
    page = site["tc"].get(f"/district/community/LH?month={MONTH}")
    assert page.status_code == 200
    w = site["wrote"]["LH"]
    months = cells(page.text, "months")
    assert months[-1][:4] == ["2026年11月", str(w["award"]), str(w["deduction"]), str(w["redeemed"])]
    assert months[-2][:2] == ["2026年10月", str(w["october_award"])]
    shops = cells(page.text, "merchants")[1:]
    assert ["龙海小面", "在册", "2", "12", money.yuan(w["donated"])] in shops
    assert len(cells(page.text, "objections")) - 1 == w["objections"]
    assert len(cells(page.text, "devices")) - 1 == w["silent"]
    assert "界石" not in page.text and "新苑" not in page.text
    # no form that writes: the only POST form is the log-out in the header
    assert re.findall(r'<form[^>]*method="post"[^>]*>', page.text) == [
        '<form class="inline" method="post" action="/district/logout">']
    csrf = CSRF.search(page.text)[1]
    assert site["tc"].post("/district/community/LH", data={"csrf": csrf}).status_code == 405
    posts = sorted(r.path for r in site["district"].district_view.app.routes
                   if "POST" in (getattr(r, "methods", None) or ()))
    assert posts == ["/login", "/logout", "/password"]
    assert _written(site, "LH") == before        # nothing was written to the community by all this


def test_the_excel_export_has_one_row_per_community_and_chinese_headings(site):
    r = site["tc"].get(f"/district/export.xlsx?month={MONTH}")
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    assert "2026年11月" in values[0][0]
    heading = values[2]
    assert list(heading[:4]) == ["代码", "社区", "持卡储户", "加分"]
    lines = {v[0]: v for v in values[3:]}
    assert set(lines) == {"JS", "LH", "XY", "合计"}
    for code, w in site["wrote"].items():
        assert lines[code][3] == w["award"] and lines[code][6] == w["donated"] / 100
    assert lines["合计"][2] == sum(w["holders"] for w in site["wrote"].values())


def test_the_monthly_report_pdf_reads_in_chinese(site, tmp_path):
    r = site["tc"].get(f"/district/report.pdf?month={MONTH}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content, tmp_path)
    assert "全区道德积分银行 2026年11月月度报告" in text
    for name in kit.NAMES.values():
        assert name in text
    total_award = sum(w["award"] for w in site["wrote"].values())
    assert f"本月加分 {total_award} 分" in text and "逾期未核查 2 个" in text


def test_the_report_command_writes_the_same_report(site, tmp_path):
    out = tmp_path / "report.pdf"
    proc = run("district-report", "--db", site["app"], "--month", "2026-10", "--out", out, check=0)
    assert "3 个社区" in proc.stdout
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "2026年10月月度报告" in text and all(n in text for n in kit.NAMES.values())
    bad = run("district-report", "--db", site["app"], "--month", "2026/10", "--out", tmp_path / "x.pdf")
    assert bad.returncode != 0 and "不是月份" in bad.stderr + bad.stdout and not (tmp_path / "x.pdf").exists()


def test_user_add_makes_a_district_user_on_the_district_store_itself(site, tmp_path):
    secret = tmp_path / "pw.txt"
    secret.write_text(kit.PASSWORD + "\n", encoding="utf-8")
    run("user", "add", "--db", site["owner"], "--role", "district", "--name", "区李干事", "--password-file", secret,
        check=0)
    assert login(TestClient(site["district"], follow_redirects=False), "/district", "区李干事").status_code == 303
    refused = run("user", "add", "--db", site["owner"], "--community", "LH", "--role", "district", "--name", "区赵",
                  "--password-file", secret)
    assert refused.returncode != 0 and "区级工作人员只能添加在区级数据库本身" in refused.stderr + refused.stdout
    assert login(TestClient(site["district"], follow_redirects=False), "/c/LH", "区赵").status_code == 401
