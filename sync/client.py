"""The device end of the protocol: enrol, push the outbox, pull and apply, over HTTPS (requests).

The transport is a small object with ``post(path, body, headers) -> (status, body)`` and ``pin``
(the office certificate's SHA-256 it holds the connection to, or None) so that tests can put the
office's in-process app behind it; :class:`HttpTransport` is the real one. Its connection is
pinned: the office's certificate must have exactly the fingerprint the device learned at
enrolment, and nothing else decides (not the trust store, not REQUESTS_CA_BUNDLE, no proxy from
the environment). Plain HTTP is only for an office on this machine (development, tests).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import ipaddress
import json
import os
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter

from bank import clock, devices
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


class InsecureServer(Refused):
    """An office address this device will not talk to: plain HTTP to another machine, or HTTPS
    without a pinned certificate. Refused without a word sent."""

    def __init__(self, zh: str, en: str):
        super().__init__("insecure_server", zh, en, 0)


PIN_MISMATCH = ("办公室服务器的证书与登记时记下的不符,已拒绝连接(可能有人冒充办公室)。请联系社区办公室。",
                "the server's TLS certificate does not match the one pinned at enrolment: refusing to talk to it")


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _split(base_url: str) -> urllib.parse.SplitResult:
    url = urllib.parse.urlsplit(base_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InsecureServer(f"办公室地址不正确:{base_url}(应如 https://192.168.1.10:8080)。",
                             f"not an office address: {base_url!r} (expected https://HOST:PORT)")
    return url


def check_server_address(base_url: str) -> None:
    """Refuse an office address a device will not use: not http(s), or plain HTTP off this machine.
    (The same office at a new address keeps its pinned certificate.)"""
    url = _split(base_url)
    if url.scheme == "http" and not _is_loopback(url.hostname):
        raise InsecureServer("只能通过 HTTPS 连接社区办公室(明文 HTTP 只用于本机开发)。",
                             f"plain HTTP is only for an office on this machine, not {url.hostname}: use https://")


class _PinnedAdapter(HTTPAdapter):
    """Every HTTPS connection checks the certificate's SHA-256 against the pin (urllib3's
    ``assert_fingerprint``) and nothing else: the trust store is never consulted."""

    def __init__(self, pin: str):
        self.pin = pin
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["assert_fingerprint"] = self.pin
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn, url, verify, cert):
        super().cert_verify(conn, url, False, cert)


class HttpTransport:
    """The device's connection to the office. An address it must not use (plain HTTP off this
    machine, HTTPS with no pin) is refused at every request, never at construction, so a tablet
    keeps redeeming offline and says why it cannot sync."""

    def __init__(self, base_url: str, timeout: float = 10.0, *, pin: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.pin, self.refusal = None, None
        try:
            check_server_address(base_url)
            if _split(base_url).scheme == "https":
                if pin is None or not devices.FINGERPRINT.fullmatch(pin):
                    raise InsecureServer("没有记下办公室证书指纹,不能连接。请重新登记本设备。",
                                         "no pinned certificate fingerprint for this office: enrol the device again")
                self.pin = pin
        except InsecureServer as exc:
            self.refusal = exc
        self.session = requests.Session()
        self.session.trust_env = False      # no REQUESTS_CA_BUNDLE, no proxy from the environment
        if self.pin:
            self.session.mount("https://", _PinnedAdapter(self.pin))

    def _send(self, method: str, path: str, **kwargs) -> tuple[int, bytes]:
        if self.refusal is not None:
            raise self.refusal
        try:
            r = self.session.request(method, self.base_url + path, timeout=self.timeout, verify=False, **kwargs)
        except requests.exceptions.SSLError as exc:
            if "Fingerprints did not match" in str(exc):
                raise Refused("tls_pin_mismatch", *PIN_MISMATCH, 0) from None
            raise Unreachable("无法与社区办公室建立安全连接,稍后会自动重试。",
                              f"office unreachable: TLS failed ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise Unreachable("无法连接社区办公室,稍后会自动重试。",
                              f"office unreachable: {type(exc).__name__}") from None
        return r.status_code, r.content

    @property
    def path_prefix(self) -> str:
        """The path of the office address (``/c/LH`` for a community of a district server): part of
        every path the device signs, so a request is bound to its community."""
        return urllib.parse.urlsplit(self.base_url).path.rstrip("/")

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        return self._send("POST", path, data=body, headers={"content-type": "application/json", **headers})

    def get(self, path: str) -> tuple[int, bytes]:
        return self._send("GET", path)


def transport_for(home: home_mod.Home, timeout: float = 10.0) -> HttpTransport:
    """The pinned transport to the office this device is enrolled with."""
    return HttpTransport(home.server, timeout, pin=home.config.get("tls_pin"))


def server_fingerprint(base_url: str, timeout: float = 10.0) -> str:
    """The SHA-256 of the certificate the server at ``base_url`` presents, read without trusting
    it (the caller compares it with what the enrolment code says)."""
    url = _split(base_url)
    try:
        pem = ssl.get_server_certificate((url.hostname, url.port or 443), timeout=timeout)
    except (OSError, ValueError) as exc:
        raise Unreachable("无法连接社区办公室,请检查网络和办公室地址。",
                          f"office unreachable: {type(exc).__name__}") from None
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def enrolment_transport(server: str, code: str, fingerprint: str | None = None,
                        timeout: float = 10.0) -> HttpTransport:
    """The pinned transport a new device enrols over. The pin is the full fingerprint from the
    enrolment QR, or, for a typed code, the certificate the server presents once its fingerprint
    agrees with the code's check; either way the code's check must agree. Plain HTTP (an office
    on this machine) has no pin."""
    parsed = devices.parse_code(code)
    url = _split(server)
    if url.scheme == "http":
        check_server_address(server)
        return HttpTransport(server, timeout)
    if fingerprint is not None and not devices.FINGERPRINT.fullmatch(fingerprint):
        raise InsecureServer("登记二维码中的证书指纹格式不正确。", "the QR's certificate fingerprint is malformed")
    if fingerprint is None and parsed.fingerprint_check is None:
        raise InsecureServer("登记码缺少办公室证书指纹(应为 7 组),无法确认连接的是本社区办公室。",
                             "the enrolment code carries no certificate check (7 groups expected) for an https office")
    pin = fingerprint or server_fingerprint(server, timeout)
    if parsed.fingerprint_check is not None and devices.fingerprint_check(pin) != parsed.fingerprint_check:
        raise Refused("tls_pin_mismatch", *PIN_MISMATCH, 0)
    return HttpTransport(server, timeout, pin=pin)


def _call(transport, path: str, body: bytes, headers: dict) -> dict:
    status, content = transport.post(path, body, headers)
    try:
        data = json.loads(content.decode("utf-8")) if content else {}
    except (UnicodeDecodeError, ValueError):
        data = {}
    if status == 503 and isinstance(data, dict) and data.get("error") == "busy":
        # the store is locked by another writer (a backup): nothing was done, try again later
        raise Unreachable("社区办公室正忙,稍后会自动重试。", f"office busy (HTTP 503): {data.get('en', '')}")
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
    device's request lock, and recover once from two refusals about the request time:

    - ``replayed_request``: the office has seen a later request time from this device (its
      replica was restored from an older copy): move past the time it names.
    - ``request_time_out_of_range``: the device clock is more than a day off the office's (or
      was, and the times it used then are still its counter): go back to the office's last
      accepted time and sign with the office's time, which the refusal names. A clock far in
      the future therefore costs one refused request, never a device locked out.
    """
    build = body if callable(body) else (lambda _time: body)
    # the whole path as the office receives it: with the office address's own path (a district
    # server serves each community under /c/CODE), which the office verifies as it was sent
    signed = getattr(transport, "path_prefix", "") + path

    def send(at: dt.datetime) -> dict:
        time_text = _next_request_time(conn, at)
        data = build(time_text)
        return _call(transport, path, data, wire.sign_request(private, "POST", signed, home.device_id, time_text, data))

    with request_lock(home, lock_wait):
        try:
            return send(now)
        except Refused as exc:
            last, office_now = exc.data.get("last_request_time"), exc.data.get("server_time")
            if exc.code == "replayed_request" and _time_text(last):
                replica.set_state(conn, last_request_time=max(last, replica.state(conn, "last_request_time") or ""))
            elif exc.code == "request_time_out_of_range" and _time_text(office_now) and (last is None or _time_text(last)):
                replica.set_state(conn, last_request_time=last)
                now = clock.from_text(office_now)
            else:
                raise
        return send(now)


