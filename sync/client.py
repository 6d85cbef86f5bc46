"""The device end of the protocol: enrol, push the outbox, pull and apply, over HTTP (requests).

The transport is a small object with ``post(path, body, headers) -> (status, body)`` so that tests
can put the office's in-process app behind it; :class:`HttpTransport` is the real one.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from dataclasses import dataclass, field

import requests

from bank import clock
from bank.errors import BankError

from . import events as ev
from . import home as home_mod
from . import replica, wire

PUSH_BATCH = 500


class Unreachable(BankError):
    """The office could not be reached (network, timeout, server down): try again later."""

    code = "unreachable"


class Refused(BankError):
    """The office answered and refused; ``code`` is the protocol error code."""

    def __init__(self, code: str, zh: str, en: str, status: int, acked_seq: int | None = None,
                 data: dict | None = None):
        super().__init__(zh, en, code=code)
        self.status = status
        self.acked_seq = acked_seq
        self.data = data or {}


class HttpTransport:
    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        try:
            r = self.session.post(self.base_url + path, data=body, timeout=self.timeout,
                                  headers={"content-type": "application/json", **headers})
        except requests.RequestException as exc:
            raise Unreachable("无法连接社区办公室,稍后会自动重试。",
                              f"office unreachable: {type(exc).__name__}") from None
        return r.status_code, r.content


def _call(transport, path: str, body: bytes, headers: dict) -> dict:
    status, content = transport.post(path, body, headers)
    try:
        data = json.loads(content.decode("utf-8")) if content else {}
    except (UnicodeDecodeError, ValueError):
        data = {}
    if status >= 500 or not isinstance(data, dict):
        raise Unreachable("社区办公室暂时无法处理,稍后会自动重试。", f"office error: HTTP {status}")
    if status != 200:
        raise Refused(str(data.get("error", f"http_{status}")), str(data.get("zh", "请求被拒绝。")),
                      str(data.get("en", f"refused with HTTP {status}")), status, data.get("acked_seq"), data)
    return data


def _next_request_time(conn, now: dt.datetime) -> str:
    """The office refuses a request whose signed time is not after the last one it accepted from
    this device (replay protection). The device clock may jump back (a flat battery, a manual
    change), so the time is at least one microsecond after the last one used, and it is
    committed before the request goes out: a device killed mid-request never reuses it."""
    text = clock.to_text(now)
    last = replica.state(conn, "last_request_time")
    if isinstance(last, str) and text <= last:
        text = clock.to_text(clock.from_text(last) + dt.timedelta(microseconds=1))
    replica.set_state(conn, last_request_time=text)
    return text


def _signed_call(home: home_mod.Home, private, conn, transport, path: str, body, now: dt.datetime) -> dict:
    """Sign and send ``body`` (bytes, or a function of the request time that makes them); if the
    office has seen a later request time from this device (its replica was restored from an older
    copy), move past the time it names and try once more."""
    build = body if callable(body) else (lambda _time: body)

    def send() -> dict:
        time_text = _next_request_time(conn, now)
        data = build(time_text)
        return _call(transport, path, data, wire.sign_request(private, "POST", path, home.device_id, time_text, data))

    try:
        return send()
    except Refused as exc:
        last = exc.data.get("last_request_time")
        if exc.code != "replayed_request" or not isinstance(last, str) or not wire.REQUEST_TIME.fullmatch(last):
            raise
    replica.set_state(conn, last_request_time=max(last, replica.state(conn, "last_request_time") or ""))
    return send()


# --- online checks ------------------------------------------------------------------------------

def authorise(home: home_mod.Home, conn, transport, *, purpose: str, card_text: str, card_id: str,
              card_version: int, pin: str | None = None, points: int | None = None, now=None) -> dict:
    """Ask the office to check a PIN or authorise a redemption or a member (see
    :mod:`office.sync_api.authorisations`); return its answer or raise Refused / Unreachable.

    The body proves the card was read for this very request: the proof covers the request's
    signed time, so the time is fixed first and the body built on it.
    """
    path = wire.API + "/authorise"

    def body(time_text: str) -> bytes:
        return wire.canonical({"purpose": purpose, "card": card_id, "card_version": card_version, "pin": pin,
                               "points": points, "proof": ev.card_proof(card_text, home.device_id, f"auth:{time_text}")})

    return _signed_call(home, home.private_key(), conn, transport, path, body, now or clock.now_utc())


# --- enrol ------------------------------------------------------------------------------------

def enrol(transport, code: str, public_key: bytes, label: str = "") -> dict:
    """Register this device's public key; verify the office's answer with the code (MAC)."""
    body = wire.canonical({"code": code, "public_key": wire.b64e(public_key), "label": label})
    answer = _call(transport, wire.API + "/enrol", body, {})
    mac = answer.pop("mac", "")
    if not isinstance(mac, str) or not hmac.compare_digest(mac, wire.enrolment_mac(code, answer)):
        raise Refused("enrolment_mac", "登记回复无法验证,可能不是本社区的办公室。",
                      "the enrolment answer does not carry a valid MAC for this code", 0)
    return answer


# --- push and pull ----------------------------------------------------------------------------

@dataclass
class SyncResult:
    pushed: int = 0
    acked_seq: int = 0
    pulled: str = ""           # 'full' or 'delta'
    accounts: int = 0
    pending: int = 0
    cursor: str | None = None
    errors: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))


def push(home: home_mod.Home, conn, transport, *, private=None, now=None, result: SyncResult | None = None) -> int:
    """Push every unacknowledged event, a batch at a time; return the office's acked sequence."""
    private = private or home.private_key()
    result = result or SyncResult()
    acked = replica.state(conn, "acked_seq", 0)
    while True:
        batch = replica.pending(conn, PUSH_BATCH)
        if not batch:
            return acked
        body = wire.canonical(ev.sign_batch(private, home.device_id, batch))
        path = wire.API + "/push"
        try:
            answer = _signed_call(home, private, conn, transport, path, body, now or clock.now_utc())
        except Refused as exc:
            if exc.acked_seq is not None:
                replica.acknowledge(conn, int(exc.acked_seq))
            raise
        acked = int(answer["acked_seq"])
        replica.acknowledge(conn, acked)
        result.pushed += len(batch)
        result.acked_seq = acked
        if acked < batch[-1]["seq"]:
            raise Refused("not_acknowledged", "办公室没有确认全部事件。",
                          f"office acknowledged {acked}, sent up to {batch[-1]['seq']}", 200, acked)


