"""The printed passbook (积分存折) of one account: every entry with its local date, what it was
for, the points, the balance after it and who recorded it, under a header with the community,
the account, the holder (masked), the balance, the points expiring soon and when it was printed.

The lines and their running balance come from :func:`bank.ledger.passbook`, the expiring points
from :func:`bank.validity.expiring_within`: this module only lays them out (A4, the table's
header repeated on every page).
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from bank import accounts, clock, community, ledger, merchants, recorders, validity

from . import pdfkit

HEADERS = ["日期", "类别", "摘要", "积分", "余额", "记录人"]
WIDTHS = [22, 16, 70, 16, 18, 38]          # 180 mm: A4 less 15 mm margins


def _fit(pdf, text: str, width: float) -> str:
    """Shorten ``text`` to one line of the cell (a long note must not run into the next column)."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "…") > width - 2:
        text = text[:-1]
    return text + "…"


def build(conn: sqlite3.Connection, account_id: int, *, now: dt.datetime | None = None) -> bytes:
    now = now or clock.now_utc()
    acct = accounts.get(conn, account_id)
    name = community.name(conn) or "社区"
    balance = ledger.balance(conn, account_id)
    lines = ledger.passbook(conn, account_id, limit=None)[::-1]          # oldest first
    expiring = validity.expiring_within(conn, account_id, clock.local_date(now))
    title = f"{name}道德积分银行 积分存折"
    pdf = pdfkit.new_document(title, footer=f"{title} · 储户 {account_id}")
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_font(pdfkit.FONT, "B", 16)
    pdfkit.para(pdf, 9, title, align="C")
    pdf.set_font(pdfkit.FONT, "", 10)
    kind = "家庭" if acct.kind == "household" else "个人"
    compound = {c.compound_id: c.name for c in community.compounds(conn)}.get(acct.compound_id, "")
    pdfkit.para(pdf, 6, f"储户编号:{account_id}    户主:{accounts.mask_name(acct.display_name)}({kind})    "
                        f"住址:{compound}{acct.building}栋{acct.unit}单元")
    soon = ";".join(f"{pts} 分于 {day.isoformat()} 到期" for day, pts in expiring) or "无"
    pdfkit.para(pdf, 6, f"当前余额:{balance} 分    {validity.EXPIRY_WARN_DAYS}天内到期:{soon}")
    pdfkit.para(pdf, 6, f"打印时间:{clock.local(now):%Y-%m-%d %H:%M}(北京时间)    共 {len(lines)} 笔记录")
    pdf.ln(2)
    shops = {m.merchant_id: m.name for m in merchants.all_merchants(conn)}   # early stores: "merchant:<id>"
    pdf.set_font(pdfkit.FONT, "", 9)
    rows = []
    for ln in lines:
        what = ln.description + ("(已冲正)" if ln.reversed else "")
        rows.append([ln.local_date.isoformat(), ledger.KIND_NAMES[ln.entry.kind], _fit(pdf, what, WIDTHS[2]),
                     f"{ln.entry.points:+d}", ln.balance_after,
                     _fit(pdf, recorders.label(ln.entry.recorded_by, mask=True, merchants=shops), WIDTHS[5])])
    if not rows:
        rows = [["", "", "还没有记录。", "", "", ""]]
    pdfkit.table(pdf, HEADERS, WIDTHS, rows, aligns="LLLRRL")
    return bytes(pdf.output())
