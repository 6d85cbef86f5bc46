"""The office decides again: kiosk events that skip the kiosk's checks (an old snapshot, a
tampered kiosk, a stolen kiosk key) are kept in the chain but not charged: each is quarantined
with the rule it broke."""

from __future__ import annotations

import pytest

from bank import db, ledger
from bank.clock import now_utc
from kiosk import residents
from sync import client, events as ev, replica, wire

from .conftest import STAFF_PIN


# An authorisation in the right shape that the office never signed (what a stolen kiosk key can make).
FORGED = "K1.0123456789abcdef.1.2." + "A" * 86


def _push(flow, hub, kind, body, account_id, points=0, card_text=None):
    replica.record(flow.conn, kind, body, now=flow.now(), account_id=account_id, points=points, card_text=card_text)
    client.sync_once(flow.home, hub)


def _session(flow, hub, qr, purpose="staff"):
    """An authorisation the office issues after the member's own PIN (as the kiosk asks for it)."""
    card = residents.identify(flow.conn, qr)
    return client.authorise(flow.home, flow.conn, hub, purpose=purpose, card_text=qr, card_id=card.card_id,
                            card_version=card.version, pin=STAFF_PIN)["auth"]


def _rules(kt):
    conn = db.connect(kt.path)
    try:
        return [r[0] for r in conn.execute("SELECT rule FROM quarantine ORDER BY seq")]
    finally:
        conn.close()


def item(account, code, points, staff, auth, second=None, second_auth=None):
    return {"account": account, "item": code, "points": points, "staff": staff, "staff_auth": auth,
            "second": second, "second_auth": second_auth, "note": ""}


def _tolerate_breaches(kt):
    """Each rule on its own: the kiosk is not put on hold after three breaches here."""
    from bank import policy
    conn = db.connect(kt.path)
    with db.transaction(conn):
        policy.set_policy(conn, None, breaches_to_hold=100)
    conn.close()


def test_recusal_caps_second_member_and_unverified_staff_enforced_at_the_office(flow, kt, hub):
    _tolerate_breaches(kt)
    rich, poor = kt.town.rich[0], kt.town.poor[0]
    (zhang, zhang_qr), (li, li_qr), (zhao, zhao_qr) = ((m.reviewer_id, qr) for m, qr in kt.staff)
    zs, ls, ks = (_session(flow, hub, qr) for qr in (zhang_qr, li_qr, zhao_qr))
    _push(flow, hub, "award", item(rich, "XS01", 1, zhang, zs), rich, -1)            # own household
    _push(flow, hub, "award", item(poor, "XS01", 1, zhang, zs), poor, -1)            # fine
    _push(flow, hub, "award", item(poor, "XS01", 1, zhao, ks), poor, -1)             # daily cap 1
    _push(flow, hub, "deduction", item(rich, "XS06", -10, li, ls), rich, 10)         # no second
    _push(flow, hub, "deduction", item(rich, "XS06", -10, li, ls, zhang, _session(flow, hub, zhang_qr, "second")),
          rich, 10)                                                                   # second recused
    _push(flow, hub, "award", item(rich, "XS01", 2, li, ls), rich, -2)               # points not the catalog's
    _push(flow, hub, "award", item(rich, "XS01", 1, 999, ls), rich, -1)              # not a member
    second = _session(flow, hub, zhao_qr, "second")
    _push(flow, hub, "deduction", item(rich, "XS06", -10, li, ls, zhao, second), rich, 10)   # fine
    # a stolen kiosk key: entries in a member's name without their session, or with another's
    _push(flow, hub, "award", item(rich, "RJ03", 1, li, FORGED), rich, -1)
    _push(flow, hub, "award", item(rich, "RJ03", 1, li, ks), rich, -1)
    # a second member's confirmation is for one entry only
    lost = kt.town.lost[0]
    _push(flow, hub, "deduction", item(lost, "XS06", -10, li, ls, zhao, second), lost, 10)
    assert _rules(kt) == ["recusal", "item_refused", "second_needed", "second_needed", "item_points",
                          "staff_not_member", "staff_not_verified", "staff_not_verified", "second_not_verified"]
    conn = db.connect(kt.path)
    assert ledger.balance(conn, poor) == 20 + 2 + 1 and ledger.balance(conn, rich) == 90
    assert conn.execute("SELECT count(*) FROM device_events WHERE device_id = 'K0001'").fetchone()[0] == 11
    # one alert for the kiosk, counting every quarantined event
    assert [tuple(r) for r in conn.execute("SELECT count, kind FROM alerts WHERE kind = 'quarantined'")] == \
        [(9, "quarantined")]
    conn.close()


def test_undo_only_by_the_recorder_and_objections_only_for_ones_own_card(flow, kt, hub):
    rich = kt.town.rich[0]
    (li, li_qr), (zhao, zhao_qr) = ((m.reviewer_id, qr) for m, qr in kt.staff[1:])
    ls, ks = _session(flow, hub, li_qr), _session(flow, hub, zhao_qr)
    _push(flow, hub, "award", item(rich, "XS01", 1, li, ls), rich, -1)
    _push(flow, hub, "reversal", {"reverses_seq": 1, "reason": "x", "staff": zhao, "staff_auth": ks}, rich, 1)
    assert _rules(kt) == ["undo_refused"]
    objection = {"account": rich, "card": kt.town.rich[1], "entry": kt.q_entry, "posting": kt.posting_id,
                 "proof": "", "reason": "分数记错了"}
    _push(flow, hub, "objection", objection, rich, card_text=kt.town.rich[2])      # poor's entry
    # without the resident's card in front of the kiosk (a stolen key): not taken
    _push(flow, hub, "objection", dict(objection, account=kt.town.poor[0], card=kt.town.poor[1], proof="0" * 32),
          kt.town.poor[0])
    assert _rules(kt) == ["undo_refused", "objection_refused", "card_not_presented"]
    conn = db.connect(kt.path)
    assert ledger.balance(conn, rich) == 101
    assert conn.execute("SELECT count(*) FROM objections WHERE source = 'kiosk'").fetchone()[0] == 0
    conn.close()


def test_a_tablet_cannot_post_kiosk_events(kt, hub, tmp_path):
    from tests.sync.kit import enrol_tablet
    h = enrol_tablet(kt.path, hub, tmp_path / "tab", kt.town.noodles)
    conn = h.replica()
    replica.record(conn, "award", item(kt.town.rich[0], "XS01", 1, 2, FORGED), now=now_utc(),
                   account_id=kt.town.rich[0])
    with pytest.raises(client.Refused) as exc:
        client.sync_once(h, hub)
    assert exc.value.code == "kind_not_allowed"
    conn.close()


AUTH = FORGED


@pytest.mark.parametrize("body", [
    item(1, "XS01", -1, 1, AUTH),                                  # award, negative
    item(1, "xs01", 1, 1, AUTH),
    dict(item(1, "XS01", 1, 1, AUTH), note="x" * 201),
    {k: v for k, v in item(1, "XS01", 1, 1, AUTH).items() if k != "note"},
    item(1, "XS01", 1.0, 1, AUTH),
    item(1, "XS01", 1, 1, None),                                   # no staff session
    item(1, "XS01", 1, 1, AUTH, 2, None),                          # a second without their confirmation
    item(1, "XS01", 1, 1, "short"),
])
def test_malformed_kiosk_event_bodies_are_refused(body):
    with pytest.raises(wire.ProtocolError):
        ev.make("K0001", 1, "0" * 64, "award", "2026-11-26T03:12:45.123456Z", body)
