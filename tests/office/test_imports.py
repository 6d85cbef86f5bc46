"""Imports from real .xlsx files (openpyxl, in tmp_path): what real spreadsheets hold is read,
every bad row is listed in Chinese and nothing is written, the import is all or nothing, and the
same file twice adds nothing. The command line through click's runner and one real process."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import openpyxl
import pytest
from click.testing import CliRunner

from bank import accounts, clock, db, imports, ledger, merchants, policy, validity
from office import spreadsheets
from office.cli import main

from tests.office.sheets_kit import counts, make_community, xlsx

NOW = clock.now_utc()        # one instant for the whole module: a run across midnight keeps one today
TODAY = clock.local_date(NOW)
NEXT_YEAR_END = dt.date(TODAY.year + 1, 12, 31)
ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path):
    return make_community(tmp_path / "office.sqlite")


def check(store, path, kind):
    conn = db.connect(store, readonly=True)
    try:
        return imports.run(conn, spreadsheets.read(path.read_bytes(), kind), recorded_by="测试", dry_run=True, now=NOW)
    finally:
        conn.close()


def do_import(store, path, kind):
    conn = db.connect(store)
    try:
        return imports.run(conn, spreadsheets.read(path.read_bytes(), kind), recorded_by="社区办公室:测试", now=NOW)
    finally:
        conn.close()


def problems(result):
    return [(p.sheet, p.row, p.column, p.cell, p.message) for p in result.plan.problems]


def households(store):
    conn = db.connect(store, readonly=True)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT a.kind, a.display_name, a.compound_id, a.building, a.unit, a.room, "
            "(SELECT group_concat(m.name || '/' || m.relation, ',') FROM (SELECT * FROM members m2 WHERE "
            "m2.account_id = a.account_id ORDER BY m2.member_id) m), "
            "(SELECT count(*) FROM cards c WHERE c.account_id = a.account_id AND c.status = 'active') "
            "FROM accounts a ORDER BY a.account_id")]
    finally:
        conn.close()


# --- the roster ---------------------------------------------------------------------------------

ODD_ROSTER = [
    ["龙海社区储户名册(2026年)"],                                                    # a title merged over the columns
    ["序号", "小区", "地址", None, None, "户主", "家庭成员", None, "类型"],           # a two-level merged header
    [None, None, "楼栋", "单元", "房号", None, "姓名", "关系", None],
    ["示例", "龙海花园", "3栋", "2单元", "1502室", "张喆明", "李梅", "配偶", "家庭"],  # the template's example
    [1, "龙海花园", "３栋", "２单元", "１５０２室", "张  三", None, "本人", "家庭"],    # full-width, a padded name
    [2, " 龙海花园 ", 3, 2, 1502, "张三", "李 梅", "配偶", None],                     # numbers, stray spaces
    [],                                                                              # an empty row in the middle
    [3, "康居", "5栋", "1单元", "301", "Ｗａｎｇ  Ｌｅｉ", None, None, "个人"],       # full-width letters
    [4, "康居小区", "第8幢", "3", "802室", "欧阳明"],
    [5, "龙海花园", "1号楼", "1单元", 101, "赵大", "赵小", "儿子"],                   # the address merged down
    [6, None, None, None, None, None, "钱二", "配偶"],                                #   over two members
    ["序号", "小区", "楼栋", "单元", "房号", "户主", "姓名", "关系", "类型"],          # the header again (next page)
    [7, "龙海花园", "2栋", "1单元", "201", "王五", "王小五", None],                   # a member without relation
]
ODD_MERGES = ["A1:I1", "C2:E2", "G2:H2", "A2:A3", "B2:B3", "F2:F3", "I2:I3",
              "B10:B11", "C10:C11", "D10:D11", "E10:E11", "F10:F11"]


def test_a_roster_with_what_real_spreadsheets_hold_is_read_and_imported(store, tmp_path):
    path = xlsx(tmp_path / "名册.xlsx", {"Sheet1": ODD_ROSTER}, {"Sheet1": ODD_MERGES})
    before = counts(store)
    dry = check(store, path, "roster")
    assert problems(dry) == []
    assert dry.plan.counts == {"households": 5, "members": 4, "cards": 5, "households_existing": 0,
                               "members_existing": 0}
    assert dry.plan.rows == 7
    assert counts(store) == before                                   # a dry run writes nothing

    result = do_import(store, path, "roster")
    assert result.written and len(result.new_accounts) == 5 and len(result.cards) == 5
    assert households(store) == [
        ("household", "张三", 1, 3, 2, "1502", "张三/本人,李梅/配偶", 1),
        ("single", "Wang Lei", 2, 5, 1, "301", "Wang Lei/本人", 1),
        ("single", "欧阳明", 2, 8, 3, "802", "欧阳明/本人", 1),
        ("household", "赵大", 1, 1, 1, "101", "赵大/本人,赵小/儿子,钱二/配偶", 1),
        ("household", "王五", 1, 2, 1, "201", "王五/本人,王小五/其他", 1),
    ]


def test_the_same_roster_twice_adds_nothing_and_a_new_member_joins_the_existing_household(store, tmp_path):
    path = xlsx(tmp_path / "名册.xlsx", {"Sheet1": ODD_ROSTER}, {"Sheet1": ODD_MERGES})
    do_import(store, path, "roster")
    after_first = counts(store)
    again = do_import(store, path, "roster")
    assert again.written and again.new_accounts == []
    assert again.plan.counts == {"households": 0, "members": 0, "cards": 0, "households_existing": 5,
                                 "members_existing": 4}
    assert counts(store) == after_first

    grown = xlsx(tmp_path / "名册2.xlsx", {"名册": [
        ["小区", "楼栋", "单元", "房号", "户主", "成员姓名", "与户主关系"],
        ["龙海花园", 3, 2, "1502", "张三", "李梅", "配偶"],
        ["龙海花园", 3, 2, "1502", "张三", "张小明", "儿子"],
    ]})
    result = do_import(store, grown, "roster")
    assert result.plan.counts == {"households": 0, "members": 1, "cards": 0, "households_existing": 1,
                                  "members_existing": 1}
    assert households(store)[0] == ("household", "张三", 1, 3, 2, "1502", "张三/本人,李梅/配偶,张小明/儿子", 1)


BAD_ROSTER = [
    ["小区", "楼栋", "单元", "房号", "户主", "成员姓名", "与户主关系", "类型"],
    ["龙海新村", 3, 2, "1502", "张三"],                        # 2: unknown compound
    ["龙海花园", "12栋", 2, "1502", "李四"],                   # 3: building beyond the compound's count
    ["康居小区", "A栋", 1, "301", "王五"],                     # 4: building not a number
    ["康居小区", 2, 25, "301", "赵六"],                        # 5: unit out of range
    ["龙海花园", 1, 1, "101", None, "钱七", "儿子"],           # 6: missing holder
    ["龙海花园", 2, 1, "201", "孙八"],                         # 7: good
    ["龙海花园", 2, 1, "201", "孙八"],                         # 8: the same row again
    ["龙海花园", 2, 1, "202", "周九", None, None, "集体"],     # 9: unknown kind
    ["龙海花园", 2, 1, "203", "吴十", None, None, "个人"],     # 10: single ...
    ["龙海花园", 2, 1, "203", "吴十", "吴小十", "儿子"],       # 11: ... with a member
    ["龙海花园", 3.5, 1, "101", "郑一"],                       # 12: building 3.5
    ["龙海花园", 3, 1, "101", "冯二", "冯二", "儿子"],         # 13: the holder's row with a relation
]


def test_every_bad_roster_row_is_listed_in_chinese_and_nothing_is_written(store, tmp_path):
    path = xlsx(tmp_path / "名册.xlsx", {"储户名册": BAD_ROSTER})
    before = counts(store)
    result = check(store, path, "roster")
    assert problems(result) == [
        ("储户名册", 2, "小区", "A2", "没有这个小区:“龙海新村”(本社区的小区:龙海花园、康居小区)"),
        ("储户名册", 3, "楼栋", "B3", "没有第 12 栋:龙海花园共 9 栋"),
        ("储户名册", 4, "楼栋", "B4", "楼栋须为数字,如 3 或 3栋(本格是“A栋”)"),
        ("储户名册", 5, "单元", "C5", "单元须为 1 到 20(本格是 25)"),
        ("储户名册", 6, "户主", "E6", "请填写“户主”"),
        ("储户名册", 8, "户主", "E8", "与第 7 行重复(同一户的同一人)"),
        ("储户名册", 9, "类型", "H9", "类型只能填“家庭”或“个人”(本格是“集体”)"),
        ("储户名册", 11, "成员姓名", "F11", "第 10 行的类型是“个人”,个人储户不能有其他家庭成员"),
        ("储户名册", 12, "楼栋", "B12", "楼栋须为数字,如 3 或 3栋(本格是“3.5”)"),
        ("储户名册", 13, "与户主关系", "G13", "这一行是户主本人,关系应为“本人”或空着(本格是“儿子”)"),
    ]
    assert result.plan.problems[1].text() == "储户名册 第3行 楼栋(B3):没有第 12 栋:龙海花园共 9 栋"
    assert counts(store) == before

    # The import itself refuses the whole file: the good row 7 is not written either.
    refused = do_import(store, path, "roster")
    assert not refused.written and len(refused.plan.problems) == 10
    assert counts(store) == before


def test_a_missing_sheet_or_column_is_a_problem_and_a_file_that_is_no_workbook_is_refused(store, tmp_path):
    path = xlsx(tmp_path / "x.xlsx", {"储户名册": [["小区", "楼栋", "房号", "姓名"], ["龙海花园", 1, "101", "张三"]]})
    assert problems(check(store, path, "roster")) == [
        ("储户名册", None, "单元", "", "找不到这一列;请使用模板中的表头(表头须在前10行内)"),
        ("储户名册", None, "户主", "", "找不到这一列;请使用模板中的表头(表头须在前10行内)"),
    ]
    other = xlsx(tmp_path / "y.xlsx", {"统计": [["月份", "积分"], ["2026-01", 3]]})
    assert [p.text() for p in check(store, other, "balances").plan.problems] == [
        "期初余额:文件中没有“期初余额”工作表,也没有表头含“小区”、“楼栋”、“单元”、“房号”、“户主”、“积分”、“有效期至”的工作表"]
    for data, message in ((b"name,points\n", "这不是 Excel(.xlsx)文件"),
                          (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, "旧版 Excel(.xls)")):
        with pytest.raises(imports.InvalidInput) as exc:
            spreadsheets.read(data, "roster")
        assert message in exc.value.zh


def test_a_household_already_in_the_store_is_matched_by_its_natural_key_and_never_edited(store, tmp_path):
    conn = db.connect(store)
    with db.transaction(conn):
        aid = accounts.open_account(conn, kind="single", holder="李四", compound_id=1, building=4, unit=1, room="402")
    conn.close()
    path = xlsx(tmp_path / "名册.xlsx", {"储户名册": [
        ["小区", "楼栋", "单元", "房号", "户主", "成员姓名", "与户主关系", "类型"],
        ["龙海花园", "4栋", "1单元", "402室", "李 四", None, None, "家庭"],
        ["龙海花园", "4栋", "1单元", "402室", "李四", "李小四", "女儿"],
    ]})
    assert problems(check(store, path, "roster")) == [
        ("储户名册", 2, "类型", "H2", f"龙海花园 4栋1单元402室已是个人储户(储户 {aid}),与本行不同;"
                                      "导入只添加,不修改已有内容;如需修改请在管理台办理"),
    ]


# --- opening balances ---------------------------------------------------------------------------

def roster_of_four(store, tmp_path):
    do_import(store, xlsx(tmp_path / "名册.xlsx", {"储户名册": [
        ["小区", "楼栋", "单元", "房号", "户主"],
        ["龙海花园", 1, 1, "101", "张三"], ["龙海花园", 1, 1, "102", "李四"],
        ["康居小区", 2, 1, "201", "王五"], ["康居小区", 2, 1, "202", "赵六"],
    ]}), "roster")


def test_opening_balances_carry_their_validity_and_the_same_file_twice_adds_nothing(store, tmp_path):
    roster_of_four(store, tmp_path)
    later = dt.date(TODAY.year + 2, 6, 30)
    path = xlsx(tmp_path / "余额.xlsx", {"期初余额": [
        ["序号", "小区", "楼栋", "单元", "房号", "户主", "积分", "有效期至", "备注"],
        [1, "龙海花园", 1, 1, "101", "张三", 120, NEXT_YEAR_END, "2025年台账"],                    # a date cell
        [2, "龙海花园", "1栋", "1单元", "102室", "李四", "1,200", f"{later.year}/6/30"],            # text dates
        [3, "康居", 2, 1, 201, "王五", "３０分", f"{later.year}年6月30日"],
        [4, "康居小区", 2, 1, 202, "赵六", 5.0, f"{later.year}－０６－３０".translate(
            {c: c + 0xFEE0 for c in range(0x30, 0x3A)})],                                          # all full-width
    ]})
    dry = check(store, path, "balances")
    assert problems(dry) == []
    assert dry.plan.counts == {"adjustments": 4, "points": 1355, "adjustments_existing": 0}
    before = counts(store)
    result = do_import(store, path, "balances")
    assert result.written
    conn = db.connect(store, readonly=True)
    rows = [tuple(r) for r in conn.execute("SELECT account_id, kind, points, valid_until, ref, note, recorded_by "
                                           "FROM ledger_entries ORDER BY entry_id")]
    assert rows == [
        (1, "adjustment", 120, NEXT_YEAR_END.isoformat(), "opening:1", "纸质台账期初余额:2025年台账", "社区办公室:测试"),
        (2, "adjustment", 1200, later.isoformat(), "opening:2", "纸质台账期初余额", "社区办公室:测试"),
        (3, "adjustment", 30, later.isoformat(), "opening:3", "纸质台账期初余额", "社区办公室:测试"),
        (4, "adjustment", 5, later.isoformat(), "opening:4", "纸质台账期初余额", "社区办公室:测试"),
    ]
    # the validity comes from the file: the points expire the day after it, not at next year's end
    lots, _ = validity.lots(conn, 2)
    assert [(lot.last_valid_day, lot.remaining) for lot in lots] == [(later, 1200)]
    conn.close()
    assert counts(store)["ledger_entries"] == before["ledger_entries"] + 4

    again = do_import(store, path, "balances")
    assert again.written and again.plan.counts == {"adjustments": 0, "points": 0, "adjustments_existing": 4}
    assert counts(store)["ledger_entries"] == before["ledger_entries"] + 4


def test_a_corrected_balance_is_a_problem_not_a_second_opening_balance(store, tmp_path):
    roster_of_four(store, tmp_path)
    head = ["小区", "楼栋", "单元", "房号", "户主", "积分", "有效期至"]
    do_import(store, xlsx(tmp_path / "a.xlsx", {"期初余额": [head, ["龙海花园", 1, 1, "101", "张三", 50, NEXT_YEAR_END]]}),
              "balances")
    corrected = xlsx(tmp_path / "b.xlsx", {"期初余额": [head, ["龙海花园", 1, 1, "101", "张三", 60, NEXT_YEAR_END]]})
    result = do_import(store, corrected, "balances")
    assert not result.written
    assert problems(result) == [
        ("期初余额", 2, "积分", "F2", f"此户已于 {TODAY.isoformat()} 导入期初余额 50 分(有效期至 {NEXT_YEAR_END.isoformat()}),"
                                    "与本行不同;导入不修改已记的台账,如需更正请在储户页办理调整"),
    ]
    conn = db.connect(store, readonly=True)
    assert ledger.balance(conn, 1) == 50
    conn.close()


def test_every_bad_balance_row_is_listed_and_nothing_is_written(store, tmp_path):
    roster_of_four(store, tmp_path)
    far = dt.date(TODAY.year + 20, 12, 31)
    path = xlsx(tmp_path / "余额.xlsx", {"Sheet1": [
        ["小区", "楼栋", "单元", "房号", "户主", "积分", "有效期至"],
        ["龙海花园", 1, 1, "101", "张三", 12.5, NEXT_YEAR_END],          # 2: not an integer
        ["龙海花园", 1, 1, "102", "李四", -5, NEXT_YEAR_END],            # 3: negative
        ["康居小区", 2, 1, "201", "王五", 30, "明年年底"],               # 4: not a date
        ["康居小区", 2, 1, "202", "赵六", 30, f"{TODAY.year + 1}-02-30"],  # 5: no such day
        ["龙海花园", 1, 1, "101", "张三", 10, "2020-12-31"],             # 6: expired (and row 2's household)
        ["龙海花园", 5, 1, "501", "陈七", 10, NEXT_YEAR_END],            # 7: no such household
        ["康居小区", 2, 1, "201", "王五", 30, NEXT_YEAR_END],            # 8: the same household as row 4
        ["康居小区", 2, 1, "202", "赵六", None, far],                    # 9: no points, too far (row 5's)
        ["龙海花园", 1, 1, "102", "李四", 0, NEXT_YEAR_END],             # 10: zero (and row 3's household)
    ]})
    before = counts(store)
    result = do_import(store, path, "balances")
    assert not result.written
    latest = dt.date(TODAY.year + 10, 12, 31).isoformat()
    assert problems(result) == [
        ("Sheet1", 2, "积分", "F2", "积分须为整数(本格是“12.5”)"),
        ("Sheet1", 3, "积分", "F3", "期初余额不能为负数(本格是 -5);欠分请在储户页办理调整"),
        ("Sheet1", 4, "有效期至", "G4", "“明年年底”不是日期;请写成 2027-12-31、2027/12/31 或 2027年12月31日"),
        ("Sheet1", 5, "有效期至", "G5", f"“{TODAY.year + 1}-02-30”不是日期;请写成 2027-12-31、2027/12/31 或 2027年12月31日"),
        ("Sheet1", 6, "户主", "E6", "与第 2 行是同一户;每户只导入一笔期初余额"),
        ("Sheet1", 6, "有效期至", "G6", "有效期至 2020-12-31 已过,这些积分已经到期"),
        ("Sheet1", 7, "户主", "E7", "找不到此户(龙海花园 5栋1单元501室,户主 陈七);请先导入储户名册,或核对地址和户主"),
        ("Sheet1", 8, "户主", "E8", "与第 4 行是同一户;每户只导入一笔期初余额"),
        ("Sheet1", 9, "户主", "E9", "与第 5 行是同一户;每户只导入一笔期初余额"),
        ("Sheet1", 9, "积分", "F9", "请填写“积分”"),
        ("Sheet1", 9, "有效期至", "G9", f"有效期至 {far.isoformat()} 太远(最晚 {latest}),请核对年份"),
        ("Sheet1", 10, "户主", "E10", "与第 3 行是同一户;每户只导入一笔期初余额"),
        ("Sheet1", 10, "积分", "F10", "积分为 0,无需导入;请删除这一行"),
    ]
    assert counts(store) == before


# --- merchants, offers and hours ---------------------------------------------------------------

def merchants_file(path, extra_offers=()):
    return xlsx(path, {
        "商户信息": [["商户名称", "类别", "小区", "地址"],
                     ["老街小面", "面馆", "龙海花园", "龙海大道 88 号"],
                     ["康居药房", "pharmacy", "2", None],
                     ["阳光健身", "健身房", None, None]],
        "兑换项目": [["商户名称", "项目名称", "积分", "价值(元)"],
                     ["老街小面", "小面(二两)", 6, 6],
                     ["老街小面", "馒头", "１", "¥1.50"],
                     ["康居药房", "口罩一盒", 10, 12.5],
                     ["阳光健身", "单次健身", "15分", "20元"], *extra_offers],
        "营业时间": [["商户名称", "营业日", "开始", "结束", "兑换地点"],
                     ["老街小面", "每天", dt.time(7, 0), dt.time(21, 30), None],
                     ["康居药房", "周一至周五", "８：３０", "18:00", "药房收银台"],
                     ["康居药房", "周六、周日", "9点", "12点半", None],
                     ["阳光健身", "1111100", 0.25, "22:00:00", None]],
    })


def test_merchants_offers_and_hours_are_imported_once(store, tmp_path):
    path = merchants_file(tmp_path / "商户.xlsx")
    dry = check(store, path, "merchants")
    assert problems(dry) == []
    assert dry.plan.counts == {"merchants": 3, "offers": 4, "windows": 4, "merchants_existing": 0,
                               "offers_existing": 0, "windows_existing": 0}
    assert do_import(store, path, "merchants").written
    conn = db.connect(store, readonly=True)
    assert [(m.name, m.category, m.compound_id, m.address) for m in merchants.all_merchants(conn)] == [
        ("老街小面", "noodles", 1, "龙海大道 88 号"), ("康居药房", "pharmacy", 2, ""), ("阳光健身", "gym", None, "")]
    assert [(o.name, o.points, o.value_fen) for m in (1, 2, 3) for o in merchants.offers_of(conn, m)] == [
        ("小面(二两)", 6, 600), ("馒头", 1, 150), ("口罩一盒", 10, 1250), ("单次健身", 15, 2000)]
    assert [(w.merchant_id, w.place, w.weekdays, w.opens, w.closes) for m in (1, 2, 3)
            for w in policy.windows(conn, m)] == [
        (1, "老街小面", "1111111", "07:00", "21:30"), (2, "药房收银台", "1111100", "08:30", "18:00"),
        (2, "康居药房", "0000011", "09:00", "12:30"), (3, "阳光健身", "1111100", "06:00", "22:00")]
    conn.close()
    before = counts(store)
    again = do_import(store, path, "merchants")
    assert again.plan.counts == {"merchants": 0, "offers": 0, "windows": 0, "merchants_existing": 3,
                                 "offers_existing": 4, "windows_existing": 4}
    assert counts(store) == before


def test_every_bad_merchant_row_is_listed_and_nothing_is_written(store, tmp_path):
    do_import(store, merchants_file(tmp_path / "first.xlsx"), "merchants")
    path = xlsx(tmp_path / "商户.xlsx", {
        "商户": [["商户名称", "类别"], ["老街小面", "小吃"], ["新开面馆", "面馆"], ["新开面馆", "面馆"],
                 [None, "面馆"]],
        "兑换项目": [["商户名称", "项目名称", "积分", "价值(元)"],
                     ["老街小面", "小面(二两)", 8, 6],
                     ["无名小店", "汽水", 2, 3],
                     ["新开面馆", "牛肉面", 0, 12],
                     ["新开面馆", "杂酱面", 8, "八元"],
                     ["新开面馆", "杂酱面", 8, 8],
                     ["新开面馆", "豌杂面", 8.5, -1]],
        "营业时间": [["商户名称", "营业日", "开始", "结束"],
                     ["新开面馆", "周五至周一", "7:00", "21:00"],
                     ["新开面馆", "每天", "25:00", "21:00"],
                     ["新开面馆", "每天", "21:00", "7:00"]],
    })
    before = counts(store)
    result = do_import(store, path, "merchants")
    assert not result.written
    categories = "、".join(merchants.CATEGORIES.values())
    assert problems(result) == [
        ("商户", 2, "类别", "B2", f"没有这个类别:“小吃”(可填:{categories})"),
        ("商户", 4, "商户名称", "A4", "与第 3 行是同一商户"),
        ("商户", 5, "商户名称", "A5", "请填写“商户名称”"),
        ("兑换项目", 2, "积分", "C2", "“老街小面”已有项目“小面(二两)”,积分是 6,与本行不同;"
                                    "导入只添加,不修改已有内容;如需修改请在管理台办理"),
        ("兑换项目", 3, "商户名称", "A3", "找不到商户“无名小店”:请先在“商户”表中填写,或核对名称"),
        ("兑换项目", 4, "积分", "C4", "积分须为 1 到 10000(本格是 0)"),
        ("兑换项目", 5, "价值(元)", "D5", "价值须为金额(元),最多两位小数,如 6 或 6.50(本格是“八元”)"),
        ("兑换项目", 6, "项目名称", "B6", "与第 5 行重复(同一商户的同一项目)"),
        ("兑换项目", 7, "积分", "C7", "积分须为整数(本格是“8.5”)"),
        ("兑换项目", 7, "价值(元)", "D7", "价值不能为负数"),
        ("营业时间", 2, "营业日", "B2", "营业日写法不对(本格是“周五至周一”);可写 每天、周一至周五、周六、周日 或 1111100"),
        ("营业时间", 3, "开始", "C3", "时间须为 时:分,如 09:00(本格是“25:00”)"),
        ("营业时间", 4, "结束", "D4", "结束时间 07:00 须晚于开始时间 21:00"),
    ]
    assert counts(store) == before


# --- templates --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(imports.KINDS))
def test_a_template_has_chinese_headers_an_example_and_an_explanation_and_imports_nothing(store, tmp_path, kind):
    path = tmp_path / f"{kind}.xlsx"
    path.write_bytes(spreadsheets.template(kind))
    wb = openpyxl.load_workbook(path)
    specs = imports.SPECS[kind]
    assert wb.sheetnames == [s.name for s in specs] + ["填写说明"]
    for spec in specs:
        ws = wb[spec.name]
        assert [c.value for c in ws[1]] == [c.header for c in spec.columns]
        assert ws["A2"].value == "示例" and all(c.value not in (None, "") for c in ws[2])
    explained = [(r[0], r[1]) for r in wb["填写说明"].iter_rows(values_only=True) if r[0] in {s.name for s in specs}]
    assert explained == [(s.name, c.header) for s in specs for c in s.columns]
    # The untouched template is a valid file that adds nothing: the example row is not imported.
    result = check(store, path, kind)
    assert problems(result) == [] and result.plan.rows == 0


# --- hostile files ----------------------------------------------------------------------------

def _rezip(src, dst, replace: dict[str, bytes]):
    import zipfile
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name_, data in replace.items():
            if name_ not in zin.namelist():
                zout.writestr(name_, data)
    return dst


def test_an_entity_bomb_in_a_workbook_is_refused_unparsed(tmp_path):
    plain = xlsx(tmp_path / "plain.xlsx", {"储户名册": [["小区"], ["x"]]})
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 or "")) * 10}">' for i in range(1, 10))
           + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
           '<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
    bomb = _rezip(plain, tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": lol.encode()})
    assert __import__("openpyxl").xml.DEFUSEDXML           # openpyxl parses through defusedxml
    with pytest.raises(imports.InvalidInput) as exc:
        spreadsheets.read(bomb.read_bytes(), "roster")
    assert "无法读取这个 Excel 文件" in exc.value.zh


def test_a_workbook_that_unpacks_past_the_bound_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED", 2**20)
    plain = xlsx(tmp_path / "plain.xlsx", {"储户名册": [["小区"], ["x"]]})
    big = _rezip(plain, tmp_path / "big.xlsx", {"xl/media/padding.bin": b"\0" * (2 * 2**20)})
    assert big.stat().st_size < 100_000
    with pytest.raises(imports.InvalidInput) as exc:
        spreadsheets.read(big.read_bytes(), "roster")
    assert "解开后太大" in exc.value.zh


# --- the command line ---------------------------------------------------------------------------

def run_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_dry_run_lists_the_problems_and_the_import_prints_the_cards_to_print(store, tmp_path):
    bad = xlsx(tmp_path / "bad.xlsx", {"储户名册": BAD_ROSTER[:4]})
    before = counts(store)
    r = run_cli("import", "roster", "--db", store, "--dry-run", bad)
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [
        "储户名册 第2行 小区(A2):没有这个小区:“龙海新村”(本社区的小区:龙海花园、康居小区)",
        "储户名册 第3行 楼栋(B3):没有第 12 栋:龙海花园共 9 栋",
        "储户名册 第4行 楼栋(B4):楼栋须为数字,如 3 或 3栋(本格是“A栋”)",
        f"共 3 个问题,什么也没有导入 (3 problems, nothing imported)。请改好文件后再检查:python -m office import "
        f"roster --db {store} --dry-run {bad}",
    ]
    assert run_cli("import", "roster", "--db", store, bad).exit_code == 1
    assert counts(store) == before

    good = xlsx(tmp_path / "good.xlsx", {"Sheet1": ODD_ROSTER}, {"Sheet1": ODD_MERGES})
    r = run_cli("import", "roster", "--db", store, "--dry-run", good)
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == ("检查通过,共 7 行 (check passed, 7 rows):将新开储户 5 户(发卡 5 张),新增家庭成员 4 人。"
                                "去掉 --dry-run 即可导入 (run again without --dry-run to import)。")
    assert counts(store) == before
    r = run_cli("import", "roster", "--db", store, good)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        "已导入 7 行 (imported 7 rows):新开储户 5 户(发卡 5 张),新增家庭成员 4 人。",
        "已为新储户发卡 5 张,请打印储户卡 (print the new cards):",
        f"  python -m office print-cards --db {store} --out 新卡.pdf 1 2 3 4 5",
    ]
    assert "检查" in r.stderr                                   # the progress bar's label, on stderr
    conn = db.connect(store, readonly=True)
    audit = conn.execute("SELECT actor, action, target, detail FROM audit_log ORDER BY audit_id DESC LIMIT 1").fetchone()
    conn.close()
    assert tuple(audit)[:3] == ("命令行", "import.roster", "good.xlsx")
    assert json.loads(audit["detail"])["households"] == 5

    r = run_cli("import", "roster", "--db", store, "--json", good)
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["written"] and doc["counts"]["households_existing"] == 5 and doc["new_accounts"] == []
    assert doc["print_cards"] is None and len(doc["sha256"]) == 64


def test_cli_templates_and_bad_arguments_are_one_plain_line(store, tmp_path):
    out = tmp_path / "模板.xlsx"
    r = run_cli("import", "template", "merchants", "--out", out)
    assert r.exit_code == 0 and out.exists()
    assert openpyxl.load_workbook(out).sheetnames == ["商户", "兑换项目", "营业时间", "填写说明"]
    r = run_cli("import", "template", "roster", "--out", tmp_path / "x.pdf")
    assert r.exit_code == 1 and r.stderr.startswith("错误:输出文件须以 .xlsx 结尾。")
    text = tmp_path / "x.xlsx"
    text.write_text("小区,楼栋\n", encoding="utf-8")
    r = run_cli("import", "balances", "--db", store, text)
    assert r.exit_code == 1 and "这不是 Excel(.xlsx)文件" in r.stderr and "Traceback" not in r.output


def test_cli_import_in_a_real_process(store, tmp_path):
    path = merchants_file(tmp_path / "商户.xlsx")
    r = subprocess.run([sys.executable, "-m", "office", "import", "merchants", "--db", str(store), str(path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "已导入 11 行 (imported 11 rows):新增商户 3 家、兑换项目 4 项、营业时间 4 段。"
    assert counts(store)["offers"] == 4
