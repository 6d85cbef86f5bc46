"""The year's routine (积分到期与存折): who loses points next month, the expiry run by hand (a
confirmation page first), the printed passbook of an account, and raising an objection against
one entry picked from the account's history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import FastAPI

from bank import accounts, clock, community, ledger, objections, periods, validity

from .. import expiry
from .. import passbook as passbook_pdf
from . import web
from .web import Console

PER_PAGE = 50


@dataclass(frozen=True)
class Pager:
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_number(q) -> int:
    return web.integer(q, "page", "页码", lo=1, hi=100_000, required=False) or 1


def next_month(today: dt.date) -> periods.Period:
    first = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return periods.month(f"{first.year}-{first.month:02d}")


def register(app: FastAPI, console: Console) -> None:
    @console.page(*web.STAFF)
    def expiring(ctx: web.Ctx):
        today = clock.local_date(ctx.clock())
        month = next_month(today)
        due = validity.lost_in(ctx.conn, month.first_day, month.last_day)
        pager = Pager(page_number(ctx.request.query_params), PER_PAGE, len(due))
        shown = due[(pager.page - 1) * PER_PAGE: pager.page * PER_PAGE]
        holders = {d.account_id: accounts.get(ctx.conn, d.account_id) for d in shown}
        names = {c.compound_id: c.name for c in community.compounds(ctx.conn)}
        return console.render(ctx, "expiry.html", month=month, rows=shown, holders=holders, compounds=names,
                              pager=pager, accounts_n=len({d.account_id for d in due}),
                              points=sum(d.points for d in due), mask=accounts.mask_name,
                              run=expiry.preview(ctx.conn, today), today=today)

    @console.action("office")
    def run_expiry(ctx: web.Ctx, form):
        today = clock.local_date(ctx.clock())
        if not web.confirmed(form):
            plan = expiry.preview(ctx.conn, today)
            lines = ([f"{plan.accounts} 户储户的 {plan.points} 分积分到期,各记一笔“积分到期”,余额相应减少。",
                      "各设备下次同步后显示新的余额。这一步不能撤销(到期记录不能冲正)。"]
                     if plan.accounts else ["现在没有到期的积分:确认后不会有任何改动。"])
            return console.confirm_page(ctx, form, heading=f"积分到期处理({today.isoformat()})", button="确认处理到期",
                                        back="/expiry", lines=lines)
        result = expiry.run(ctx.conn, today, by=ctx.actor, now=ctx.clock())
        if not result.accounts:
            ctx.audit("expiry.run", today.isoformat(), {"accounts": 0, "points": 0})
        return "/expiry", result.text

    @console.page(*web.STAFF)
    def passbook(ctx: web.Ctx, account_id: str):
        acct = accounts.get(ctx.conn, web.path_int(account_id, "储户"))
        data = passbook_pdf.build(ctx.conn, acct.account_id, now=ctx.clock())
        ctx.audit("passbook.print", f"account {acct.account_id}")
        return web.pdf_response(data, f"积分存折-{acct.account_id}.pdf")

    @console.page(*web.STAFF)
    def objection_form(ctx: web.Ctx, account_id: str, entry_id: str):
        acct = accounts.get(ctx.conn, web.path_int(account_id, "储户"))
        e = ledger.entry(ctx.conn, web.path_int(entry_id, "台账记录"))
        if e.account_id != acct.account_id:
            raise web.NotFound("该储户没有这笔台账记录。", f"entry {e.entry_id} is not account {acct.account_id}'s")
        line = ledger.passbook(ctx.conn, acct.account_id, limit=1, before_entry_id=e.entry_id + 1)[0]
        return console.render(ctx, "objection_new.html", acct=acct, line=line, kind_names=ledger.KIND_NAMES,
                              max_text=objections.MAX_TEXT)

    add = app.add_route
    add("/expiry", expiring, methods=["GET"])
    add("/expiry/run", run_expiry, methods=["POST"])
    add("/residents/{account_id}/passbook.pdf", passbook, methods=["GET"])
    add("/residents/{account_id}/entries/{entry_id}/objection", objection_form, methods=["GET"])
