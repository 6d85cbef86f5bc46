"""Enrol, redeem offline, push, pull: the core flow in-process (the office app behind a transport)."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from bank import clock, db
from device import redeem as engine
from sync import client, replica

from .kit import T0, count, enrol_tablet, office_balance

NOON = dt.datetime(2026, 3, 2, 4, 0, tzinfo=clock.UTC)   # 12:00 in Chongqing


def test_enrol_makes_home_with_private_key_0600_and_first_snapshot(town, hub, tmp_path):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    assert h.device_id == "T0001"
    assert stat.S_IMODE(os.stat(h.path / "device.key").st_mode) == 0o600
    conn = h.replica()
    assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 3
    assert {r[0] for r in conn.execute("SELECT offer_id FROM offers")} == {town.bowl, town.beef, town.feast}
    assert replica.state(conn, "deny_version")
    assert conn.execute("SELECT reason FROM deny").fetchall() == [("superseded",)]


def test_offline_redemptions_then_sync_match_office_and_do_not_double(town, hub, tmp_path):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    hub.up = False
    aid, _, qr = town.rich
    for _ in range(3):
        receipt = engine.redeem(h, qr, town.bowl, now=clock.now_utc(), transport=hub)
        assert not receipt.pushed
    assert receipt.balance_after == 100 - 18
    assert office_balance(town.path, aid) == 100
    hub.up = True
    result = client.sync_once(h, hub)
    assert (result.pushed, result.acked_seq, result.pending) == (3, 3, 0)
    assert office_balance(town.path, aid) == 82
    again = client.sync_once(h, hub)
    assert again.pushed == 0
    assert office_balance(town.path, aid) == 82
    assert count(town.path, "device_events") == 3
    conn = h.replica()
    assert replica.spendable(conn, aid) == 82


def test_online_redemption_pushes_at_once(town, hub, tmp_path):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    receipt = engine.redeem(h, town.rich[2], town.beef, qty=2, transport=hub)
    assert receipt.pushed and receipt.points == 24
    assert office_balance(town.path, town.rich[0]) == 76


def test_push_acked_but_pull_lost_counts_each_event_once(town, hub, tmp_path):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    hub.up = False
    engine.redeem(h, town.rich[2], town.beef, transport=hub)
    hub.up = True
    conn = h.replica()
    client.push(h, conn, hub)                  # acknowledged, but no pull followed
    assert replica.spendable(conn, town.rich[0]) == 88
    client.pull(h, conn, hub)
    assert replica.spendable(conn, town.rich[0]) == 88


def test_refusals_each_name_a_reason(town, hub, tmp_path):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    hub.up = False
    now = clock.now_utc()

    def refused(*args, **kw):
        with pytest.raises(engine.Refusal) as info:
            engine.redeem(h, *args, transport=hub, **kw)
        assert info.value.zh and info.value.en
        return info.value.reason

    assert refused(town.lost[2], town.bowl, now=now) == "card_superseded"
    forged = town.rich[2][:-3] + ("AAA" if not town.rich[2].endswith("AAA") else "BBB")
    assert refused(forged, town.bowl, now=now) in ("card_bad_signature", "card_not_our_format")
    assert refused("hello", town.bowl, now=now) == "card_not_our_format"
    assert refused(town.rich[2], town.masks, now=now) == "unknown_offer"
    assert refused(town.rich[2], town.feast, now=now) == "floor_limit_offline"
    assert refused(town.poor[2], town.beef, qty=3, now=now) == "pin_required"       # 36 > 20
    assert refused(town.poor[2], town.beef, qty=3, pin="9999", now=now) == "pin_wrong"
    assert refused(town.poor[2], town.beef, qty=3, pin="1234", now=now) == "insufficient"
    assert refused(town.rich[2], town.bowl, qty=0, now=now) == "bad_quantity"
    for _ in range(5):
        engine.redeem(h, town.rich[2], town.beef, now=now, transport=hub)          # 60 points today
    assert refused(town.rich[2], town.bowl, now=now) == "daily_cap"
    late = now + dt.timedelta(hours=73)
    assert refused(town.rich[2], town.bowl, now=late) == "sync_too_old"


def test_unsynced_cap_and_window(town, hub, tmp_path):
    conn = db.connect(town.path)
    with db.transaction(conn):
        from bank import policy
        policy.set_policy(conn, town.noodles, unsynced_cap=20)
        policy.add_window(conn, merchant_id=town.noodles, place="店内", weekdays="1111100", opens="09:00", closes="17:00")
    conn.close()
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    hub.up = False
    monday_noon = clock.now_utc()
    # pick the tablet's clock: a Monday noon near the real time (sync age must stay small)
    while clock.local(monday_noon).weekday() != 0:
        monday_noon -= dt.timedelta(days=1)
    conn = h.replica()
    replica.set_state(conn, last_pull_at=clock.to_text(monday_noon))
    local_noon = clock.local(monday_noon).replace(hour=12, minute=0)
    noon = local_noon.astimezone(clock.UTC)
    replica.set_state(conn, last_pull_at=clock.to_text(noon - dt.timedelta(hours=1)))
    engine.redeem(h, town.rich[2], town.beef, now=noon, transport=hub)
    with pytest.raises(engine.Refusal) as info:
        engine.redeem(h, town.poor[2], town.beef, now=noon, transport=hub)
    assert info.value.reason == "unsynced_cap"
    evening = local_noon.replace(hour=20).astimezone(clock.UTC)
    with pytest.raises(engine.Refusal) as info:
        engine.redeem(h, town.rich[2], town.bowl, now=evening, transport=hub)
    assert info.value.reason == "window_closed"


def test_above_floor_limit_when_online_syncs_first(town, hub, tmp_path):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    receipt = engine.redeem(h, town.rich[2], town.feast, transport=hub)
    assert receipt.pushed and office_balance(town.path, town.rich[0]) == 50


def test_void_reverses_own_recent_redemption(town, hub, tmp_path):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    r = engine.redeem(h, town.rich[2], town.beef, transport=hub)
    out = engine.void(h, r.seq, transport=hub)
    assert out["pushed"]
    assert office_balance(town.path, town.rich[0]) == 100
    with pytest.raises(engine.Refusal):
        engine.void(h, r.seq, transport=hub)
