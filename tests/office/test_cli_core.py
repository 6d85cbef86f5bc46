"""``python -m office``: the core commands, as a user runs them (subprocesses on real files)."""

import hashlib
import json
import subprocess
import sys

import pytest

from bank import cards, db


def run(*args, check=None):
    proc = subprocess.run([sys.executable, "-m", "office", *map(str, args)], capture_output=True,
                          text=True, timeout=120)
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def card_list(demo_db):
    return json.loads(run("cards", "--db", demo_db, "--json", check=0).stdout)


@pytest.mark.parametrize("command", ["demo", "cards", "verify-card", "balance", "rules", "tour", "migrate"])
def test_every_command_has_help(command):
    out = run(command, "--help", check=0).stdout
    assert "--db" in out and "Usage" in out


def test_cards_json(card_list):
    assert {tuple(sorted(c)) for c in card_list} == {("account_id", "card_id", "qr", "role", "status", "version")}
    assert {c["status"] for c in card_list} == {"active", "superseded", "revoked"}
    assert len(card_list) >= 1000


def test_verify_card_valid_superseded_revoked_and_garbage(demo_db, card_list):
    active = next(c for c in card_list if c["status"] == "active")
    out = run("verify-card", "--db", demo_db, active["qr"], check=0).stdout
    assert f"储户 {active['account_id']}" in out and "valid" in out
    superseded = next(c for c in card_list if c["status"] == "superseded")
    assert "superseded" in run("verify-card", "--db", demo_db, superseded["qr"], check=1).stdout
    revoked = next(c for c in card_list if c["status"] == "revoked")
    assert "revoked" in run("verify-card", "--db", demo_db, revoked["qr"], check=1).stdout
    for text in ("hello", active["qr"][:-1] + ("A" if active["qr"][-1] != "A" else "B"), "MPB1:" * 50):
        out = run("verify-card", "--db", demo_db, text, check=1).stdout
        assert "refused" in out


def test_balance_by_account_and_by_card(demo_db, card_list):
    card = next(c for c in card_list if c["status"] == "active")
    by_card = json.loads(run("balance", "--db", demo_db, card["card_id"], "--json", check=0).stdout)
    by_account = json.loads(run("balance", "--db", demo_db, card["account_id"], "--json", check=0).stdout)
    assert by_card == by_account
    assert by_card["account_id"] == card["account_id"]
    conn = db.connect(demo_db, readonly=True)
    from bank import ledger
    assert by_card["balance"] == ledger.balance(conn, card["account_id"])
    assert len(by_card["entries"]) == min(20, len(ledger.entries(conn, card["account_id"])))
    if by_card["entries"]:
        assert by_card["entries"][0]["balance_after"] == by_card["balance"]
    human = run("balance", "--db", demo_db, card["account_id"], check=0).stdout
    assert f"余额 {by_card['balance']} 分" in human


def test_rules_json_holds_the_catalog(demo_db):
    rules = json.loads(run("rules", "--db", demo_db, "--json", check=0).stdout)
    assert len(rules["items"]) == 25
    assert {i["cadence"] for i in rules["items"]} == {"daily", "weekly", "monthly", "yearly"}
    fighting = next(i for i in rules["items"] if i["name"] == "打架斗殴")
    assert fighting["points"] == -10 and fighting["cap"] is None
    assert "天天存" in run("rules", "--db", demo_db, check=0).stdout


def test_tour_prints_counts_cards_and_a_passbook(demo_db):
    out = run("tour", "--db", demo_db, check=0).stdout
    assert "储户 1080 户" in out and "商户 70 家" in out and "一本存折" in out and "MPB1:LH:" in out


def test_tour_of_a_community_just_founded_says_nothing_is_booked_yet(tmp_path):
    import datetime as dt

    from bank import community, convention
    path = tmp_path / "new.sqlite"
    conn = db.connect(path, create=True)
    with db.transaction(conn):
        community.found(conn, code="NQ", name="南泉社区")
        convention.install(conn, convention.load_file(), effective_from=dt.date(2025, 1, 1))
        community.add_compound(conn, "南泉花园", 5, service_point="南泉花园党群服务点")
    conn.close()
    out = run("tour", "--db", path, check=0).stdout
    assert "南泉社区道德积分银行" in out and "储户 0 户" in out and "台账还没有记录" in out


def test_tour_prints_the_reports_figures_beside_the_demos(demo_db):
    out = run("tour", "--db", demo_db, check=0).stdout
    lines = {line.split()[0]: line for line in out.splitlines() if "报告" in line and "本库" in line}
    assert "报告 1000多名" in lines["持卡居民"] and "本库 1078户" in lines["持卡居民"]
    assert "报告 超过20000分" in lines["累计获得积分"]
    assert int(lines["累计获得积分"].split("本库 ")[1].rstrip("分")) > 20_000
    assert "报告 70家" in lines["兑换单位"] and "本库 70家,每月有兑换的至少70家" in lines["兑换单位"]
    assert "本库 13支" in lines["志愿者队伍"] and "本库 25个" in lines["积分扣分细项"]


def test_bad_input_gets_one_plain_line_and_writes_nothing(demo_db, tmp_path):
    before = digest(demo_db)
    cases = [
        (("balance", "--db", tmp_path / "missing.sqlite", "1"), "not found"),
        (("balance", "--db", demo_db, "abc"), "not an account id"),
        (("balance", "--db", demo_db, "999999"), "no card"),
        (("balance", "--db", demo_db, "42424"), "no account"),
        (("cards", "--db", demo_db, "--bogus"), "没有 --bogus 这个选项"),
        (("demo", "--db", demo_db), "already exists"),
        (("demo", "--db", tmp_path / "n.sqlite", "--until", "2026-02-30"), "YYYY-MM-DD"),
        (("demo", "--db", tmp_path / "n.sqlite", "--seed", "x"), "“x”不是整数"),
    ]
    for args, message in cases:
        proc = run(*args)
        assert proc.returncode != 0, args
        assert message in proc.stderr, (args, proc.stderr)
        assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1, (args, proc.stderr)
    assert digest(demo_db) == before
    assert not (tmp_path / "n.sqlite").exists()


def test_foreign_file_is_refused_untouched(tmp_path):
    foreign = tmp_path / "photo.jpg"
    foreign.write_bytes(b"\xff\xd8\xff" + bytes(5000))
    proc = run("cards", "--db", foreign, check=1)
    assert "不是道德积分银行的数据库" in proc.stderr or "not a Moral Points Bank" in proc.stderr or \
        "cannot open" in proc.stderr
    assert foreign.read_bytes()[:3] == b"\xff\xd8\xff" and len(foreign.read_bytes()) == 5003


def test_demo_command_builds_a_new_file(tmp_path):
    path = tmp_path / "c.sqlite"
    out = run("demo", "--db", path, "--seed", "3", "--until", "2026-06-30", check=0).stdout
    assert "1080 户储户" in out
    conn = db.connect(path, readonly=True)
    assert len(cards.all_cards(conn)) >= 1080
