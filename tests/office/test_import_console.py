"""The console's import in process: templates, an upload previewed (the problems, or the counts),
one confirm that imports exactly the previewed file once, roles, CSRF and bad uploads."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re

import openpyxl
import pytest

from bank import clock, db, imports, users
from office import server, spreadsheets

from .console_kit import PASSWORD, Browser, error_text, make_store
from .sheets_kit import counts, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEAD = ["小区", "楼栋", "单元", "房号", "户主", "成员姓名", "与户主关系"]
GOOD = [HEAD, ["龙海花园", "9栋", "4单元", "9901室", "测试甲"], ["龙海花园", 9, 4, 9901, "测试甲", "测试乙", "配偶"],
        ["金色港湾", 8, 4, "9902", "测试丙"]]
BAD = GOOD + [["金色港湾", "12栋", 1, "101", "测试丁"], ["龙海新村", 1, 1, "101", "测试戊"]]


@pytest.fixture
def store(demo_db, tmp_path):
    path = make_store(demo_db, tmp_path / "store.sqlite")
    conn = db.connect(path)
    with db.transaction(conn):
        users.add_user(conn, name="赵干事", role="office", password=PASSWORD)
    conn.close()
    return path


@pytest.fixture
def app(store):
    return server.create_app(store)


@pytest.fixture
def office(app):
    return Browser(app, "王主任")


def upload(browser, path, kind="roster", *, csrf=True, name=None):
    data = {"kind": kind, **({"csrf": browser.csrf} if csrf else {})}
    return browser.client.post("/imports/preview", data=data,
                               files={"file": (name or path.name, path.read_bytes(), XLSX)})


def problem_rows(page) -> list[tuple[str, ...]]:
    table = re.search(r'<table id="problems">(.*?)</table>', page.text, re.S)
    return [tuple(html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row))
            for row in re.findall(r"<tr>(<td>.*?)</tr>", table[1], re.S)] if table else []


def confirm_fields(page) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(token|sha256)" value="([^"]+)">', page.text))


def staged(store) -> int:
    conn = db.connect(store, readonly=True)
    try:
        return conn.execute("SELECT count(*) FROM import_uploads").fetchone()[0]
    finally:
        conn.close()


def last_audit(store):
    conn = db.connect(store, readonly=True)
    try:
        return conn.execute("SELECT actor, action, target, detail FROM audit_log ORDER BY audit_id DESC LIMIT 1").fetchone()
    finally:
        conn.close()


def test_the_import_page_and_templates_are_for_office_staff_only(app, office):
    page = office.get("/imports")
    assert page.status_code == 200
    assert page.text.count('action="/imports/preview"') == 3 and 'href="/imports"' in page.text   # + the menu link
    for kind in imports.KINDS:
        r = office.get(f"/imports/templates/{kind}.xlsx")
        assert r.status_code == 200 and r.headers["content-type"] == XLSX
        assert openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames[-1] == "填写说明"
    assert office.get("/imports/templates/other.xlsx").status_code == 404
    for name in ("李委员", "钱组员", "小面店"):
        other = Browser(app, name)
        assert other.get("/imports").status_code == 403
        assert other.get("/imports/templates/roster.xlsx").status_code == 403
        assert 'href="/imports"' not in other.get("/").text


def test_a_preview_lists_every_problem_writes_nothing_and_offers_no_confirm(store, office, tmp_path):
    path = xlsx(tmp_path / "名册.xlsx", {"储户名册": BAD})
    before = counts(store)
    page = upload(office, path)
    assert page.status_code == 400
    assert problem_rows(page) == [
        ("储户名册", "5", "楼栋", "B5", "没有第 12 栋:金色港湾共 8 栋"),
        ("储户名册", "6", "小区", "A6", "没有这个小区:“龙海新村”(本社区的小区:龙海花园、金色港湾、滨江丽景、龙湖苑、康居小区、怡景新城)"),
    ]
    assert "共 2 个问题,什么也没有导入" in page.text and 'action="/imports/confirm"' not in page.text
    after = counts(store)
    assert after["audit_log"] == before["audit_log"] + 1 and {**after, "audit_log": 0} == {**before, "audit_log": 0}
    assert staged(store) == 0
    assert tuple(last_audit(store))[:3] == ("王主任", "import.preview", "名册.xlsx")


def test_fix_then_confirm_imports_exactly_the_previewed_file_once(store, office, tmp_path):
    upload(office, xlsx(tmp_path / "名册.xlsx", {"储户名册": BAD}))
    fixed = xlsx(tmp_path / "名册.xlsx", {"储户名册": GOOD})
    before = counts(store)
    page = upload(office, fixed)
    assert page.status_code == 200, error_text(page)
    assert "将新开储户 2 户(发卡 2 张),新增家庭成员 1 人" in page.text
    fields = confirm_fields(page)
    assert len(fields["sha256"]) == 64 and staged(store) == 1
    assert counts(store)["accounts"] == before["accounts"]                     # a preview writes nothing

    done = office.post("/imports/confirm", fields)
    assert done.status_code == 303 and done.headers["location"] == f"/imports/{fields['token']}"
    result_page = office.follow(done)
    assert "已新开储户 2 户(发卡 2 张),新增家庭成员 1 人" in result_page.text
    after = counts(store)
    assert (after["accounts"], after["members"], after["cards"]) == (
        before["accounts"] + 2, before["members"] + 3, before["cards"] + 2)
    ids = [before["accounts"] + 1, before["accounts"] + 2]
    link = f"/cards/sheet.pdf?accounts={ids[0]},{ids[1]}"
    assert link in html.unescape(result_page.text)
    pdf = office.get(link)
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    actor, action, target, detail = _import_audit(store)
    assert (actor, action, target) == ("王主任", "import.roster", "名册.xlsx")
    assert json.loads(detail)["sha256"] == fields["sha256"] and json.loads(detail)["households"] == 2

    again = office.post("/imports/confirm", fields)
    assert again.status_code == 400 and error_text(again) == "这个文件已经导入过了。"
    assert counts(store)["accounts"] == after["accounts"]


def _import_audit(store):
    conn = db.connect(store, readonly=True)
    try:
        return conn.execute("SELECT actor, action, target, detail FROM audit_log WHERE action = 'import.roster' "
                            "ORDER BY audit_id DESC LIMIT 1").fetchone()
    finally:
        conn.close()


def test_a_confirm_naming_another_file_or_someone_elses_upload_is_refused(store, app, office, tmp_path):
    page = upload(office, xlsx(tmp_path / "名册.xlsx", {"储户名册": GOOD}))
    fields = confirm_fields(page)
    before = counts(store)
    wrong = office.post("/imports/confirm", {**fields, "sha256": "0" * 64})
    assert wrong.status_code == 400 and error_text(wrong) == "确认的文件与预览的文件不一致,请重新上传并预览。"
    colleague = Browser(app, "赵干事")
    theirs = colleague.post("/imports/confirm", fields)
    assert theirs.status_code == 400 and error_text(theirs) == "找不到这次上传的文件,请重新上传。"
    no_csrf = office.post("/imports/confirm", fields, csrf=False)
    assert no_csrf.status_code == 403
    assert counts(store)["accounts"] == before["accounts"]
    # and the previewed file itself still imports
    assert office.post("/imports/confirm", fields).status_code == 303


def test_a_preview_older_than_an_hour_must_be_made_again(store, office, tmp_path):
    fields = confirm_fields(upload(office, xlsx(tmp_path / "名册.xlsx", {"储户名册": GOOD})))
    conn = db.connect(store)
    with db.transaction(conn):
        conn.execute("UPDATE import_uploads SET uploaded_at = ?",
                     (clock.to_text(clock.now_utc() - dt.timedelta(minutes=61)),))
    conn.close()
    before = counts(store)
    r = office.post("/imports/confirm", fields)
    assert r.status_code == 400 and error_text(r) == "预览已超过60分钟,请重新上传并预览。"
    assert counts(store)["accounts"] == before["accounts"]


def test_a_store_that_changed_after_the_preview_imports_nothing(store, office, tmp_path):
    path = xlsx(tmp_path / "名册.xlsx", {"储户名册": GOOD})
    fields = confirm_fields(upload(office, path))
    conn = db.connect(store)     # meanwhile the same households come in another way (the command line)
    imports.run(conn, spreadsheets.read(path.read_bytes(), "roster"), recorded_by="社区办公室:命令行")
    conn.close()
    before = counts(store)
    r = office.post("/imports/confirm", fields)
    assert r.status_code == 409
    assert "预览之后系统中的数据有变化" in r.text and "本次什么也没有导入" in r.text
    after = counts(store)
    assert {**after, "audit_log": 0} == {**before, "audit_log": 0}
    assert tuple(last_audit(store))[:2] == ("王主任", "import.refused")


def test_bad_uploads_get_a_plain_sentence(store, office, tmp_path):
    text = tmp_path / "名册.xlsx"
    text.write_text("小区,楼栋\n", encoding="utf-8")
    r = upload(office, text)
    assert r.status_code == 400 and error_text(r).startswith("这不是 Excel(.xlsx)文件")
    r = office.client.post("/imports/preview", data={"kind": "roster", "csrf": office.csrf})
    assert r.status_code == 400 and error_text(r) == "请选择要导入的 Excel 文件(.xlsx)。"
    r = office.client.post("/imports/preview", data={"kind": "pets", "csrf": office.csrf},
                           files={"file": ("a.xlsx", b"PK", XLSX)})
    assert r.status_code == 400 and error_text(r) == "请选择“导入内容”。"
    r = office.client.post("/imports/preview", content=b"x" * 100,
                           headers={"content-type": "multipart/form-data; boundary=b",
                                    "content-length": str(11 * 2**20)})
    assert r.status_code == 413 and "不能超过 10 MB" in error_text(r)
    r = upload(office, xlsx(tmp_path / "ok.xlsx", {"储户名册": GOOD}), csrf=False)
    assert r.status_code == 403
    assert staged(store) == 0


def test_merchants_and_opening_balances_through_the_console(store, office, tmp_path):
    offers = xlsx(tmp_path / "商户.xlsx", {
        "商户": [["商户名称", "类别"], ["网页小面", "面馆"]],
        "兑换项目": [["商户名称", "项目名称", "积分", "价值(元)"], ["网页小面", "小面", 6, 6]],
        "营业时间": [["商户名称", "营业日", "开始", "结束"], ["网页小面", "每天", "07:00", "21:00"]]})
    page = upload(office, offers, "merchants")
    assert "将新增商户 1 家、兑换项目 1 项、营业时间 1 段" in page.text
    assert office.post("/imports/confirm", confirm_fields(page)).status_code == 303
    fields = confirm_fields(upload(office, xlsx(tmp_path / "名册.xlsx", {"储户名册": GOOD})))
    assert office.post("/imports/confirm", fields).status_code == 303

    until = dt.date(clock.local_date(clock.now_utc()).year + 1, 12, 31)
    head = ["小区", "楼栋", "单元", "房号", "户主", "积分", "有效期至"]
    page = upload(office, xlsx(tmp_path / "余额.xlsx", {"期初余额": [
        head, ["龙海花园", 9, 4, "9901", "测试甲", 20, until], ["金色港湾", 8, 4, "9902", "测试丙", "八十", until]]}),
        "balances")
    assert problem_rows(page) == [("期初余额", "3", "积分", "F3", "积分须为整数(本格是“八十”)")]
    page = upload(office, xlsx(tmp_path / "余额.xlsx", {"期初余额": [
        head, ["龙海花园", 9, 4, "9901", "测试甲", 20, until], ["金色港湾", 8, 4, "9902", "测试丙", 80, until]]}),
        "balances")
    assert "将期初余额 2 户,共 100 分" in page.text
    assert office.post("/imports/confirm", confirm_fields(page)).status_code == 303
    conn = db.connect(store, readonly=True)
    rows = conn.execute("SELECT a.display_name, e.points, e.valid_until, e.recorded_by FROM ledger_entries e "
                        "JOIN accounts a USING (account_id) WHERE e.ref LIKE 'opening:%' ORDER BY e.entry_id").fetchall()
    assert conn.execute("SELECT count(*) FROM offers o JOIN merchants m USING (merchant_id) "
                        "WHERE m.name = '网页小面'").fetchone()[0] == 1
    conn.close()
    assert [tuple(r) for r in rows] == [("测试甲", 20, until.isoformat(), "社区办公室:王主任"),
                                        ("测试丙", 80, until.isoformat(), "社区办公室:王主任")]
