"""The district view (区级视图): every community of a district store side by side, for the
district's own staff (role ``district``, kept in the directory schema, bank.district).

:func:`create_app` builds the view's ASGI app for a district store URL, written for ``/``; the
district server serves it at ``/district/`` (office.district_server.mount_district). It is the
console's machinery (office.console.web.Console on the directory schema: log-in, sessions,
templates, the stylesheet), with the district's pages only: the table of all communities for a
month, a community's drill-down (read-only: it opens the community's store read-only and has no
form), the Excel export and the monthly district report (PDF). The figures are bank.district_figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from bank import clock, district, district_figures, users

from ..console import add_security_headers, auth
from ..console.web import Console
from . import pages


class DistrictConsole(Console):
    """The console on the directory schema of a district store, for district staff only."""

    def __init__(self, url: str, *, now: Callable[[], dt.datetime] = clock.now_utc):
        super().__init__(district.directory_url(url))
        self.district_url = url
        self.login_roles = users.DISTRICT_ROLES
        self.env.globals["login_subtitle"] = "区级工作人员"
        self._community = "全区"
        self.clock = now
        self.figures = district_figures.Cache(url, now=now, background=True)


def create_app(url: str, *, now: Callable[[], dt.datetime] = clock.now_utc) -> FastAPI:
    """The district view's app for the district store at ``url`` (a ``postgresql://`` URL of a
    district store as a whole), written for ``/``. Importable on its own, e.g. to time its pages."""
    district.communities(url)            # not a district store: refused here, before serving
    app = FastAPI(title="道德积分银行 · 区级视图", docs_url=None, redoc_url=None, openapi_url=None)
    console = DistrictConsole(url, now=now)
    app.state.console = console
    auth.register(app, console)
    pages.register(app, console)

    add_security_headers(app)

    @app.exception_handler(404)
    async def not_found(request: Request, exc):
        return await run_in_threadpool(console.http_error_page, request, 404)

    @app.exception_handler(405)
    async def bad_method(request: Request, exc):
        return await run_in_threadpool(console.http_error_page, request, 405)

    return app


__all__ = ["create_app", "DistrictConsole"]
