"""Enrolment protocol 2 at the office, in-process: the code never travels, the device proves it
knows it (HMAC) and holds its new key (a signature over the office's challenge); weak keys,
wrong proofs, stale challenges and another certificate are refused and burn nothing; an answer
altered on the way is refused by the device and nothing is planted."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bank import clock, db, devices
from device import enrolment
from office.sync_api.enrolment import ChallengeKey
from sync import client, home, wire

from tests.sync.kit import count

# --- edwards25519 in a few lines, to make the weak keys independently of the library under test --
P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1)


def _sqrt(a: int) -> int | None:
    x = pow(a, (P + 3) // 8, P)
    if x * x % P != a % P:
        x = x * SQRT_M1 % P
    return x if x * x % P == a % P else None


def _add(p1, p2):
    (x1, y1), (x2, y2) = p1, p2
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P)


def _on_curve(pt) -> bool:
    x, y = pt
    return (-x * x + y * y - 1 - D * x * x * y * y) % P == 0


def _times(pt, n):
    out = IDENTITY
    for _ in range(n):
        out = _add(out, pt)
    return out


def _encode(pt, y_offset: int = 0, sign: int | None = None) -> bytes:
    x, y = pt
    value = y + y_offset
    return (value | ((x & 1 if sign is None else sign) << 255)).to_bytes(32, "little")


def _decode(raw: bytes):
    value = int.from_bytes(raw, "little")
    y, sign = value & ((1 << 255) - 1), value >> 255
    x = _sqrt((y * y - 1) * pow(D * y * y + 1, P - 2, P) % P)
    return ((P - x) % P if (x & 1) != sign else x, y)


def small_order_points() -> list[tuple[int, int]]:
    """Every point whose order divides 8: the identity, one of order 2, two of order 4, four of 8."""
    found = {IDENTITY, (0, P - 1), (SQRT_M1, 0), (P - SQRT_M1, 0)}
    sqrt_1d = _sqrt((1 + D) % P)
    for s in (sqrt_1d, P - sqrt_1d):
        u = (1 + s) * pow(D, P - 2, P) % P          # x^2 of a point with 2P of order 4
        x, y = _sqrt(u), _sqrt(-u % P)
        if x is None or y is None:
            continue
        for pt in ((x, y), (P - x, y), (x, P - y), (P - x, P - y)):
            if _on_curve(pt) and _times(pt, 8) == IDENTITY:
                found.add(pt)
    assert len(found) == 8 and all(_times(pt, 8) == IDENTITY for pt in found)
    return sorted(found)


# --- the office in-process and requests made by hand -------------------------------------------

def _new_code(path, **kw) -> str:
    conn = db.connect(path)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, merchant_id=kw.pop("merchant_id", 1), **kw)
    conn.close()
    return code


def _code_row(path, code_id):
    conn = db.connect(path)
    try:
        return devices.outstanding_code(conn, code_id)
    finally:
        conn.close()


def _request(hub, code: str, *, public_key: bytes | None = None, signer=None, tls=None, label="收银台",
             challenge: str | None = None, mac_code: str | None = None, kind: str = "tablet") -> dict:
    parsed = devices.parse_code(code)
    signer = signer or Ed25519PrivateKey.generate()
    if public_key is None:
        public_key = home.public_bytes(signer)
    if challenge is None:
        r = hub.tc.post("/api/v1/enrol/challenge", content=wire.canonical({"protocol": 2, "code_id": parsed.code_id}))
        assert r.status_code == 200, r.text
        challenge = r.json()["challenge"]
    req = {"protocol": 2, "code_id": parsed.code_id, "kind": kind, "challenge": challenge, "public_key": wire.b64e(public_key),
           "label": label, "tls": tls}
    req["signature"] = wire.b64e(signer.sign(wire.enrolment_pop_message(req)))
    req["mac"] = wire.enrolment_request_mac(devices.parse_code(mac_code or code).key, req)
    return req


def _post(hub, req: dict):
    return hub.tc.post("/api/v1/enrol", content=wire.canonical(req))


def test_a_good_enrolment_answers_with_a_mac_over_everything(town, hub):
    code = _new_code(town.path, merchant_id=town.noodles)
    signer = Ed25519PrivateKey.generate()
    req = _request(hub, code, signer=signer)
    r = _post(hub, req)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["public_key"] == req["public_key"] and answer["challenge"] == req["challenge"]
    assert answer["tls"] is None and answer["kind"] == "tablet" and answer["protocol"] == 2
    assert answer["mac"] == wire.enrolment_answer_mac(devices.parse_code(code).key, answer)
    # used up, and its key forgotten: a copy of the store taken now cannot enrol with it
    row = _code_row(town.path, req["code_id"])
    assert row.used_at is not None and row.key is None
    again = _post(hub, _request(hub, code, challenge=req["challenge"]))
    assert again.status_code == 403 and again.json()["error"] == "enrolment_code_used"


def test_every_small_order_and_non_canonical_key_is_refused_and_burns_nothing(town, hub, tmp_path):
    code = _new_code(town.path, merchant_id=town.noodles)
    points = small_order_points()
    weak = [_encode(pt) for pt in points]
    assert bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000") in weak
    assert bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f") in weak
    weak += [
        _encode(IDENTITY, y_offset=P),            # y = p + 1: the identity, not reduced
        _encode((0, 0), y_offset=P, sign=0),      # y = p: a point of order 4, not reduced
        _encode(IDENTITY, sign=1),                # the identity with x "negative": x = 0 has no sign
    ]
    good = home.public_bytes(Ed25519PrivateKey.generate())
    weak.append(_encode(_add(_decode(good), points[-1])))     # a real key plus a small-order part
    y = 2
    while _sqrt((y * y - 1) * pow(D * y * y + 1, P - 2, P) % P) is not None:
        y += 1
    weak.append(y.to_bytes(32, "little"))                     # not on the curve at all
    for raw in weak:
        r = _post(hub, _request(hub, code, public_key=raw))
        assert r.status_code == 403 and r.json()["error"] == "enrolment_key_weak", (raw.hex(), r.text)
    assert count(town.path, "devices") == 0
    # the code still works for a real device
    h, pulled = enrolment.enrol(tmp_path / "tab", "http://office.test", code, transport=hub)
    assert pulled and h.device_id == "T0001"


def test_a_signature_not_by_the_offered_key_is_refused_and_burns_nothing(town, hub, tmp_path):
    code = _new_code(town.path, merchant_id=town.noodles)
    offered = home.public_bytes(Ed25519PrivateKey.generate())
    r = _post(hub, _request(hub, code, public_key=offered, signer=Ed25519PrivateKey.generate()))
    assert r.status_code == 403 and r.json()["error"] == "enrolment_key_unproven"
    # a signature over another challenge does not prove anything either
    signer = Ed25519PrivateKey.generate()
    req = _request(hub, code, signer=signer)
    req2 = _request(hub, code, signer=signer)
    req["signature"] = req2["signature"]
    req["mac"] = wire.enrolment_request_mac(devices.parse_code(code).key, req)
    r = _post(hub, req)
    assert r.status_code == 403 and r.json()["error"] == "enrolment_key_unproven"
    assert count(town.path, "devices") == 0 and _code_row(town.path, req["code_id"]).used_at is None
    enrolment.enrol(tmp_path / "tab", "http://office.test", code, transport=hub)
    assert count(town.path, "devices") == 1


def test_wrong_code_stale_challenge_and_another_certificate_are_refused_and_burn_nothing(town, hub, tmp_path):
    code = _new_code(town.path, merchant_id=town.noodles)
    parsed = devices.parse_code(code)
    wrong = parsed.code_id + ("2" * 16 if parsed.secret != "2" * 16 else "3" * 16)
    r = _post(hub, _request(hub, code, mac_code=wrong))
    assert r.status_code == 403 and r.json()["error"] == "enrolment_code_wrong"
    # a challenge the office did not make, one for another code, and one that expired
    other = _new_code(town.path, merchant_id=town.noodles)
    foreign = hub.tc.post("/api/v1/enrol/challenge", content=wire.canonical(
        {"protocol": 2, "code_id": devices.parse_code(other).code_id})).json()["challenge"]
    stale = ChallengeKey().make(parsed.code_id, clock.now_utc())
    expired_key = ChallengeKey()
    for challenge in (foreign, stale, "x", "2026-01-01T00:00:00.000000Z.abc.def"):
        r = _post(hub, _request(hub, code, challenge=challenge))
        assert r.status_code == 403 and r.json()["error"] == "enrolment_challenge", challenge
    old = expired_key.make(parsed.code_id, clock.now_utc() - dt.timedelta(seconds=301))
    with pytest.raises(wire.ProtocolError):
        expired_key.check(parsed.code_id, old, clock.now_utc())
    expired_key.check(parsed.code_id, expired_key.make(parsed.code_id, clock.now_utc()), clock.now_utc())
    # the device saw another certificate than this office's (none: it serves in-process, no TLS)
    r = _post(hub, _request(hub, code, tls="ab" * 32))
    assert r.status_code == 403 and r.json()["error"] == "enrolment_channel"
    assert count(town.path, "devices") == 0 and _code_row(town.path, parsed.code_id).used_at is None
    enrolment.enrol(tmp_path / "tab", "http://office.test", code, transport=hub)
    assert count(town.path, "devices") == 1


def test_a_code_for_the_other_kind_of_device_is_refused_before_the_office_registers_anything(town, hub, tmp_path):
    code = _new_code(town.path, merchant_id=None, service_point_id=1)
    with pytest.raises(client.Refused) as refused:
        enrolment.enrol(tmp_path / "tab", "http://office.test", code, kind="tablet", transport=hub)
    assert refused.value.code == "enrolment_wrong_kind" and "另一类设备" in refused.value.zh
    assert count(town.path, "devices") == 0 and not (tmp_path / "tab").exists()
    assert _code_row(town.path, devices.parse_code(code).code_id).used_at is None
    h, pulled = enrolment.enrol(tmp_path / "kiosk", "http://office.test", code, kind="kiosk", transport=hub)
    assert h.config["kind"] == "kiosk" and count(town.path, "devices") == 1


def test_a_protocol_1_enrolment_is_refused_with_a_reason(town, hub):
    code = _new_code(town.path, merchant_id=town.noodles)
    body = wire.canonical({"code": code, "public_key": wire.b64e(bytes(32)), "label": ""})
    r = hub.tc.post("/api/v1/enrol", content=body)
    assert r.status_code == 400 and r.json()["error"] == "protocol_unsupported"
    assert "更新" in r.json()["zh"]
    r = hub.tc.post("/api/v1/enrol/challenge", content=wire.canonical({"protocol": 1, "code_id": "2345"}))
    assert r.status_code == 400 and r.json()["error"] == "protocol_unsupported"


class Recorder:
    """The in-process office behind a transport that keeps every byte sent and may rewrite answers."""

    pin = None

    def __init__(self, inner, rewrite=None):
        self.inner, self.rewrite, self.sent = inner, rewrite, []

    def post(self, path, body, headers):
        self.sent.append(body)
        status, content = self.inner.post(path, body, headers)
        if self.rewrite and path.endswith("/enrol") and status == 200:
            content = self.rewrite(content)
        return status, content


def test_the_code_never_travels_and_an_altered_answer_plants_nothing(town, hub, tmp_path):
    code = _new_code(town.path, merchant_id=town.noodles)
    parsed = devices.parse_code(code)
    planted = wire.b64e(home.public_bytes(Ed25519PrivateKey.generate()))

    def plant(content):
        answer = json.loads(content)
        answer["issuing_keys"] = {"K1": planted}
        return wire.canonical(answer)

    spy = Recorder(hub, plant)
    with pytest.raises(client.Refused) as info:
        enrolment.enrol(tmp_path / "tab", "http://office.test", code, transport=spy)
    assert info.value.code == "enrolment_mac"
    assert not (tmp_path / "tab").exists()          # no home, so no planted key anywhere
    everything = b"".join(spy.sent)
    assert parsed.secret.encode() not in everything and devices.normalise_code(code).encode() not in everything
    assert parsed.code_id.encode() in everything      # only the public id travels


def test_codes_carry_the_recorded_certificate_check_and_keys_of_expired_codes_are_forgotten(town):
    conn = db.connect(town.path)
    with db.transaction(conn):
        plain = devices.new_enrolment_code(conn, merchant_id=town.noodles)
        old = devices.new_enrolment_code(conn, merchant_id=town.noodles, hours=1,
                                         now=clock.now_utc() - dt.timedelta(hours=2))
        devices.record_office_fingerprint(conn, "0f" * 32)
        pinned = devices.new_enrolment_code(conn, merchant_id=town.noodles)
    assert len(plain.split("-")) == 5 and devices.parse_code(plain).fingerprint_check is None
    assert len(pinned.split("-")) == 7
    assert devices.parse_code(pinned).fingerprint_check == devices.fingerprint_check("0f" * 32)
    assert devices.outstanding_code(conn, devices.parse_code(old).code_id).key is None
    qr = devices.enrol_qr_text("https://192.168.1.10:8080/", pinned, "0f" * 32)
    assert qr == f"MPB-ENROL:https://192.168.1.10:8080#{pinned}#{'0f' * 32}"
    assert devices.parse_enrol_qr(qr) == ("https://192.168.1.10:8080", pinned, "0f" * 32)
    assert devices.parse_enrol_qr(f"MPB-ENROL:http://127.0.0.1:8080#{plain}") == ("http://127.0.0.1:8080", plain, None)
    for bad in ("MPB-ENROL:https://x", "MPB1:LH:R:1", f"MPB-ENROL:https://x#{plain}x"):
        with pytest.raises(devices.BadCode):
            devices.parse_enrol_qr(bad)
    conn.close()
