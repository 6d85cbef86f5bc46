"""The district server on a real PostgreSQL district store: two communities with the same-looking
data (the same device ids, account ids and user names) served at /c/LH/ and /c/JS/ by one app,
and nothing of one reachable through the other: not on any console page, not with the other's
session, not by any device request."""

from __future__ import annotations

import re
import warnings

import pytest

from bank import accounts, clock, db, devices, district, keystore, ledger
from device import enrolment
from office import district_server, server
from sync import client, events, wire
from tests import district_kit, pg_kit
from tests.district_kit import PASSWORD, USERS

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

# The server keeps one store connection per worker thread for as long as the thread lives (its pool
# is the scale work's); psycopg warns when a finished thread's connection is collected unclosed.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

MARKERS = {"LH": "龙海", "JS": "界石"}
NAMES = {"LH": "龙海社区", "JS": "界石社区"}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ABSOLUTE = re.compile(r'\s(?:href|action|src|formaction)="(/[^"]*)"')


class Transport:
    """The district app in-process behind the device client's transport, at one office address."""

    pin = None

    def __init__(self, tc: TestClient, prefix: str):
        self.tc, self.prefix = tc, prefix
        self.sizes: list[int] = []

    @property
    def path_prefix(self) -> str:
        return self.prefix

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        r = self.tc.post(self.prefix + path, content=body, headers={"content-type": "application/json", **headers})
        self.sizes.append(len(r.content))
        return r.status_code, r.content


@pytest.fixture(scope="module")
def site(pg_server, tmp_path_factory):
    """The district (LH, JS) with a tablet enrolled in each (both T0001), the district app in a
    TestClient, and a one-community store (schema public) with LH's data for comparison."""
    from tests import pg_kit as kit
    tmp = tmp_path_factory.mktemp("district")
    name = f"dserver{next(pg_server._counter)}"
    with pg_server.admin() as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER {kit.OWNER}")
    owner, app_url = pg_server.url(name, kit.OWNER), pg_server.url(name, kit.APP)
    keys = keystore.KeyStore(tmp / "keys")
    district.create(owner, app_role=pg_kit.APP)
    data = {}
    for code in ("LH", "JS"):
        with district.new_community(owner, code=code, name=NAMES[code], app_role=pg_kit.APP) as url:
            conn = db.connect(url)
            keystore.use(conn, keys)
            data[code] = district_kit.populate(conn, code, NAMES[code], marker=MARKERS[code])
            conn.close()
    single = pg_server.new_database()
    single_url = pg_server.url(single, kit.APP)
    conn = db.connect(single_url)
    keystore.use(conn, keys)
    data["single"] = district_kit.populate(conn, "LH", NAMES["LH"], marker=MARKERS["LH"])
    conn.close()
    app = district_server.create_district_app(app_url, keys)
    tc = TestClient(app, follow_redirects=False)
    single_tc = TestClient(server.create_app(single_url, keys), follow_redirects=False)
    homes = {}
    for code, client_, prefix, url in (("LH", tc, "/c/LH", district.community_url(app_url, "LH")),
                                       ("JS", tc, "/c/JS", district.community_url(app_url, "JS")),
                                       ("single", single_tc, "", single_url)):
        conn = db.connect(url)
        with db.transaction(conn):
            code_text = devices.new_enrolment_code(conn, merchant_id=data[code]["noodles"])
        conn.close()
        transport = Transport(client_, prefix)
        h, pulled = enrolment.enrol(tmp / f"tab-{code}", "http://testserver" + prefix, code_text, transport=transport)
        assert pulled and h.device_id == "T0001"
        homes[code] = (h, transport)
    yield {"owner": owner, "app": app_url, "tc": tc, "district": app, "data": data, "homes": homes, "keys": keys,
           "single": single_url, "tmp": tmp}
    tc.close()
    single_tc.close()
    pg_server.drop_database(single)
    pg_server.drop_database(name)


def _login(tc: TestClient, prefix: str, user: str) -> str:
    page = tc.get(prefix + "/login")
    assert page.status_code == 200
    r = tc.post(prefix + "/login", data={"csrf": CSRF.search(page.text)[1], "name": user, "password": PASSWORD,
                                         "next": "/"})
    assert r.status_code == 303 and r.headers["location"].startswith(prefix + "/"), r.text
    cookie = r.headers["set-cookie"]
    assert f"Path={prefix};" in cookie or cookie.endswith(f"Path={prefix}")
    return re.search(r"mpb_session=([^;]+)", cookie)[1]


def _get_routes(app) -> list[str]:
    """Every GET route of the community app (sync API and console), path parameters filled in."""
    paths = []
    for route in app.routes:
        methods = getattr(route, "methods", None) or set()
        if "GET" in methods:
            paths.append(re.sub(r"\{(\w+)(:\w+)?\}", "1", route.path))
    return sorted(set(paths))


def _post_routes(app) -> list[str]:
    return sorted({re.sub(r"\{(\w+)(:\w+)?\}", "1", r.path) for r in app.routes
                   if "POST" in (getattr(r, "methods", None) or set())})


