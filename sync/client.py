"""The device end of the protocol: enrol, push the outbox, pull and apply, over HTTP (requests).

The transport is a small object with ``post(path, body, headers) -> (status, body)`` so that tests
can put the office's in-process app behind it; :class:`HttpTransport` is the real one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hmac
import json
import os
import time
from dataclasses import dataclass, field

import requests

from bank import clock
from bank.errors import BankError
from bank.policy import OfflinePolicy

from . import events as ev
from . import home as home_mod
from . import replica, wire
from .faults import DeviceFault

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


LOCK_WAIT = 30.0   # seconds a sync waits for another process of the device to finish its request


class Busy(Unreachable):
    """Another process of this device held the request lock for longer than we would wait."""

    code = "busy"


@contextlib.contextmanager
def request_lock(home: home_mod.Home, wait: float = LOCK_WAIT):
    """One signed request at a time per device home, across processes and threads.

    The office refuses a request whose signed time is not after the last one it accepted. Two
    processes of one device (the app's background syncer, a redemption's immediate push,
    ``python -m sync`` from a timer) that each take a request time and then race to the office
    would see the later time arrive first and the earlier refused as a replay. Holding
    ``flock`` on ``HOME/sync.lock`` from taking the time until the answer is in makes the
    requests reach the office in the order of their times. (flock, not fcntl record locks: two
    threads of one process opening the file separately exclude each other too.)
    """
    fd = os.open(home.path / home_mod.LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy("本机另一项同步正在进行,稍后会自动重试。",
                               f"another process of this device held the sync lock for {wait:.0f} s") from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)   # releases the lock


def _next_request_time(conn, now: dt.datetime) -> str:
    """The office refuses a request whose signed time is not after the last one it accepted from
    this device (replay protection). The device clock may jump back (a flat battery, a manual
    change), so the time is at least one microsecond after the last one used, and it is
    committed before the request goes out: a device killed mid-request never reuses it. The
    caller holds :func:`request_lock`."""
    text = clock.to_text(now)
    last = replica.state(conn, "last_request_time")
    if isinstance(last, str) and text <= last:
        text = clock.to_text(clock.from_text(last) + dt.timedelta(microseconds=1))
    replica.set_state(conn, last_request_time=text)
    return text


def _signed_call(home: home_mod.Home, private, conn, transport, path: str, body, now: dt.datetime,
                 lock_wait: float = LOCK_WAIT) -> dict:
    """Sign and send ``body`` (bytes, or a function of the request time that makes them) under the
    device's request lock; if the office has seen a later request time from this device (its
    replica was restored from an older copy), move past the time it names and try once more."""
    build = body if callable(body) else (lambda _time: body)

    def send() -> dict:
        time_text = _next_request_time(conn, now)
        data = build(time_text)
        return _call(transport, path, data, wire.sign_request(private, "POST", path, home.device_id, time_text, data))

    with request_lock(home, lock_wait):
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
              card_version: int, pin: str | None = None, points: int | None = None, now=None,
              lock_wait: float = LOCK_WAIT) -> dict:
    """Ask the office to check a PIN or authorise a redemption or a member (see
    :mod:`office.sync_api.authorisations`); return its answer or raise Refused / Unreachable.

    The body proves the card was read for this very request: the proof covers the request's
    signed time, so the time is fixed first and the body built on it.
    """
    path = wire.API + "/authorise"

    def body(time_text: str) -> bytes:
        return wire.canonical({"purpose": purpose, "card": card_id, "card_version": card_version, "pin": pin,
                               "points": points, "proof": ev.card_proof(card_text, home.device_id, f"auth:{time_text}")})

    return _signed_call(home, home.private_key(), conn, transport, path, body, now or clock.now_utc(), lock_wait)


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
    acked_seq: int = 0         # the highest of this device's events the office acknowledged
    last_seq: int = 0          # this device's newest event
    resent: int = 0            # events sent again because the office had lost them (restored backup)
    pulled: str = ""           # 'full' or 'delta'
    accounts: int = 0
    pending: int = 0
    pruned: int = 0            # acknowledged events older than the retention period, forgotten
    cursor: str | None = None
    errors: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))


# Refusals about where the device's chain joins the office's: the sync still pulls (so both ends
# compare their sequences and raise what they find) before it reports them.
CHAIN_REFUSALS = ("chain_fork", "chain_broken", "chain_gap", "office_behind")


def push(home: home_mod.Home, conn, transport, *, private=None, now=None, result: SyncResult | None = None,
         lock_wait: float = LOCK_WAIT) -> int:
    """Push every unacknowledged event, a batch at a time; return the office's acked sequence.

    Each batch also says how far this device believes the office has acknowledged
    (``acked_seq``). An office restored from an older backup holds less: it answers
    ``office_behind`` with what it holds, and the device marks the later events unacknowledged
    and sends them again (:func:`sync.replica.reopen`). A device whose replica is behind or forked
    (:func:`sync.replica.check_usable`) pushes nothing.
    """
    private = private or home.private_key()
    result = result or SyncResult()
    now = now or clock.now_utc()
    replica.check_usable(conn)
    acked = replica.state(conn, "acked_seq", 0)
    reopened = False
    while True:
        batch = replica.pending(conn, PUSH_BATCH)
        if not batch:
            return acked
        body = wire.canonical({**ev.sign_batch(private, home.device_id, batch),
                               "acked_seq": replica.state(conn, "acked_seq", 0)})
        path = wire.API + "/push"
        try:
            answer = _signed_call(home, private, conn, transport, path, body, now, lock_wait)
        except Refused as exc:
            office_seq = exc.acked_seq if isinstance(exc.acked_seq, int) else None
            if office_seq is not None and exc.code in ("office_behind", "chain_gap") and not reopened \
                    and office_seq < replica.state(conn, "acked_seq", 0):
                result.resent += _reopen(conn, office_seq)
                reopened = True
                continue
            if exc.code in ("chain_fork", "chain_broken"):
                replica.set_fault(conn, DeviceFault("chain_forked", seq=batch[0]["seq"]), now)
            elif office_seq is not None:
                replica.acknowledge(conn, office_seq)
            raise
        acked = int(answer["acked_seq"])
        replica.acknowledge(conn, acked)
        result.pushed += len(batch)
        result.acked_seq = acked
        _check_not_behind(conn, acked, now)
        if acked < batch[-1]["seq"]:
            raise Refused("not_acknowledged", "办公室没有确认全部事件。",
                          f"office acknowledged {acked}, sent up to {batch[-1]['seq']}", 200, acked)


def _reopen(conn, office_seq: int) -> int:
    try:
        return replica.reopen(conn, office_seq)
    except replica.OfficeMissing as gap:
        raise Refused(gap.code, gap.zh, gap.en, 409, office_seq) from None


def _check_not_behind(conn, office_seq: int, now: dt.datetime) -> None:
    """The office holds events of this device that the device does not (its replica is an old
    copy): its next event would fork the chain, so it stops for good (recorded in the replica)."""
    mine = replica.last_seq(conn)
    if office_seq > mine:
        fault = DeviceFault("device_behind", office_seq=office_seq, device_seq=mine)
        replica.set_fault(conn, fault, now)
        raise fault


def pull(home: home_mod.Home, conn, transport, *, private=None, now=None, full: bool = False,
         result: SyncResult | None = None, lock_wait: float = LOCK_WAIT) -> dict:
    """Fetch a signed snapshot or delta, verify it, apply it atomically; return the payload.

    The request tells the office this device's newest event (``last_seq``) and how far it
    believes the office has acknowledged (``acked_seq``), so the office can raise an alert when
    either end is missing events; the answer's ``applied_seq`` is the office's side of it.
    """
    private = private or home.private_key()
    result = result or SyncResult()
    cursor = None if full else replica.state(conn, "cursor")
    path = wire.API + "/pull"
    body = wire.canonical({"cursor": cursor, "full": cursor is None, "last_seq": replica.last_seq(conn),
                           "acked_seq": replica.state(conn, "acked_seq", 0)})
    answer = _signed_call(home, private, conn, transport, path, body, now or clock.now_utc(), lock_wait)
    try:
        payload = replica.apply_pull(conn, answer, now=now or clock.now_utc())
    except wire.PullRejected:
        if cursor is None:
            raise
        return pull(home, conn, transport, private=private, now=now, full=True, result=result, lock_wait=lock_wait)
    result.pulled, result.accounts, result.cursor = payload["kind"], len(payload["accounts"]), payload["cursor"]
    return payload


def sync_once(home: home_mod.Home, transport=None, *, timeout: float = 10.0, now=None,
              lock_wait: float = LOCK_WAIT) -> SyncResult:
    """Push, then pull; compare the chain with the office's; forget what is past retention.

    Raises Unreachable or Refused (the outbox keeps whatever was not acked), or
    :class:`~sync.faults.DeviceFault` when the replica is damaged, behind or forked: such a
    device still pulls (the office learns where it stands) but pushes nothing.
    """
    transport = transport or HttpTransport(home.server, timeout)
    now_fixed = now
    conn = home.replica()
    try:
        replica.check_integrity(conn)
        result = SyncResult()
        private = home.private_key()
        fault, refused = replica.fault(conn), None
        for _round in range(3):
            now = now_fixed or clock.now_utc()
            if fault is None:
                try:
                    push(home, conn, transport, private=private, now=now, result=result, lock_wait=lock_wait)
                except DeviceFault as exc:
                    fault = exc
                except Refused as exc:
                    if exc.code not in CHAIN_REFUSALS:
                        raise
                    refused = exc
                    fault = replica.fault(conn)
            try:
                payload = pull(home, conn, transport, private=private, now=now, result=result, lock_wait=lock_wait)
            except (Unreachable, Refused):
                if fault is None:
                    raise
                break          # the fault is what this device must say, reachable office or not
            office_seq = payload["applied_seq"]
            if fault is None:
                try:
                    _check_not_behind(conn, office_seq, now)
                except DeviceFault as exc:
                    fault = exc
            if fault is None and refused is None and office_seq < replica.state(conn, "acked_seq", 0):
                # the office lost events it had acknowledged (restored from an older backup) and
                # none was pending, so no push told us: send them again, then pull once more
                result.resent += _reopen(conn, office_seq)
                continue
            break
        result.acked_seq = replica.state(conn, "acked_seq", 0)
        result.last_seq = replica.last_seq(conn)
        result.pending = replica.pending_summary(conn)[0]
        if fault is not None:
            raise fault
        if refused is not None:
            raise refused
        retention = (replica.state(conn, "policy") or {}).get("retention_days", OfflinePolicy.retention_days)
        result.pruned = replica.prune(conn, now, retention)
        return result
    finally:
        conn.close()
