"""Exports (导出): every table of the console as an Excel workbook."""

from __future__ import annotations

from fastapi import FastAPI

from bank import (accounts, audit, clock, devices, honours, ledger, merchants, objections, periods, recorders,
                  redemptions, tips)
from bank.errors import InvalidInput

from .. import excel
from . import web
from .web import Console

TABLES = {
    "accounts": "储户名册", "entries": "台账记录", "merchants": "商户和兑换项目", "devices": "设备",
    "objections": "异议", "tips": "举报", "nominations": "表彰推荐(按年)", "audit": "操作记录",
}


MAX_MONTHS = 36     # a range of months in one workbook: three years is more than a council asks for


def month_range(q, now) -> tuple[periods.Period, periods.Period]:
    """The from-month and to-month of the entries export (one month: ``month``, or the current one)."""
    single = web.text(q, "month", "月份", max_len=7, required=False)
    first = periods.month(web.text(q, "from_month", "起始月份", max_len=7, required=False) or single
                          or periods.current_month(now).key)
    last = periods.month(web.text(q, "to_month", "截止月份", max_len=7, required=False) or first.key)
    months = (last.first_day.year - first.first_day.year) * 12 + last.first_day.month - first.first_day.month + 1
    if months < 1:
        raise InvalidInput(f"截止月份 {last.key} 早于起始月份 {first.key},请重新选择。", "to_month is before from_month")
    if months > MAX_MONTHS:
        raise InvalidInput(f"一次最多导出 {MAX_MONTHS} 个月的台账记录,请缩小月份范围。", "more than 36 months")
    return first, last


def _local(utc_text: str | None) -> str:
    """A stored UTC time as the community reads it (Asia/Shanghai), to the minute."""
    return clock.local(clock.from_text(utc_text)).strftime("%Y-%m-%d %H:%M") if utc_text else ""


def _rows(ctx: web.Ctx, name: str):
    conn, q = ctx.conn, ctx.request.query_params
    if name == "accounts":
        rows = conn.execute(
            "SELECT a.account_id, a.display_name, CASE a.kind WHEN 'household' THEN '家庭' ELSE '个人' END, c.name, "
            "a.building, a.unit, a.room, a.phone, a.status, (SELECT coalesce(sum(points), 0) FROM ledger_entries e "
            "WHERE e.account_id = a.account_id), (SELECT group_concat(card_id) FROM cards k WHERE k.account_id = "
            "a.account_id AND k.status = 'active') FROM accounts a JOIN compounds c USING (compound_id) "
            "ORDER BY a.account_id").fetchall()
        return (["储户", "户主", "类型", "小区", "楼栋", "单元", "房号", "电话", "状态", "余额", "有效卡号"],
                [[*r[:8], accounts.STATUS_NAMES[r[8]], *r[9:]] for r in rows])
    if name == "entries":
        first, last = month_range(q, ctx.clock())
        rows = conn.execute(
            "SELECT e.entry_id, e.recorded_at, e.account_id, e.kind, e.points, e.item_code, coalesce(ri.name, ''), "
            "e.merchant_id, coalesce(m.name, ''), e.offer_id, coalesce(o.name, ''), e.quantity, e.reverses_entry_id, "
            "e.recorded_by, e.device_id, e.note FROM ledger_entries e "
            "LEFT JOIN rule_items ri ON ri.catalog_version = e.catalog_version AND ri.code = e.item_code "
            "LEFT JOIN offers o ON o.offer_id = e.offer_id LEFT JOIN merchants m ON m.merchant_id = e.merchant_id "
            "WHERE e.recorded_at >= ? AND e.recorded_at < ? ORDER BY e.entry_id", (first.start, last.end))
        return (["编号", "时间", "储户", "类别", "积分", "项目", "项目名称", "商户", "商户名称", "兑换项目", "兑换项目名称",
                 "数量", "冲正", "记录人", "设备", "备注"],
                [[r[0], _local(r[1]), r[2], ledger.KIND_NAMES[r[3]],
                  *r[4:13], recorders.label(r[13]), *r[14:]] for r in rows])
    if name == "merchants":
        rows = []
        for m in merchants.all_merchants(conn):
            for o in merchants.offers_of(conn, m.merchant_id, active_only=False):
                rows.append([m.merchant_id, m.name, merchants.CATEGORIES.get(m.category, m.category),
                             merchants.STATUSES[m.status], m.contact, m.phone, o.offer_id, o.name,
                             o.points, o.value_fen / 100, "有效" if o.active else "已撤下"])
        return ["商户编号", "商户", "类别", "商户状态", "联系人", "电话", "项目编号", "兑换项目", "积分", "价值(元)", "状态"], rows
    if name == "devices":
        return (["设备", "类型", "商户", "服务点", "名称", "状态", "登记时间", "事件", "上次推送", "上次拉取", "时钟偏差(秒)"],
                [[d.device_id, devices.KIND_NAMES[d.kind], d.merchant_id, d.service_point_id, d.label, devices.status_name(d),
                  _local(d.enrolled_at), d.last_seq, _local(d.last_push_at), _local(d.last_pull_at), d.clock_skew_s]
                 for d in devices.all_devices(conn)])
    if name == "objections":
        return (["编号", "储户", "台账", "来源", "理由", "提出人", "提出时间", "状态", "承办人", "调查", "裁定", "裁定意见", "答复"],
                [[o.objection_id, o.account_id, o.entry_id, objections.SOURCES.get(o.source, o.source), o.reason, o.raised_by,
                  _local(o.raised_at), o.status_name,
                  o.assigned_to, o.findings, objections.RULINGS.get(o.ruling or "", ""), o.ruling_note, o.answer]
                 for o in objections.search(conn, limit=100_000)])
    if name == "tips":
        return (["编号", "时间", "渠道", "小区", "储户", "内容", "状态", "跟进"],
                [[t.tip_id, _local(t.received_at), tips.CHANNELS[t.channel], t.compound_id, t.account_id, t.content,
                  tips.STATUSES[t.status], t.follow_up] for t in tips.search(conn, limit=100_000)])
    if name == "nominations":
        year = periods.year(web.text(q, "year", "年份", max_len=4, required=False) or clock.local_date(ctx.clock()).year)
        return (["编号", "年份", "表彰", "储户", "来源", "推荐人", "理由", "决定"],
                [[n.nomination_id, n.year, honours.HONOURS[n.honour], n.account_id, honours.SOURCES[n.source], n.nominator,
                  n.reason, honours.DECISIONS.get(n.decision or "", "")] for n in honours.nominations(conn, int(year.key))])
    if name == "audit":
        rows = audit.search(conn, actor=web.text(q, "actor", "操作人", max_len=20, required=False),
                            action=web.text(q, "action", "操作类别", max_len=40, required=False),
                            text=web.text(q, "q", "关键词", max_len=40, required=False), limit=100_000)
        return ["编号", "时间", "操作人", "操作", "对象", "详情"], [
            [r.audit_id, r.local_time, r.actor, r.action_name, r.target_text, r.detail_text] for r in rows]
    raise web.NotFound("没有这个导出表。", f"no export {name!r}")


