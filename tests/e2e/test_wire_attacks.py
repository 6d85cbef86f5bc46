"""A real proxy on 127.0.0.1 between a new device and the real office server.

1. Plain HTTP (``serve --insecure-http``): the proxy sees and may rewrite every byte. It replays
   the old attack (plant its own issuing key in the enrolment answer, so that the tablet would
   accept cards it forges) and tries to learn the code and to plant its own device key. It
   learns nothing, plants nothing, and the code still works for the real device afterwards.
2. HTTPS: the proxy terminates TLS with a certificate of its own. The device refuses it (the pin
   from the QR, the check in a typed code, the pin an enrolled device holds) with a plain message
   and sends it nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from bank import db, devices
from device import enrolment
from sync import client, home, wire

from tests.sync.kit import count

from .conftest import Server, cli, free_port

pytestmark = pytest.mark.slow


class Proxy:
    """An asyncio TCP proxy in its own thread. With ``tls`` it terminates TLS with its own
    certificate and talks TLS to the office; otherwise it parses HTTP/1.1 messages so that
    ``rewrite_request`` / ``rewrite_response`` (bytes -> bytes, by path) can change bodies.
    Everything it sees in clear is kept in ``seen``."""

    def __init__(self, upstream_port: int, *, tls: ssl.SSLContext | None = None,
                 rewrite_request=None, rewrite_response=None):
        self.upstream_port, self.tls = upstream_port, tls
        self.rewrite_request, self.rewrite_response = rewrite_request, rewrite_response
        self.port = free_port()
        self.seen = bytearray()
        self.tasks: set = set()
        self.writers: list = []
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        assert started.wait(10)

    def _run(self, started):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port, ssl=self.tls))
        started.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer):
        self.tasks.add(asyncio.current_task())
        self.writers.append(writer)
        up_ctx = None
        if self.tls is not None:
            up_ctx = ssl.create_default_context()
            up_ctx.check_hostname, up_ctx.verify_mode = False, ssl.CERT_NONE
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port, ssl=up_ctx)
            self.writers.append(up_writer)
            if self.tls is not None:
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            else:
                while True:
                    path, request = await self._message(reader)
                    if request is None:
                        break
                    if self.rewrite_request:
                        request = self._with_body(request, self.rewrite_request(path, self._body(request)))
                    up_writer.write(request)
                    await up_writer.drain()
                    _, response = await self._message(up_reader)
                    if response is None:
                        break
                    if self.rewrite_response:
                        response = self._with_body(response, self.rewrite_response(path, self._body(response)))
                    writer.write(response)
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self.tasks.discard(asyncio.current_task())

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                self.seen += data
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def _message(self, reader):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None, None
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length)
        self.seen += head + body
        first = head.split(b"\r\n", 1)[0].split(b" ")
        return (first[1].decode() if len(first) > 1 else ""), head + body

    @staticmethod
    def _body(message: bytes) -> bytes:
        return message.split(b"\r\n\r\n", 1)[1]

    @staticmethod
    def _with_body(message: bytes, body: bytes) -> bytes:
        head = message.split(b"\r\n\r\n", 1)[0]
        lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"content-length:")]
        return b"\r\n".join(lines + [b"content-length: %d" % len(body)]) + b"\r\n\r\n" + body

    async def _shutdown(self):
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for w in self.writers:
            w.close()
        await asyncio.gather(*(w.wait_closed() for w in self.writers), return_exceptions=True)
        await self.server.wait_closed()

    def stop(self):
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def _code(town) -> str:
    conn = db.connect(town.path)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, merchant_id=town.noodles)
    conn.close()
    return code


def _used(town, code) -> bool:
    conn = db.connect(town.path)
    try:
        return devices.outstanding_code(conn, devices.parse_code(code).code_id).used_at is not None
    finally:
        conn.close()


@pytest.fixture
def plain_server(town, tmp_path):
    s = Server(town.path, tmp_path / "server.log", insecure_http=True).start()
    yield s
    s.stop()


def test_a_proxy_on_plain_http_learns_no_code_and_plants_no_key(town, plain_server, tmp_path):
    code = _code(town)
    secret = devices.parse_code(code).secret
    thief = Ed25519PrivateKey.generate()
    thief_key = wire.b64e(home.public_bytes(thief))

    # (a) the device's request is rewritten to register the proxy's own device key
    def swap_device_key(path, body):
        if path.endswith("/enrol"):
            req = json.loads(body)
            req["public_key"] = thief_key
            req["signature"] = wire.b64e(thief.sign(wire.enrolment_pop_message(req)))
            return wire.canonical(req)
        return body

    proxy = Proxy(plain_server.port, rewrite_request=swap_device_key)
    try:
        with pytest.raises(client.Refused) as info:
            enrolment.enrol(tmp_path / "a", f"http://127.0.0.1:{proxy.port}", code)
        assert info.value.code == "enrolment_code_wrong"
        assert count(town.path, "devices") == 0 and not _used(town, code)
    finally:
        proxy.stop()

    # (b) the old attack: the answer's issuing keys are replaced by the proxy's
    planted = wire.b64e(home.public_bytes(Ed25519PrivateKey.generate()))

    def plant_issuing_key(path, body):
        if path.endswith("/enrol") and body.startswith(b"{"):
            answer = json.loads(body)
            if "issuing_keys" in answer:
                answer["issuing_keys"] = {"K1": planted}
                return wire.canonical(answer)
        return body

    proxy = Proxy(plain_server.port, rewrite_response=plant_issuing_key)
    try:
        with pytest.raises(client.Refused) as info:
            enrolment.enrol(tmp_path / "b", f"http://127.0.0.1:{proxy.port}", code)
        assert info.value.code == "enrolment_mac" and "不是本社区的办公室" in info.value.zh
        assert not (tmp_path / "b").exists()             # no home: the planted key is nowhere
        assert b"issuing_keys" in proxy.seen             # it did see and rewrite the answer
        # the proxy saw the whole enrolment and never the code's secret
        assert secret.encode() not in bytes(proxy.seen)
        assert devices.normalise_code(code).encode() not in bytes(proxy.seen)
    finally:
        proxy.stop()
    # the office registered the real device's key (its answer was then spoiled): an orphan that
    # nobody holds the private key of; the council revokes it and makes a new code
    assert count(town.path, "devices") == 1 and _used(town, code)

    # a fresh code, no proxy: the real device enrols and its pin is "none" only over plain HTTP here
    h, pulled = enrolment.enrol(tmp_path / "c", plain_server.url, _code(town))
    assert pulled and h.config["tls_pin"] is None
    assert planted not in json.dumps(h.config)


def _proxy_tls_context(tmp_path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "龙海社区 道德积分银行办公室")])   # looks the same
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "proxy.crt", tmp_path / "proxy.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


def test_a_proxy_with_its_own_certificate_is_refused_and_sent_nothing(town, server, tmp_path):
    proxy = Proxy(server.port, tls=_proxy_tls_context(tmp_path))
    via_proxy = f"https://127.0.0.1:{proxy.port}"
    try:
        code = _code(town)
        assert len(code.split("-")) == 7       # the office serves HTTPS: its codes carry the check
        # from the QR: the whole fingerprint, pinned before the first byte
        with pytest.raises(client.Refused) as info:
            enrolment.enrol(tmp_path / "qr", via_proxy, code, fingerprint=server.fingerprint)
        assert info.value.code == "tls_pin_mismatch" and "证书" in info.value.zh
        # typed: the check in the code does not match the proxy's certificate
        r = cli("terminal", "enrol", "--home", tmp_path / "typed", "--server", via_proxy, "--code", code, check=1)
        assert "证书" in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "qr").exists() and not (tmp_path / "typed").exists()
        assert bytes(proxy.seen) == b""          # no request ever went through it
        assert count(town.path, "devices") == 0 and not _used(town, code)

        # the real office, directly: enrols and pins its certificate
        cli("terminal", "enrol", "--home", tmp_path / "tab", "--server", server.url, "--code", code)
        config = json.loads((tmp_path / "tab" / "config.json").read_text("utf-8"))
        assert config["tls_pin"] == server.fingerprint
        # later the tablet is pointed at the proxy (DNS, a rogue access point): it will not sync
        config["server"] = via_proxy
        (tmp_path / "tab" / "config.json").write_text(json.dumps(config), "utf-8")
        r = cli("sync", "--home", tmp_path / "tab", "--json", check=1)
        assert json.loads(r.stdout)["error"] == "tls_pin_mismatch"
        assert bytes(proxy.seen) == b""
    finally:
        proxy.stop()


def test_a_pinned_device_ignores_the_environments_trust_store(town, server, tmp_path, monkeypatch):
    """REQUESTS_CA_BUNDLE pointing at a bundle without the office's certificate changes nothing:
    the pin decides, alone."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "nothing.pem"))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")        # and no proxy from the environment
    h, pulled = enrolment.enrol(tmp_path / "tab", server.url, _code(town))
    assert pulled and h.config["tls_pin"] == server.fingerprint
    assert client.sync_once(home.open_home(tmp_path / "tab")).pulled == "delta"
