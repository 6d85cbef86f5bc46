"""Registration on the command line (``python -m office account|merchant|offer|team|card``): each
command through click's runner on a copy of the demo store, a couple as real processes; every
refusal is one plain line and leaves the file as it was; every change is in the audit log."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from bank import accounts, cards, db, ledger, merchants, teams
from office import cli
from tests.conftest import copy_store

GROUPS = {"account": ("add", "edit", "close", "list"), "merchant": ("add", "edit", "suspend"),
          "offer": ("add", "edit", "withdraw"), "team": ("add", "edit", "member"),
          "card": ("lost", "revoke", "reissue")}


@pytest.fixture
def store(demo_db, tmp_path):
    return copy_store(demo_db, tmp_path / "store.sqlite")


def run(*args, input=None, code=0):
    result = CliRunner().invoke(cli.main, [str(a) for a in args], input=input)
    assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    return result


def digest(path) -> str:
    """The store's content, WAL included (the main file alone may not show a write yet)."""
    c = db.connect(path, readonly=True)
    try:
        h = hashlib.sha256()
        for (table,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
            h.update(table.encode())
            for row in c.execute(f"SELECT * FROM {table}"):   # in storage order: a change shows
                h.update(repr(tuple(row)).encode())
        return h.hexdigest()
    finally:
        c.close()


def ro(path):
    return db.connect(path, readonly=True)


def audited(path, action: str) -> list:
    c = ro(path)
    try:
        return [json.loads(r[1]) if r[1].startswith("{") else r[1] for r in c.execute(
            "SELECT target, detail FROM audit_log WHERE action = ? AND actor = '命令行' ORDER BY audit_id", (action,))]
    finally:
        c.close()


@pytest.mark.parametrize("group, command", [(g, c) for g, cs in GROUPS.items() for c in cs])
def test_every_command_has_help(group, command):
    out = run(group, command, "--help").stdout
    assert "Usage" in out and "--db" in out


def test_account_add_json_has_account_and_card_and_the_pdf_decodes(store, tmp_path):
    import zxingcpp
    from tests.office.pdf_kit import render
    pdf = tmp_path / "card.pdf"
    out = run("account", "add", "--db", store, "--holder", "周新", "--member", "李玥:配偶", "--member", "周小雨:女儿",
              "--compound", 2, "--building", 3, "--unit", 1, "--room", "301", "--phone", "13800001111",
              "--out", pdf, "--json").stdout
    data = json.loads(out)
    c = ro(store)
    acct = accounts.get(c, data["account_id"])
    assert (acct.display_name, acct.compound_id, acct.address, acct.phone) == ("周新", 2, "3栋1单元301", "13800001111")
    assert [m["name"] for m in accounts.members(c, acct.account_id)] == ["周新", "李玥", "周小雨"]
    card = cards.current(c, data["card_id"])
    assert card.account_id == acct.account_id and card.status == "active" and data["qr"] == card.qr
    c.close()
    assert {r.text for r in zxingcpp.read_barcodes(render(pdf.read_bytes(), tmp_path, dpi=200))} == {card.qr}
    assert audited(store, "account.open")[-1]["card_id"] == data["card_id"]


@pytest.mark.parametrize("args, words", [
    (("--holder", "张三", "--compound", 1, "--building", 99, "--unit", 1, "--room", "101"), "楼栋号"),
    (("--holder", "", "--compound", 1, "--building", 1, "--unit", 1, "--room", "101"), "户主姓名"),
    (("--holder", "张三", "--compound", 8, "--building", 1, "--unit", 1, "--room", "101"), "小区"),
    (("--holder", "张三", "--compound", 1, "--building", 1, "--unit", 1, "--room", "1 01"), "房号"),
    (("--holder", "张三", "--compound", 1, "--building", 1, "--unit", 1, "--room", "101", "--phone", "x"), "电话"),
    (("--holder", "张三", "--compound", 1, "--building", 1, "--unit", 1, "--room", "101", "--member", "李四"), "姓名:关系"),
    (("--holder", "张三", "--kind", "single", "--member", "李四:配偶", "--compound", 1, "--building", 1, "--unit", 1,
      "--room", "101"), "个人账户"),
    (("--holder", "张三", "--compound", 1, "--building", 1, "--unit", 1, "--room", "101", "--out", "x.png"), ".pdf"),
    (("--holder", "张三", "--compound", "one", "--building", 1, "--unit", 1, "--room", "101"), "“one”不是整数"),
])
def test_account_add_refusals_are_one_line_and_write_nothing(store, args, words):
    before = digest(store)
    r = run("account", "add", "--db", store, *args, code=1 if words != "“one”不是整数" else 2)
    assert words in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) <= 3
    assert digest(store) == before