def register(app: FastAPI, console: Console) -> None:
    def index_page(ctx: web.Ctx, error: str | None = None, status: int = 200, **chosen):
        month = periods.current_month(ctx.clock()).key
        return console.render(ctx, "exports.html", status_code=status, tables=TABLES, month=month,
                              year=clock.local_date(ctx.clock()).year, error=error,
                              from_month=chosen.get("from_month", month), to_month=chosen.get("to_month", month))

    @console.page(*web.STAFF)
    def index(ctx: web.Ctx):
        return index_page(ctx)

    @console.page("office", "council", "merchant")
    def export(ctx: web.Ctx, name: str):
        if not name.endswith(".xlsx"):
            raise web.NotFound("没有这个导出表。", f"no export {name!r}")
        name = name[:-5]
        if name.startswith("merchant-"):
            m = merchants.get(ctx.conn, web.path_int(name[9:], "商户"))
            ctx.scope_merchant(m.merchant_id)
            month = periods.month(web.text(ctx.request.query_params, "month", "月份", max_len=7, required=False)
                                  or periods.current_month(ctx.clock()).key)
            rows = [[r.offer, r.count, r.quantity, r.points, r.value_fen / 100]
                    for r in redemptions.monthly_table(ctx.conn, month, m.merchant_id)]
            data = excel.table(f"{m.name} {month.label}兑换统计", ["兑换项目", "笔数", "数量", "积分", "价值(元)"], rows)
            return web.xlsx_response(data, f"{m.name}-{month.key}.xlsx")
        ctx.require(*web.STAFF)
        if name == "entries":
            q = ctx.request.query_params
            try:
                first, last = month_range(q, ctx.clock())
            except InvalidInput as exc:     # the form again, with the reason beside the months chosen
                return index_page(ctx, exc.zh, 400, from_month=str(q.get("from_month", ""))[:7],
                                  to_month=str(q.get("to_month", ""))[:7])
            headers, rows = _rows(ctx, name)
            span = first.label if first == last else f"{first.label}至{last.label}"
            ctx.audit("export", name, {"from": first.key, "to": last.key})
            return web.xlsx_response(excel.table(f"{TABLES[name]} {span}", headers, rows, sheet=f"{first.key}至{last.key}"),
                                     f"{TABLES[name]}-{first.key}至{last.key}.xlsx")
        headers, rows = _rows(ctx, name)
        ctx.audit("export", name)
        return web.xlsx_response(excel.table(TABLES[name], headers, rows), f"{TABLES[name]}.xlsx")

    app.add_route("/exports", index, methods=["GET"])
    app.add_route("/exports/{name}", export, methods=["GET"])
