"""The card screen's information: household, held points, expiry and cap warnings, as the flow
shows them, and the tablet pull that carries them (signed, delta-aware)."""

from __future__ import annotations

import datetime as dt

from bank import clock, ledger, objections
from terminal import redeem as engine
from sync import client, replica
from terminal.flow import NO_PIN, Step

from tests.terminal.kit import office_do, synced, text


def warnings(flow) -> list[str]:
    return [w.render() for w in flow.card.warnings]


def test_card_shows_household_and_only_the_no_pin_note_for_a_plain_card(flow, town):
    assert flow.scan(town.rich[2])
    card = flow.card
    assert (card.household, card.held, card.expiring) == ("household", 0, ())
    assert card.household_message().render() == "家庭账户"
    # the account has no PIN: nothing checks who holds the card, so the shop owner is told to ask
    assert [w.code for w in card.warnings] == [NO_PIN] and card.needs_pin_above is None
    assert "未设密码" in warnings(flow)[0] and "本户成员" in warnings(flow)[0]
    # an account with a PIN has no such note (and none other here)
    assert flow.scan(town.poor[2]) and flow.card.warnings == () and flow.card.needs_pin_above == 20


def test_single_accounts_after_a_full_pull(flow, town):
    office_do(town, lambda c: c.execute("UPDATE accounts SET kind = 'single' WHERE account_id = ?", (town.poor[0],)))
    conn = flow.home.replica()
    replica.set_state(conn, cursor=None)    # a full pull (a delta carries member changes too since schema V11)
    conn.close()
    synced(flow)
    assert flow.scan(town.rich[2]) and flow.card.household == "household"
    assert flow.scan(town.poor[2]) and flow.card.household_message().render() == "个人账户"


def test_points_under_an_open_objection_are_not_available(flow, town, now):
    entry = office_do(town, lambda c: ledger.record_adjustment(c, town.rich[0], 30, recorded_by="test",
                                                               note="补录", now=now()))
    synced(flow)
    assert flow.scan(town.rich[2]) and flow.card.available == 130 and flow.card.held == 0
    case = office_do(town, lambda c: objections.raise_objection(c, town.rich[0], reason="记错了", raised_by="张喆明",
                                                                entry_id=entry.entry_id, now=now()))
    synced(flow)
    assert flow.scan(town.rich[2])
    assert (flow.card.available, flow.card.held) == (100, 30)
    assert any("30 分在异议处理中" in w for w in warnings(flow))
    with_held = engine.inspect(flow.home, town.rich[2], now=now())
    assert (with_held.balance, with_held.held, with_held.available) == (130, 30, 100)
    engine.redeem(flow.home, town.rich[2], town.bowl, 1, now=now(), transport=client_down())
    # the objection is ruled: the hold goes with the next pull even though no ledger entry changed
    def close(c):
        objections.assign(c, case.objection_id, to="王主任", now=now())
        objections.investigate(c, case.objection_id, findings="查实无误", now=now())
        objections.rule(c, case.objection_id, ruling="rejected", note="记录无误", by="评议组", now=now())
    office_do(town, close)
    synced(flow)   # a delta: no ledger entry or replica change since the last pull
    assert flow.scan(town.rich[2]) and flow.card.held == 0 and flow.card.available == 124


def test_held_points_refuse_a_redemption_with_a_reason(flow, town, now):
    entry = office_do(town, lambda c: ledger.record_adjustment(c, town.poor[0], 10, recorded_by="test",
                                                               note="补录", now=now()))
    office_do(town, lambda c: objections.raise_objection(c, town.poor[0], reason="记错了", raised_by="李四",
                                                         entry_id=entry.entry_id, now=now()))
    synced(flow)
    assert flow.scan(town.poor[2]) and flow.card.available == 20 and flow.card.held == 10
    try:
        engine.redeem(flow.home, town.poor[2], town.beef, 2, "1234", now=now(), transport=client_down())
    except engine.Refusal as exc:
        assert exc.reason == "insufficient_held" and "10 分正在异议处理中" in exc.zh
    else:
        raise AssertionError("held points were spent")


