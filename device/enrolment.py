"""Enrolling a device: make its key pair and home, register with the office, take the first pull."""

from __future__ import annotations

from pathlib import Path

from bank import clock, devices

from sync import client, home


def enrol(home_dir: str | Path, server: str, code: str, *, kind: str = "tablet", label: str = "",
           transport=None, timeout: float = 15.0, fingerprint: str | None = None) -> tuple[home.Home, bool]:
    """Enrol this machine as a ``kind`` device; return its home and whether the first pull worked.

    ``fingerprint`` is the office certificate's SHA-256 from the enrolment QR; a typed code
    carries a check of it instead (:func:`sync.client.enrolment_transport`). The pin is kept in
    ``config.json`` (``tls_pin``) and every later push and pull holds the office to it. The
    private key never leaves the home directory (file mode 0600). If the office answers but the
    first pull fails, the device is enrolled and ``python -m sync`` fetches the data later; a
    device that has never pulled refuses to redeem.
    """
    path = home.prepare(home_dir)
    devices.parse_code(code)        # a mistyped code is refused before anything is sent
    transport = transport or client.enrolment_transport(server, code, fingerprint, timeout)
    private = home.new_key()
    answer = client.enrol(transport, code, private, label, kind=kind)   # the office refuses another kind's code
    config = {"device_id": answer["device_id"], "kind": answer["kind"], "merchant_id": answer["merchant_id"],
              "service_point_id": answer["service_point_id"], "server": server.rstrip("/"),
              "community": answer["community"], "community_name": answer["community_name"],
              "issuing_keys": answer["issuing_keys"], "tls_pin": getattr(transport, "pin", None),
              "enrolled_at": clock.to_text(clock.now_utc())}
    h = home.create(path, config, private)
    conn = h.replica()
    try:
        client.pull(h, conn, transport, private=private)
        return h, True
    except (client.Unreachable, client.Refused):
        return h, False
    finally:
        conn.close()


def unreachable_sentence(server: str) -> str:
    """What a person enrolling a device reads when the office does not answer: what to check, and
    that nothing was written here (the home directory is still free for the same command)."""
    return (f"无法连接社区办公室 {server}。请检查网络是否连通、办公室地址和端口是否正确、办公室的服务是否已启动;"
            "本机没有写入任何内容,检查后用同一登记码再次登记即可。")


def fingerprint_text(text: str | None) -> str | None:
    """A fingerprint as people copy it (``AB:CD:…`` or plain hex) in the form the QR carries, or a
    plain refusal."""
    if text is None:
        return None
    fp = text.strip().replace(":", "").replace(" ", "").lower()
    if not devices.FINGERPRINT.fullmatch(fp):
        raise devices.BadCode("证书指纹格式不正确(应为 64 位十六进制数字)。",
                              "a certificate fingerprint is 64 hex digits (colons allowed)")
    return fp