def pull(home: home_mod.Home, conn, transport, *, private=None, now=None, full: bool = False,
         result: SyncResult | None = None) -> dict:
    """Fetch a signed snapshot or delta, verify it, apply it atomically; return the payload."""
    private = private or home.private_key()
    result = result or SyncResult()
    cursor = None if full else replica.state(conn, "cursor")
    path = wire.API + "/pull"
    body = wire.canonical({"cursor": cursor, "full": cursor is None})
    answer = _signed_call(home, private, conn, transport, path, body, now or clock.now_utc())
    try:
        payload = replica.apply_pull(conn, answer, now=now or clock.now_utc())
    except wire.PullRejected:
        if cursor is None:
            raise
        return pull(home, conn, transport, private=private, now=now, full=True, result=result)
    result.pulled, result.accounts, result.cursor = payload["kind"], len(payload["accounts"]), payload["cursor"]
    return payload


def sync_once(home: home_mod.Home, transport=None, *, timeout: float = 10.0, now=None) -> SyncResult:
    """Push, then pull. Raises Unreachable or Refused; the outbox keeps whatever was not acked."""
    transport = transport or HttpTransport(home.server, timeout)
    conn = home.replica()
    try:
        result = SyncResult()
        private = home.private_key()
        push(home, conn, transport, private=private, now=now, result=result)
        pull(home, conn, transport, private=private, now=now, result=result)
        result.pending = replica.pending_summary(conn)[0]
        return result
    finally:
        conn.close()
