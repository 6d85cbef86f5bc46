"""Shared fixtures: real SQLite stores in tmp_path, built through the bank's own API."""

from __future__ import annotations

import datetime as dt
import os

import pytest

# Kivy reads these at import time: no argument parsing, no config or log files under $HOME.
for _name, _value in {"KIVY_NO_ARGS": "1", "KIVY_NO_CONFIG": "1", "KIVY_LOG_MODE": "PYTHON",
                      "KIVY_NO_FILELOG": "1"}.items():
    os.environ.setdefault(_name, _value)

from bank import accounts, cards, clock, community, convention, db, demo  # noqa: E402

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=clock.UTC)  # Monday 10:00 in Chongqing


def copy_store(src, dst):
    """A copy of a store together with its key directory (a store file alone cannot sign)."""
    import shutil
    from bank import keystore
    shutil.copy(src, dst)
    shutil.copytree(keystore.default_directory(src), keystore.default_directory(dst), dirs_exist_ok=True)
    return dst


def pytest_generate_tests(metafunc):
    """``@pytest.mark.engines("sqlite", "postgresql")`` runs a test's ``store`` on each engine."""
    marker = metafunc.definition.get_closest_marker("engines")
    if marker is not None and "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", marker.args, indirect=True)


@pytest.fixture
def engine(request):
    """The engine of the test's ``store``: SQLite unless the test is marked ``engines``."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server for the whole session (tests/pg_kit.py), removed at the end."""
    from tests import pg_kit
    try:
        server = pg_kit.start()
    except FileNotFoundError as exc:
        pytest.skip(f"no PostgreSQL here ({exc}); `make test` installs it")
    yield server
    pg_kit.stop(server)


def empty_store(engine, tmp_path, request):
    """A new, migrated, empty store on ``engine``: a SQLite file in tmp_path, or a database of its
    own on the session's PostgreSQL server, opened as the application role (keys in tmp_path)."""
    if engine == "sqlite":
        return db.connect(tmp_path / "store.sqlite", create=True)
    from bank import keystore
    from tests import pg_kit
    server = request.getfixturevalue("pg_server")
    name = server.new_database()
    conn = db.connect(server.url(name, pg_kit.APP))
    keystore.use(conn, keystore.KeyStore(tmp_path / "store.keys"))

    def drop():
        conn.close()
        server.drop_database(name)
    request.addfinalizer(drop)
    return conn


def reopen(store, tmp_path, **kwargs):
    """Another connection to the store of the ``store`` fixture (as another server thread has)."""
    if db.engine(store) == "sqlite":
        return db.connect(tmp_path / "store.sqlite", **kwargs)
    from bank import keystore
    conn = db.connect(store.url, **kwargs)
    keystore.use(conn, keystore.of(store))
    return conn


@pytest.fixture
def store(engine, tmp_path, request):
    """A new store with the community, an issuing key, the default catalog and one compound."""
    conn = empty_store(engine, tmp_path, request)
    with db.transaction(conn):
        community.found(conn, code="LH", name="龙海社区")
        cards.create_issuing_key(conn, now=T0)
        convention.install(conn, convention.load_file(), effective_from=dt.date(2025, 1, 1), now=T0)
        community.add_compound(conn, "龙海花园", 9, service_point="龙海花园党群服务点")
    yield conn
    conn.close()


@pytest.fixture
def account(store):
    return accounts.open_account(store, kind="household", holder="张喆明", compound_id=1,
                                 building=3, unit=2, room="1502", now=T0)


class FakeClock:
    """A clock the test moves forward (starts at the real now: enrolment pulls at real time)."""

    def __init__(self):
        self.t = clock.now_utc()

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **delta) -> None:
        self.t += dt.timedelta(**delta)


@pytest.fixture
def now():
    return FakeClock()


@pytest.fixture
def store_location(engine, tmp_path, request, monkeypatch):
    """Where a new office store goes on the test's engine, as ``--db`` names it: a SQLite path in
    tmp_path (not made yet; its keys will sit beside it), or the URL of a database of its own on the
    session's PostgreSQL server (migrated, empty, as the application role), whose key directory is
    ``$MPB_KEY_DIR`` = tmp_path/keys, as an office on a database server runs (processes the test
    starts inherit it)."""
    if engine == "sqlite":
        return tmp_path / "office.sqlite"
    from tests import pg_kit
    server = request.getfixturevalue("pg_server")
    name = server.new_database()
    request.addfinalizer(lambda: server.drop_database(name))
    monkeypatch.setenv("MPB_KEY_DIR", str(tmp_path / "keys"))
    return server.url(name, pg_kit.APP)


@pytest.fixture
def town(store_location):
    """The small sync community (tests/sync/kit.py): two merchants, three residents with cards,
    on the test's engine (``@pytest.mark.engines``; SQLite otherwise)."""
    from tests.sync.kit import build
    return build(store_location)


@pytest.fixture
def hub(town, now):
    """The office app of ``town`` in-process, on the test's clock: the transport devices sync through."""
    from tests.sync.kit import office
    tc, transport = office(town.path, now)
    with tc:
        yield transport


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """The demo community, built once per test run (read-only use)."""
    path = tmp_path_factory.mktemp("demo") / "community.sqlite"
    demo.build(path, seed=7, until=dt.date(2026, 11, 26))
    return path
