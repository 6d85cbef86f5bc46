"""The attacks of issue 10, replayed against the real server with real device homes: what a
stolen tablet or kiosk (its key and replica) can charge to residents is bounded by the policy;
the rest is quarantined for the council, with one alert."""

from __future__ import annotations

import datetime as dt
import json
import secrets

import pytest

from bank import accounts, cards, clock, db, ledger, policy, reviewers
from office.sync_api import quarantine
from sync import home as home_mod, replica

from .conftest import cli, enrol_cli

pytestmark = pytest.mark.slow

RESIDENTS = 120


def _residents(town) -> list[tuple[int, str, str]]:
    """(account, card id, card QR) of many residents with 100 points each, in the office store."""
    conn = db.connect(town.path)
    out = []
    with db.transaction(conn):
        for n in range(RESIDENTS):
            aid = accounts.open_account(conn, kind="household", holder=f"居民{n}", compound_id=1,
                                        building=1 + n % 9, unit=1, room=str(101 + n), now=clock.now_utc())
            card = cards.issue(conn, aid)
            ledger.record_adjustment(conn, aid, 100, recorded_by="test", note="opening")
            out.append((aid, card.card_id, card.qr))
    conn.close()
    return out


def _forge(h, lines, *, now=None) -> None:
    """What a thief with the tablet's replica and key does: write events straight into its chain,
    past every check of the tablet's software."""
    conn = h.replica()
    at = now or clock.now_utc()
    with replica._txn(conn):
        for account_id, card_id, offer, points, qr in lines:
            body = {"card": card_id, "card_version": 1, "offer": offer, "qty": 1, "points": points, "receipt": None,
                    "proof": secrets.token_hex(16), "auth": None}
            replica.record(conn, "redemption", body, now=at, card_id=card_id, account_id=account_id, points=points,
                           card_text=qr)
    conn.close()


def forged() -> str:
    """An authorisation of the right shape that the office never signed."""
    return f"K1.{secrets.token_hex(8)}.1.2.{secrets.token_urlsafe(64)[:86]}"


def _charged(town, accounts_: list[int]) -> dict[int, int]:
    conn = db.connect(town.path)
    try:
        return {a: 100 - ledger.balance(conn, a) for a in accounts_}
    finally:
        conn.close()


def _offer_14(town) -> int:
    from bank import merchants
    conn = db.connect(town.path)
    with db.transaction(conn):
        offer = merchants.add_offer(conn, town.noodles, "双份小面", 14, 1400)
    conn.close()
    return offer


@pytest.mark.parametrize("knows_the_cards", [False, True], ids=["replica-only", "with-card-photos"])
def test_a_drain_from_a_stolen_tablet_is_bounded_by_the_policy(town, server, tmp_path, knows_the_cards):
    people = _residents(town)
    offer = _offer_14(town)
    home = tmp_path / "tablet"
    enrol_cli(town, server, home, town.noodles)
    h = home_mod.open_home(home)
    pol = policy.OfflinePolicy()
    # the replay of the drain: every resident charged 14 points in each of two pushes
    for _push in range(2):
        _forge(h, [(a, c, offer, 14, qr if knows_the_cards else None) for a, c, qr in people])
        cli("sync", "--home", home, "--json", check=None)
    charged = _charged(town, [a for a, _, _ in people])
    assert all(points <= pol.per_card_daily_cap for points in charged.values())
    assert sum(charged.values()) <= pol.unsynced_cap
    if not knows_the_cards:
        assert sum(charged.values()) == 0       # no proof that any card was read: nothing charged
    conn = db.connect(town.path)
    try:
        total = conn.execute("SELECT count(*) FROM device_events WHERE device_id = ?", (h.device_id,)).fetchone()[0]
        assert total == 2 * RESIDENTS                       # everything the device sent is kept
        booked = conn.execute("SELECT count(*) FROM ledger_entries WHERE device_id = ?", (h.device_id,)).fetchone()[0]
        assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == total - booked
        held = conn.execute("SELECT held_at FROM devices WHERE device_id = ?", (h.device_id,)).fetchone()[0]
        assert held is not None
        alerts = [tuple(r) for r in conn.execute("SELECT kind, count FROM alerts WHERE cleared_at IS NULL")]
        assert alerts == [("quarantined", total - booked)]          # one alert, counted
    finally:
        conn.close()
    listed = json.loads(cli("office", "quarantine", "--db", town.path, "--json").stdout)
    assert len(listed) == 2 * RESIDENTS - sum(1 for p in charged.values() if p) and \
        {"id", "device", "kind", "points", "rule"} <= set(listed[0])


