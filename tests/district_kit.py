"""District stores for the tests: a fresh PostgreSQL database of its own on the session's server,
made a district store by its owner role, the office connecting as the application role."""

from __future__ import annotations

import datetime as dt

from bank import district, keystore
from bank.district import CompoundPlan

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
COMPOUNDS = [CompoundPlan("龙海花园", 9, "龙海花园党群服务点"), CompoundPlan("金色港湾", 8, "金色港湾党群服务点")]


def new_database(server, request) -> tuple[str, str]:
    """(owner URL, application URL) of a new, empty database, dropped at the end of the test."""
    from tests import pg_kit
    name = f"d{next(server._counter)}"
    with server.admin() as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER {pg_kit.OWNER}")
    request.addfinalizer(lambda: server.drop_database(name))
    return server.url(name, pg_kit.OWNER), server.url(name, pg_kit.APP)


def new_district(server, request, tmp_path, codes=("LH", "JS"), *, compounds=COMPOUNDS):
    """A district store with the communities ``codes`` (names derived from them), keys in
    tmp_path/keys; returns (owner URL, application URL, the key store)."""
    from tests import pg_kit
    owner, app = new_database(server, request)
    keys = keystore.KeyStore(tmp_path / "keys")
    district.create(owner, app_role=pg_kit.APP)
    for code in codes:
        district.add_community(owner, code=code, name=f"{code}社区", compounds=compounds, now=T0, keys=keys,
                               app_role=pg_kit.APP)
    return owner, app, keys


# --- two communities with the same-looking data, served by one district server ------------------

PASSWORD = "test-password-1"
USERS = {"王主任": "office", "李委员": "council"}     # the same user names in every community


def populate(conn, code: str, name: str, *, marker: str) -> dict:
    """A small community in an empty migrated store (the same ids in every store it is run on):
    a compound, two merchants with offers, three households with cards and balances, the office's
    users. ``marker`` starts every name a person reads, so a page can be searched for it."""
    from bank import accounts, cards, community, convention, db, merchants, policy, users
    with db.transaction(conn):
        community.found(conn, code=code, name=name)
        cards.create_issuing_key(conn, now=T0)
        convention.install(conn, convention.load_file(), effective_from=dt.date(2025, 1, 1), now=T0)
        cid = community.add_compound(conn, f"{marker}花园", 9, service_point=f"{marker}花园党群服务点")
        noodles = merchants.add_merchant(conn, f"{marker}小面", "noodles", compound_id=cid)
        merchants.add_merchant(conn, f"{marker}药房", "pharmacy", compound_id=cid)
        bowl = merchants.add_offer(conn, noodles, f"{marker}小面一碗", 6, 700)
        policy.set_policy(conn, None, **vars(policy.OfflinePolicy()))
        people = []
        for n, pts in (("甲", 100), ("乙", 20), ("丙", 30)):
            aid = accounts.open_account(conn, kind="household", holder=f"{marker}{n}", compound_id=cid, building=1,
                                        unit=1, room="101", now=T0)
            card = cards.issue(conn, aid, now=T0)
            ledger_note = f"{marker}期初余额"
            from bank import ledger
            ledger.record_adjustment(conn, aid, pts, recorded_by="社区办公室", note=ledger_note, now=T0)
            people.append((aid, card.card_id, card.qr))
        for user, role in USERS.items():
            users.add_user(conn, name=user, role=role, password=PASSWORD)
    return {"noodles": noodles, "bowl": bowl, "people": people}


def run(*args, check=None, key_dir=None):
    """``python -m office ARGS`` as a process (keys in ``key_dir`` if given); with ``check`` its exit
    code must be that. Never a traceback."""
    import os
    import subprocess
    import sys
    env = {**os.environ, "MPB_KEY_DIR": str(key_dir)} if key_dir else None
    proc = subprocess.run([sys.executable, "-m", "office", *map(str, args)], capture_output=True, text=True,
                          timeout=600, env=env)
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc
