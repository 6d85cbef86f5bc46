"""Households merge and split (并户、分户): members and balance move by paired adjustment entries,
the emptied account is closed and its cards revoked, a split account gets a new card; bad input
writes nothing."""

from __future__ import annotations

import pytest

from bank import accounts, cards, db, households, ledger, reviewers
from bank.errors import InvalidInput
from office import server

from .console_kit import Browser, count, error_text, make_store


@pytest.fixture
def store(demo_db, tmp_path):
    return make_store(demo_db, tmp_path / "store.sqlite")


@pytest.fixture
def office(store):
    return Browser(server.create_app(store), "王主任")


def plain_accounts(store, n: int, *, members: int = 1):
    """Active compound-1 accounts without review-group members or open objections, with at least
    ``members`` members and a positive balance."""
    c = db.connect(store, readonly=True)
    rows = c.execute(
        "SELECT a.account_id FROM accounts a WHERE a.compound_id = 1 AND a.status = 'active' "
        "AND a.account_id NOT IN (SELECT account_id FROM reviewers) "
        "AND a.account_id NOT IN (SELECT account_id FROM objections) "
        "AND (SELECT count(*) FROM members m WHERE m.account_id = a.account_id) >= ? "
        "AND (SELECT sum(points) FROM ledger_entries e WHERE e.account_id = a.account_id) > 5 "
        "ORDER BY a.account_id DESC LIMIT ?", (members, n)).fetchall()
    c.close()
    return [r[0] for r in rows]


def state(store):
    return tuple(count(store, t) for t in ("ledger_entries", "accounts", "members", "cards", "audit_log"))


def test_merge_moves_members_and_balance(office, store):
    source, target = plain_accounts(store, 2)
    c = db.connect(store, readonly=True)
    s_bal, t_bal = ledger.balance(c, source), ledger.balance(c, target)
    names = [m["name"] for m in accounts.members(c, source)]
    entries = count(store, "ledger_entries")
    c.close()
    before = state(store)
    preview = office.post(f"/residents/{source}/merge", {"target": str(target), "note": "两户合住"})
    assert preview.status_code == 200 and "确认并户" in preview.text and state(store) == before
    for name in names:                                       # both households, members, points, cards shown
        assert name in preview.text
    assert f"余额 <b class=\"\">{s_bal}</b> 分" in preview.text and f"余额 <b class=\"\">{t_bal}</b> 分" in preview.text
    assert 'name="confirm" value="1"' in preview.text and 'name="target" value="%d"' % target in preview.text
    r = office.follow(office.post(f"/residents/{source}/merge", {"target": str(target), "note": "两户合住", "confirm": "1"}))
    assert "已并入本户" in r.text
    c = db.connect(store, readonly=True)
    assert ledger.balance(c, source) == 0 and ledger.balance(c, target) == s_bal + t_bal
    assert accounts.get(c, source).status == "closed" and accounts.members(c, source) == []
    assert set(names) <= {m["name"] for m in accounts.members(c, target)}
    assert all(k.status != "active" for k in cards.cards_of(c, source))
    out, into = c.execute("SELECT kind, points, note FROM ledger_entries ORDER BY entry_id DESC LIMIT 2").fetchall()[::-1]
    assert (out[0], out[1], into[0], into[1]) == ("adjustment", -s_bal, "adjustment", s_bal)
    assert f"转出至储户 {target}" in out[2] and "两户合住" in into[2]
    assert count(store, "ledger_entries") == entries + 2
    assert c.execute("SELECT count(*) FROM audit_log WHERE action = 'household.merge'").fetchone()[0] == 1
    c.close()
    # The closed account takes part in nothing more.
    r = office.post(f"/residents/{source}/merge", {"target": str(target), "note": "再来"})
    assert r.status_code == 400 and "已销户" in error_text(r)
    r = office.post(f"/residents/{target}/merge", {"target": str(source), "note": "并回去"})
    assert r.status_code == 400 and "已销户" in error_text(r)


