"""The quarter (季度核查): run the verification, clear anomalies, publish each compound's posting
(公示) with its posting period and print it, and the red and black boards (红黑榜)."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI

from bank import boards, clock, community, periods, postings, quarterly_check
from bank.errors import InvalidInput

from .. import reports
from . import web
from .web import Console


def register(app: FastAPI, console: Console) -> None:
    def quarter_of(q, now) -> periods.Period:
        raw = web.text(q, "quarter", "季度", max_len=6, required=False)
        return periods.quarter(raw) if raw else periods.previous_quarter(now)

    @console.page(*web.STAFF, replica=True)
    def quarterly(ctx: web.Ctx):
        q = ctx.request.query_params
        quarter = quarter_of(q, ctx.clock())
        compounds = community.compounds(ctx.conn)
        board_compound = web.compound(ctx.conn, q) or compounds[0].compound_id
        run = quarterly_check.latest_run(ctx.conn, quarter.key)
        found = quarterly_check.anomalies(ctx.conn, run.run_id) if run else []
        found.sort(key=lambda a: (a.cleared_at is not None, a.anomaly_id))
        published = {p.compound_id: p for p in postings.all_postings(ctx.conn)
                     if p.kind == "quarterly" and p.period == quarter.key}
        today = clock.local_date(ctx.clock())
        return console.render(
            ctx, "quarterly.html", quarter=quarter, compounds=compounds, run=run, anomalies=found[:300],
            anomaly_total=len(found), open_count=sum(a.cleared_at is None for a in found),
            summary=quarterly_check.summary(ctx.conn, run.run_id) if run else {}, kinds=quarterly_check.KINDS,
            published=published, today=today, default_open=max(today, quarter.last_day + dt.timedelta(days=1)),
            board_compound=board_compound, board=boards.boards(ctx.conn, board_compound, quarter))

    @console.action(*web.STAFF)
    def run_verification(ctx: web.Ctx, form):
        quarter = quarter_of(form, ctx.clock())
        run = quarterly_check.run(ctx.conn, quarter, by=ctx.actor)
        count = len(quarterly_check.anomalies(ctx.conn, run.run_id))
        ctx.audit("verification.run", quarter.key, {"run_id": run.run_id, "checked": run.checked_entries,
                                                    "anomalies": count})
        return (web.back(form, "/quarterly", quarter=quarter.key),
                f"核查完成:检查了 {run.checked_entries} 条记录,发现 {count} 项需处理的异常。")

    @console.action(*web.STAFF)
    def clear_anomaly(ctx: web.Ctx, form, anomaly_id: str):
        aid = web.path_int(anomaly_id, "异常")
        note = web.text(form, "note", "处理意见", max_len=200)
        quarterly_check.clear(ctx.conn, aid, by=ctx.actor, note=note)
        ctx.audit("anomaly.clear", f"anomaly {aid}", note)
        quarter = web.text(form, "quarter", "季度", max_len=6, required=False)
        return web.back(form, "/quarterly", "anomalies", quarter=quarter), f"异常 {aid} 已处理。"

    @console.action(*web.STAFF)
    def clear_kind(ctx: web.Ctx, form):
        quarter = quarter_of(form, ctx.clock())
        run = quarterly_check.latest_run(ctx.conn, quarter.key)
        if run is None:
            raise InvalidInput("本季度尚未核查。", "no verification run for the quarter")
        kind = web.choice(form, "kind", "异常类型", quarterly_check.KINDS)
        n = quarterly_check.clear_kind(ctx.conn, run.run_id, kind, by=ctx.actor,
                                    note=web.text(form, "note", "处理意见", max_len=200))
        ctx.audit("anomaly.clear_kind", f"run {run.run_id}", {"kind": kind, "cleared": n})
        return web.back(form, "/quarterly", "anomalies", quarter=quarter.key), f"已处理 {n} 项“{quarterly_check.KINDS[kind]}”。"

    @console.action(*web.STAFF)
    def publish(ctx: web.Ctx, form):
        quarter = quarter_of(form, ctx.clock())
        compound_id = web.integer(form, "compound", "小区", lo=1)
        opens_on = web.date(form, "opens_on", "公示开始日期")
        days = web.integer(form, "days", "公示天数", lo=1, hi=postings.MAX_DAYS)
        run = quarterly_check.latest_run(ctx.conn, quarter.key)
        if run is None:
            raise InvalidInput("请先完成本季度核查,再发布公示。", "run the verification first")
        p = postings.publish(ctx.conn, kind="quarterly", period=quarter, compound_id=compound_id, opens_on=opens_on,
                             days=days, by=ctx.actor)
        ctx.audit("posting.publish", f"posting {p.posting_id}", {"quarter": quarter.key, "compound": compound_id,
                                                                 "opens_on": p.opens_on, "closes_on": p.closes_on})
        return (web.back(form, "/quarterly", "postings", quarter=quarter.key),
                f"{postings.compound_name(ctx.conn, compound_id)}公示期为 {p.opens_on} 至 {p.closes_on}。")

    @console.page(*web.STAFF, replica=True)
    def posting_pdf(ctx: web.Ctx):
        q = ctx.request.query_params
        kind = web.choice(q, "kind", "公示类型", postings.KINDS) if q.get("kind") else "quarterly"
        period = quarter_of(q, ctx.clock()) if kind == "quarterly" else periods.year(web.text(q, "year", "年份", max_len=4))
        compound_id = web.compound(ctx.conn, q, required=True)
        p = postings.find(ctx.conn, kind, period.key, compound_id)
        data = reports.posting_pdf(ctx.conn, period, compound_id, kind=kind, posting=p)
        return web.pdf_response(data, f"公示-{period.key}-{compound_id}.pdf")

    @console.page(*web.STAFF, replica=True)
    def boards_pdf(ctx: web.Ctx):
        quarter = quarter_of(ctx.request.query_params, ctx.clock())
        return web.pdf_response(reports.boards_pdf(ctx.conn, quarter), f"红黑榜-{quarter.key}.pdf")

    add = app.add_route
    add("/quarterly", quarterly, methods=["GET"])
    add("/quarterly/verify", run_verification, methods=["POST"])
    add("/quarterly/anomalies/{anomaly_id}/clear", clear_anomaly, methods=["POST"])
    add("/quarterly/anomalies/clear-kind", clear_kind, methods=["POST"])
    add("/quarterly/postings", publish, methods=["POST"])
    add("/quarterly/posting.pdf", posting_pdf, methods=["GET"])
    add("/quarterly/boards.pdf", boards_pdf, methods=["GET"])
