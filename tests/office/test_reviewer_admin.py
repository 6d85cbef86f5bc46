"""Review groups from the office: add a member from their household, staff card and PIN, print
staff cards with the 评议小组 badge, remove a member; the same from the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bank import accounts, cards, db, reviewers
from office import cli, server

from .console_kit import Browser, count, error_text, make_store
from .pdf_kit import pdf_text


@pytest.fixture
def store(demo_db, tmp_path):
    return make_store(demo_db, tmp_path / "store.sqlite")


@pytest.fixture
def office(store):
    return Browser(server.create_app(store), "王主任")


def household(store, compound: int = 1):
    """An active account of the compound with no review-group member yet, and its holder's name."""
    c = db.connect(store, readonly=True)
    row = c.execute("SELECT account_id, display_name FROM accounts WHERE compound_id = ? AND status = 'active' AND "
                    "account_id NOT IN (SELECT account_id FROM reviewers) ORDER BY account_id DESC LIMIT 1",
                    (compound,)).fetchone()
    c.close()
    return row[0], row[1]


def test_add_a_member_set_pin_print_and_remove(office, store, tmp_path):
    aid, name = household(store)
    page = office.get(f"/reviewers?account={aid}")
    assert page.status_code == 200 and f'<option value="{name}">' in page.text and "评议小组" in page.text
    r = office.follow(office.post("/reviewers", {"account": str(aid), "name": name, "pin": "1357", "pin2": "1357"}))
    assert "已加入评议小组" in r.text
    c = db.connect(store, readonly=True)
    member = [m for m in reviewers.all_members(c) if m.account_id == aid][0]
    assert cards.current(c, member.card_id).role == "staff" and accounts.check_pin(member.pin_hash, "1357")
    c.close()
    r = office.follow(office.post(f"/reviewers/{member.reviewer_id}/pin", {"pin": "8642", "pin2": "8642"}))
    assert "新的一体机密码" in r.text
    c = db.connect(store, readonly=True)
    assert accounts.check_pin(reviewers.get(c, member.reviewer_id).pin_hash, "8642")
    c.close()
    pdf = office.get(f"/reviewers/cards.pdf?ids={member.reviewer_id}")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    text = pdf_text(pdf.content, tmp_path)
    assert "评议小组" in text and "工作卡" in text and name in text and member.card_id in text
    everyone = pdf_text(office.get("/reviewers/cards.pdf").content, tmp_path)
    assert everyone.count("工作卡") >= 6 * 3
    r = office.follow(office.post(f"/reviewers/{member.reviewer_id}/leave"))
    assert "已退出评议小组" in r.text
    c = db.connect(store, readonly=True)
    assert not reviewers.get(c, member.reviewer_id).active and cards.current(c, member.card_id).status == "revoked"
    assert c.execute("SELECT count(*) FROM audit_log WHERE action LIKE 'reviewer.%'").fetchone()[0] >= 4
    c.close()


def test_bad_input_writes_nothing(office, store):
    aid, name = household(store)
    c = db.connect(store, readonly=True)
    other = c.execute("SELECT account_id FROM accounts WHERE compound_id = 1 AND status = 'closed' LIMIT 1").fetchone()
    left = c.execute("SELECT reviewer_id FROM reviewers WHERE active = 0 LIMIT 1").fetchone()
    c.close()
    before = count(store, "reviewers"), count(store, "cards"), count(store, "audit_log")
    bad = [({"account": str(aid), "name": "不存在的人", "pin": "1357", "pin2": "1357"}, "不是储户"),
           ({"account": str(aid), "name": name, "pin": "12", "pin2": "12"}, "4到6位数字"),
           ({"account": str(aid), "name": name, "pin": "1357", "pin2": "7531"}, "不一致"),
           ({"account": str(aid), "name": name, "pin": "abcd", "pin2": "abcd"}, "4到6位数字"),
           ({"account": "", "name": name, "pin": "1357", "pin2": "1357"}, "请填写"),
           ({"account": "99999999", "name": name, "pin": "1357", "pin2": "1357"}, "没有编号"),
           ({"account": "x" * 30, "name": name, "pin": "1357", "pin2": "1357"}, "整数"),
           ({"account": str(aid), "name": "", "pin": "1357", "pin2": "1357"}, "请填写")]
    if other:
        bad.append(({"account": str(other[0]), "name": "x", "pin": "1357", "pin2": "1357"}, "正常状态"))
    for data, words in bad:
        r = office.post("/reviewers", data)
        assert r.status_code in (400, 404) and words in error_text(r), (data, error_text(r))
    # Already a member: the demo's member 1 again.
    c = db.connect(store, readonly=True)
    m1 = reviewers.get(c, 1)
    c.close()
    r = office.post("/reviewers", {"account": str(m1.account_id), "name": m1.name, "pin": "1357", "pin2": "1357"})
    assert r.status_code == 400 and "已是评议小组成员" in error_text(r)
    for path in ("/reviewers/99999/pin", "/reviewers/abc/leave"):
        assert office.post(path, {"pin": "1357", "pin2": "1357"}).status_code == 404
    if left:
        assert office.post(f"/reviewers/{left[0]}/leave").status_code == 400
        assert office.post(f"/reviewers/{left[0]}/pin", {"pin": "1357", "pin2": "1357"}).status_code == 400
        assert office.get(f"/reviewers/cards.pdf?ids={left[0]}").status_code == 400
    assert office.get("/reviewers/cards.pdf?ids=abc").status_code == 400
    assert (count(store, "reviewers"), count(store, "cards")) == before[:2]


def test_only_the_office_changes_review_groups(store):
    app = server.create_app(store)
    council, reviewer = Browser(app, "李委员"), Browser(app, "钱组员")
    assert council.get("/reviewers").status_code == 200
    aid, name = household(store)
    for b in (council, reviewer):
        assert b.post("/reviewers", {"account": str(aid), "name": name, "pin": "1357", "pin2": "1357"}).status_code == 403
        assert b.post("/reviewers/2/leave").status_code == 403
    assert reviewer.get("/reviewers").status_code == 403


def test_cli_reviewer_add_and_list(store, tmp_path):
    aid, name = household(store, compound=2)
    pin = tmp_path / "pin.txt"
    pin.write_text("2580\n")
    run = lambda *a, **kw: CliRunner().invoke(cli.main, [str(x) for x in a], **kw)  # noqa: E731
    ok = run("reviewer", "add", "--db", store, "--compound", 2, "--account", aid, "--name", name, "--pin-file", pin)
    assert ok.exit_code == 0 and "工作卡卡号" in ok.output, ok.output
    listed = json.loads(run("reviewer", "list", "--db", store, "--json").output)
    mine = [r for r in listed if r["account_id"] == aid][0]
    assert mine["name"] == name and mine["active"] and mine["compound_id"] == 2
    assert "在组" in run("reviewer", "list", "--db", store).output
    before = count(store, "reviewers")
    for bad in (["--compound", 1, "--account", aid, "--name", name, "--pin-file", pin],     # wrong compound
                ["--compound", 2, "--account", aid, "--name", "无此人", "--pin-file", pin],
                ["--compound", 2, "--account", 99999999, "--name", name, "--pin-file", pin]):
        r = run("reviewer", "add", "--db", store, *bad)
        assert r.exit_code == 1 and r.output.startswith("错误:") and "Traceback" not in r.output, r.output
    prompted = run("reviewer", "add", "--db", store, "--compound", 2, "--account", aid, "--name", name,
                   input="12\n12\n")
    assert prompted.exit_code == 1 and "已是评议小组成员" in prompted.output
    assert count(store, "reviewers") == before
