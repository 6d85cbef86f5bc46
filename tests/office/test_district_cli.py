"""``python -m office community add|list``, ``demo --communities N`` and ``--community CODE``
on a district store (subprocesses, real PostgreSQL)."""

from __future__ import annotations

import json

import psycopg
import pytest

from bank import community, db, demo, district
from tests import district_kit, pg_kit
from tests.district_kit import run


@pytest.fixture
def database(pg_server, request):
    return district_kit.new_database(pg_server, request)


def _schemas(owner):
    with psycopg.connect(owner) as raw:
        return [r[0] for r in raw.execute("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' "
                                          "AND nspname <> 'information_schema' ORDER BY 1")]


def test_community_add_from_a_file_and_from_arguments_then_list(database, tmp_path):
    owner, app = database
    keys = tmp_path / "keys"
    compounds = tmp_path / "小区.csv"
    compounds.write_text("# 小区名称,楼栋数,服务点(可省略)\n龙海花园,9,龙海花园党群服务点\n金色港湾,8\n", encoding="utf-8")
    out = run("community", "add", "--db", owner, "--code", "LH", "--name", "龙海社区", "--compounds", compounds,
              "--app-role", pg_kit.APP, check=0, key_dir=keys).stdout
    assert "LH" in out and "2" in out
    run("community", "add", "--db", owner, "--code", "JS", "--name", "界石社区", "--compound", "界石花园,4",
        "--compound", "桂花苑,3,桂花苑服务站", "--app-role", pg_kit.APP, check=0, key_dir=keys)
    assert json.loads(run("community", "list", "--db", app, "--json", check=0).stdout) == [
        {"code": "JS", "name": "界石社区"}, {"code": "LH", "name": "龙海社区"}]
    assert "LH\t龙海社区" in run("community", "list", "--db", app, check=0).stdout
    assert sorted(p.name.split("-")[0] for p in keys.iterdir()) == ["JS", "LH"]
    # every other command reaches one community with --community
    rules = run("merchants", "--db", app, "--community", "JS", "--json", check=0)
    assert json.loads(rules.stdout) == []
    conn = db.connect(district.community_url(app, "JS"))
    assert conn.execute("SELECT name FROM service_points ORDER BY 1").fetchall() == [("桂花苑服务站",), ("界石花园党群服务点",)]
    conn.close()


@pytest.mark.parametrize("args, says", [
    (["--code", "lh", "--name", "龙海社区", "--compound", "龙海花园,9"], "大写英文字母"),
    (["--code", "LONGHAIXX", "--name", "龙海社区", "--compound", "龙海花园,9"], "大写英文字母"),
    (["--code", "LH", "--name", "龙海社区", "--compound", "龙海花园"], "楼栋数"),
    (["--code", "LH", "--name", "龙海社区", "--compound", "龙海花园,0"], "楼栋数"),
    (["--code", "LH", "--name", "龙海社区"], "--compounds"),
])
def test_a_bad_community_is_one_plain_line_and_writes_nothing(database, tmp_path, args, says):
    owner, _app = database
    before = _schemas(owner)
    proc = run("community", "add", "--db", owner, *args, key_dir=tmp_path / "keys")
    assert proc.returncode != 0 and says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert _schemas(owner) == before
    assert not (tmp_path / "keys").exists()


def test_a_taken_code_is_refused(database, tmp_path):
    owner, app = database
    keys = tmp_path / "keys"
    run("community", "add", "--db", owner, "--code", "LH", "--name", "龙海社区", "--compound", "龙海花园,9",
        check=0, key_dir=keys)
    before, files = _schemas(owner), sorted(keys.iterdir())
    proc = run("community", "add", "--db", owner, "--code", "LH", "--name", "另一个社区", "--compound", "x,1",
               check=1, key_dir=keys)
    assert "已被使用" in proc.stderr
    assert _schemas(owner) == before and sorted(keys.iterdir()) == files


def test_community_commands_need_a_district(database, tmp_path):
    owner, _app = database
    proc = run("community", "list", "--db", owner, check=1)
    assert "不是区级数据库" in proc.stderr
    proc = run("community", "list", "--db", tmp_path / "x.sqlite", check=1)
    assert "postgresql://" in proc.stderr
    proc = run("merchants", "--db", tmp_path / "x.sqlite", "--community", "LH", check=1)
    assert "--community" in proc.stderr
    district.create(owner)
    proc = run("merchants", "--db", owner, "--community", "XY", check=1)
    assert "没有社区 XY" in proc.stderr


@pytest.mark.slow
def test_demo_district_names_codes_and_seeds(database, tmp_path):
    owner, app = database
    codes = [demo.district_community(i)[0] for i in range(demo.MAX_COMMUNITIES)]
    names = [demo.district_community(i)[1] for i in range(demo.MAX_COMMUNITIES)]
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    assert all(district.CODE.fullmatch(c) for c in codes)
    proc = run("demo", "--db", owner, "--communities", "2", "--until", "2026-06-30", "--app-role", pg_kit.APP,
               check=0, key_dir=tmp_path / "k")
    assert "LH" in proc.stdout and "LZW" in proc.stdout
    entries = district.communities(app)
    assert [(e.code, e.name) for e in entries] == [("LH", "龙海社区"), ("LZW", "龙洲湾社区")]
    figures = []
    for e in entries:
        conn = db.connect(e.url)
        figures.append(conn.execute("SELECT count(*), sum(points) FROM ledger_entries").fetchone())
        assert community.code(conn) == e.code
        conn.close()
    assert figures[0] != figures[1] and min(f[0] for f in figures) > 10_000
    # the same arguments give the same community: LH is the one-community demo of the same seed
    lh = tmp_path / "lh.sqlite"
    run("demo", "--db", lh, "--until", "2026-06-30", check=0)
    conn = db.connect(lh)
    assert tuple(conn.execute("SELECT count(*), sum(points) FROM ledger_entries").fetchone()) == tuple(figures[0])
    conn.close()
    assert "--communities" in run("demo", "--db", tmp_path / "x.sqlite", "--communities", "2", check=2).stderr


def test_migrate_grants_the_app_role_of_a_single_community_store_the_app_role_append_only(database, tmp_path):
    owner, app = database
    db.connect(owner, create=True).close()   # a store of one community, as demo or restore leaves it
    out = run("migrate", "--db", owner, "--app-role", pg_kit.APP, check=0, key_dir=tmp_path / "k").stdout
    assert pg_kit.APP in out and "版" in out
    conn = db.connect(app, migrate=False)
    with db.transaction(conn):
        community.found(conn, code="LH", name="龙海社区")
    assert community.code(conn) == "LH"
    conn.close()
    with psycopg.connect(app) as raw, pytest.raises(psycopg.errors.InsufficientPrivilege):
        raw.execute("DELETE FROM ledger_entries")
    assert "--app-role" in run("migrate", "--db", tmp_path / "x.sqlite", "--app-role", "x", check=2).stderr
