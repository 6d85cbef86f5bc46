"""The device end of the protocol: enrol, push the outbox, pull and apply, over HTTPS (requests).

The transport is a small object with ``post(path, body, headers) -> (status, body)`` and ``pin``
(the office certificate's SHA-256 it holds the connection to, or None) so that tests can put the
office's in-process app behind it; :class:`HttpTransport` is the real one. Its connection is
pinned: the office's certificate must have exactly the fingerprint the device learned at
enrolment, and nothing else decides (not the trust store, not REQUESTS_CA_BUNDLE, no proxy from
the environment). Plain HTTP is only for an office on this machine (development, tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import ssl
import urllib.parse
from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter

from bank import clock, devices
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


def _signed(home: home_mod.Home, private, path: str, body: bytes, now: dt.datetime, conn=None) -> dict:
    """Request signature headers; with the replica ``conn``, a request time later than any before."""
    time_text = clock.to_text(now) if conn is None else _next_request_time(conn, now)
    return wire.sign_request(private, "POST", path, home.device_id, time_text, body)


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


def _signed_call(home: home_mod.Home, private, conn, transport, path: str, body: bytes, now: dt.datetime) -> dict:
    """Sign and send, and recover once from two refusals about the request time:

    - ``replayed_request``: the office has seen a later request time from this device (its
      replica was restored from an older copy): move past the time it names.
    - ``request_time_out_of_range``: the device clock is more than a day off the office's (or
      was, and the times it used then are still its counter): go back to the office's last
      accepted time and sign with the office's time, which the refusal names. A clock far in
      the future therefore costs one refused request, never a device locked out.
    """
    try:
        return _call(transport, path, body, _signed(home, private, path, body, now, conn))
    except Refused as exc:
        last, office_now = exc.data.get("last_request_time"), exc.data.get("server_time")
        if exc.code == "replayed_request" and _time_text(last):
            replica.set_state(conn, last_request_time=max(last, replica.state(conn, "last_request_time") or ""))
        elif exc.code == "request_time_out_of_range" and _time_text(office_now) and (last is None or _time_text(last)):
            replica.set_state(conn, last_request_time=last)
            now = clock.from_text(office_now)
        else:
            raise
    return _call(transport, path, body, _signed(home, private, path, body, now, conn))


def _time_text(value) -> bool:
    return isinstance(value, str) and bool(wire.REQUEST_TIME.fullmatch(value))


# --- enrol ------------------------------------------------------------------------------------

def enrol(transport, code: str, private, label: str = "") -> dict:
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
        request = {"protocol": wire.ENROL_PROTOCOL, "code_id": parsed.code_id,
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
    transport = transport or transport_for(home, timeout)
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