def test_a_lost_card_is_booked_only_when_the_tablet_could_not_know(town, server, tmp_path):
    home = tmp_path / "tablet"
    enrol_cli(town, server, home, town.noodles)
    h = home_mod.open_home(home)
    aid, card_id, qr = town.rich
    # reported lost before the tablet's last pull: the tablet knew (its deny list had it)
    conn = db.connect(town.path)
    with db.transaction(conn):
        cards.reissue(conn, card_id)
    conn.close()
    cli("sync", "--home", home, "--json")
    _forge(h, [(aid, card_id, town.bowl, 6, qr)])
    cli("sync", "--home", home, "--json")
    # a card reported lost after the tablet's last pull: booked (the tablet could not know), flagged
    pid, pcard, pqr = town.poor
    conn = db.connect(town.path)
    with db.transaction(conn):
        cards.revoke(conn, pcard)
    conn.close()
    _forge(h, [(pid, pcard, town.bowl, 6, pqr)])
    # the tablet's clock set back to before its last pull, or before its enrolment
    _forge(h, [(pid, pcard, town.bowl, 6, pqr)], now=clock.now_utc() - dt.timedelta(hours=2))
    _forge(h, [(pid, pcard, town.bowl, 6, pqr)], now=clock.now_utc() - dt.timedelta(days=30))
    cli("sync", "--home", home, "--json", check=None)
    conn = db.connect(town.path)
    try:
        rules = [r[0] for r in conn.execute("SELECT rule FROM quarantine ORDER BY seq")]
        assert rules == ["card_superseded", "event_time", "event_time"]
        assert ledger.balance(conn, aid) == 100 and ledger.balance(conn, pid) == 20 - 6
        used = conn.execute("SELECT card_id FROM alerts WHERE kind = 'revoked_card_used'").fetchall()
        assert [r[0] for r in used] == [pcard]
    finally:
        conn.close()


def test_a_stolen_kiosk_key_cannot_deduct_in_the_members_names(tmp_path):
    """30 deductions of -10 on one account in the names of two real members, with a "second
    member" the office cannot verify: none is charged."""
    from tests.e2e.conftest import Server
    from tests.kiosk.conftest import make_town
    kt = make_town(tmp_path / "office.sqlite")
    server = Server(kt.path, tmp_path / "server.log").start()
    try:
        h = _enrol_kiosk(kt.path, server, tmp_path / "kiosk")
        (li, _), (zhao, _) = ((m.reviewer_id, qr) for m, qr in kt.staff[1:])
        target = kt.town.rich[0]
        conn = h.replica()
        with replica._txn(conn):
            for _ in range(30):
                replica.record(conn, "deduction",
                               {"account": target, "item": "XS06", "points": -10, "staff": li,
                                "staff_auth": forged(), "second": zhao, "second_auth": forged(), "note": ""},
                               now=clock.now_utc(), account_id=target, points=10)
        conn.close()
        cli("sync", "--home", tmp_path / "kiosk", "--json", check=None)
        office = db.connect(kt.path)
        try:
            assert ledger.balance(office, target) == 100
            rules = {r[0] for r in office.execute("SELECT rule FROM quarantine")}
            assert rules <= {"staff_not_verified", "device_on_hold"} and "staff_not_verified" in rules
            assert office.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 30
            assert [tuple(r) for r in office.execute("SELECT kind, count FROM alerts WHERE cleared_at IS NULL")] == \
                [("quarantined", 30)]
        finally:
            office.close()
    finally:
        server.stop()


