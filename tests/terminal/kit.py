"""Helpers the tablet's tests share: the flow's message text, an office transaction, a sync, no network."""

from __future__ import annotations

from bank import db
from sync import client


def text(flow) -> str:
    return flow.message.render() if flow.message else ""


def office_do(town, fn):
    conn = db.connect(town.path)
    with db.transaction(conn):
        out = fn(conn)
    conn.close()
    return out


def synced(flow):
    state = flow.syncer.run_once()
    assert state.online, state
    return state


def client_down():
    """A transport that is always offline."""
    class Down:
        def post(self, *a):
            raise client.Unreachable("down", "down")
    return Down()
