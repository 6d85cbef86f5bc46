"""The district's monthly report (PDF, A4 landscape, Chinese font embedded) and its Excel table:
one line per community, the totals line last. Built from bank.district_figures rows."""

from __future__ import annotations

import datetime as dt

from bank import clock, district_figures, money, periods, quarterly_check

from .. import excel, pdfkit

HEADERS = ["代码", "社区", "持卡储户", "加分", "扣分", "兑换积分", "商户捐赠(元)", "承诺(元)", "完成率",
           "季度核查", "未办结异议", "未处理提醒", "未同步设备"]


def lines(rows: list[district_figures.Row], *, money_as=float) -> list[list]:
    """The table's lines (money in yuan), the totals line last."""
    out = [[r.code, r.name, r.card_holders, r.awarded, r.deducted, r.redeemed, money_as(r.donated_fen),
            money_as(r.commitment_fen), f"{r.donated_pct}%", f"{r.quarter} {r.verification_name}",
            r.open_objections, r.open_alerts, r.silent_devices] for r in rows]
    t = district_figures.total(rows)
    pct = f"{round(100 * t['donated_fen'] / t['commitment_fen'])}%" if t["commitment_fen"] else "0%"
    out.append(["合计", f"{len(rows)} 个社区", t["card_holders"], t["awarded"], t["deducted"], t["redeemed"],
                money_as(t["donated_fen"]), money_as(t["commitment_fen"]), pct,
                f"已核查 {t['done']},逾期 {t['overdue']}", t["open_objections"], t["open_alerts"],
                t["silent_devices"]])
    return out


def xlsx(rows: list[district_figures.Row], month: periods.Period) -> bytes:
    return excel.table(f"全区道德积分银行 {month.label}各社区统计表", HEADERS,
                       lines(rows, money_as=lambda fen: fen / 100), sheet=month.key)


def pdf(rows: list[district_figures.Row], month: periods.Period, *, now: dt.datetime | None = None) -> bytes:
    now = now or clock.now_utc()
    title = f"全区道德积分银行 {month.label}月度报告"
    doc = pdfkit.new_document(title, footer=title, orientation="L")
    doc.add_page()
    doc.set_font(pdfkit.FONT, "B", 16)
    pdfkit.para(doc, 9, title, align="C")
    doc.set_font(pdfkit.FONT, "", 10)
    t = district_figures.total(rows)
    quarter = district_figures.verification_quarter(month)
    pdfkit.para(doc, 6, f"全区 {len(rows)} 个社区,持卡储户 {t['card_holders']} 户。本月加分 {t['awarded']} 分,"
                        f"扣分 {t['deducted']} 分,兑换 {t['redeemed']} 分;商户捐赠商品和服务价值 "
                        f"{money.yuan(t['donated_fen'])} 元(承诺 {money.yuan(t['commitment_fen'])} 元)。", align="C")
    pdfkit.para(doc, 6, f"{quarter.label}核查:已核查 {t['done']} 个社区,逾期未核查 {t['overdue']} 个"
                        f"(季度结束后 {quarterly_check.DUE_DAYS} 天内须完成)。未办结异议 {t['open_objections']} 件,"
                        f"未处理提醒 {t['open_alerts']} 条,超过一天未同步的设备 {t['silent_devices']} 台。",
                align="C")
    doc.ln(2)
    pdfkit.table(doc, HEADERS, [14, 34, 18, 16, 16, 18, 24, 22, 15, 38, 20, 20, 20],
                 lines(rows, money_as=money.yuan), aligns="LLRRRRRRRLRRR", size=8)
    doc.ln(4)
    doc.set_font(pdfkit.FONT, "", 9)
    pdfkit.para(doc, 6, f"数据截至北京时间 {clock.local(now):%Y-%m-%d %H:%M}。月份按北京时间计;"
                        "已结束月份的积分和捐赠数字不再变化。")
    return bytes(doc.output())
