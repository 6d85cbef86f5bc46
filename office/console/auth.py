"""Log-in, log-out, the static files (stylesheet and the CJK font) and the audit log view."""

from __future__ import annotations

import datetime as dt
import hmac
import urllib.parse
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

import assets
from bank import attempts, audit, clock, db, users
from bank.errors import InvalidInput

from . import web
from .web import Console

FONTS = assets.path("fonts")
STATIC_DIR = Path(str(files("office.console") / "static"))
STATIC = {"console.css": (STATIC_DIR / "console.css", "text/css; charset=utf-8"),
          "console.js": (STATIC_DIR / "console.js", "text/javascript; charset=utf-8"),
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

    app.add_route("/static/{name}", static, methods=["GET"])

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
        name = name.strip()[:20] if isinstance(name, str) else ""
        password = password if isinstance(password, str) else ""
        conn = console.conn()
        now = console.clock()
        found: list[users.User | None] = []
        client = request.client.host if request.client else "?"

        def verify() -> bool:
            found.append(users.authenticate(conn, name, password, console.login_roles))
            return found[-1] is not None

        try:
            # Counted per user name (known or not: a guesser learns nothing from the answer) and
            # per client address (one machine sweeping many names).
            attempts.check_all(conn, [("login_user", name or "?"), ("login_client", client)],
                               verify,
                               actor=name or "?", now=now, detail={"client": client})
        except attempts.Locked as exc:
            until = clock.local(now + dt.timedelta(seconds=exc.retry_after))
            response = login_page(request, f"{exc.zh}(北京时间 {until:%H:%M:%S} 以后可以再试。)", 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except attempts.Wrong as exc:
            more = f"再错 {exc.left} 次将锁定 {attempts.LIMITS['login_user'].lock_minutes} 分钟。" \
                if exc.left <= attempts.LIMITS["login_user"].lock_after // 2 else ""
            return login_page(request, "用户名或密码不正确。" + more, 401)
        user = found[0]
        with db.transaction(conn):
            session_token = users.start_session(conn, user)
            audit.record(conn, user.name, "login")
        home = {"reviewer": "/monthly", "merchant": f"/merchants/{user.merchant_id}"}.get(user.role, "/")
        nxt = _safe_next(form.get("next", "/"))
        response = RedirectResponse(nxt if nxt != "/" else home, status_code=303)
        web.set_cookie(response, request, web.SESSION_COOKIE, session_token)
        web.delete_cookie(response, web.LOGIN_CSRF_COOKIE, path="/login")
        return response

    app.add_route("/login", login_get, methods=["GET"])
    app.add_route("/login", login_post, methods=["POST"])

    @console.action(*users.ROLES)
    def logout(ctx: web.Ctx, form):
        users.end_session(ctx.conn, ctx.request.cookies.get(web.SESSION_COOKIE))
        ctx.audit("logout")
        response = RedirectResponse("/login", status_code=303)
        web.delete_cookie(response, web.SESSION_COOKIE)
        return response

    app.add_route("/logout", logout, methods=["POST"])

    @console.page(*users.ROLES)
    def password_page(ctx: web.Ctx):
        return console.render(ctx, "password.html", min_length=users.MIN_PASSWORD)

    @console.action(*users.ROLES, atomic=False)     # the current password is counted as a log-in try
    def change_password(ctx: web.Ctx, form):
        current, new = form.get("current", ""), form.get("password", "")
        if not isinstance(new, str) or new != form.get("password2", ""):
            raise InvalidInput("两次输入的新密码不一致。", "the new passwords differ")
        users.check_new_password(new, name=ctx.user.name, context=users.password_context(ctx.conn))
        current = current if isinstance(current, str) else ""
        attempts.check(ctx.conn, "login_user", ctx.user.name,
                       lambda: users.authenticate(ctx.conn, ctx.user.name, current) is not None,
                       actor=ctx.user.name, now=ctx.now(), detail={"via": "password change"})
        with db.transaction(ctx.conn):
            users.set_password(ctx.conn, ctx.user.user_id, new)     # ends every session, this one too
            ctx.audit("password.change", f"user {ctx.user.user_id}")
        response = login_page(ctx.request, "密码已修改。请用新密码重新登录(其他电脑上的登录也已退出)。")
        response.delete_cookie(web.SESSION_COOKIE, path="/")
        return response

    app.add_route("/password", password_page, methods=["GET"])
    app.add_route("/password", change_password, methods=["POST"])

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

    app.add_route("/audit", audit_view, methods=["GET"])
