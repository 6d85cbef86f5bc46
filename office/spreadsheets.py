"""Spreadsheet files for imports: reading an .xlsx into grids of cell values (openpyxl) and
writing the import templates (xlsxwriter, as the exports). What the cells mean is
:mod:`bank.imports`; this module only knows the file format.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile

import openpyxl
import xlsxwriter

from bank import clock, imports, merchants
from bank.errors import InvalidInput

# An .xlsx is a zip of XML. Its unpacked size is bounded before openpyxl parses it, so that a
# small upload cannot unpack into gigabytes (a 10,000-row roster unpacks to about 3 MB).
MAX_UNPACKED = 200 * 2**20
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # old .xls, and also every password-protected .xlsx


def grids(data: bytes) -> dict[str, list[list]]:
    """Every worksheet as rows of cell values, with each merged range's value in all its cells.

    Merged cells hold their value in the top-left cell only; a heading merged over three
    columns, or a household's address merged down over its members' rows, is meant for every
    cell it covers. Cached formula results are read (``data_only``), not the formulas.
    """
    if data.startswith(_OLE):
        raise InvalidInput("这是旧版 Excel(.xls)文件或设了密码的文件;请在 Excel 或 WPS 中“另存为”.xlsx 格式"
                           "(并取消密码)后再导入。", "an old .xls or an encrypted workbook: save it as .xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInput("这不是 Excel(.xlsx)文件,或文件已损坏;请用 Excel 或 WPS 另存为 .xlsx 后再导入。",
                           "not an .xlsx file") from None
    if unpacked > MAX_UNPACKED:
        raise InvalidInput("这个 Excel 文件解开后太大,无法导入;请只保留要导入的工作表。",
                           f"the workbook unpacks to {unpacked} bytes (limit {MAX_UNPACKED})")
    try:
        with warnings.catch_warnings():
            # openpyxl warns about extensions it does not read (data validation, conditional
            # formats, slicers): the cell values are all an import needs.
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception:   # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise InvalidInput("无法读取这个 Excel 文件(文件可能已损坏);请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。",
                           "openpyxl could not read the workbook") from None
    out = {}
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column,
                                              values_only=True)]
        for rng in ws.merged_cells.ranges:
            top = rng.min_row - 1
            if top >= len(rows):
                continue
            value = rows[top][rng.min_col - 1] if rng.min_col - 1 < len(rows[top]) else None
            for r in range(top, min(rng.max_row, len(rows))):
                for c in range(rng.min_col - 1, min(rng.max_col, len(rows[r]))):
                    rows[r][c] = value
        out[ws.title] = rows
    wb.close()
    return out


def read(data: bytes, kind: str) -> imports.Book:
    """An uploaded or given file as the sheets of one import kind."""
    return imports.layout(kind, grids(data))


def template(kind: str, today: dt.date | None = None) -> bytes:
    """The template for one import kind: each data sheet with its Chinese header and one example
    row (序号 “示例”, never imported), and a last sheet explaining every column."""
    if kind not in imports.SPECS:
        raise InvalidInput("没有这种导入模板。", f"unknown import kind {kind!r}")
    today = today or clock.local_date(clock.now_utc())
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    required_fmt = wb.add_format({"bold": True, "bg_color": "#F4CCCC", "border": 1})
    optional_fmt = wb.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    example_fmt = wb.add_format({"italic": True, "font_color": "#777777"})
    example_date = wb.add_format({"italic": True, "font_color": "#777777", "num_format": "yyyy-mm-dd"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    bold = wb.add_format({"bold": True})
    for spec in imports.SPECS[kind]:
        ws = wb.add_worksheet(spec.name)
        for j, col in enumerate(spec.columns):
            ws.write_string(0, j, col.header, required_fmt if col.required else optional_fmt)
            value = imports.example_value(col, today)
            if isinstance(value, dt.date):
                ws.write_datetime(1, j, dt.datetime.combine(value, dt.time()), example_date)
            elif isinstance(value, int):
                ws.write_number(1, j, value, example_fmt)
            else:
                ws.write_string(1, j, str(value), example_fmt)
            ws.set_column(j, j, max(8, len(col.header) * 2 + 4, len(str(value)) * 2 + 2))
            if col.key == "category":
                ws.data_validation(1, j, 20000, j, {"validate": "list",
                                                    "source": list(merchants.CATEGORIES.values())})
            elif col.key == "kind":
                ws.data_validation(1, j, 20000, j, {"validate": "list", "source": ["家庭", "个人"]})
        ws.freeze_panes(1, 0)
    help_ws = wb.add_worksheet("填写说明")
    notes = [
        f"{imports.KINDS[kind]}导入模板:每个工作表第 1 行是表头(红色为必填列),请从第 3 行起填写,一行一条。",
        f"第 2 行是示例,序号写着“{imports.EXAMPLE}”,不会导入;可以保留,也可以删除。",
        "导入前先“检查”(预览):系统逐行列出所有问题,什么也不写入;全部改好后才能导入,导入时要么全部写入,要么什么也不写。",
        "同一个文件导入两次不会重复:已在系统中的内容会跳过;与系统中不同的行会列为问题(导入只添加,不修改)。",
        "数字和字母写成全角(如 ３栋)、多余的空格、日期写成 2027/12/31 或 2027年12月31日 都可以。",
    ]
    for i, note in enumerate(notes):
        help_ws.write_string(i, 0, note)
    r = len(notes) + 1
    for j, h in enumerate(("工作表", "列", "是否必填", "怎么填", "示例")):
        help_ws.write_string(r, j, h, optional_fmt)
    for spec in imports.SPECS[kind]:
        for col in spec.columns:
            r += 1
            value = imports.example_value(col, today)
            help_ws.write_string(r, 0, spec.name)
            help_ws.write_string(r, 1, col.header, bold)
            help_ws.write_string(r, 2, "必填" if col.required else "可不填")
            help_ws.write_string(r, 3, col.help, wrap)
            help_ws.write_string(r, 4, value.isoformat() if isinstance(value, dt.date) else str(value))
    for j, width in enumerate((12, 12, 10, 70, 20)):
        help_ws.set_column(j, j, width)
    wb.close()
    return buf.getvalue()
