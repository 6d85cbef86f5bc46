"""The office console: the council's and the office's web pages (server-rendered, Chinese).

``mount(app, db_path)`` adds the console's routes to the office server's FastAPI app: log-in at
``/login``, the dashboard at ``/``; the sync API under ``/api/v1`` is left as it is.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from . import (accounts_view, auth, convention_view, dashboard, exports, imports_view, merchants_admin, merchants_view,
               monthly, objections_view, quarantine_view, quarterly, registration_view, reviewers_view, teams_view,
               users_view, yearly)
from .web import Console

# Order matters where paths overlap: /residents/new and /merchants/new before /residents/{id}, /merchants/{id}.
MODULES = (auth, dashboard, registration_view, accounts_view, reviewers_view, merchants_admin, merchants_view,
           convention_view, teams_view, monthly, quarterly, objections_view, quarantine_view, yearly, exports,
           imports_view, users_view)


def mount(app: FastAPI, db_path: str | Path, keys=None) -> Console:
    console = Console(Path(db_path), keys)
    app.state.console = console
    for module in MODULES:
        module.register(app, console)
    return console
