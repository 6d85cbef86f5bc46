"""bank.district: many communities in one PostgreSQL store, one schema each (real PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from bank import accounts, clock, community, convention, db, district, keystore, ledger
from bank.district import CompoundPlan
from bank.errors import DatabaseError, InvalidInput, NotFound
from tests import district_kit, pg_kit
from tests.district_kit import COMPOUNDS, T0


@pytest.fixture
def two(pg_server, request, tmp_path):
    return district_kit.new_district(pg_server, request, tmp_path)


def _tables(owner: str, schema: str) -> set[str]:
    with psycopg.connect(owner) as raw:
        return {r[0] for r in raw.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))}


def test_community_url_puts_one_schema_on_the_search_path():
    url = "postgresql://mpb_app@/district?host=/run/pg&port=5433"
    lh = district.community_url(url, "LH")
    assert lh.startswith("postgresql://mpb_app@/district?host=/run/pg&port=5433&options=")
    assert "search_path%3Dc_lh" in lh
    # another community's URL of it is that community's, not both
    assert "c_lh" not in district.community_url(lh, "JS") and "search_path%3Dc_js" in district.community_url(lh, "JS")
    with pytest.raises(InvalidInput):
        district.community_url(url, "lh")
    with pytest.raises(InvalidInput):
        district.community_url("/tmp/store.sqlite", "LH")


def test_each_community_is_a_whole_store_of_its_own_and_nothing_lands_in_public(two):
    owner, app, _keys = two
    assert district.is_district(owner) and district.is_district(app)
    assert not district.is_district(district.community_url(app, "LH")) and district.has_directory(district.community_url(app, "LH"))
    assert [(e.code, e.name) for e in district.communities(app)] == [("JS", "JS社区"), ("LH", "LH社区")]
    assert _tables(owner, "public") == set()
    lh, js = _tables(owner, "c_lh"), _tables(owner, "c_js")
    assert "ledger_entries" in lh and lh == js and lh <= _tables(owner, "district") | {"communities"} | lh
    assert "communities" in _tables(owner, "district")
    with psycopg.connect(owner) as raw:
        functions = raw.execute("SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n "
                                "ON n.oid = p.pronamespace WHERE p.proname LIKE 'mpb_%' ORDER BY 1, 2").fetchall()
        versions = {s: raw.execute(f"SELECT version FROM {s}.mpb_store").fetchone()[0]
                    for s in ("district", "c_js", "c_lh")}
    assert functions == [(s, f) for s in ("c_js", "c_lh", "district") for f in ("mpb_refuse", "mpb_replica_change")]
    assert set(versions.values()) == {db.schema_version()}
    for entry in district.communities(app):
        conn = db.connect(entry.url)
        assert community.code(conn) == entry.code
        assert [c.name for c in community.compounds(conn)] == ["龙海花园", "金色港湾"]
        assert conn.execute("SELECT count(*) FROM issuing_keys").fetchone()[0] == 1
        conn.close()


def test_the_same_ids_in_two_communities_stay_apart(two):
    _owner, app, keys = two
    lh, js = (db.connect(district.community_url(app, c)) for c in ("LH", "JS"))
    for conn, points in ((lh, 5), (js, 7)):
        with db.transaction(conn):
            aid = accounts.open_account(conn, kind="single", holder="张三", compound_id=1, building=1, unit=1,
                                        room="101", now=T0)
            ledger.record_adjustment(conn, aid, points, recorded_by="社区办公室", note="结转", now=T0)
        assert aid == 1
    assert ledger.balance(lh, 1) == 5 and ledger.balance(js, 1) == 7
    # the ledger stays append-only for the office's role in every community
    with pytest.raises(Exception, match="append-only|permission denied"):
        js.execute("UPDATE ledger_entries SET points = 100")
    lh.close()
    js.close()


def test_a_trigger_writes_to_its_own_community_whoever_fires_it(two):
    owner, _app, _keys = two
    conn = db.connect(district.community_url(owner, "LH"))
    with db.transaction(conn):
        accounts.open_account(conn, kind="single", holder="张三", compound_id=1, building=1, unit=1, room="101", now=T0)
    conn.close()
    with psycopg.connect(owner, autocommit=True) as raw:   # search path: public
        before = raw.execute("SELECT count(*) FROM c_lh.replica_changes").fetchone()[0]
        raw.execute("UPDATE c_lh.accounts SET display_name = 'y'")
        assert raw.execute("SELECT count(*) FROM c_lh.replica_changes").fetchone()[0] == before + 1
        assert raw.execute("SELECT count(*) FROM c_js.replica_changes").fetchone()[0] == 0


def test_each_community_reads_its_own_schema_version(two):
    owner, app, _keys = two
    with psycopg.connect(owner, autocommit=True) as raw:
        raw.execute("UPDATE c_js.mpb_store SET version = version + 1")
    db.connect(district.community_url(app, "LH")).close()      # its own row: up to date
    with pytest.raises(DatabaseError, match="newer"):
        db.connect(district.community_url(app, "JS"))


@pytest.mark.parametrize("code, name, compounds, why", [
    ("lh", "新社区", COMPOUNDS, "capital letters"),
    ("L", "新社区", COMPOUNDS, "capital letters"),
    ("ABCDEFGHI", "新社区", COMPOUNDS, "capital letters"),
    ("L1", "新社区", COMPOUNDS, "capital letters"),
    ("LH", "新社区", COMPOUNDS, "taken"),
    ("XY", "LH社区", COMPOUNDS, "taken"),
    ("XY", " ", COMPOUNDS, "name"),
    ("XY", "新社区", [], "at least one compound"),
    ("XY", "新社区", [COMPOUNDS[0], COMPOUNDS[0]], "twice"),
])
def test_a_bad_or_taken_community_is_refused_and_nothing_is_written(two, tmp_path, code, name, compounds, why):
    owner, app, keys = two
    before = sorted(p.name for p in (tmp_path / "keys").iterdir())
    with psycopg.connect(owner) as raw:
        schemas = raw.execute("SELECT nspname FROM pg_namespace ORDER BY 1").fetchall()
    with pytest.raises(InvalidInput, match=why):
        district.add_community(owner, code=code, name=name, compounds=compounds, now=T0, keys=keys,
                               app_role=pg_kit.APP)
    with psycopg.connect(owner) as raw:
        assert raw.execute("SELECT nspname FROM pg_namespace ORDER BY 1").fetchall() == schemas
    assert [e.code for e in district.communities(app)] == ["JS", "LH"]
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == before


def test_a_community_that_fails_half_way_leaves_nothing(two, tmp_path, monkeypatch):
    owner, app, keys = two
    from bank import cards

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(cards, "create_issuing_key", broken)
    with pytest.raises(OSError):
        district.add_community(owner, code="XY", name="新社区", compounds=COMPOUNDS, now=T0, keys=keys)
    assert [e.code for e in district.communities(app)] == ["JS", "LH"]
    with psycopg.connect(owner) as raw:
        assert raw.execute("SELECT to_regnamespace('c_xy')").fetchone()[0] is None


def test_a_district_is_made_once_and_only_on_postgresql(pg_server, request, tmp_path):
    owner, app = district_kit.new_database(pg_server, request)
    assert not district.is_district(owner)
    with pytest.raises(DatabaseError, match="not a district store"):
        district.communities(owner)
    with pytest.raises(DatabaseError, match="not a district store"):
        district.add_community(owner, code="LH", name="龙海", compounds=COMPOUNDS, now=T0,
                               keys=keystore.KeyStore(tmp_path / "keys"))
    district.create(owner)
    with pytest.raises(DatabaseError, match="already"):
        district.create(owner)
    assert district.communities(owner) == []
    with pytest.raises(InvalidInput):
        district.create(str(tmp_path / "x.sqlite"))


def test_compounds_are_read_from_lines(tmp_path):
    path = tmp_path / "compounds.csv"
    path.write_text("# 小区,楼栋数,服务点\n龙海花园,9,龙海花园党群服务点\n\n金色港湾,8\n", encoding="utf-8")
    assert district.read_compounds(path) == [CompoundPlan("龙海花园", 9, "龙海花园党群服务点"),
                                             CompoundPlan("金色港湾", 8, "金色港湾党群服务点")]
    path.write_text("龙海花园,九\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="compounds.csv 第1行"):
        district.read_compounds(path)
    with pytest.raises(InvalidInput, match="NAME,BUILDINGS"):
        district.parse_compound("龙海花园")
    assert district.parse_compound("滨江丽景,10") == CompoundPlan("滨江丽景", 10, "滨江丽景党群服务点")


def test_a_new_community_has_its_convention_in_force_from_its_founding_day(two):
    _owner, app, _keys = two
    conn = db.connect(district.community_url(app, "JS"))
    founded = clock.local_date(T0)
    catalog = convention.in_force(conn, founded)
    assert catalog.effective_from == founded
    assert len(catalog.items) == len(convention.load_file()["items"])
    with pytest.raises(NotFound):
        convention.in_force(conn, founded - dt.timedelta(days=1))
    conn.close()


def test_a_bad_convention_file_is_refused_and_nothing_is_written(two, tmp_path):
    owner, app, keys = two
    with pytest.raises(InvalidInput):
        district.add_community(owner, code="XY", name="新社区", compounds=COMPOUNDS, now=T0, keys=keys,
                               catalog={"items": "not a list"})
    assert [e.code for e in district.communities(app)] == ["JS", "LH"]
