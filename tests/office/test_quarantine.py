"""The council's quarantine: cases listed, posted or rejected in the console and the command line,
the device told at its next pull, the merchant never clawed back silently; a device on hold."""

from __future__ import annotations

import pytest

from bank import clock, db, policy, users
from terminal import redeem as engine
from office.sync_api import quarantine
from sync import client, replica

from tests.office.console_kit import PASSWORD, Browser, error_text
from tests.sync.kit import enrol_tablet, office_balance


@pytest.fixture
def tab(town, hub, tmp_path):
    return enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)


def _users(town):
    conn = db.connect(town.path)
    with db.transaction(conn):
        users.add_user(conn, name="王主任", role="office", password=PASSWORD)
        users.add_user(conn, name="李委员", role="council", password=PASSWORD)
    conn.close()


def _stale_prices(town, tab, hub):
    """Two redemptions at a price the office does not have, made through the tablet's replica."""
    conn = tab.replica()
    now = clock.now_utc()
    with replica._txn(conn):
        for points in (5, 4):
            replica.record(conn, "redemption", {"card": town.rich[1], "card_version": 1, "offer": town.bowl,
                                                "qty": 1, "points": points, "receipt": None, "proof": "",
                                                "auth": None},
                           now=now, card_id=town.rich[1], account_id=town.rich[0], points=points,
                           card_text=town.rich[2])
    conn.close()
    client.sync_once(tab, hub)


def test_council_posts_and_rejects_in_the_console_and_the_tablet_is_told(town, hub, tab):
    _users(town)
    _stale_prices(town, tab, hub)
    council = Browser(hub.tc.app, "李委员")
    page = council.get("/quarantine")
    assert page.status_code == 200 and page.text.count("兑换积分与办公室标价不符") == 2
    conn = db.connect(town.path)
    first, second = (c.quarantine_id for c in quarantine.search(conn))
    conn.close()
    # a rejection needs a reason the merchant will read: refused, nothing decided
    r = council.post(f"/quarantine/{second}/reject", {"reason": ""})
    assert r.status_code == 400 and "驳回理由" in error_text(r)
    assert "已放行入账" in council.follow(council.post(f"/quarantine/{first}/post")).text
    assert "已驳回" in council.follow(council.post(f"/quarantine/{second}/reject", {"reason": "价格错误"})).text
    assert council.post(f"/quarantine/{first}/post").status_code == 400        # decided once
    assert office_balance(town.path, town.rich[0]) == 95
    decided = council.get("/quarantine?status=rejected").text
    assert "价格错误" in decided and "李委员" in decided
    for bad in ("/quarantine?status=nope", "/quarantine?page=0", "/quarantine?page=x"):
        assert council.get(bad).status_code == 400
    assert council.post("/quarantine/abc/post").status_code == 404
    # the tablet's next pull: the Today screen shows the rejected receipt and its reason
    client.sync_once(tab, hub)
    from terminal.flow import TerminalFlow
    flow = TerminalFlow(tab.path, transport=hub)
    lines = {line.seq: line for line in flow.today()}
    assert (lines[2].office, lines[2].office_reason) == ("rejected", "价格错误")
    assert lines[1].office == "posted"
    assert flow.day_totals() == (1, 5)
    # the merchant's page shows the rejected goods apart from what was booked
    office = Browser(hub.tc.app, "王主任")
    assert "已驳回 7.00 元" in office.get(f"/merchants/{town.noodles}").text
    # the audit log names who decided
    conn = db.connect(town.path)
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE actor = '李委员'")]
    conn.close()
    assert "quarantine_post" in actions and "quarantine_reject" in actions


def test_a_device_past_the_breach_threshold_is_held_then_released(town, hub, tab):
    _users(town)
    conn = db.connect(town.path)
    with db.transaction(conn):
        policy.set_policy(conn, None, breaches_to_hold=2)
    conn.close()
    _stale_prices(town, tab, hub)            # two breaches: held
    assert engine.status(tab)["on_hold"] and not engine.status(tab)["can_redeem"]
    with pytest.raises(engine.Refusal) as refused:
        engine.redeem(tab, town.rich[2], town.bowl, transport=hub)
    assert refused.value.reason == "device_on_hold"
    office = Browser(hub.tc.app, "王主任")
    page = office.get("/merchants/devices")
    assert "已暂停" in page.text and "去审核" in page.text
    council = Browser(hub.tc.app, "李委员")
    assert council.post(f"/devices/{tab.device_id}/release").status_code == 403     # the office releases
    assert "已解除暂停" in office.follow(office.post(f"/devices/{tab.device_id}/release")).text
    client.sync_once(tab, hub)
    assert engine.redeem(tab, town.rich[2], town.bowl, transport=hub).points == 6
    assert office_balance(town.path, town.rich[0]) == 94


def test_alerts_are_one_per_device_and_kind_paged_and_cleared_in_bulk(town, hub, tab):
    _users(town)
    from bank import alerts
    conn = db.connect(town.path)
    with db.transaction(conn):
        for i in range(120):     # a flood from one device is one row; other devices' alerts are their own
            alerts.raise_alert(conn, "chain_gap", device_id=tab.device_id, detail={"i": i})
            alerts.raise_alert(conn, "clock_skew", device_id=f"T{9000 + i}", detail={"i": i})
    conn.close()
    office = Browser(hub.tc.app, "王主任")
    page = office.get("/merchants/devices")
    assert "未处理提醒(121)" in page.text and page.text.count('name="alert"') == 50
    assert "下一页" in page.text
    assert office.get("/merchants/devices?alerts_page=3").text.count('name="alert"') == 21
    conn = db.connect(town.path)
    [gap] = alerts.open_alerts(conn, "chain_gap")
    assert gap.count == 120
    some = [a.alert_id for a in alerts.open_alerts(conn, limit=10)]
    conn.close()
    r = office.post("/alerts/clear", {"alert": some})
    assert "已处理 10 条提醒" in office.follow(r).text
    assert office.post("/alerts/clear", {}).status_code == 400
    conn = db.connect(town.path)
    assert alerts.open_count(conn) == 111
    conn.close()