def _enrol_kiosk(store_path, server, home_dir):
    from bank import devices
    from device import enrolment
    conn = db.connect(store_path)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, service_point_id=1)
    conn.close()
    h, pulled = enrolment.enrol(home_dir, server.url, code, kind="kiosk")
    assert pulled
    return h


def test_no_device_holds_a_pin_verifier_or_what_it_does_not_need(town, server, tmp_path):
    conn = db.connect(town.path)
    with db.transaction(conn):
        member, _card = reviewers.add(conn, compound_id=1, account_id=town.poor[0], name="李四", pin="2468")
        accounts.set_pin(conn, town.rich[0], "4321")
        accounts.open_account(conn, kind="single", holder="钱多多", compound_id=1, building=2, unit=1, room="Q7788Z",
                              now=clock.now_utc())
        hashes = [r[0] for r in conn.execute("SELECT pin_hash FROM accounts WHERE pin_hash IS NOT NULL")]
        hashes += [r[0] for r in conn.execute("SELECT pin_hash FROM reviewers")]
    conn.close()
    enrol_cli(town, server, tmp_path / "tablet", town.noodles)
    _enrol_kiosk(town.path, server, tmp_path / "kiosk")
    for home in (tmp_path / "tablet", tmp_path / "kiosk"):
        cli("sync", "--home", home, "--json")
        blob = b"".join(p.read_bytes() for p in home.iterdir() if p.is_file())
        assert b"scrypt$" not in blob
        for h in hashes:
            salt = h.split("$")[4]
            assert salt.encode() not in blob
        for name in ("李四", "张喆明", "钱多多"):                          # full names
            assert name.encode() not in blob
    tablet = b"".join(p.read_bytes() for p in (tmp_path / "tablet").iterdir() if p.is_file())
    assert b"Q7788Z" not in tablet                                     # no addresses on a tablet


def test_quarantine_post_and_reject_from_the_command_line(town, server, tmp_path):
    home = tmp_path / "tablet"
    enrol_cli(town, server, home, town.noodles)
    h = home_mod.open_home(home)
    aid, card_id, qr = town.rich
    _forge(h, [(aid, card_id, town.bowl, 5, qr), (aid, card_id, town.bowl, 4, qr)])    # stale prices
    cli("sync", "--home", home, "--json")
    cases = json.loads(cli("office", "quarantine", "--db", town.path, "--json").stdout)
    assert [(c["rule"], c["points"]) for c in cases] == [("price", -5), ("price", -4)]
    bad = cli("office", "quarantine", "reject", "--db", town.path, str(cases[0]["id"]), "--by", "王主任",
              "--reason", "", check=1)
    assert "理由" in bad.stderr and "Traceback" not in bad.stderr
    cli("office", "quarantine", "post", "--db", town.path, str(cases[0]["id"]), "--by", "王主任")
    cli("office", "quarantine", "reject", "--db", town.path, str(cases[1]["id"]), "--by", "王主任",
        "--reason", "价格错误,已与商户核对")
    again = cli("office", "quarantine", "post", "--db", town.path, str(cases[1]["id"]), "--by", "王主任", check=1)
    assert "已经审核过" in again.stderr
    assert ledger_balance(town, aid) == 95
    assert json.loads(cli("office", "quarantine", "--db", town.path, "--json").stdout) == []
    # the tablet's next pull tells the merchant
    cli("sync", "--home", home, "--json")
    conn = h.replica()
    try:
        assert replica.decision(conn, 2)[0] == "rejected" and "价格错误" in replica.decision(conn, 2)[2]
        assert replica.decision(conn, 1)[0] == "posted"
    finally:
        conn.close()
    conn = db.connect(town.path)
    try:     # the donated-value ledger shows the goods of quarantined receipts apart
        assert quarantine.quarantined_value(conn, town.noodles) == {"posted": 700, "rejected": 700}
    finally:
        conn.close()


def ledger_balance(town, account_id: int) -> int:
    conn = db.connect(town.path)
    try:
        return ledger.balance(conn, account_id)
    finally:
        conn.close()
