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
