"""The office HTTP API: malformed and hostile bodies get 4xx with a reason, never 500, write nothing."""

from __future__ import annotations

import json
import random

import pytest

from bank import clock, db
from sync import events, wire

from tests.sync.kit import count, enrol_tablet, redemptions


def _snapshot(path):
    conn = db.connect(path)
    try:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("ledger_entries", "device_events", "alerts", "devices", "card_holds"))
    finally:
        conn.close()


def _mutations(valid: dict, rng: random.Random):
    """Malformed variants of a valid push body: wrong types, missing and extra fields, junk."""
    junk = [None, True, -1, 0, 2**64, 1.5, "", "x" * 300, [], {}, [1, 2], {"a": 1}, "null", "\u0000", "是"]
    yield b""
    yield b"{"
    yield b"[]"
    yield b"null"
    yield b'{"protocol": 1, "protocol": 1}'
    yield b'{"a": NaN}'
    yield b"\xff\xfe\x00"
    yield b"[" * 5000 + b"]" * 5000
    yield json.dumps(valid).encode()[:-1]
    for key in valid:
        yield wire.canonical({k: v for k, v in valid.items() if k != key})
        for j in junk:
            yield wire.canonical({**valid, key: j})
    yield wire.canonical({**valid, "extra": 1})
    event_keys = list(valid["events"][0])
    for _ in range(150):
        ev = json.loads(json.dumps(valid["events"][0]))
        k = rng.choice(event_keys)
        if rng.random() < 0.5 and k == "body":
            ev["body"][rng.choice(list(ev["body"]))] = rng.choice(junk)
        else:
            ev[k] = rng.choice(junk)
        yield wire.canonical({**valid, "events": [ev]})
    yield wire.canonical({**valid, "events": valid["events"] * (wire.MAX_BATCH + 1)})


@pytest.mark.engines("sqlite", "postgresql")
def test_push_fuzz_only_4xx_and_nothing_written(town, hub, tmp_path):
    tab = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    [ev] = redemptions(town.path, tab.device_id, [{"card": town.rich[1], "offer": town.bowl, "points": 6}])
    valid = events.sign_batch(tab.private_key(), tab.device_id, [ev])
    before = _snapshot(town.path)
    rng = random.Random(3)
    statuses = set()
    for body in _mutations(valid, rng):
        headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/push", tab.device_id,
                                    clock.to_text(clock.now_utc()), body)
        r = hub.tc.post("/api/v1/push", content=body, headers=headers)
        assert 400 <= r.status_code < 500, (r.status_code, body[:200])
        assert r.json()["error"] and r.json()["en"]
        statuses.add(r.status_code)
    after = _snapshot(town.path)
    # chain-shape problems leave an alert; nothing else is written
    assert after[:2] == before[:2] and after[3:] == before[3:]
    assert 400 in statuses
    # and the valid body still goes through afterwards
    body = wire.canonical(valid)
    headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/push", tab.device_id,
                                clock.to_text(clock.now_utc()), body)
    assert hub.tc.post("/api/v1/push", content=body, headers=headers).json()["acked_seq"] == 1


def test_oversized_body_is_413_before_parsing(town, hub):
    r = hub.tc.post("/api/v1/push", content=b"x" * (wire.MAX_PUSH_BYTES + 1))
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = hub.tc.post("/api/v1/enrol", content=b"{" + b" " * wire.MAX_SMALL_BYTES + b"}")
    assert r.status_code == 413


@pytest.mark.engines("sqlite", "postgresql")
def test_enrol_and_pull_malformed(town, hub, tmp_path):
    for body in (b"", b"[]", b'{"code": 1, "public_key": "AA=="}', b'{"code": "X", "public_key": "!!"}',
                 b'{"code": "X", "public_key": "AAAA", "extra": 1}'):
        r = hub.tc.post("/api/v1/enrol", content=body)
        assert r.status_code == 400, body
    tab = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    for body in (b"", b"[]", b'{"cursor": 5, "what": 1}'):
        headers = wire.sign_request(tab.private_key(), "POST", "/api/v1/pull", tab.device_id,
                                    clock.to_text(clock.now_utc()), body)
        r = hub.tc.post("/api/v1/pull", content=body, headers=headers)
        assert r.status_code == 400, body
    assert count(town.path, "devices") == 1


