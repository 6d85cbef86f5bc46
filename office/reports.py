"""Reports for the notice board and for the council: the monthly redemption table (PDF and
Excel), the quarterly posting of a compound and the year-end summary (PDF), the red and black
boards (PDF). Built from bank queries; nothing here decides anything."""

from __future__ import annotations

import sqlite3

from bank import boards as boards_mod
from bank import clock, community, money, periods, postings, redemptions

from . import excel
from . import pdfkit

MONTHLY_HEADERS = ["商户", "兑换项目", "兑换笔数", "数量", "积分", "价值(元)"]
POSTING_HEADERS = ["序号", "储户", "楼栋", "单元", "加分", "扣分", "兑换", "期末余额"]


def _community(conn) -> str:
    return community.name(conn) or "社区"


def monthly_rows(conn: sqlite3.Connection, month: periods.Period, merchant_id: int | None = None):
    """(the table's lines, their cells for a PDF or a sheet, totals: count, quantity, points, fen)."""
    table = redemptions.monthly_table(conn, month, merchant_id)
    rows = [[r.merchant, r.offer, r.count, r.quantity, r.points, r.value_fen / 100] for r in table]
    totals = (sum(r.count for r in table), sum(r.quantity for r in table), sum(r.points for r in table),
              sum(r.value_fen for r in table))
    return table, rows, totals


def monthly_pdf(conn: sqlite3.Connection, month: periods.Period) -> bytes:
    table, _, (count, qty, points, fen) = monthly_rows(conn, month)
    title = f"{_community(conn)}道德积分银行 {month.label}积分兑换情况公示"
    pdf = pdfkit.new_document(title, footer=title)
    pdf.add_page()
    pdf.set_font(pdfkit.FONT, "B", 16)
    pdfkit.para(pdf, 9, title, align="C")
    pdf.set_font(pdfkit.FONT, "", 10)
    merchants_n = len({r.merchant_id for r in table})
    pdfkit.para(pdf, 7, f"本月共有 {merchants_n} 家商户参与兑换,兑换 {count} 笔,计 {points} 分,"
                         f"商户捐赠商品和服务价值合计 {money.yuan(fen)} 元。", align="C")
    pdf.ln(2)
    rows = [[r.merchant, r.offer, r.count, r.quantity, r.points, r.value_yuan] for r in table]
    rows.append(["合计", "", count, qty, points, money.yuan(fen)])
    pdfkit.table(pdf, MONTHLY_HEADERS, [52, 44, 20, 18, 22, 30], rows, aligns="LLRRRR")
    _signature(pdf, conn)
    return bytes(pdf.output())


def monthly_xlsx(conn: sqlite3.Connection, month: periods.Period) -> bytes:
    _, rows, (count, qty, points, fen) = monthly_rows(conn, month)
    rows.append(["合计", "", count, qty, points, fen / 100])
    return excel.table(f"{_community(conn)} {month.label}积分兑换统计表", MONTHLY_HEADERS, rows, sheet=month.key)


def _signature(pdf, conn) -> None:
    pdf.ln(6)
    pdf.set_font(pdfkit.FONT, "", 10)
    today = clock.local_date(clock.now_utc())
    pdf.cell(0, 7, f"{_community(conn)}道德评议会    {today.year}年{today.month}月{today.day}日", align="R")


def posting_pdf(conn: sqlite3.Connection, period: periods.Period, compound_id: int, *, kind: str = "quarterly",
                posting: postings.Posting | None = None) -> bytes:
    """A compound's posting: every account with masked name, its points in the period, the
    posting period and how to object."""
    name = postings.compound_name(conn, compound_id)
    rows = postings.summary(conn, compound_id, period)
    what = "积分情况公示" if kind == "quarterly" else "年度积分汇总公示"
    title = f"{_community(conn)}{name} {period.label}{what}"
    pdf = pdfkit.new_document(title, footer=title)
    pdf.add_page()
    pdf.set_font(pdfkit.FONT, "B", 16)
    pdfkit.para(pdf, 9, title, align="C")
    # The posting period on a line of its own: wrapped inside the paragraph, CJK line breaking
    # split its dates anywhere (2026-10- | 12).
    pdf.set_font(pdfkit.FONT, "B", 11)
    when = f"公示期:{posting.opens_on} 至 {posting.closes_on}" if posting is not None else "公示期:自张贴之日起7天"
    pdfkit.para(pdf, 7, when, align="C")
    pdf.set_font(pdfkit.FONT, "", 10)
    pdfkit.para(pdf, 6, f"经{name}道德评议小组评议、社区道德评议会核查,现将本小区储户{period.label}积分情况予以公示。"
                         f"如有异议,请在公示期内到{name}党群服务点或社区办公室提出,也可在服务点一体机上提出。"
                         "为保护隐私,姓名中间字以*代替。")
    pdf.ln(2)
    data = [[i, r.masked_name, f"{r.building}栋", f"{r.unit}单元", r.awarded or "", r.deducted or "",
             r.redeemed or "", r.balance] for i, r in enumerate(rows, 1)]
    data.append(["", "合计", "", "", sum(r.awarded for r in rows), sum(r.deducted for r in rows),
                 sum(r.redeemed for r in rows), sum(r.balance for r in rows)])
    pdfkit.table(pdf, POSTING_HEADERS, [14, 30, 20, 20, 22, 22, 22, 30], data, aligns="RLRRRRRR", line=5.6)
    b = boards_mod.boards(conn, compound_id, period, size=5)
    if kind == "quarterly" and (b.red or b.black):
        pdf.ln(4)
        pdf.set_font(pdfkit.FONT, "B", 12)
        pdf.cell(0, 8, "本期德法红黑榜", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdfkit.FONT, "", 10)
        pdfkit.para(pdf, 6, "红榜(加分最多):" + "、".join(f"{r.masked_name}({r.awarded}分)" for r in b.red))
        pdfkit.para(pdf, 6, "黑榜(扣分最多):" + ("、".join(f"{r.masked_name}(扣{r.deducted}分)" for r in b.black) or "无"))
    _signature(pdf, conn)
    return bytes(pdf.output())


def boards_pdf(conn: sqlite3.Connection, period: periods.Period) -> bytes:
    """Red and black boards of every compound for a quarter, one compound per page."""
    title = f"{_community(conn)} {period.label}德法红黑榜"
    pdf = pdfkit.new_document(title, footer=title)
    for c in community.compounds(conn):
        b = boards_mod.boards(conn, c.compound_id, period)
        pdf.add_page()
        pdf.set_font(pdfkit.FONT, "B", 16)
        pdf.cell(0, 10, f"{c.name} {period.label}德法红黑榜", align="C", new_x="LMARGIN", new_y="NEXT")
        for label, rows, value, colour in (("红榜", b.red, "awarded", (178, 34, 34)), ("黑榜", b.black, "deducted", (30, 30, 30))):
            pdf.set_text_color(*colour)
            pdf.set_font(pdfkit.FONT, "B", 13)
            pdf.cell(0, 9, label, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0)
            pdfkit.table(pdf, ["名次", "储户", "楼栋", "本季加分" if value == "awarded" else "本季扣分"], [20, 50, 40, 40],
                         [[i, r.masked_name, f"{r.building}栋{r.unit}单元", getattr(r, value)] for i, r in enumerate(rows, 1)]
                         or [["", "无", "", ""]], aligns="RLLR")
            pdf.ln(4)
    return bytes(pdf.output())