def test_split_moves_chosen_members_with_points_and_a_new_card(office, store):
    (source,) = plain_accounts(store, 1, members=3)
    c = db.connect(store, readonly=True)
    members = [m for m in accounts.members(c, source) if not m["is_holder"]]
    bal = ledger.balance(c, source)
    c.close()
    moving = members[:1]
    data = {"member": [str(m["member_id"]) for m in moving], "points": "3", "room": "902", "note": "子女成家另立户"}
    before = state(store)
    preview = office.post(f"/residents/{source}/split", data)
    assert preview.status_code == 200 and "确认分户" in preview.text and state(store) == before
    assert f"{moving[0]['name']}分出为新储户" in preview.text and "902" in preview.text
    assert "原储户(办理前)" in preview.text and "分出的新储户" in preview.text      # both households shown
    r = office.post(f"/residents/{source}/split", data | {"confirm": "1"})
    page = office.follow(r)
    assert "已从储户" in page.text
    new_id = int(r.headers["location"].rsplit("/", 1)[1])
    c = db.connect(store, readonly=True)
    new = accounts.get(c, new_id)
    assert new.display_name == moving[0]["name"] and new.room == "902" and new.compound_id == 1
    assert [m["member_id"] for m in accounts.members(c, new_id)] == [moving[0]["member_id"]]
    assert ledger.balance(c, new_id) == 3 and ledger.balance(c, source) == bal - 3
    assert [k.status for k in cards.cards_of(c, new_id)] == ["active"]
    c.close()


def test_bad_input_writes_nothing(office, store):
    (source,) = plain_accounts(store, 1, members=2)
    c = db.connect(store, readonly=True)
    everyone = accounts.members(c, source)
    holder = [m for m in everyone if m["is_holder"]][0]
    others = [m for m in everyone if not m["is_holder"]]
    bal = ledger.balance(c, source)
    foreign = c.execute("SELECT member_id FROM members WHERE account_id <> ? LIMIT 1", (source,)).fetchone()[0]
    c.close()
    before = state(store)
    merges = [({"target": str(source), "note": "x"}, "它自己"), ({"target": "", "note": "x"}, "请填写"),
              ({"target": "abc", "note": "x"}, "整数"), ({"target": "99999999", "note": "x"}, "没有编号"),
              ({"target": str(plain_accounts(store, 2)[1]), "note": ""}, "请填写")]
    for data, words in merges:
        r = office.post(f"/residents/{source}/merge", data)
        assert r.status_code in (400, 404) and words in error_text(r), (data, error_text(r))
    every = [str(m["member_id"]) for m in everyone]
    splits = [({"member": every, "points": "0", "note": "x"}, "全部成员"),
              ({"member": [str(holder["member_id"])], "points": "0", "note": "x"}, "户主"),
              ({"points": "0", "note": "x"}, "请选择"),
              ({"member": [str(foreign)], "points": "0", "note": "x"}, "不属于"),
              ({"member": [str(others[0]["member_id"])], "points": str(bal + 1), "note": "x"}, "之间"),
              ({"member": [str(others[0]["member_id"])], "points": "-1", "note": "x"}, "分出的积分"),
              ({"member": [str(others[0]["member_id"])], "points": "0", "note": ""}, "请填写"),
              ({"member": ["abc"], "points": "0", "note": "x"}, "整数")]
    for data, words in splits:
        r = office.post(f"/residents/{source}/split", data)
        assert r.status_code == 400 and words in error_text(r), (data, error_text(r))
    assert state(store) == before


def test_refused_with_a_review_group_member_or_an_open_objection(store):
    c = db.connect(store)
    member = reviewers.get(c, 2)
    (other,) = plain_accounts(store, 1)
    before = state(store)
    with pytest.raises(InvalidInput, match="评议小组成员"):
        households.merge(c, member.account_id, other, note="x", by="测试")
    open_case = c.execute("SELECT account_id FROM objections WHERE status IN ('raised', 'assigned', 'investigated') "
                          "LIMIT 1").fetchone()
    if open_case:
        with pytest.raises(InvalidInput, match="异议"):
            households.merge(c, open_case[0], other, note="x", by="测试")
    c.close()
    assert state(store) == before


def test_only_the_office_merges_and_splits(store):
    app = server.create_app(store)
    source, target = plain_accounts(store, 2)
    for name in ("李委员", "钱组员"):
        b = Browser(app, name)
        assert b.post(f"/residents/{source}/merge", {"target": str(target), "note": "x"}).status_code == 403
