"""The year (年度): the year-end summary posting per compound, and honours (表彰) with
nominations from residents, local units, the council and the residents' assembly."""

from __future__ import annotations

from fastapi import FastAPI

import datetime as dt

from bank import accounts, clock, community, honours, periods, postings

from . import web
from .web import Console


def register(app: FastAPI, console: Console) -> None:
    def year_of(data, now) -> periods.Period:
        raw = web.text(data, "year", "年份", max_len=4, required=False)
        return periods.year(raw or clock.local_date(now).year)

    @console.page(*web.STAFF, replica=True)
    def yearly(ctx: web.Ctx):
        year = year_of(ctx.request.query_params, ctx.clock())
        noms = honours.nominations(ctx.conn, int(year.key))
        names = {n.account_id: accounts.get(ctx.conn, n.account_id).display_name for n in noms}
        published = {p.compound_id: p for p in postings.all_postings(ctx.conn)
                     if p.kind == "yearly" and p.period == year.key}
        today = clock.local_date(ctx.clock())
        return console.render(ctx, "yearly.html", year=year, compounds=community.compounds(ctx.conn),
                              candidates=honours.candidates(ctx.conn, int(year.key)), nominations=noms, names=names,
                              honours=honours.HONOURS, sources=honours.SOURCES, decisions=honours.DECISIONS,
                              published=published, today=today, max_days=postings.MAX_DAYS,
                              default_open=max(today, year.last_day + dt.timedelta(days=1)))

    @console.action(*web.STAFF)
    def publish(ctx: web.Ctx, form):
        """The year-end summary posting of one compound, with its posting period (opens after the year)."""
        year = year_of(form, ctx.clock())
        compound_id = web.integer(form, "compound", "小区", lo=1)
        opens_on = web.date(form, "opens_on", "公示开始日期")
        days = web.integer(form, "days", "公示天数", lo=1, hi=postings.MAX_DAYS)
        p = postings.publish(ctx.conn, kind="yearly", period=year, compound_id=compound_id, opens_on=opens_on,
                             days=days, by=ctx.actor)
        ctx.audit("posting.publish", f"posting {p.posting_id}", {"year": year.key, "compound": compound_id,
                                                                 "opens_on": p.opens_on, "closes_on": p.closes_on})
        return (web.back(form, "/yearly", "postings", year=year.key),
                f"{postings.compound_name(ctx.conn, compound_id)}{year.key}年度汇总公示期为 {p.opens_on} 至 {p.closes_on}。")

    @console.action(*web.STAFF)
    def nominate(ctx: web.Ctx, form):
        year = year_of(form, ctx.clock())
        nid = honours.nominate(
            ctx.conn, year=int(year.key), honour=web.choice(form, "honour", "表彰类别", honours.HONOURS),
            account_id=web.integer(form, "account", "储户编号", lo=1),
            source=web.choice(form, "source", "推荐来源", honours.SOURCES),
            nominator=web.text(form, "nominator", "推荐人(单位)", max_len=40),
            reason=web.text(form, "reason", "推荐理由", max_len=500), by=ctx.actor)
        ctx.audit("honour.nominate", f"nomination {nid}", {"year": year.key})
        return web.back(form, "/yearly", "honours", year=year.key), f"已登记推荐(第 {nid} 号)。"

    @console.action(*web.STAFF)
    def decide(ctx: web.Ctx, form, nomination_id: str):
        nid = web.path_int(nomination_id, "推荐")
        decision = web.choice(form, "decision", "决定", honours.DECISIONS)
        honours.decide(ctx.conn, nid, decision=decision, by=ctx.actor)
        ctx.audit("honour.decide", f"nomination {nid}", decision)
        return web.back(form, "/yearly", "honours", year=web.text(form, "year", "年份", max_len=4, required=False)), \
            f"推荐 {nid}:{honours.DECISIONS[decision]}。"

    add = app.add_route
    add("/yearly", yearly, methods=["GET"])
    add("/yearly/postings", publish, methods=["POST"])
    add("/yearly/nominations", nominate, methods=["POST"])
    add("/yearly/nominations/{nomination_id}/decide", decide, methods=["POST"])
