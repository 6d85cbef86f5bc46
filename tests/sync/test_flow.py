"""Enrol, redeem offline, push, pull: the core flow in-process (the office app behind a transport)."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from bank import accounts, clock, db
from terminal import redeem as engine
from sync import client, replica

from .kit import count, enrol_tablet, office_balance

# The sync suite runs on both office engines (tests/conftest.py: town, store_location).
pytestmark = pytest.mark.engines("sqlite", "postgresql")

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
    conn = db.connect(town.path)
    with db.transaction(conn):
        accounts.set_pin(conn, town.rich[0], "4321")
    conn.close()
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
    assert refused(town.rich[2], town.feast, pin="4321", now=now) == "floor_limit_offline"
    assert refused(town.poor[2], town.bowl, qty=4, pin="1234", now=now) == "insufficient"   # 24 > 20
    assert refused(town.rich[2], town.beef, qty=3, now=now) == "pin_required"       # 36 > 20
    # the tablet holds no PIN verifier: offline, above the PIN threshold nothing is possible
    assert refused(town.rich[2], town.beef, qty=3, pin="4321", now=now) == "pin_offline"
    hub.up = True       # online, the office checks the PIN itself
    assert refused(town.rich[2], town.beef, qty=3, pin="9999", now=now) == "pin_wrong"
    hub.up = False
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
        policy.add_window(conn, merchant_id=town.noodles, place="店内", weekdays="1111111", opens="09:00", closes="17:00")
    conn.close()
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    hub.up = False
    conn = h.replica()
    # noon today in Chongqing (the window is open every day, so the day the suite runs on does not matter)
    local_noon = clock.local(clock.now_utc()).replace(hour=12, minute=0, second=0, microsecond=0)
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


# --- a basket: several offers redeemed together --------------------------------------------------

def _outbox(h):
    conn = h.replica()
    try:
        return conn.execute("SELECT seq, hash, prev, kind, points FROM outbox ORDER BY seq").fetchall()
    finally:
        conn.close()


def test_basket_writes_one_chained_event_per_line_in_one_transaction(town, hub, tmp_path, monkeypatch):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    hub.up = False
    statements = []
    opened = []
    real = type(h).replica

    def traced(self):
        conn = real(self)
        if not opened:     # the redemption's own connection (the quiet push opens another)
            conn.set_trace_callback(statements.append)
        opened.append(conn)
        return conn

    monkeypatch.setattr(type(h), "replica", traced)
    r = engine.redeem_basket(h, town.rich[2], [(town.bowl, 2), (town.beef, 1)], now=clock.now_utc(), transport=hub)
    monkeypatch.setattr(type(h), "replica", real)
    assert [(i.offer, i.qty, i.points) for i in r.items] == [("小面", 2, 12), ("牛肉面", 1, 12)]
    assert (r.points, r.balance_after, r.seq, r.seqs, r.pushed) == (24, 76, 1, (1, 2), False)
    assert "×2" in "\n".join(r.lines()) and r.as_dict()["seqs"] == [1, 2]
    assert sum(s.strip().upper() == "BEGIN IMMEDIATE" for s in statements) == 1
    assert sum(s.strip().upper() == "COMMIT" for s in statements) == 1
    assert sum("INSERT INTO outbox" in s for s in statements) == 2
    rows = _outbox(h)
    assert [(s, k, p) for s, _h, _p, k, p in rows] == [(1, "redemption", 12), (2, "redemption", 12)]
    assert rows[1][2] == rows[0][1]          # the second line carries the first line's hash
    hub.up = True
    assert client.sync_once(h, hub).acked_seq == 2
    assert office_balance(town.path, town.rich[0]) == 76


def test_refused_basket_writes_nothing(town, hub, tmp_path, monkeypatch):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    hub.up = False
    now = clock.now_utc()
    with pytest.raises(engine.Refusal) as exc:   # 24 + 18 = 42: each line under the floor limit of 40, not the total
        engine.redeem_basket(h, town.rich[2], [(town.beef, 2), (town.bowl, 3)], now=now, transport=hub)
    assert exc.value.reason == "floor_limit_offline"
    assert not _outbox(h)
    engine.redeem(h, town.rich[2], town.beef, 3, now=now, transport=hub)    # 36 today
    engine.redeem(h, town.rich[2], town.bowl, 1, now=now, transport=hub)    # 42 today
    before = _outbox(h)
    with pytest.raises(engine.Refusal) as exc:   # 12 + 12 = 24, each line fits, together 66 > the cap of 60
        engine.redeem_basket(h, town.rich[2], [(town.beef, 1), (town.bowl, 2)], now=now, transport=hub)
    assert exc.value.reason == "daily_cap"
    with pytest.raises(engine.Refusal) as exc:   # 12 + 12 = 24 > the 20 points of the poor card
        engine.redeem_basket(h, town.poor[2], [(town.beef, 1), (town.bowl, 2)], "1234", now=now, transport=hub)
    assert exc.value.reason == "insufficient"
    for lines, reason in [([], "empty_basket"), ([(town.bowl, 0)], "bad_quantity"),
                          ([(town.bowl, 1), (999999, 1)], "unknown_offer")]:
        with pytest.raises(engine.Refusal) as exc:
            engine.redeem_basket(h, town.rich[2], lines, now=now, transport=hub)
        assert exc.value.reason == reason
    # a failure while writing the second line leaves the first unwritten too
    real_record, calls = replica.record, []

    def failing(*a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_record(*a, **kw)

    monkeypatch.setattr(replica, "record", failing)
    with pytest.raises(OSError):
        engine.redeem_basket(h, town.rich[2], [(town.bowl, 1), (town.beef, 1)], now=now, transport=hub)
    monkeypatch.setattr(replica, "record", real_record)
    assert _outbox(h) == before
    conn = h.replica()
    assert conn.execute("SELECT count(*) FROM tablet_receipt_lines").fetchone()[0] == 2   # the two one-line ones
    conn.close()


def test_void_reverses_every_line_of_a_receipt(town, hub, tmp_path):
    h = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    r = engine.redeem_basket(h, town.rich[2], [(town.bowl, 1), (town.beef, 2)], transport=hub)
    assert office_balance(town.path, town.rich[0]) == 70
    out = engine.void(h, r.seqs[1], transport=hub)    # any line names its receipt
    assert (out["voided"], out["reversals"], out["points"], out["pushed"]) == ([1, 2], [3, 4], 30, True)
    assert office_balance(town.path, town.rich[0]) == 100
    with pytest.raises(engine.Refusal) as exc:
        engine.void(h, r.seq, transport=hub)
    assert exc.value.reason == "void_done"
