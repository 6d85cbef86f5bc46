"""The district server: every community of a district store (bank.district) under ``/c/<CODE>/``.

Each community is served by the very app a one-community office runs (:func:`office.server.create_app`
on the community's store URL: its sync API and its console), behind :class:`Prefixed`, which
makes an app written for ``/`` work under a prefix:

- the request reaches the app with the prefix taken off its path (the app's routes, its
  redirects-to-self and the console's ``back`` links are those of a one-community office) and
  the prefix as ``root_path`` (so ``request.base_url``, which the enrolment QR names, is the
  community's own address ``https://host:port/c/LH/``); the path as sent is kept in the scope
  (office.server.FULL_PATH): a device signs the whole path, and the office verifies that, so a
  request signed for one community is refused at another's;
- what the app sends back gets the prefix: a ``Location`` that starts with ``/``, the ``Path`` of
  every cookie (a session of one community is never sent to another's pages), and every
  ``href``/``action``/``src`` attribute that starts with ``/`` in an HTML page. The console's
  pages are Jinja templates with autoescape, so a ``"`` typed by a user is ``&#34;`` there and
  user text can never form such an attribute.

``/`` lists the communities with links; ``/district/`` is left to the district view
(:func:`mount_district`). A community added while the server runs is served from its first
request (the directory is read again for a code the server does not know yet).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
from typing import Callable

from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse

from bank import clock, db, devices, district, keystore

from . import server

COMMUNITY_PREFIX = "/c/"
DISTRICT_PREFIX = "/district"
_COMMUNITY_PATH = re.compile(r"/c/([A-Z]{2,8})(/.*)?\Z", re.S)
_ATTRIBUTE = re.compile(rb'(\s(?:href|action|src|formaction)=")/(?!/)')
_COOKIE_PATH = re.compile(rb"(;\s*[Pp]ath=)(/[^;]*)")


class Prefixed:
    """An ASGI app written for ``/``, served under ``prefix`` (e.g. ``/c/LH``)."""

    def __init__(self, app, prefix: str):
        self.app = app
        self.prefix = prefix.rstrip("/")
        self._bytes = self.prefix.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        full = scope["path"]
        inner = full[len(self.prefix):] if full.startswith(self.prefix) else full
        raw = scope.get("raw_path") or full.encode()
        raw_inner = raw[len(self._bytes):] if raw.startswith(self._bytes) else raw
        scope = {**scope, "path": inner or "/", "raw_path": raw_inner or b"/",
                 "root_path": scope.get("root_path", "") + self.prefix, server.FULL_PATH: full}
        scope.pop("app_root_path", None)
        held: dict = {}

        async def prefixed_send(message):
            if message["type"] == "http.response.start":
                headers = [(k, self._header(k, v)) for k, v in message.get("headers", [])]
                message = {**message, "headers": headers}
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html"):
                    held["start"], held["body"] = message, []
                    return
                return await send(message)
            if message["type"] == "http.response.body" and "start" in held:
                held["body"].append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = _ATTRIBUTE.sub(rb"\1" + self._bytes.replace(b"\\", b"\\\\") + b"/", b"".join(held["body"]))
                start = held.pop("start")
                start["headers"] = [(k, str(len(body)).encode() if k.lower() == b"content-length" else v)
                                    for k, v in start["headers"]]
                await send(start)
                return await send({"type": "http.response.body", "body": body, "more_body": False})
            return await send(message)

        return await self.app(scope, receive, prefixed_send)

    def _header(self, name: bytes, value: bytes) -> bytes:
        name = name.lower()
        if name == b"location" and value.startswith(b"/") and not value.startswith(b"//"):
            return self._bytes + value
        if name == b"set-cookie":
            return _COOKIE_PATH.sub(lambda m: m[1] + (self._bytes if m[2] == b"/" else self._bytes + m[2]), value)
        return value


def _placeholder_district_view(scope, receive, send):
    return HTMLResponse(_page("区级视图", "<p>区级视图尚未启用。</p><p><a href=\"/\">返回社区列表</a></p>"),
                        status_code=404)(scope, receive, send)


class DistrictApp:
    """The ASGI app of a district server (``python -m office serve --db URL`` on a district store)."""

    def __init__(self, url: str, keys: keystore.KeyStore | None = None, *, tls_fingerprint: str | None = None,
                 now: Callable[[], dt.datetime] = clock.now_utc, daily_expiry: bool = False):
        self.url = url
        self.keys = keys or keystore.for_store(None)
        self.tls_fingerprint = tls_fingerprint
        self.now = now
        self.daily_expiry = daily_expiry
        self.apps: dict[str, Prefixed] = {}      # code -> the community's app under /c/CODE
        self._lock = threading.Lock()
        self.district_view = Prefixed(_placeholder_district_view, DISTRICT_PREFIX)
        for entry in district.communities(url):  # a broken community or key fails here, before serving
            self._start(entry)

    # --- the communities ------------------------------------------------------------------------

    def _start(self, entry: district.Entry) -> Prefixed:
        with self._lock:
            if entry.code in self.apps:
                return self.apps[entry.code]
            if self.tls_fingerprint:             # enrolment codes carry the certificate actually served
                conn = db.connect(entry.url, migrate=False)
                try:
                    with db.transaction(conn):
                        devices.record_office_fingerprint(conn, self.tls_fingerprint)
                finally:
                    conn.close()
            app = server.create_app(entry.url, self.keys, tls_fingerprint=self.tls_fingerprint, now=self.now,
                                    daily_expiry=self.daily_expiry)
            self.apps[entry.code] = Prefixed(app, COMMUNITY_PREFIX + entry.code)
            return self.apps[entry.code]

    def community(self, code: str) -> Prefixed | None:
        """The app of community ``code``; one added since the server started is started now."""
        app = self.apps.get(code)
        if app is not None:
            return app
        entry = next((e for e in district.communities(self.url) if e.code == code), None)
        return self._start(entry) if entry is not None else None

    def mount_district(self, app) -> None:
        """Serve ``app`` (an ASGI app written for ``/``) as the district view at ``/district/``."""
        self.district_view = Prefixed(app, DISTRICT_PREFIX)

    # --- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        m = _COMMUNITY_PATH.match(path)
        if m:
            if m[2] is None:
                return await RedirectResponse(path + "/", status_code=308)(scope, receive, send)
            app = self.apps.get(m[1]) or await run_in_threadpool(self.community, m[1])
            if app is not None:
                return await app(scope, receive, send)
            return await self._not_found(scope, receive, send)
        if path == DISTRICT_PREFIX:
            return await RedirectResponse(DISTRICT_PREFIX + "/", status_code=308)(scope, receive, send)
        if path.startswith(DISTRICT_PREFIX + "/"):
            return await self.district_view(scope, receive, send)
        if path == "/" and scope["type"] == "http":
            return await self._index(scope, receive, send)
        return await self._not_found(scope, receive, send)

    async def _index(self, scope, receive, send):
        entries = await run_in_threadpool(district.communities, self.url)
        items = "".join(f'<li><a href="{COMMUNITY_PREFIX}{e.code}/">{html.escape(e.name)}</a> ({e.code})</li>'
                        for e in entries) or "<li>还没有社区。</li>"
        body = (f"<p>本区级数据库中的社区(共 {len(entries)} 个):</p><ul>{items}</ul>"
                f'<p><a href="{DISTRICT_PREFIX}/">区级视图</a></p>')
        return await HTMLResponse(_page("道德积分银行 · 区级服务", body))(scope, receive, send)

    async def _not_found(self, scope, receive, send):
        body = '<p>没有这个页面或社区。请检查网址。</p><p><a href="/">返回社区列表</a></p>'
        return await HTMLResponse(_page("找不到页面", body), status_code=404)(scope, receive, send)


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1>{body}</body></html>")


def mount_district(app: DistrictApp, url: str, keys: keystore.KeyStore | None = None, **options) -> None:
    """The hook of the district view (office.district): build its app for the district store at
    ``url`` and serve it at ``/district/`` with ``app.mount_district(view)``. Until it is built,
    ``/district/`` says that the view is not enabled yet."""
    from . import district as district_view
    app.mount_district(district_view.create_app(url, now=options.get("now", clock.now_utc)))


def create_district_app(url: str, keys: keystore.KeyStore | None = None, *, tls_fingerprint: str | None = None,
                        now: Callable[[], dt.datetime] = clock.now_utc, daily_expiry: bool = False) -> DistrictApp:
    """The district server's app for the district store at ``url`` (every community started now)."""
    app = DistrictApp(url, keys, tls_fingerprint=tls_fingerprint, now=now, daily_expiry=daily_expiry)
    mount_district(app, url, keys, now=now)
    return app


__all__ = ["DistrictApp", "Prefixed", "create_district_app", "mount_district"]