def _time_text(value) -> bool:
    return isinstance(value, str) and bool(wire.REQUEST_TIME.fullmatch(value))


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

def enrol(transport, code: str, private, label: str = "", *, kind: str) -> dict:
    """Register this device's key with the one-time ``code`` (protocol 2, docs/sync-protocol.md):
    the code never leaves the device; the office's answer must carry a valid MAC from the code,
    name our key, our challenge and the certificate we see. Returns the answer without its MAC."""
    parsed = devices.parse_code(code)
    pin = getattr(transport, "pin", None)
    if pin is not None and parsed.fingerprint_check is not None and devices.fingerprint_check(pin) != parsed.fingerprint_check:
        raise Refused("tls_pin_mismatch", *PIN_MISMATCH, 0)
    public_key = wire.b64e(home_mod.public_bytes(private))
    for attempt in (1, 2):      # a challenge gone stale (office restarted) is asked for once more
        challenge = _call(transport, wire.API + "/enrol/challenge",
                          wire.canonical({"protocol": wire.ENROL_PROTOCOL, "code_id": parsed.code_id}), {})
        request = {"protocol": wire.ENROL_PROTOCOL, "code_id": parsed.code_id, "kind": kind,
                   "challenge": str(challenge.get("challenge", "")), "public_key": public_key,
                   "label": label, "tls": pin}
        request["signature"] = wire.b64e(private.sign(wire.enrolment_pop_message(request)))
        request["mac"] = wire.enrolment_request_mac(parsed.key, request)
        try:
            answer = _call(transport, wire.API + "/enrol", wire.canonical(request), {})
            break
        except Refused as exc:
            if exc.code != "enrolment_challenge" or attempt == 2:
                raise
    mac = answer.get("mac", "")
    if not isinstance(mac, str) or not hmac.compare_digest(mac, wire.enrolment_answer_mac(parsed.key, answer)):
        raise Refused("enrolment_mac", "登记回复无法验证,可能不是本社区的办公室。",
                      "the enrolment answer does not carry a valid MAC for this code", 0)
    if (answer.get("public_key"), answer.get("challenge"), answer.get("tls")) != (
            public_key, request["challenge"], pin):
        raise Refused("enrolment_mac", "登记回复与本设备的请求不符,可能不是本社区的办公室。",
                      "the enrolment answer is for another key, challenge or certificate", 0)
    answer.pop("mac")
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
    result.pulled, result.accounts, result.cursor = payload["kind"], len(payload["accounts"]["rows"]), payload["cursor"]
    return payload


def sync_once(home: home_mod.Home, transport=None, *, timeout: float = 10.0, now=None,
              lock_wait: float = LOCK_WAIT) -> SyncResult:
    """Push, then pull; compare the chain with the office's; forget what is past retention.

    Raises Unreachable or Refused (the outbox keeps whatever was not acked), or
    :class:`~sync.faults.DeviceFault` when the replica is damaged, behind or forked: such a
    device still pulls (the office learns where it stands) but pushes nothing.
    """
    transport = transport or transport_for(home, timeout)
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
