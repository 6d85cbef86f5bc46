"""The console's plumbing: sessions and CSRF, role checks, form parsing, rendering, errors.

Screens (the route modules) stay thin: they parse a form with the helpers here, call bank
functions, and either render a template or redirect. Every POST goes through :meth:`Console.action`:
it checks the session and the CSRF token, runs the work and its audit record in one transaction,
and turns a bank refusal into a page with the reason (status 400) with nothing written.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import re
import secrets
import sqlite3
import typing
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import jinja2
import markupsafe
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bank import attempts, audit, clock, community, db, keystore, money, recorders, reviewers, reviews, users
from bank.errors import BankError, InvalidInput, NotFound
from office import pool

log = logging.getLogger("office.console")
SESSION_COOKIE = "mpb_session"
LOGIN_CSRF_COOKIE = "mpb_login_csrf"
FLASH_COOKIE = "mpb_flash"
MAX_FORM_FIELD = 4000
BUSY_TIMEOUT_S = 2.0        # as the sync API: a locked store is a "busy, retry" page within 5 s
RETRY_AFTER_S = 5
STAFF = ("office", "council")
EVERYONE_BUT_MERCHANTS = ("office", "council", "reviewer")


class Forbidden(BankError):
    code = "forbidden"


@dataclass
class Ctx:
    """What a screen gets: the request, the store connection, the user and the CSRF token."""
    request: Request
    conn: object
    user: users.User
    csrf: str
    clock: typing.Callable[[], dt.datetime] = clock.now_utc

    def require(self, *roles: str) -> None:
        if self.user.role not in roles:
            raise Forbidden("您没有权限办理此事项。", f"role {self.user.role} may not do this")

    def scope_compound(self, compound_id: int | None) -> None:
        """A review-group member only reaches their own compound."""
        if self.user.role == "merchant":
            raise Forbidden("商户用户只能查看本商户的兑换记录。", "merchant users see only their own redemptions")
        if self.user.role == "reviewer" and compound_id != self.user.compound_id:
            raise Forbidden("您只能办理本小区的事项。", "a reviewer reaches only their own compound")

    def scope_merchant(self, merchant_id: int) -> None:
        if self.user.role == "merchant" and merchant_id != self.user.merchant_id:
            raise Forbidden("您只能查看本商户的记录。", "a merchant user sees only their own merchant")
        if self.user.role == "reviewer":
            raise Forbidden("您没有权限查看商户信息。", "reviewers do not see merchants")

    @property
    def actor(self) -> str:
        return self.user.name

    @property
    def recorder(self) -> str:
        """What the ledger keeps as the recorder of an entry this user makes (``bank.recorders``)."""
        return recorders.of_user(self.user.role, self.user.name)

    def now(self) -> dt.datetime:
        """The time attempt limits count by (the console's clock)."""
        return self.clock()

    def audit(self, action: str, target="", detail=None) -> None:
        audit.record(self.conn, self.user.name, action, target, detail, now=self.now())


# --- form and query parsing: every refusal is a plain Chinese sentence --------------------------

# What undecodable input becomes: the form parser turns bytes that are not UTF-8 (a lone
# surrogate encoded as %ED%A0%80, say) into U+FFFD; a surrogate itself cannot be stored at all.
_UNDECODABLE = re.compile("[\ud800-\udfff\ufffd]")
GARBLED = "填写的内容中有无法识别的文字(乱码),请重新输入。"


def garbled(data) -> bool:
    """Whether any field of a form or query holds undecodable text."""
    return any(isinstance(k, str) and _UNDECODABLE.search(k) or isinstance(v, str) and _UNDECODABLE.search(v)
               for k, v in data.multi_items())


def text(data, name: str, label: str, *, max_len: int = 200, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(f"“{label}”格式不正确。", f"{name} must be text")
    if _UNDECODABLE.search(value):
        raise InvalidInput(f"“{label}”中有无法识别的文字(乱码),请重新输入。", f"{name} is not decodable text")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"请填写“{label}”。", f"{name} is required")
    if len(value) > max_len:
        raise InvalidInput(f"“{label}”不能超过{max_len}个字。", f"{name} is limited to {max_len} characters")
    return value


def integer(data, name: str, label: str, *, lo: int | None = None, hi: int | None = None,
            required: bool = True) -> int | None:
    raw = data.get(name, "")
    raw = raw.strip() if isinstance(raw, str) else ""
    if not raw:
        if required:
            raise InvalidInput(f"请填写“{label}”。", f"{name} is required")
        return None
    if not (raw.lstrip("-").isascii() and raw.lstrip("-").isdigit()) or len(raw) > 12:
        raise InvalidInput(f"“{label}”须为整数。", f"{name} must be an integer")
    value = int(raw)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"{lo}到{hi}" if lo is not None and hi is not None else (f"不小于{lo}" if lo is not None else f"不大于{hi}")
        raise InvalidInput(f"“{label}”须为{rng}的整数。", f"{name} out of range")
    return value


def compound(conn, data, *, required: bool = False) -> int | None:
    """A compound id from a form or query: an integer naming a compound that exists, or 404."""
    compound_id = integer(data, "compound", "小区", lo=1, required=required)
    if compound_id is not None and compound_id not in {c.compound_id for c in community.compounds(conn)}:
        raise NotFound("没有这个小区。", f"no compound {compound_id}")
    return compound_id


def date(data, name: str, label: str, *, required: bool = True) -> dt.date | None:
    raw = text(data, name, label, max_len=10, required=required)
    if not raw:
        return None
    try:
        return clock.parse_date(raw)
    except ValueError:
        raise InvalidInput(f"“{label}”须为日期,格式如 2026-10-01。", f"{name} is not a date") from None


def confirmed(form) -> bool:
    """True when the office clicked the button of a confirmation page."""
    return form.get("confirm") == "1"


def choice(data, name: str, label: str, options) -> str:
    value = data.get(name, "")
    if value not in options:
        raise InvalidInput(f"请选择“{label}”。", f"{name} must be one of {list(options)}")
    return value


def second_of(data) -> dict:
    """The second member's confirmation fields of an entry form (used only above the threshold)."""
    return {"second_id": integer(data, "second", "确认成员", lo=1, required=False),
            "second_pin": text(data, "second_pin", "确认人密码", max_len=6, required=False) or None}


def second_confirmation(ctx: "Ctx", account_id: int, item_code: str, form) -> reviews.Confirmation | None:
    """The second member's confirmation of a weighty entry, checked (PIN through the attempt limit,
    its count committed) before the entry's own transaction: for forms with ``atomic=False``."""
    return reviews.confirm_second(ctx.conn, ctx.user, account_id, item_code, now=ctx.now(), **second_of(form))


def second_fields(ctx: "Ctx") -> dict:
    """What the entry forms need to offer a review-group member the second confirmation."""
    return {"second_members": reviews.second_candidates(ctx.conn, ctx.user),
            "second_above": reviewers.second_confirm_above(ctx.conn)}


# --- the console ------------------------------------------------------------------------------

class Console:
    def __init__(self, db_path: Path, keys: keystore.KeyStore | None = None):
        self.db_path = db.location(db_path)
        self.keys = keys                 # where the issuing key is, for card issue
        self.clock = clock.now_utc       # the time attempt limits count by (tests move it)
        # PostgreSQL: a connection of the process's pool lent per request (office.pool); SQLite: one per thread
        self.connections = pool.source(self.db_path, self._open, keys, BUSY_TIMEOUT_S)
        self.env = jinja2.Environment(loader=jinja2.PackageLoader("office.console"),
                                      autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined,
                                      trim_blocks=True, lstrip_blocks=True)
        self.env.filters["local"] = _local_time
        self.env.filters["yuan"] = money.yuan
        self.env.filters["recorder"] = recorders.label
        self.env.filters["pct"] = _pct
        self.env.globals["roles"] = {k: users.ROLES[k] for k in users.COMMUNITY_ROLES}   # no district staff here
        self.env.globals["csrf_field"] = _csrf_field
        self.env.globals["action_name"] = audit.action_name
        self._community = None
        # Who may log in here: a community's staff; the district view (office.district) its own.
        self.login_roles = users.COMMUNITY_ROLES
        self.env.globals["login_subtitle"] = "社区办公室 · 道德评议会"

    def _open(self):
        conn = db.connect(self.db_path, migrate=False, busy_timeout=BUSY_TIMEOUT_S)
        if self.keys is not None:
            keystore.use(conn, self.keys)
        return conn

    def conn(self):
        return self.connections.get()

    def community_name(self) -> str:
        if self._community is None:
            self._community = community.name(self.conn()) or "社区"
        return self._community

    # rendering
    def render(self, ctx: Ctx | None, template: str, status_code: int = 200, **values) -> HTMLResponse:
        request = ctx.request if ctx else None
        flash = None
        if request is not None and request.cookies.get(FLASH_COOKIE):
            flash = urllib.parse.unquote(request.cookies[FLASH_COOKIE])[:300]
        html = self.env.get_template(template).render(
            user=ctx.user if ctx else None, csrf=ctx.csrf if ctx else "", community=self.community_name(),
            path=request.url.path if request else "", flash=flash,
            here=(request.url.path + (f"?{request.url.query}" if request.url.query else "")) if request else "", **values)
        response = HTMLResponse(html, status_code=status_code)
        if flash:
            delete_cookie(response, FLASH_COOKIE)
        return response

    def confirm_page(self, ctx: Ctx, form, *, heading: str, button: str, back: str, lines=(), warning: str | None = None,
                     sides=(), extra_template: str | None = None, **values) -> HTMLResponse:
        """What a change will do, before anything is written: the same form posted again with
        ``confirm=1`` does it. Shown from inside an action, whose transaction writes nothing."""
        fields = [(k, v) for k, v in form.multi_items() if k not in ("csrf", "confirm") and isinstance(v, str)]
        return self.render(ctx, "confirm.html", heading=heading, button=button, back=back, lines=list(lines),
                           warning=warning, sides=list(sides), fields=fields, action=ctx.request.url.path,
                           extra_template=extra_template, **values)

    def error_page(self, ctx: Ctx | None, message: str, status: int, heading: str = "未能办理") -> HTMLResponse:
        return self.render(ctx, "error.html", status_code=status, message=message, heading=heading)

    def busy_page(self, ctx: Ctx | None) -> HTMLResponse:
        """The store is locked by another writer (a backup, a command line): try again shortly."""
        response = self.error_page(ctx, f"数据库正被其他程序使用(例如正在备份),请 {RETRY_AFTER_S} 秒后刷新页面重试。"
                                        "刚才的操作没有办理。", 503, heading="请稍后再试")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    def http_error_page(self, request: Request, status: int) -> HTMLResponse:
        """An unknown address (404) or a wrong method (405) outside the device API: a page, not JSON.
        The menu shows when the browser is logged in, so the way back is one click."""
        try:
            s = self.session(request)
        except Exception:   # noqa: BLE001 - the error page must not fail on a store problem
            s = None
        ctx = Ctx(request, self.conn(), s.user, s.csrf) if s else None
        if status == 405:
            return self.error_page(ctx, "这个页面不能这样打开(请求方法不对)。请使用页面上的按钮或链接。", 405,
                                   heading="无法打开")
        return self.error_page(ctx, "没有这个页面。请检查网址,或从首页进入。", 404, heading="找不到页面")

    # sessions
    def session(self, request: Request) -> users.Session | None:
        return users.session(self.conn(), request.cookies.get(SESSION_COOKIE))

    def _login_redirect(self, request: Request) -> Response:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urllib.parse.urlencode({"next": nxt}), status_code=303)

    def page(self, *roles: str):
        """A GET screen: ``func(ctx, **path_params) -> Response``; runs in the thread pool."""
        roles = roles or ("office", "council", "reviewer", "merchant")

        def wrap(func):
            @functools.wraps(func)
            def route(request: Request):
                s = self.session(request)
                if s is None:
                    return self._login_redirect(request)
                ctx = Ctx(request, self.conn(), s.user, s.csrf, self.clock)
                try:
                    ctx.require(*roles)
                    return func(ctx, **request.path_params)
                except (Forbidden, reviews.NotAllowed) as exc:
                    return self.error_page(ctx, exc.zh, 403)
                except NotFound as exc:
                    return self.error_page(ctx, exc.zh, 404)
                except BankError as exc:
                    return self.error_page(ctx, exc.zh, 400)
                except sqlite3.OperationalError as exc:
                    if db.is_busy(exc):
                        return self.busy_page(ctx)
                    log.exception("console page %s failed", request.url.path)
                    return self.error_page(ctx, "服务器内部错误,请稍后再试或联系管理员。", 500)
                except Exception:   # noqa: BLE001 - a page never shows a traceback
                    log.exception("console page %s failed", request.url.path)
                    return self.error_page(ctx, "服务器内部错误,请稍后再试或联系管理员。", 500)
            return route
        return wrap

    def action(self, *roles: str, upload_bytes: int = 0, atomic: bool = True):
        """A POST form: ``func(ctx, form, **path_params) -> redirect URL or (URL, message) or Response``.

        The work and its audit record run in one transaction: a refusal writes nothing. With
        ``upload_bytes`` the form may carry one file of at most that size: the declared body size
        is checked before anything is read, because Starlette spools file parts to disk unbounded.
        With ``atomic=False`` the screen opens its own transactions: one that checks a PIN or a
        password (:mod:`bank.attempts`) must commit a wrong answer's count before it refuses, and
        reading an uploaded spreadsheet takes seconds while the store's one write lock must not be
        held (devices push through it)."""
        roles = roles or STAFF

        def wrap(func):
            @functools.wraps(func)
            async def route(request: Request):
                if upload_bytes:
                    declared = request.headers.get("content-length", "")
                    if not declared.isdigit() or int(declared) > upload_bytes + 64 * 1024:
                        return self.error_page(None, f"上传的文件太大(不能超过 {upload_bytes // 2**20} MB)。", 413)
                try:
                    form = await request.form(max_files=1 if upload_bytes else 0, max_fields=500,
                                              max_part_size=64 * 1024)
                except Exception:   # noqa: BLE001 - a malformed body is the client's problem
                    return self.error_page(None, "表单格式不正确。", 400)
                try:
                    return await run_in_threadpool(self._run_action, func, roles, request, form, atomic)
                finally:
                    await form.close()      # an uploaded file's spooled copy
            return route
        return wrap

    def _run_action(self, func, roles, request: Request, form, atomic: bool = True) -> Response:
        s = self.session(request)
        if s is None:
            return self._login_redirect(request)
        ctx = Ctx(request, self.conn(), s.user, s.csrf, self.clock)
        token = form.get("csrf", "")
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), s.csrf.encode()):
            return self.error_page(ctx, "页面已过期或来源不明,请刷新页面后重试。", 403)
        if any(isinstance(v, str) and len(v) > MAX_FORM_FIELD for v in form.values()):
            return self.error_page(ctx, f"填写的内容太长(每项不超过{MAX_FORM_FIELD}字)。", 400)
        if garbled(form):
            return self.error_page(ctx, GARBLED, 400)
        try:
            ctx.require(*roles)
            if atomic:
                with db.transaction(ctx.conn):
                    result = func(ctx, form, **request.path_params)
            else:
                result = func(ctx, form, **request.path_params)
        except attempts.Locked as exc:
            until = clock.local(self.clock() + dt.timedelta(seconds=exc.retry_after))
            response = self.error_page(ctx, f"{exc.zh}(北京时间 {until:%H:%M} 以后可以再试。)", 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except attempts.Wrong as exc:
            return self.error_page(ctx, exc.zh, 403)
        except (Forbidden, reviews.NotAllowed) as exc:
            return self.error_page(ctx, exc.zh, 403)
        except NotFound as exc:
            return self.error_page(ctx, exc.zh, 404)
        except BankError as exc:
            return self.error_page(ctx, exc.zh, 400)
        except sqlite3.OperationalError as exc:
            if not db.is_busy(exc):
                log.exception("console action %s failed", request.url.path)
                return self.error_page(ctx, "服务器内部错误,操作未完成。", 500)
            return self.busy_page(ctx)
        except Exception:   # noqa: BLE001
            log.exception("console action %s failed", request.url.path)
            return self.error_page(ctx, "服务器内部错误,操作未完成。", 500)
        if isinstance(result, Response):
            return result
        url, message = result if isinstance(result, tuple) else (result, "操作已完成。")
        return redirect(url, message, request)


def set_cookie(response: Response, request: Request | None, name: str, value: str, *, path: str = "/",
               max_age: int | None = None) -> None:
    """Every console cookie: not readable by scripts, never sent with a request another site makes,
    and only over HTTPS when the console is served so (it is, unless --insecure-http)."""
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="strict",
                        secure=request is not None and request.url.scheme == "https")


