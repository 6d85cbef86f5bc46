"""A household that was closed or merged into another: its card is refused at the tablet with the
real reason in plain words (never "reported lost"), and so is the office's settlement message."""

from __future__ import annotations

from bank import households
from terminal import redeem as engine
from sync import client, replica
from terminal.flow import Step

from tests.terminal.kit import office_do, synced, text


def test_a_merged_households_card_says_where_it_went(flow, town, now):
    office_do(town, lambda c: households.merge(c, town.poor[0], town.rich[0], note="两户合并", by="office", now=now()))
    synced(flow)
    assert not flow.scan(town.poor[2]) and flow.step is Step.SCAN
    assert flow.message.code == "card_account_merged"
    assert f"这户已并入储户 {town.rich[0]}" in text(flow) and f"请使用储户 {town.rich[0]} 的卡" in text(flow)
    assert "挂失" not in text(flow)
    # the command line says the same
    try:
        engine.redeem(flow.home, town.poor[2], town.bowl, now=now(), transport=client.HttpTransport("http://x", 1))
    except engine.Refusal as exc:
        assert exc.reason == "card_account_merged" and f"储户 {town.rich[0]}" in exc.zh
    else:
        raise AssertionError("redeemed")


def test_a_closed_households_card_says_it_was_closed(flow, town, now):
    office_do(town, lambda c: households.close(c, town.poor[0], note="迁出本社区", by="office", now=now()))
    synced(flow)
    assert not flow.scan(town.poor[2])
    assert flow.message.code == "card_account_closed" and "这户已在社区办公室销户" in text(flow)
    assert "挂失" not in text(flow)


def test_the_office_settlement_names_a_merged_household_not_a_lost_card(flow, town, now):
    """A tablet that redeemed the card although its pull already said the household was merged
    (a stale or altered program): the office quarantines it, and says why in plain words."""
    office_do(town, lambda c: households.merge(c, town.poor[0], town.rich[0], note="两户合并", by="office", now=now()))
    synced(flow)
    now.advance(minutes=1)
    conn = flow.home.replica()
    event = replica.record(conn, "redemption", {"card": town.poor[1], "card_version": 1, "offer": town.bowl, "qty": 1,
                                                "points": 6, "receipt": None, "proof": "", "auth": None},
                           now=now(), card_id=town.poor[1], account_id=town.poor[0], points=6, card_text=town.poor[2])
    conn.close()
    synced(flow)
    synced(flow)                              # the decision comes back with the next pull
    line = next(x for x in flow.today() if x.seq == event["seq"])
    assert line.office == "open" and "已并入另一户" in line.office_reason and "挂失" not in line.office_reason