def test_account_edit_members_holder_and_status(store):
    data = json.loads(run("account", "add", "--db", store, "--holder", "周新", "--member", "李玥:配偶", "--compound", 1,
                          "--building", 1, "--unit", 1, "--room", "101", "--json").stdout)
    aid = data["account_id"]
    spouse = data["members"][1]["member_id"]
    run("account", "edit", "--db", store, aid, "--room", "202", "--phone", "023-6234567", "--add-member", "周小雨:女儿")
    run("account", "edit", "--db", store, data["card_id"], "--new-holder", spouse, "--old-holder-relation", "配偶")
    c = ro(store)
    acct = accounts.get(c, aid)
    assert (acct.room, acct.phone, acct.display_name) == ("202", "023-6234567", "李玥")
    assert [m["name"] for m in accounts.members(c, aid)] == ["李玥", "周新", "周小雨"]
    c.close()
    run("account", "edit", "--db", store, aid, "--suspend")
    assert accounts.get(ro(store), aid).status == "suspended"
    run("account", "edit", "--db", store, aid, "--reinstate")
    assert audited(store, "account.edit")[-1] == {"room": ["101", "202"], "phone": ["", "023-6234567"]}
    assert audited(store, "account.holder")[-1] == {"from": "周新", "to": "李玥"}
    before = digest(store)
    for args, words in ((("--reinstate",), "没有暂停"), ((), "没有要修改"), (("--new-holder", spouse), "--old-holder-relation"),
                        (("--room", "202", "--building", 40), "楼栋号"), (("--suspend", "--reinstate"), "不能同时"),
                        (("--remove-member", spouse), "户主不能移出")):
        r = run("account", "edit", "--db", store, aid, *args, code=1)
        assert words in r.stderr, (args, r.stderr)
    assert digest(store) == before


def test_account_close_says_what_happens_and_asks(store):
    c = ro(store)
    aid = c.execute("SELECT a.account_id FROM accounts a WHERE a.status = 'active' AND a.account_id NOT IN "
                    "(SELECT account_id FROM reviewers) AND a.account_id NOT IN (SELECT account_id FROM objections) "
                    "AND (SELECT sum(points) FROM ledger_entries e WHERE e.account_id = a.account_id) > 0 "
                    "ORDER BY a.account_id LIMIT 1").fetchone()[0]
    balance = ledger.balance(c, aid)
    card = next(k for k in cards.cards_of(c, aid) if k.status == "active")
    c.close()
    before = digest(store)
    r = run("account", "close", "--db", store, aid, "--note", "迁出", input="n\n", code=1)
    assert f"余额 {balance} 分作废" in r.stdout and card.card_id in r.stdout and "没有保存" in r.stderr
    assert digest(store) == before
    r = run("account", "close", "--db", store, aid, "--note", "全家迁出", input="y\n")
    assert "已销户" in r.stdout
    c = ro(store)
    assert accounts.get(c, aid).status == "closed" and ledger.balance(c, aid) == 0
    assert cards.current(c, card.card_id).status == "revoked"
    c.close()
    assert audited(store, "account.close")[-1]["points"] == balance
    r = run("account", "close", "--db", store, aid, "--note", "再来", "--yes", code=1)
    assert "已销户" in r.stderr


def test_account_list_pages_and_searches(store):
    first = json.loads(run("account", "list", "--db", store, "--compound", 1, "--per-page", 20, "--json").stdout)
    second = json.loads(run("account", "list", "--db", store, "--compound", 1, "--per-page", 20, "--page", 2,
                            "--json").stdout)
    assert first["total"] == 180 and first["pages"] == 9 and len(first["accounts"]) == 20
    assert first["accounts"][-1]["account_id"] < second["accounts"][0]["account_id"]
    one = first["accounts"][3]
    by_address = json.loads(run("account", "list", "--db", store, "--compound", 1, "--building", one["building"],
                                "--unit", one["unit"], "--room", one["room"], "--json").stdout)
    assert one["account_id"] in [a["account_id"] for a in by_address["accounts"]]
    by_card = json.loads(run("account", "list", "--db", store, "--q", one["card_id"], "--json").stdout)
    assert [a["account_id"] for a in by_card["accounts"]] == [one["account_id"]]
    text = run("account", "list", "--db", store, "--q", one["holder"]).stdout
    assert one["holder"] in text and "共" in text
    r = run("account", "list", "--db", store, "--status", "gone", code=2)
    assert "gone" in r.stderr