def test_the_front_page_lists_the_communities(site):
    tc = site["tc"]
    page = tc.get("/")
    assert page.status_code == 200
    assert 'href="/c/JS/"' in page.text and 'href="/c/LH/"' in page.text and "界石社区" in page.text
    assert tc.get("/c/LH").headers["location"] == "/c/LH/"
    assert tc.get("/c/XY/").status_code == 404 and tc.get("/c/lh/").status_code == 404
    # the district view asks for a district user's log-in first (tests/office/test_district_view.py)
    assert tc.get("/district/").headers["location"].startswith("/district/login")


@pytest.mark.parametrize("code, other", [("LH", "JS"), ("JS", "LH")])
def test_every_console_page_of_a_community_shows_nothing_of_the_other(site, code, other):
    tc = TestClient(site["district"], follow_redirects=False)
    prefix = f"/c/{code}"
    inner = site["district"].apps[code].app
    routes = _get_routes(inner)
    assert len(routes) > 30          # the whole console and API, not a handful
    seen_own = 0
    failing = set()
    for user in USERS:
        tc.cookies.clear()
        _login(tc, prefix, user)
        for path in routes:
            r = tc.get(prefix + path)
            if r.status_code >= 500:
                failing.add(path)
            text = r.content.decode("utf-8", "replace")
            assert MARKERS[other] not in text and NAMES[other] not in text, (user, path)
            seen_own += MARKERS[code] in text
            if r.headers.get("content-type", "").startswith("text/html"):
                # every link, form, script and stylesheet stays inside this community's prefix
                stray = [u for u in ABSOLUTE.findall(text) if not u.startswith(prefix + "/")]
                assert stray == [], (path, stray)
            if "location" in r.headers:
                assert r.headers["location"].startswith(prefix + "/"), (path, r.headers["location"])
    assert seen_own > 10
    assert sorted(failing) == [], repr(sorted(failing))


def test_a_session_of_one_community_opens_nothing_of_another(site):
    tc = TestClient(site["district"], follow_redirects=False)
    token = _login(tc, "/c/LH", "王主任")
    page = tc.get("/c/LH/")
    csrf = CSRF.search(page.text)[1]
    assert page.status_code == 200 and "龙海" in page.text
    tc.cookies.clear()
    stolen = {"cookie": f"mpb_session={token}"}
    inner = site["district"].apps["JS"].app
    conn = db.connect(district.community_url(site["app"], "JS"))
    before = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("audit_log", "ledger_entries", "console_users")]
    for path in _get_routes(inner):
        r = tc.get("/c/JS" + path, headers=stolen)
        assert "界石" not in r.text or r.status_code in (303,) or path.startswith(("/login", "/static", "/api")) \
            or r.status_code == 404, path
        if r.status_code == 303:
            assert r.headers["location"].startswith("/c/JS/login"), path
        assert "王主任" not in r.text, path
    for path in _post_routes(inner):
        if path.startswith(wire.API):
            continue
        r = tc.post("/c/JS" + path, headers=stolen, data={"csrf": csrf})
        assert r.status_code in (303, 400, 403, 404, 405, 413), (path, r.status_code)
        if r.status_code == 303:
            assert r.headers["location"].startswith("/c/JS/login"), path
    after = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("audit_log", "ledger_entries", "console_users")]
    conn.close()
    assert after == before


def _enrolment_code(url: str, merchant_id: int) -> str:
    conn = db.connect(url)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, merchant_id=merchant_id)
    conn.close()
    return code


def test_an_enrolment_code_works_only_at_its_own_community(site, tmp_path):
    tc = site["tc"]
    code = _enrolment_code(district.community_url(site["app"], "LH"), site["data"]["LH"]["noodles"])
    with pytest.raises(client.Refused):
        enrolment.enrol(tmp_path / "wrong", "http://testserver/c/JS", code, transport=Transport(tc, "/c/JS"))
    h, pulled = enrolment.enrol(tmp_path / "right", "http://testserver/c/LH", code, transport=Transport(tc, "/c/LH"))
    assert pulled and h.config["community"] == "LH" and h.server == "http://testserver/c/LH"


def test_the_enrolment_page_names_the_communitys_own_address(site):
    tc = TestClient(site["district"], follow_redirects=False)
    _login(tc, "/c/JS", "王主任")
    page = tc.get(f"/c/JS/merchants/{site['data']['JS']['noodles']}")
    form = re.search(r'action="(/c/JS/merchants/\d+/enrol)"', page.text)
    assert form, page.text[:2000]
    r = tc.post(form[1], data={"csrf": CSRF.search(page.text)[1], "hours": "1"})
    assert r.status_code == 303 and r.headers["location"].startswith("/c/JS/devices/enrolment/")
    shown = tc.get(r.headers["location"])
    assert "http://testserver/c/JS" in shown.text


