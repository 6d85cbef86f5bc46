"""The office decides again: kiosk events that skip the kiosk's checks (an old snapshot, a
tampered kiosk) are kept in the chain but not settled, each with an alert saying why."""

from __future__ import annotations

import json

import pytest

from bank import db, ledger
from bank.clock import now_utc
from sync import client, events as ev, replica, wire


def _push(flow, hub, kind, body, account_id, points=0):
    replica.record(flow.conn, kind, body, now=flow.now(), account_id=account_id, points=points)
    client.sync_once(flow.home, hub)


def _alerts(kt):
    conn = db.connect(kt.path)
    try:
        return [json.loads(r[0])["why"] for r in conn.execute(
            "SELECT detail FROM alerts WHERE kind = 'unsettled_event' ORDER BY alert_id")]
    finally:
        conn.close()


def item(account, code, points, staff, second=None):
    return {"account": account, "item": code, "points": points, "staff": staff, "second": second, "note": ""}


def test_recusal_caps_second_member_and_foreign_staff_enforced_at_the_office(flow, kt, hub):
    rich, poor = kt.town.rich[0], kt.town.poor[0]
    zhang, li, zhao = (m.reviewer_id for m, _ in kt.staff)
    _push(flow, hub, "award", item(rich, "XS01", 1, zhang), rich, -1)            # own household
    _push(flow, hub, "award", item(poor, "XS01", 1, zhang), poor, -1)            # fine
    _push(flow, hub, "award", item(poor, "XS01", 1, zhao), poor, -1)             # daily cap 1
    _push(flow, hub, "deduction", item(rich, "XS06", -10, li), rich, 10)         # no second
    _push(flow, hub, "deduction", item(rich, "XS06", -10, li, second=zhang), rich, 10)  # second recused
    _push(flow, hub, "award", item(rich, "XS01", 2, li), rich, -2)               # points not the catalog's
    _push(flow, hub, "award", item(rich, "XS01", 1, 999), rich, -1)              # not a member
    _push(flow, hub, "deduction", item(rich, "XS06", -10, li, second=zhao), rich, 10)   # fine
    why = _alerts(kt)
    assert why == ["recusal: a member recorded for their own household",
                   "'XS01' is capped at 1 per daily period; the account already has 1 in " + why[1].rsplit(" ", 1)[1],
                   "needs a second member's confirmation", "needs a second member's confirmation",
                   "the item's points changed in the catalog in force",
                   "staff is not an active member of this compound's review group"]
    conn = db.connect(kt.path)
    assert ledger.balance(conn, poor) == 20 + 2 + 1 and ledger.balance(conn, rich) == 90
    assert conn.execute("SELECT count(*) FROM device_events WHERE device_id = 'K0001'").fetchone()[0] == 8
    conn.close()


def test_undo_only_by_the_recorder_and_objections_only_in_the_posting_period(flow, kt, hub):
    rich = kt.town.rich[0]
    li, zhao = kt.staff[1][0].reviewer_id, kt.staff[2][0].reviewer_id
    _push(flow, hub, "award", item(rich, "XS01", 1, li), rich, -1)
    _push(flow, hub, "reversal", {"reverses_seq": 1, "reason": "x", "staff": zhao}, rich, 1)
    assert _alerts(kt) == ["only the member who recorded an entry may undo it"]
    _push(flow, hub, "objection", {"account": rich, "entry": kt.q_entry, "posting": kt.posting_id,
                                   "reason": "分数记错了"}, rich)
    assert _alerts(kt)[-1] == f"entry {kt.q_entry} is not account {rich}'s"
    conn = db.connect(kt.path)
    assert ledger.balance(conn, rich) == 101
    conn.close()


def test_a_tablet_cannot_post_kiosk_events(kt, hub, tmp_path):
    from tests.sync.kit import enrol_tablet
    h = enrol_tablet(kt.path, hub, tmp_path / "tab", kt.town.noodles)
    conn = h.replica()
    replica.record(conn, "award", item(kt.town.rich[0], "XS01", 1, 2), now=now_utc(), account_id=kt.town.rich[0])
    with pytest.raises(client.Refused) as exc:
        client.sync_once(h, hub)
    assert exc.value.code == "kind_not_allowed"
    conn.close()


@pytest.mark.parametrize("body", [
    {"account": 1, "item": "XS01", "points": -1, "staff": 1, "second": None, "note": ""},      # award, negative
    {"account": 1, "item": "xs01", "points": 1, "staff": 1, "second": None, "note": ""},
    {"account": 1, "item": "XS01", "points": 1, "staff": 1, "second": None, "note": "x" * 201},
    {"account": 1, "item": "XS01", "points": 1, "staff": 1, "second": None},
    {"account": 1, "item": "XS01", "points": 1.0, "staff": 1, "second": None, "note": ""},
])
def test_malformed_kiosk_event_bodies_are_refused(body):
    with pytest.raises(wire.ProtocolError):
        ev.make("K0001", 1, "0" * 64, "award", "2026-11-26T03:12:45.123456Z", body)