def test_merchant_offer_lifecycle(store):
    m = json.loads(run("merchant", "add", "--db", store, "--name", "龙海第七十一家面馆", "--category", "noodles",
                       "--compound", 3, "--address", "龙海大道71号", "--contact", "刘老板", "--phone", "13900001111",
                       "--json").stdout)
    mid = m["merchant_id"]
    c = ro(store)
    assert len(merchants.all_merchants(c)) == 71
    c.close()
    o = json.loads(run("offer", "add", "--db", store, "--merchant", mid, "--name", "小面", "--points", 6, "--value", "7",
                       "--json").stdout)
    assert o["below_promise"] is False
    cheap = run("offer", "add", "--db", store, "--merchant", mid, "--name", "馒头", "--points", 2, "--value", "1.5")
    assert "低于" in cheap.stderr and "1分至少值1元" in cheap.stderr
    run("offer", "edit", "--db", store, o["offer_id"], "--points", 7, "--value", "8.50")
    c = ro(store)
    assert (merchants.offer(c, o["offer_id"]).points, merchants.offer(c, o["offer_id"]).value_fen) == (7, 850)
    c.close()
    run("offer", "withdraw", "--db", store, o["offer_id"])
    assert not merchants.offer(ro(store), o["offer_id"]).active
    run("merchant", "edit", "--db", store, mid, "--address", "龙海大道72号")
    run("merchant", "suspend", "--db", store, mid)
    assert merchants.get(ro(store), mid).status == "suspended"
    run("merchant", "edit", "--db", store, mid, "--reinstate")
    r = run("merchant", "suspend", "--db", store, mid, "--leave")
    assert "已退出" in r.stdout and merchants.get(ro(store), mid).status == "left"
    assert [a for a in ("merchant.add", "offer.add", "offer.edit", "offer.withdraw", "merchant.edit",
                        "merchant.suspend", "merchant.reinstate", "merchant.leave") if not audited(store, a)] == []
    before = digest(store)
    for args, words in ((("merchant", "add", "--name", "龙海第七十一家面馆", "--category", "noodles"), "已有名为"),
                        (("merchant", "add", "--name", "新店"), "--category"),
                        (("merchant", "edit", 424242, "--name", "x"), "没有编号为 424242"),
                        (("offer", "add", "--merchant", 5, "--name", "x", "--points", 2, "--value", "2.345"), "金额"),
                        (("offer", "add", "--merchant", 5, "--name", "x", "--points", 0, "--value", "2"), "1到10000"),
                        (("offer", "add", "--merchant", mid, "--name", "x", "--points", 2, "--value", "2"), "已退出"),
                        (("offer", "edit", o["offer_id"], "--points", 3), "已撤下"),
                        (("offer", "withdraw", o["offer_id"]), "已经撤下"),
                        (("merchant", "suspend", mid), "不能暂停")):
        r = run(args[0], args[1], "--db", store, *args[2:], code=1 if words != "--category" else 2)
        assert words in r.stderr, (args, r.stderr)
    assert digest(store) == before


def test_team_add_edit_and_members(store):
    t = json.loads(run("team", "add", "--db", store, "--name", "银发助学队", "--description", "退休教师辅导功课",
                       "--registered-on", "2026-03-01", "--json").stdout)
    tid = t["team_id"]
    c = ro(store)
    people = [r[0] for r in c.execute("SELECT m.member_id FROM members m JOIN accounts a USING (account_id) "
                                      "WHERE m.team_id IS NULL AND a.status = 'active' ORDER BY m.member_id LIMIT 2")]
    in_other = c.execute("SELECT member_id FROM members WHERE team_id IS NOT NULL LIMIT 1").fetchone()[0]
    c.close()
    run("team", "member", "--db", store, tid, "--add", people[0], "--add", people[1])
    listed = json.loads(run("team", "member", "--db", store, tid, "--json").stdout)
    assert [m["member_id"] for m in listed["members"]] == people and listed["registered_on"] == "2026-03-01"
    run("team", "member", "--db", store, tid, "--remove", people[1])
    run("team", "edit", "--db", store, tid, "--registered-on", "none", "--name", "银发助学志愿队")
    c = ro(store)
    team = teams.get(c, tid)
    assert (team.name, team.registered_on) == ("银发助学志愿队", None)
    assert [m["member_id"] for m in teams.members(c, tid)] == people[:1]
    c.close()
    before = digest(store)
    for args, words in ((("add", "--name", "银发助学志愿队"), "已有名为"),
                        (("add", "--name", "新队", "--registered-on", "2999-01-01"), "不能晚于今天"),
                        (("add", "--name", "新队", "--registered-on", "3月1日"), "YYYY-MM-DD"),
                        (("member", tid, "--add", in_other), "请先退出"),
                        (("member", tid, "--add", people[1], "--add", 99999999), "没有编号为 99999999"),
                        (("edit", tid), "没有要修改")):
        r = run("team", args[0], "--db", store, *args[1:], code=2 if words == "YYYY-MM-DD" else 1)
        assert words in r.stderr, (args, r.stderr)
    assert digest(store) == before      # the first --add of a refused command was not kept either


