"""Review groups (评议小组): the members of each compound's group, their staff cards and kiosk PINs.

A member is a resident picked from their household account; the office adds them (which issues a
staff card), sets a new PIN, prints staff cards, and removes a member who leaves (the card is
revoked and any console log-in of theirs disabled)."""

from __future__ import annotations

from fastapi import FastAPI

from bank import accounts, community, reviewers, reviews, users

from .. import cardsheet
from . import web
from .web import Console


def register(app: FastAPI, console: Console) -> None:
    @console.page(*web.STAFF)
    def group_page(ctx: web.Ctx):
        q = ctx.request.query_params
        account_id = web.integer(q, "account", "储户编号", lo=1, required=False)
        picked = accounts.get(ctx.conn, account_id) if account_id else None
        linked = {u.reviewer_id: u for u in users.all_users(ctx.conn) if u.reviewer_id is not None}
        compounds = community.compounds(ctx.conn)
        return console.render(
            ctx, "reviewers.html", compounds=compounds, members=reviewers.all_members(ctx.conn), linked=linked,
            compound_names={c.compound_id: c.name for c in compounds}, picked=picked,
            picked_members=accounts.members(ctx.conn, picked.account_id) if picked else [],
            second_above=reviewers.second_confirm_above(ctx.conn))

    def pin_of(form) -> str:
        pin = web.text(form, "pin", "一体机密码", max_len=6)
        if pin != web.text(form, "pin2", "再次输入密码", max_len=6):
            raise web.InvalidInput("两次输入的密码不一致。", "the PINs differ")
        return pin

    @console.action("office")
    def add(ctx: web.Ctx, form):
        account_id = web.integer(form, "account", "储户编号", lo=1)
        acct = accounts.get(ctx.conn, account_id)
        name = web.text(form, "name", "成员姓名", max_len=20)
        member, card = reviews.join_group(ctx.conn, compound_id=acct.compound_id, account_id=account_id, name=name,
                                          pin=pin_of(form))
        ctx.audit("reviewer.add", f"reviewer {member.reviewer_id}",
                  {"compound": member.compound_id, "account": account_id, "name": name, "card_id": card.card_id})
        return "/reviewers", f"{name}已加入评议小组,工作卡卡号 {card.card_id}。请打印工作卡。"

    @console.action("office")
    def leave(ctx: web.Ctx, form, reviewer_id: str):
        member = reviews.leave_group(ctx.conn, web.path_int(reviewer_id, "评议小组成员"))
        ctx.audit("reviewer.remove", f"reviewer {member.reviewer_id}", {"name": member.name, "card_id": member.card_id})
        return "/reviewers", f"{member.name}已退出评议小组,工作卡 {member.card_id} 已作废。"

    @console.action("office")
    def set_pin(ctx: web.Ctx, form, reviewer_id: str):
        member = reviewers.set_pin(ctx.conn, web.path_int(reviewer_id, "评议小组成员"), pin_of(form))
        ctx.audit("reviewer.pin", f"reviewer {member.reviewer_id}")
        return "/reviewers", f"已为{member.name}设置新的一体机密码(一体机下次同步后生效)。"

    @console.page("office")
    def cards_pdf(ctx: web.Ctx):
        raw = web.text(ctx.request.query_params, "ids", "成员编号", max_len=500, required=False)
        parts = [p for p in raw.replace(",", ",").replace(" ", ",").split(",") if p]
        ids = [web.integer({"v": p}, "v", "成员编号", lo=1) for p in parts] or None
        data = cardsheet.build_staff(ctx.conn, ids)
        ctx.audit("reviewer.print", raw[:200] or "all")
        return web.pdf_response(data, "评议小组工作卡.pdf")

    add_route = app.add_route
    add_route("/reviewers", group_page, methods=["GET"])
    add_route("/reviewers", add, methods=["POST"])
    add_route("/reviewers/cards.pdf", cards_pdf, methods=["GET"])
    add_route("/reviewers/{reviewer_id}/leave", leave, methods=["POST"])
    add_route("/reviewers/{reviewer_id}/pin", set_pin, methods=["POST"])
