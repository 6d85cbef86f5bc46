"""The office console: the council's and the office's web pages (server-rendered, Chinese).

``mount(app, db_path)`` adds the console's routes to the office server's FastAPI app: log-in at
``/login``, the dashboard at ``/``; the sync API under ``/api/v1`` is left as it is.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request

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

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.headers.get("content-type", "").startswith("text/html") and request.url.path != except_path:
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response.headers["X-Frame-Options"] = "DENY"
        return response
