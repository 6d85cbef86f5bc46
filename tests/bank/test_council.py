"""The council's and the office's domain: users and sessions, audit, objections, verification,
postings, boards, tips, honours, volunteer service, office entries."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from bank import (accounts, audit, boards, clock, community, ledger, merchants, objections, periods, postings,
                  redemptions, reviewers, reviews, teams, tips, users, quarterly_check, volunteering, honours)
from bank.errors import BankError, CapExceeded, InsufficientPoints, InvalidInput
from tests.conftest import T0

Q1 = periods.quarter("2026Q1")


def _count(conn, table):
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# --- users, sessions, audit ------------------------------------------------------------------

def test_users_passwords_and_sessions(store):
    uid = users.add_user(store, name="王主任", role="office", password="correct horse")
    row = store.execute("SELECT password_hash FROM console_users WHERE user_id = ?", (uid,)).fetchone()[0]
    assert row.startswith("scrypt$") and "correct" not in row
    assert users.authenticate(store, "王主任", "correct horse").user_id == uid
    assert users.authenticate(store, "王主任", "wrong one!") is None
    assert users.authenticate(store, "没有这人", "correct horse") is None
    token = users.start_session(store, users.get(store, uid), now=T0)
    s = users.session(store, token, now=T0 + dt.timedelta(minutes=10))
    assert s.user.name == "王主任" and len(s.csrf) > 20
    assert users.session(store, token, now=T0 + dt.timedelta(minutes=10 + users.IDLE_MINUTES + 1)) is None
    assert users.session(store, "nonsense") is None
    token2 = users.start_session(store, users.get(store, uid))
    users.end_session(store, token2)
    assert users.session(store, token2) is None


@pytest.mark.parametrize("kwargs", [
    dict(name="", role="office", password="council-hall-9"),
    dict(name="x" * 21, role="office", password="council-hall-9"),
    dict(name="a", role="boss", password="council-hall-9"),
    dict(name="a", role="office", password="short"),
    dict(name="a", role="reviewer", password="council-hall-9"),
    dict(name="a", role="reviewer", password="council-hall-9", compound_id=99),
    dict(name="a", role="merchant", password="council-hall-9"),
    dict(name="a", role="office", password="council-hall-9", compound_id=1),
])
def test_bad_users_are_refused(store, kwargs):
    with pytest.raises(BankError):
        users.add_user(store, **kwargs)
    assert _count(store, "console_users") == 0


def test_audit_is_append_only_and_searchable(store):
    audit.record(store, "王主任", "card.issue", "account 1", {"card": "100001"})
    audit.record(store, "李委员", "objection.rule", "objection 1", "upheld")
    assert [r.actor for r in audit.search(store, action="card")] == ["王主任"]
    assert [r.action for r in audit.search(store, text="upheld")] == ["objection.rule"]
    assert len(audit.search(store, text="%")) == 0
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.execute("DELETE FROM audit_log")


# --- objections ------------------------------------------------------------------------------

def _offer(store, points=5):
    mid = merchants.add_merchant(store, "老街小面", "noodles")
    return merchants.add_offer(store, mid, "小面", points, 700)


def test_objection_lifecycle_holds_points_and_upheld_posts_a_reversal(store, account):
    award = ledger.record_item(store, account, "YC01", recorded_by="t", now=T0)   # +5
    ledger.record_adjustment(store, account, 3, recorded_by="t", note="结转", now=T0)
    offer = _offer(store, 3)
    case = objections.raise_objection(store, account, reason="不是我家做的", raised_by="邻居", entry_id=award.entry_id)
    assert case.points_held == 5 and objections.held_points(store, account) == 5
    assert redemptions.available(store, account) == 3
    redemptions.redeem_at_office(store, account, offer, 1, recorded_by="t")   # the unheld 3 points
    with pytest.raises(InsufficientPoints, match="异议"):
        redemptions.redeem_at_office(store, account, offer, 1, recorded_by="t")
    assert ledger.balance(store, account) == 5
    with pytest.raises(InvalidInput, match="不能办理这一步"):
        objections.rule(store, case.objection_id, ruling="upheld", note="x", by="评议会")
    objections.assign(store, case.objection_id, to="李委员")
    objections.investigate(store, case.objection_id, findings="走访核实,确系误记")
    ruled = objections.rule(store, case.objection_id, ruling="upheld", note="误记,冲正", by="评议会")
    assert ruled.status == "ruled" and objections.held_points(store, account) == 0
    fixes = objections.corrections(store, case.objection_id)
    assert [e.kind for e in fixes] == ["reversal"] and fixes[0].reverses_entry_id == award.entry_id
    assert ledger.balance(store, account) == 0
    objections.answer(store, case.objection_id, text="已当面答复,居民无异议")
    filed = objections.file_case(store, case.objection_id, by="王主任")
    assert filed.status == "filed"


def test_rejected_objection_posts_nothing(store, account):
    award = ledger.record_item(store, account, "YC01", recorded_by="t", now=T0)
    case = objections.raise_objection(store, account, reason="有疑问", raised_by="居民", entry_id=award.entry_id,
                                      source="kiosk")
    objections.assign(store, case.objection_id, to="李委员")
    objections.investigate(store, case.objection_id, findings="属实")
    objections.rule(store, case.objection_id, ruling="rejected", note="记录无误", by="评议会")
    assert objections.corrections(store, case.objection_id) == []
    assert ledger.balance(store, account) == 5


@pytest.mark.parametrize("kwargs", [dict(reason=""), dict(reason="x" * 501), dict(entry_id=999999),
                                    dict(source="phone")])
def test_bad_objections_write_nothing(store, account, kwargs):
    args = dict(reason="理由", raised_by="居民") | kwargs
    with pytest.raises(BankError):
        objections.raise_objection(store, account, **args)
    assert _count(store, "objections") == 0


# --- verification, postings, boards ----------------------------------------------------------

def test_verification_finds_cap_and_price_anomalies_and_clears(store, account):
    ledger.record_item(store, account, "XS01", recorded_by="t", now=T0)
    e = ledger.entry(store, ledger.record_item(store, account, "XS03", recorded_by="t", now=T0).entry_id)
    # A second XS01 in the same day slipped past the cap (e.g. an old device): written raw.
    ledger.append(store, account_id=account, kind="award", points=1, recorded_by="old", device_id="k1",
                  device_time=None, now=T0, note="", ref=None, item_code="XS01", catalog_version=e.catalog_version,
                  period_key=clock.period_key("daily", T0))
    ledger.append(store, account_id=account, kind="award", points=7, recorded_by="old", device_id="k1",
                  device_time=None, now=T0, note="", ref=None, item_code="XS02", catalog_version=e.catalog_version,
                  period_key=clock.period_key("daily", T0))
    run = quarterly_check.run(store, Q1, by="评议会")
    found = quarterly_check.anomalies(store, run.run_id)
    kinds = sorted(a.kind for a in found)
    assert kinds == ["over_cap", "wrong_points"]
    assert run.checked_entries == 4
    quarterly_check.clear(store, found[0].anomaly_id, by="评议会", note="已核实")
    assert len(quarterly_check.anomalies(store, run.run_id, open_only=True)) == 1
    with pytest.raises(BankError):
        quarterly_check.clear(store, found[0].anomaly_id, by="评议会", note="again")
    with pytest.raises(BankError):
        quarterly_check.clear(store, found[1].anomaly_id, by="评议会", note="")


def test_posting_masks_names_and_boards_rank(store, account):
    other = accounts.open_account(store, kind="single", holder="李四", compound_id=1, building=1, unit=1,
                                  room="101", now=T0)
    ledger.record_item(store, account, "YC01", recorded_by="t", now=T0)
    ledger.record_item(store, other, "XS06", recorded_by="t", now=T0)
    rows = postings.summary(store, 1, Q1)
    by_id = {r.account_id: r for r in rows}
    assert by_id[account].masked_name == "张*明" and by_id[account].awarded == 5
    assert by_id[other].masked_name == "李*" and by_id[other].deducted == 10 and by_id[other].balance == -10
    b = boards.boards(store, 1, Q1)
    assert [r.account_id for r in b.red] == [account] and [r.account_id for r in b.black] == [other]
    p = postings.publish(store, kind="quarterly", period=Q1, compound_id=1, opens_on=dt.date(2026, 4, 3),
                         days=7, by="评议会")
    assert (p.opens_on, p.closes_on) == ("2026-04-03", "2026-04-09")
    assert p.is_open(dt.date(2026, 4, 9)) and not p.is_open(dt.date(2026, 4, 10))
    for bad in (dict(opens_on=dt.date(2026, 4, 3)), dict(opens_on=dt.date(2026, 3, 30), compound_id=1, kind="yearly"),
                dict(days=0, opens_on=dt.date(2026, 5, 1))):
        args = dict(kind="quarterly", period=Q1, compound_id=1, opens_on=dt.date(2026, 4, 3), days=7, by="x") | bad
        with pytest.raises(BankError):
            postings.publish(store, **args)
    assert _count(store, "postings") == 1


@pytest.mark.parametrize("text", ["", "2026", "2026Q5", "26Q1", "2026-13", None])
def test_bad_periods(text):
    with pytest.raises(InvalidInput):
        periods.quarter(text)
    with pytest.raises(InvalidInput):
        periods.month(text)


# --- tips, honours, volunteers, office entries ----------------------------------------------

def test_tips_follow_up(store, account):
    tid = tips.record(store, channel="phone", content="有人高空抛物", recorded_by="王主任", account_id=account)
    tips.follow_up(store, tid, status="following", note="已联系楼长", by="王主任")
    tips.follow_up(store, tid, status="closed", note="已批评教育", by="王主任")
    t = tips.get(store, tid)
    assert t.status == "closed" and "已联系楼长" in t.follow_up and t.compound_id == 1
    with pytest.raises(InvalidInput):
        tips.follow_up(store, tid, status="open", note="x", by="王主任")
    with pytest.raises(InvalidInput):
        tips.record(store, channel="phone", content=" ", recorded_by="x")


def test_honours_nominate_and_decide(store, account):
    nid = honours.nominate(store, year=2026, honour="moral_model", account_id=account, source="assembly",
                           nominator="居民代表大会", reason="孝老爱亲", by="王主任")
    with pytest.raises(InvalidInput):
        honours.nominate(store, year=2026, honour="moral_model", account_id=account, source="assembly",
                         nominator="居民代表大会", reason="again", by="王主任")
    honours.decide(store, nid, decision="awarded", by="评议会")
    assert honours.nominations(store, 2026)[0].decision == "awarded"
    with pytest.raises(BankError):
        honours.decide(store, nid, decision="declined", by="评议会")


def test_team_service_is_all_or_nothing(store, account):
    tid = teams.add(store, "和事佬调解队")
    other = accounts.open_account(store, kind="single", holder="李四", compound_id=1, building=1, unit=1, room="1")
    for aid in (account, other):
        store.execute("UPDATE members SET team_id = ? WHERE account_id = ?", (tid, aid))
    now = dt.datetime(2026, 3, 3, 2, tzinfo=clock.UTC)
    posted = volunteering.record_service(store, tid, item_code="ML03", description="调解纠纷", served_on=now.date(),
                                         recorded_by="王主任", now=now)
    assert len(posted) == 2
    volunteering.record_service(store, tid, item_code="ML03", description="调解纠纷", served_on=now.date(),
                                recorded_by="王主任", now=now)
    before = _count(store, "ledger_entries")
    with pytest.raises(CapExceeded, match="储户"):
        volunteering.record_service(store, tid, item_code="ML03", description="再来", served_on=now.date(),
                                    recorded_by="王主任", now=now)
    assert _count(store, "ledger_entries") == before and _count(store, "team_services") == 2


def test_office_entries_scope_and_recusal(store, account):
    community.add_compound(store, "金色港湾", 8, service_point="金色港湾党群服务点")
    other = accounts.open_account(store, kind="household", holder="钱某", compound_id=1, building=1, unit=1, room="101")
    far = accounts.open_account(store, kind="household", holder="赵某", compound_id=2, building=1, unit=1, room="101")
    # Recusal is by household account: "张组员" lives in the account, whatever their log-in name.
    link = {name: reviewers.add(store, compound_id=cid, account_id=aid, name=name, pin="1357")[0].reviewer_id
            for name, cid, aid in (("赵组员", 2, far), ("张组员", 1, account), ("钱组员", 1, other))}
    for name, rid in link.items():
        users.add_user(store, name=name, role="reviewer", reviewer_id=rid, password="council-hall-9")
    by = {u.name: u for u in users.all_users(store)}
    assert by["赵组员"].compound_id == 2
    with pytest.raises(reviews.NotAllowed, match="本小区"):
        reviews.record(store, by["赵组员"], account, "XS01")
    with pytest.raises(reviews.NotAllowed, match="回避"):
        reviews.record(store, by["张组员"], account, "XS01")
    e = reviews.record(store, by["钱组员"], account, "XS01")
    assert e.recorded_by == "评议小组成员:钱组员"
    assert _count(store, "ledger_entries") == 1
    # A reviewer user is always a review-group member; a member leaving ends their log-in too.
    with pytest.raises(InvalidInput, match="关联"):
        users.add_user(store, name="无关联", role="reviewer", compound_id=1, password="council-hall-9")
    with pytest.raises(InvalidInput, match="已关联"):
        users.add_user(store, name="重复", role="reviewer", reviewer_id=link["钱组员"], password="council-hall-9")
    reviews.leave_group(store, link["钱组员"])
    assert not users.get(store, by["钱组员"].user_id).active
    with pytest.raises(reviews.NotAllowed, match="不是评议小组成员"):
        reviews.record(store, users.get(store, by["钱组员"].user_id), account, "XS01")