def _signed(h, path: str, body: bytes, at=None) -> dict:
    return wire.sign_request(h.private_key(), "POST", path, h.device_id, clock.to_text(at or clock.now_utc()), body)


@pytest.mark.parametrize("endpoint", ["/pull", "/push", "/authorise"])
def test_a_device_request_sent_to_another_community_is_refused(site, endpoint):
    tc = site["tc"]
    h, _transport = site["homes"]["LH"]
    body = wire.canonical({"cursor": None, "full": True}) if endpoint == "/pull" else wire.canonical({})
    if endpoint == "/push":
        _aid, card_id, qr = site["data"]["LH"]["people"][0]
        redeem = {"card": card_id, "card_version": 1, "offer": site["data"]["LH"]["bowl"], "points": 6, "qty": 1,
                  "receipt": 1, "auth": None, "proof": events.card_proof(qr, h.device_id, 1)}
        ev = events.make(h.device_id, 1, devices.GENESIS, "redemption", clock.to_text(clock.now_utc()), redeem)
        body = wire.canonical(events.sign_batch(h.private_key(), h.device_id, [ev]))
    # signed for LH's address, replayed at JS's (where a T0001 exists too, with another key)
    headers = _signed(h, "/c/LH" + wire.API + endpoint, body)
    r = tc.post("/c/JS" + wire.API + endpoint, content=body, headers={"content-type": "application/json", **headers})
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    # signed for JS's address by LH's device: JS's T0001 has another key
    headers = _signed(h, "/c/JS" + wire.API + endpoint, body)
    r = tc.post("/c/JS" + wire.API + endpoint, content=body, headers={"content-type": "application/json", **headers})
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    # the path signed must be the whole path: a request signed without the prefix is refused at LH too
    headers = _signed(h, wire.API + endpoint, body)
    r = tc.post("/c/LH" + wire.API + endpoint, content=body, headers={"content-type": "application/json", **headers})
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"


def test_a_device_pulls_only_its_own_community_and_as_much_as_a_store_of_its_own(site):
    full = {}
    for code in ("LH", "JS", "single"):
        h, transport = site["homes"][code]
        conn = h.replica()
        try:
            client.pull(h, conn, transport, full=True)
            full[code] = transport.sizes[-1]
            names = {r[0] for r in conn.execute("SELECT masked_name FROM accounts")}
            offers = {r[0] for r in conn.execute("SELECT name FROM offers")}
            holders = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
        finally:
            conn.close()
        marker = MARKERS["LH" if code == "single" else code]
        assert names == {accounts.mask_name(f"{marker}{n}") for n in "甲乙丙"} and holders == 3
        assert offers == {f"{marker}小面一碗"}
    assert full["LH"] == full["single"]
    assert full["JS"] == full["single"]


def test_a_push_settles_in_its_own_communitys_ledger_only(site):
    h, transport = site["homes"]["LH"]
    lh_url, js_url = (district.community_url(site["app"], c) for c in ("LH", "JS"))
    data = site["data"]["LH"]
    aid, card_id, qr = data["people"][0]
    balances = {}
    for url in (lh_url, js_url):
        conn = db.connect(url)
        balances[url] = (ledger.balance(conn, aid), conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0])
        conn.close()
    conn = db.connect(lh_url)
    last = conn.execute("SELECT coalesce(max(seq), 0) FROM device_events WHERE device_id = ?", (h.device_id,)).fetchone()[0]
    conn.close()
    assert last == 0
    body = {"card": card_id, "card_version": 1, "offer": data["bowl"], "points": 6, "qty": 1, "receipt": 1,
            "auth": None, "proof": events.card_proof(qr, h.device_id, 1)}
    ev = events.make(h.device_id, 1, devices.GENESIS, "redemption", clock.to_text(clock.now_utc()), body)
    batch = wire.canonical(events.sign_batch(h.private_key(), h.device_id, [ev]))
    replica = h.replica()
    try:
        answer = client._signed_call(h, h.private_key(), replica, transport, wire.API + "/push", batch, clock.now_utc())
    finally:
        replica.close()
    assert answer["acked_seq"] == 1
    conn = db.connect(lh_url)
    assert ledger.balance(conn, aid) == balances[lh_url][0] - 6
    assert conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0] == balances[lh_url][1] + 1
    conn.close()
    conn = db.connect(js_url)
    assert (ledger.balance(conn, aid), conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0]) \
        == balances[js_url]
    assert conn.execute("SELECT count(*) FROM device_events").fetchone()[0] == 0
    conn.close()


def test_a_community_added_while_serving_is_served_from_its_first_request(site):
    tc = site["tc"]
    assert tc.get("/c/NQ/login").status_code == 404
    district.add_community(site["owner"], code="NQ", name="南泉社区", compounds=district_kit.COMPOUNDS,
                           keys=site["keys"], app_role=pg_kit.APP)
    page = tc.get("/c/NQ/login")
    assert page.status_code == 200 and "南泉社区" in page.text and 'action="/c/NQ/login"' in page.text
    assert "/c/NQ/" in tc.get("/").text
