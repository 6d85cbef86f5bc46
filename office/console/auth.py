"""Log-in, log-out, the static files (stylesheet and the CJK font) and the audit log view."""

from __future__ import annotations

import hmac
import urllib.parse
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from bank import audit, db, users

from . import web
from .web import Console

FONTS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
STATIC = {"console.css": (web.HERE / "static" / "console.css", "text/css; charset=utf-8"),
          "console.js": (web.HERE / "static" / "console.js", "text/javascript; charset=utf-8"),
          "font.otf": (FONTS / "NotoSansSC-Subset.otf", "font/otf"),
          "font-bold.otf": (FONTS / "NotoSansSC-Subset-Bold.otf", "font/otf")}


def _safe_next(value) -> str:
    """Only a local path: never redirect a user to another site after log-in."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//") or len(value) > 300:
        return "/"
    return value


def register(app: FastAPI, console: Console) -> None:
    def static(request: Request):
        name = request.path_params["name"]
        if name not in STATIC:
            return console.error_page(None, "没有这个文件。", 404)
        path, media = STATIC[name]
        return FileResponse(path, media_type=media, headers={"Cache-Control": "max-age=86400"})

    app.add_api_route("/static/{name}", static, methods=["GET"], include_in_schema=False)

    def login_page(request: Request, message: str = "", status: int = 200):
        token = web.new_login_csrf()
        response = console.render(None, "login.html", status_code=status, login_csrf=token, message=message,
                                  next=_safe_next(request.query_params.get("next", "/")))
        web.set_cookie(response, request, web.LOGIN_CSRF_COOKIE, token, path="/login")
        return response

    def login_get(request: Request):
        if console.session(request) is not None:
            return RedirectResponse("/", status_code=303)
        return login_page(request)

    async def login_post(request: Request):
        try:
            form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
        except Exception:   # noqa: BLE001
            return console.error_page(None, "表单格式不正确。", 400)
        return await run_in_threadpool(_login, request, form)

    def _login(request: Request, form):
        cookie = request.cookies.get(web.LOGIN_CSRF_COOKIE, "")
        token = form.get("csrf", "")
        if not cookie or not isinstance(token, str) or not hmac.compare_digest(cookie.encode(), token.encode()):
            return login_page(request, "登录页面已过期,请重新输入。", 403)
        if web.garbled(form):
            return login_page(request, web.GARBLED, 400)
        name, password = form.get("name", ""), form.get("password", "")
        conn = console.conn()
        user = users.authenticate(conn, name if isinstance(name, str) else "", password if isinstance(password, str) else "")
        with db.transaction(conn):
            if user is None:
                audit.record(conn, str(name)[:20] or "?", "login.failed")
        if user is None:
            return login_page(request, "用户名或密码不正确。", 401)
        with db.transaction(conn):
            session_token = users.start_session(conn, user)
            audit.record(conn, user.name, "login")
        home = {"reviewer": "/monthly", "merchant": f"/merchants/{user.merchant_id}"}.get(user.role, "/")
        nxt = _safe_next(form.get("next", "/"))
        response = RedirectResponse(nxt if nxt != "/" else home, status_code=303)
        web.set_cookie(response, request, web.SESSION_COOKIE, session_token)
        web.delete_cookie(response, web.LOGIN_CSRF_COOKIE, path="/login")
        return response

    app.add_api_route("/login", login_get, methods=["GET"], include_in_schema=False)
    app.add_api_route("/login", login_post, methods=["POST"], include_in_schema=False)

    @console.action(*users.ROLES)
    def logout(ctx: web.Ctx, form):
        users.end_session(ctx.conn, ctx.request.cookies.get(web.SESSION_COOKIE))
        ctx.audit("logout")
        response = RedirectResponse("/login", status_code=303)
        web.delete_cookie(response, web.SESSION_COOKIE)
        return response

    app.add_api_route("/logout", logout, methods=["POST"], include_in_schema=False)

    @console.page(*web.STAFF)
    def audit_view(ctx: web.Ctx):
        q = ctx.request.query_params
        actor = web.text(q, "actor", "操作人", max_len=20, required=False)
        action = web.text(q, "action", "操作类别", max_len=40, required=False)
        term = web.text(q, "q", "关键词", max_len=40, required=False)
        rows = audit.search(ctx.conn, actor=actor, action=action, text=term)
        query = urllib.parse.urlencode({"actor": actor, "action": action, "q": term})
        return console.render(ctx, "audit.html", rows=rows, actor=actor, action=action, q=term,
                              actions=audit.actions(ctx.conn), query=query)

    app.add_api_route("/audit", audit_view, methods=["GET"], include_in_schema=False)