def test_card_lost_revoke_reissue(store, tmp_path):
    c = ro(store)
    card = next(k for k in cards.all_cards(c) if k.status == "active" and k.role == "resident"
                and accounts.get(c, k.account_id).status == "active")
    staff = next(k for k in cards.all_cards(c) if k.status == "active" and k.role == "staff")
    c.close()
    new = json.loads(run("card", "lost", "--db", store, card.card_id, "--reason", "stolen", "--json").stdout)
    assert new["card_version"] == card.version + 1 and new["card_id"] == card.card_id
    c = ro(store)
    assert (card.card_id, card.version) in cards.revoked_versions(c)
    c.close()
    run("card", "revoke", "--db", store, card.card_id, "--reason", "misused")
    assert cards.current(ro(store), card.card_id).status == "revoked"
    pdf = tmp_path / "new.pdf"
    again = json.loads(run("card", "reissue", "--db", store, card.card_id, "--out", pdf, "--json").stdout)
    assert again["card_version"] == card.version + 2 and pdf.read_bytes()[:4] == b"%PDF"
    assert [d["reason"] for d in audited(store, "card.reissue")][-1] == "stolen"
    assert audited(store, "card.revoke") and audited(store, "card.replace")
    before = digest(store)
    for args, words in ((("reissue", card.card_id), "仍然有效"), (("lost", "999999"), "没有卡号为 999999"),
                        (("lost", staff.card_id), "工作卡"), (("revoke", card.card_id, "--reason", "bored"), "bored")):
        r = run("card", *args[:1], "--db", store, *args[1:], code=2 if words == "bored" else 1)
        assert words in r.stderr, (args, r.stderr)
    assert digest(store) == before


def test_as_real_processes(store):
    """As the office runs them: `account add --json` then `card lost`, and a refusal."""
    def proc(*args):
        return subprocess.run([sys.executable, "-m", "office", *map(str, args)], capture_output=True, text=True,
                              timeout=120)
    r = proc("account", "add", "--db", store, "--kind", "single", "--holder", "吴昊", "--compound", 4,
             "--building", 2, "--unit", 3, "--room", "502", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"account_id", "card_id"}
    r = proc("card", "lost", "--db", store, data["card_id"])
    assert r.returncode == 0 and "第 2 版" in r.stdout
    c = ro(store)
    taken = merchants.offers_of(c, 5)[0]
    c.close()
    before = digest(store)
    r = proc("offer", "add", "--db", store, "--merchant", 5, "--name", taken.name, "--points", 6, "--value", "7")
    assert r.returncode == 1 and "Traceback" not in r.stderr and f"已有“{taken.name}”" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert digest(store) == before


def test_a_tablet_learns_registration_changes_in_a_delta_pull(town, hub, tmp_path):
    """A household's changes and a suspension reach an enrolled tablet in the next delta pull (no
    full snapshot needed); the tablet holds the account's kind, never its members."""
    from terminal import redeem as engine
    from sync import client
    from tests.sync.kit import enrol_tablet

    h = enrol_tablet(town.path, hub, tmp_path / "tablet", town.noodles)
    aid, _, qr = town.rich
    run("account", "edit", "--db", town.path, aid, "--add-member", "李玥:配偶", "--add-member", "张小宇:儿子")
    result = client.sync_once(h, hub)
    assert (result.pulled, result.accounts) == ("delta", 1)            # only this account, from the last cursor
    conn = h.replica()
    try:
        assert conn.execute("SELECT kind FROM accounts WHERE account_id = ?", (aid,)).fetchone()[0] == "household"
        assert "李玥".encode() not in b"".join(p.read_bytes() for p in h.path.iterdir() if p.is_file())
    finally:
        conn.close()
    son = json.loads(run("account", "list", "--db", town.path, "--q", str(aid), "--json").stdout)["accounts"][0]
    son_id = next(m["member_id"] for m in son["members"] if m["name"] == "张小宇")
    run("account", "edit", "--db", town.path, aid, "--remove-member", son_id, "--suspend")
    assert client.sync_once(h, hub).pulled == "delta"
    with pytest.raises(engine.Refusal) as refusal:
        engine.inspect(h, qr)
    assert refusal.value.reason == "account_inactive"
