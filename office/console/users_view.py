"""Console users (用户管理): the office adds a user with a role (a review-group member's log-in is
linked to their member row, a merchant's to the merchant), disables and enables, resets a password.

Passwords typed here are never shown again or written to the audit log."""

from __future__ import annotations

from fastapi import FastAPI

from bank import community, merchants, reviewers, users
from bank.errors import InvalidInput

from . import web
from .web import Console


def register(app: FastAPI, console: Console) -> None:
    @console.page("office")
    def users_page(ctx: web.Ctx):
        everyone = users.all_users(ctx.conn)
        linked = {u.reviewer_id for u in everyone if u.reviewer_id is not None}
        members = reviewers.all_members(ctx.conn)
        return console.render(
            ctx, "users.html", users_list=everyone, members={m.reviewer_id: m for m in members},
            free_members=[m for m in members if m.active and m.reviewer_id not in linked],
            merchants=merchants.all_merchants(ctx.conn),
            compound_names={c.compound_id: c.name for c in community.compounds(ctx.conn)})

    def password_of(form) -> str:
        password = form.get("password", "")
        if not isinstance(password, str) or password != form.get("password2", ""):
            raise InvalidInput("两次输入的密码不一致。", "the passwords differ")
        return password

    @console.action("office")
    def add(ctx: web.Ctx, form):
        role = web.choice(form, "role", "角色", users.ROLES)
        name = web.text(form, "name", "用户名", max_len=20)
        reviewer_id = web.integer(form, "reviewer", "评议小组成员", lo=1, required=False) if role == "reviewer" else None
        merchant_id = web.integer(form, "merchant", "商户", lo=1, required=False) if role == "merchant" else None
        uid = users.add_user(ctx.conn, name=name, role=role, password=password_of(form), reviewer_id=reviewer_id,
                             merchant_id=merchant_id)
        ctx.audit("user.add", f"user {uid}", {"name": name, "role": role, "reviewer": reviewer_id,
                                               "merchant": merchant_id})
        return "/users", f"已添加用户 {name}({users.ROLES[role]})。"

    def user_of(ctx: web.Ctx, user_id: str) -> users.User:
        return users.get(ctx.conn, web.path_int(user_id, "用户"))

    @console.action("office")
    def set_active(ctx: web.Ctx, form, user_id: str):
        u = user_of(ctx, user_id)
        active = web.choice(form, "active", "状态", {"1": "启用", "0": "停用"}) == "1"
        if u.user_id == ctx.user.user_id and not active:
            raise InvalidInput("不能停用自己正在使用的账号。", "an office user cannot disable themselves")
        if active and u.reviewer_id is not None and u.role == "reviewer" \
                and not reviewers.get(ctx.conn, u.reviewer_id).active:
            raise InvalidInput("该用户已退出评议小组,不能启用。", "the user's review-group member has left")
        users.set_active(ctx.conn, u.user_id, active)
        ctx.audit("user.enable" if active else "user.disable", f"user {u.user_id}", {"name": u.name})
        return "/users", f"已{'启用' if active else '停用'}用户 {u.name}。"

    @console.action("office")
    def reset_password(ctx: web.Ctx, form, user_id: str):
        u = user_of(ctx, user_id)
        users.set_password(ctx.conn, u.user_id, password_of(form))
        ctx.audit("user.password", f"user {u.user_id}", {"name": u.name})
        return "/users", f"已重设用户 {u.name} 的密码。"

    add_route = app.add_route
    add_route("/users", users_page, methods=["GET"])
    add_route("/users", add, methods=["POST"])
    add_route("/users/{user_id}/active", set_active, methods=["POST"])
    add_route("/users/{user_id}/password", reset_password, methods=["POST"])
