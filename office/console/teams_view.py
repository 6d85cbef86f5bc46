"""Volunteer teams (志愿服务队): the list with each team's registration (登记备案) date, a new team,
a team's page (edit, members in and out). Council members see them; the office changes them."""

from __future__ import annotations

from fastapi import FastAPI

from bank import accounts, teams

from . import web
from .web import Console


def _team_fields(form) -> dict:
    return {"name": web.text(form, "name", "队伍名称", max_len=30),
            "description": web.text(form, "description", "服务内容简介", max_len=100, required=False),
            "registered_on": web.date(form, "registered_on", "登记备案日期", required=False)}


def register(app: FastAPI, console: Console) -> None:
    @console.page(*web.STAFF)
    def team_list(ctx: web.Ctx):
        return console.render(ctx, "teams.html", teams=teams.all_teams(ctx.conn))

    @console.page(*web.STAFF)
    def team_page(ctx: web.Ctx, team_id: str):
        t = teams.get(ctx.conn, web.path_int(team_id, "志愿服务队"))
        q = ctx.request.query_params
        account_id = web.integer(q, "account", "储户编号", lo=1, required=False)
        household = None
        if account_id is not None:
            household = (accounts.get(ctx.conn, account_id), accounts.members(ctx.conn, account_id))
        names = {r["team_id"]: r["name"] for r in teams.all_teams(ctx.conn)}
        return console.render(ctx, "team.html", t=t, members=teams.members(ctx.conn, t.team_id), household=household,
                              team_names=names)

    @console.action("office")
    def create(ctx: web.Ctx, form):
        f = _team_fields(form)
        tid = teams.add(ctx.conn, f["name"], f["description"], registered_on=f["registered_on"])
        ctx.audit("team.add", f"team {tid}", {"name": f["name"]})
        return f"/teams/{tid}", f"已新增志愿服务队“{f['name']}”。请添加队员。"

    @console.action("office")
    def edit(ctx: web.Ctx, form, team_id: str):
        tid = web.path_int(team_id, "志愿服务队")
        changed = teams.edit(ctx.conn, tid, **_team_fields(form))
        if changed:
            ctx.audit("team.edit", f"team {tid}", changed)
        return f"/teams/{tid}", "队伍信息已修改。" if changed else "没有修改任何内容。"

    @console.action("office")
    def add_member(ctx: web.Ctx, form, team_id: str):
        tid = web.path_int(team_id, "志愿服务队")
        mid = web.integer(form, "member", "队员", lo=1)
        m = teams.add_member(ctx.conn, tid, mid)
        ctx.audit("team.member_add", f"team {tid}", {"member_id": mid, "name": m["name"], "account": m["account_id"]})
        return f"/teams/{tid}", f"{m['name']}已加入本队。"

    @console.action("office")
    def remove_member(ctx: web.Ctx, form, team_id: str, member_id: str):
        tid = web.path_int(team_id, "志愿服务队")
        mid = web.path_int(member_id, "队员")
        m = teams.remove_member(ctx.conn, tid, mid)
        ctx.audit("team.member_remove", f"team {tid}", {"member_id": mid, "name": m["name"]})
        return f"/teams/{tid}", f"{m['name']}已退出本队。"

    add = app.add_route
    add("/teams", team_list, methods=["GET"])
    add("/teams", create, methods=["POST"])
    add("/teams/{team_id}", team_page, methods=["GET"])
    add("/teams/{team_id}/edit", edit, methods=["POST"])
    add("/teams/{team_id}/members", add_member, methods=["POST"])
    add("/teams/{team_id}/members/{member_id}/remove", remove_member, methods=["POST"])