def test_unknown_paths_and_methods_are_plain_json(town, hub):
    assert hub.tc.get("/api/v1/nope").json()["error"] == "not_found"
    assert hub.tc.get("/api/v1/push").status_code == 405
    assert hub.tc.get("/api/v1/health").json()["ok"] is True
    schema = hub.tc.get("/openapi.json")
    assert schema.status_code == 200
    # the API's schema is the devices' API only: the console's pages are plain routes, not in it
    assert schema.json()["paths"] and all(p.startswith("/api/") for p in schema.json()["paths"])


# --- text that is not Unicode: lone surrogates (JSON escapes) and bytes that are not UTF-8 -------

BAD_TEXT = ["\ud800", "a\udfffb", "\udbff\udbff"]


def _text_variants(obj):
    """The body with each string (and each object key), one at a time, made into a lone
    surrogate, as JSON escapes (json.dumps' ASCII form) and as raw bytes that are not UTF-8."""
    def walk(node, path):
        if isinstance(node, str):
            yield path, "value"
        elif isinstance(node, dict):
            for k, v in node.items():
                yield path + (k,), "key"
                yield from walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, path + (i,))

    def replaced(node, path, what, bad):
        if not path:
            return bad
        head, rest = path[0], path[1:]
        if isinstance(node, dict):
            if what == "key" and not rest:
                return {(bad if k == head else k): v for k, v in node.items()}
            return {k: (replaced(v, rest, what, bad) if k == head else v) for k, v in node.items()}
        return [replaced(v, rest, what, bad) if i == head else v for i, v in enumerate(node)]

    for path, what in walk(obj, ()):
        for bad in BAD_TEXT:
            yield json.dumps(replaced(obj, path, what, bad)).encode("ascii")
        raw = json.dumps(replaced(obj, path, what, "\x00MARK\x00"), ensure_ascii=False).encode("utf-8")
        yield raw.replace(b"\\u0000MARK\\u0000", b"\xed\xa0\x80").replace(b"\\u0000MARK\\u0000", b"\xff")


def _refused_as_text(r):
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()
    assert body["error"] == "malformed" and body["zh"] and body["en"]


@pytest.mark.engines("sqlite", "postgresql")
def test_text_that_is_not_unicode_in_every_field_of_every_request_is_400_and_writes_nothing(town, hub, tmp_path):
    tab = enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    before = _snapshot(town.path)
    key = tab.private_key()

    def signed(path, body):
        return wire.sign_request(key, "POST", path, tab.device_id, clock.to_text(clock.now_utc()), body)

    [ev] = redemptions(town.path, tab.device_id, [{"card": town.rich[1], "offer": town.bowl, "points": 6}])
    push = events.sign_batch(key, tab.device_id, [ev])
    pull = {"cursor": "E3.C6", "full": False}
    challenge = {"protocol": 2, "code_id": "2345"}
    enrol = {"protocol": 2, "code_id": "2345", "kind": "tablet", "challenge": "c", "public_key": "AAAA", "label": "收银台",
             "tls": "ab" * 32, "signature": "AAAA", "mac": "00" * 32}
    n = 0
    for path, valid, sign in (("/api/v1/push", push, True), ("/api/v1/pull", pull, True),
                              ("/api/v1/enrol/challenge", challenge, False), ("/api/v1/enrol", enrol, False)):
        for body in _text_variants(valid):
            headers = signed(path, body) if sign else {}
            _refused_as_text(hub.tc.post(path, content=body, headers=headers))
            n += 1
    assert n > 100
    assert _snapshot(town.path) == before
    # the valid push still goes through
    body = wire.canonical(push)
    assert hub.tc.post("/api/v1/push", content=body, headers=signed("/api/v1/push", body)).json()["acked_seq"] == 1
