"""Excel exports (xlsxwriter): any table of the console as a workbook with a title row."""

from __future__ import annotations

import io

import xlsxwriter


def workbook(sheets: list[tuple[str, str, list[str], list[list]]]) -> bytes:
    """One workbook; each sheet is (sheet name, title, headers, rows). Numbers stay numbers."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    title_fmt = wb.add_format({"bold": True, "font_size": 14})
    head_fmt = wb.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    for name, title, headers, rows in sheets:
        ws = wb.add_worksheet(name[:31])
        ws.write(0, 0, title, title_fmt)
        for c, h in enumerate(headers):
            ws.write(2, c, h, head_fmt)
        widths = [len(h) * 2 + 2 for h in headers]
        for r, row in enumerate(rows, start=3):
            for c, value in enumerate(row):
                if isinstance(value, bool) or value is None:
                    value = "" if value is None else ("是" if value else "否")
                ws.write(r, c, value)
                widths[c] = min(max(widths[c], len(str(value)) * 2 + 2), 60)
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        ws.freeze_panes(3, 0)
    wb.close()
    return buf.getvalue()


def table(title: str, headers: list[str], rows: list[list], sheet: str = "数据") -> bytes:
    return workbook([(sheet, title, headers, rows)])
