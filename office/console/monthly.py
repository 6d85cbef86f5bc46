"""Monthly work (月度工作): the review groups' entries by compound, recording an entry from the
office, volunteer teams' service, tips (举报), and the monthly redemption table (PDF, Excel)."""

from __future__ import annotations

from fastapi import FastAPI

from bank import clock, community, convention, db, ledger, periods, reviews, teams, tips, totals, volunteering

from .. import reports
from . import web
from .web import Console


def register(app: FastAPI, console: Console) -> None:
    @console.page(*web.EVERYONE_BUT_MERCHANTS, replica=True)
    def monthly(ctx: web.Ctx):
        q = ctx.request.query_params
        month = periods.month(web.text(q, "month", "月份", max_len=7, required=False) or periods.current_month(ctx.clock()).key)
        compounds = community.compounds(ctx.conn)
        if ctx.user.role == "reviewer":
            compound_id = ctx.user.compound_id
        else:
            compound_id = web.compound(ctx.conn, q) or compounds[0].compound_id
        ctx.scope_compound(compound_id)
        rows = reviews.compound_entries(ctx.conn, compound_id, month.start, month.end)
        by_compound = totals.totals(ctx.conn, month.start, month.end, by="compound")
        catalog = convention.in_force(ctx.conn)
        return console.render(
            ctx, "monthly.html", month=month, compounds=compounds, compound_id=compound_id, rows=rows,
            totals={c.compound_id: by_compound.get(c.compound_id, totals.Totals()) for c in compounds}, catalog=catalog, kind_names=ledger.KIND_NAMES,
            service_items=volunteering.service_items(catalog),
            general_item=volunteering.general_item(ctx.conn, catalog),
            tips=tips.search(ctx.conn, compound_id=compound_id if ctx.user.role == "reviewer" else None, limit=50),
            tip_channels=tips.CHANNELS, tip_statuses=tips.STATUSES, teams=teams.all_teams(ctx.conn),
            today=clock.local_date(ctx.clock()), **web.second_fields(ctx))

    @console.action(*web.EVERYONE_BUT_MERCHANTS, atomic=False)   # a second member's PIN is counted first
    def record(ctx: web.Ctx, form):
        account_id = web.integer(form, "account", "储户编号", lo=1)
        code = web.text(form, "item", "积分项目", max_len=10)
        note = web.text(form, "note", "备注", max_len=ledger.MAX_NOTE, required=False)
        confirmation = web.second_confirmation(ctx, account_id, code, form)
        with db.transaction(ctx.conn):
            e = reviews.record(ctx.conn, ctx.user, account_id, code, note=note, confirmation=confirmation)
            ctx.audit("entry.record", f"account {account_id}",
                      {"entry_id": e.entry_id, "item": code, "points": e.points})
        return web.back(form, "/monthly"), f"已为储户 {account_id} 记录 {e.points:+d} 分(台账第 {e.entry_id} 号)。"

    @console.action(*web.STAFF)
    def team_service(ctx: web.Ctx, form):
        team_id = web.integer(form, "team", "志愿服务队", lo=1)
        item = web.text(form, "item", "积分项目", max_len=10)
        served_on = web.date(form, "served_on", "服务日期")
        description = web.text(form, "description", "服务内容", max_len=100)
        posted = volunteering.record_service(ctx.conn, team_id, item_code=item, description=description,
                                             served_on=served_on, recorded_by=ctx.recorder)
        ctx.audit("team.service", f"team {team_id}", {"item": item, "entries": [e.entry_id for e in posted]})
        return web.back(form, "/monthly"), f"已为 {len(posted)} 户队员记录志愿服务积分。"

    @console.action(*web.EVERYONE_BUT_MERCHANTS)
    def add_tip(ctx: web.Ctx, form):
        channel = web.choice(form, "channel", "举报渠道", tips.CHANNELS)
        content = web.text(form, "content", "举报内容", max_len=tips.MAX_TEXT)
        account_id = web.integer(form, "account", "被举报储户编号", lo=1, required=False)
        compound_id = ctx.user.compound_id if ctx.user.role == "reviewer" else \
            web.integer(form, "compound", "小区", lo=1, required=False)
        if account_id is not None:
            from bank import accounts
            ctx.scope_compound(accounts.get(ctx.conn, account_id).compound_id)
        tid = tips.record(ctx.conn, channel=channel, content=content, recorded_by=ctx.actor, account_id=account_id,
                          compound_id=compound_id, now=ctx.now())
        ctx.audit("tip.record", f"tip {tid}", {"channel": tips.CHANNELS[channel]})
        return web.back(form, "/monthly", "tips"), f"已登记举报(第 {tid} 号)。"

    @console.action(*web.STAFF)
    def follow_tip(ctx: web.Ctx, form, tip_id: str):
        tid = web.path_int(tip_id, "举报")
        status = web.choice(form, "status", "处理状态", tips.STATUSES)
        note = web.text(form, "note", "跟进情况", max_len=200)
        tips.follow_up(ctx.conn, tid, status=status, note=note, by=ctx.actor, now=ctx.now())
        ctx.audit("tip.follow_up", f"tip {tid}", {"status": tips.STATUSES[status]})
        return web.back(form, "/monthly", "tips"), f"举报 {tid} 已更新为“{tips.STATUSES[status]}”。"

    @console.page(*web.STAFF, replica=True)
    def table_pdf(ctx: web.Ctx):
        month = periods.month(web.text(ctx.request.query_params, "month", "月份", max_len=7))
        return web.pdf_response(reports.monthly_pdf(ctx.conn, month), f"兑换统计-{month.key}.pdf")

    @console.page(*web.STAFF, replica=True)
    def table_xlsx(ctx: web.Ctx):
        month = periods.month(web.text(ctx.request.query_params, "month", "月份", max_len=7))
        return web.xlsx_response(reports.monthly_xlsx(ctx.conn, month), f"兑换统计-{month.key}.xlsx")

    add = app.add_route
    add("/monthly", monthly, methods=["GET"])
    add("/monthly/entries", record, methods=["POST"])
    add("/monthly/team-service", team_service, methods=["POST"])
    add("/tips", add_tip, methods=["POST"])
    add("/tips/{tip_id}/follow-up", follow_tip, methods=["POST"])
    add("/reports/monthly.pdf", table_pdf, methods=["GET"])
    add("/reports/monthly.xlsx", table_xlsx, methods=["GET"])