def delete_cookie(response: Response, name: str, *, path: str = "/") -> None:
    response.delete_cookie(name, path=path, httponly=True, samesite="strict")


def redirect(url: str, message: str | None = None, request: Request | None = None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        set_cookie(response, request, FLASH_COOKIE, urllib.parse.quote(message), max_age=60)
    return response


def _pct(value, peak) -> int:
    """``value`` as a whole percentage of ``peak`` (0 to 100), for the chart classes in console.css."""
    if not peak:
        return 0
    return max(0, min(100, round(100 * (value or 0) / peak)))


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


@jinja2.pass_context
def _csrf_field(context) -> markupsafe.Markup:
    """The hidden inputs every console form carries: the CSRF token, and the page the form is on
    (``back``) so the action returns the user to the same place (:func:`back`)."""
    return markupsafe.Markup('<input type="hidden" name="csrf" value="{}"><input type="hidden" name="back" value="{}">'
                             ).format(context.get("csrf", ""), context.get("here", ""))


def back(form, path: str, anchor: str = "", **params) -> str:
    """Where an action on ``path``'s page redirects: that page with the query the user had on it
    (compound, month, page, search) from the form's ``back`` field, else the page itself; ``params``
    (the period the action worked on, say) override it. Only the query is taken from the form, so
    it can never send the browser elsewhere."""
    here = form.get("back")
    query: dict[str, str] = {}
    if isinstance(here, str) and len(here) <= 500:
        parts = urllib.parse.urlsplit(here)
        if parts.path == path and not parts.scheme and not parts.netloc:
            query = dict(urllib.parse.parse_qsl(parts.query)[:10])
    query.update({k: str(v) for k, v in params.items() if v not in (None, "")})
    text = urllib.parse.urlencode(query)
    return path + (f"?{text}" if text else "") + (f"#{anchor}" if anchor else "")


def _local_time(text: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if not text:
        return ""
    try:
        return clock.local(clock.from_text(text)).strftime(fmt)
    except ValueError:
        return text


def path_int(value: str, what: str) -> int:
    """A numeric id from the URL; anything else is 'not found' in plain words."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 12:
        raise NotFound(f"没有这个{what}。", f"no such {what}: {value!r}")
    return int(value)


def pdf_response(data: bytes, filename: str) -> Response:
    quoted = urllib.parse.quote(filename)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{quoted}"})


def xlsx_response(data: bytes, filename: str) -> Response:
    quoted = urllib.parse.quote(filename)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"})
