"""The office console: the council's and the office's web pages (server-rendered, Chinese).

``mount(app, db_path)`` adds the console's routes to the office server's FastAPI app: log-in at
``/login``, the dashboard at ``/``; the sync API under ``/api/v1`` is left as it is.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders

from . import (accounts_view, auth, convention_view, dashboard, exports, imports_view, merchants_admin, merchants_view,
               monthly, objections_view, quarantine_view, quarterly, registration_view, reviewers_view, routine_view,
               teams_view, users_view, yearly)
from .web import Console

# Order matters where paths overlap: /residents/new and /merchants/new before /residents/{id}, /merchants/{id}.
MODULES = (auth, dashboard, registration_view, accounts_view, reviewers_view, merchants_admin, merchants_view,
           convention_view, teams_view, monthly, quarterly, objections_view, quarantine_view, yearly, exports,
           imports_view, users_view, routine_view)


# No inline script or style, nothing from elsewhere, never inside a frame (clickjacking), forms
# only to the console itself. The QR codes are inline SVG markup, which this allows.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                           "frame-ancestors 'none'")


def mount(app: FastAPI, db_path: str | Path, keys=None) -> Console:
    console = Console(db_path, keys)
    app.state.console = console
    for module in MODULES:
        module.register(app, console)

    # every page (the API's own /docs excepted: Swagger UI runs inline script)
    add_security_headers(app, except_path="/docs")
    return console


def add_security_headers(app: FastAPI, *, except_path: str | None = None) -> None:
    """Every response: no MIME sniffing, no referrer; every HTML page but ``except_path``: the CSP
    and no framing (the console's and the district view's pages alike)."""

    def security_headers(app):      # plain ASGI: only the answer's first message is touched
        async def headed(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)

            async def sending(message):
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    headers.setdefault("X-Content-Type-Options", "nosniff")
                    headers.setdefault("Referrer-Policy", "no-referrer")
                    if headers.get("content-type", "").startswith("text/html") and scope["path"] != except_path:
                        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                        headers["X-Frame-Options"] = "DENY"
                await send(message)
            await app(scope, receive, sending)
        return headed

    app.add_middleware(security_headers)