def test_points_expiring_within_60_days_warn(flow, town, now):
    # the town's points were earned on 2026-03-02: valid to the end of 2027
    assert flow.scan(town.rich[2]) and flow.card.expiring == ()
    now.t = clock.local_midnight(dt.date(2027, 11, 15)) + dt.timedelta(hours=10)
    synced(flow)    # the sync age counts from the tablet's clock
    assert flow.scan(town.rich[2])
    assert flow.card.expiring == (("2027-12-31", 100),)
    assert any("100 分将于 2027-12-31 到期" in w for w in warnings(flow))
    now.t = clock.local_midnight(dt.date(2027, 10, 15)) + dt.timedelta(hours=10)
    synced(flow)
    assert flow.scan(town.rich[2]) and flow.card.expiring == ()


def test_near_cap_warning_through_the_flow(flow, town):
    engine.redeem(flow.home, town.rich[2], town.beef, 3, now=flow.now(), transport=client_down())
    engine.redeem(flow.home, town.rich[2], town.bowl, 2, now=flow.now(), transport=client_down())
    assert flow.scan(town.rich[2])
    assert flow.step is Step.CARD and any("接近每日上限 60 分" in w for w in warnings(flow))


def test_no_points_warning_and_english(flow, town):
    office_do(town, lambda c: ledger.record_adjustment(c, town.rich[0], -100, recorded_by="test", note="清零"))
    synced(flow)
    assert flow.scan(town.rich[2]) and any("没有可用积分" in w for w in warnings(flow))
    assert text(flow) == ""


def test_tablet_pull_carries_only_what_redemption_needs_signed(flow, town, hub, now):
    conn = flow.home.replica()
    try:
        assert replica.lots(conn, town.rich[0]) == []     # valid to the end of 2027: not soon
    finally:
        conn.close()
    entry = office_do(town, lambda c: ledger.record_adjustment(c, town.poor[0], 5, recorded_by="test", note="补录",
                                                               now=now()))
    office_do(town, lambda c: objections.raise_objection(c, town.poor[0], reason="x", raised_by="李四",
                                                         entry_id=entry.entry_id, now=now()))
    h = flow.home
    conn = h.replica()
    try:
        payload = client.pull(h, conn, hub, now=now())
        assert payload["kind"] == "delta"
        # per account only what redemption needs: no address, no members, no PIN verifier, no lots
        assert payload["accounts"] == {"fields": ["account", "balance", "status", "name", "has_pin", "kind"],
                                       "rows": [[town.poor[0], 25, "active", "李*", True, "household"]]}
        assert payload["tablet"]["expiring"]["rows"] == []
        assert payload["tablet"]["held"] == {"fields": ["account", "points"], "rows": [[town.poor[0], 5]]}
        assert replica.held(conn, town.poor[0]) == 5
        assert replica.available(conn, town.poor[0]) == 20
        assert not conn.execute("SELECT count(*) FROM pragma_table_info('accounts') WHERE name LIKE '%pin_hash%'"
                                ).fetchone()[0]
    finally:
        conn.close()


def test_tampered_tablet_part_is_refused(flow, town, hub, now):
    import json
    from sync import wire
    h = flow.home
    conn = h.replica()
    try:
        path = wire.API + "/pull"
        body = wire.canonical({"cursor": None, "full": True})
        headers = wire.sign_request(h.private_key(), "POST", path, h.device_id, client._next_request_time(conn, now()),
                                    body)
        status, raw = hub.post(path, body, headers)
        message = json.loads(raw)
        message["payload"] = message["payload"].replace('"held":{"fields":["account","points"],"rows":[]}',
                                                        '"held":{"fields":["account","points"],"rows":[[1,999]]}')
        assert '"rows":[[1,999]]' in message["payload"]
        try:
            replica.apply_pull(conn, message, now=now())
        except wire.PullRejected:
            pass
        else:
            raise AssertionError("a tampered pull was applied")
        assert replica.held(conn, town.rich[0]) == 0
    finally:
        conn.close()


def test_old_replica_is_migrated_and_pulls_full(tmp_path):
    import sqlite3
    path = tmp_path / "replica.sqlite"
    conn = sqlite3.connect(path)
    for number, script in enumerate(replica.MIGRATIONS[:2], 1):
        conn.executescript(script)
        conn.execute(f"PRAGMA user_version={number}")
    conn.execute("INSERT INTO state VALUES ('cursor', '\"E5.C6\"')")
    conn.commit()
    conn.close()
    conn = replica.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(replica.MIGRATIONS)
        assert replica.state(conn, "cursor") is None     # so the next pull is a full snapshot
        assert replica.held(conn, 1) == 0
    finally:
        conn.close()


def client_down():
    from tests.terminal.kit import client_down as down
    return down()
