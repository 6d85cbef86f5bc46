"""Enrolling a device: make its key pair and home, register with the office, take the first pull."""

from __future__ import annotations

from pathlib import Path

from bank import clock
from bank.errors import BankError

from sync import client, home


class WrongDeviceKind(BankError):
    code = "wrong_device_kind"


def enroll(home_dir: str | Path, server: str, code: str, *, kind: str = "tablet", label: str = "",
           transport=None, timeout: float = 15.0) -> tuple[home.Home, bool]:
    """Enrol this machine as a ``kind`` device; return its home and whether the first pull worked.

    The private key never leaves the home directory (file mode 0600). If the office answers but the
    first pull fails, the device is enrolled and ``python -m sync`` fetches the data later; a
    device that has never pulled refuses to redeem.
    """
    path = home.prepare(home_dir)
    transport = transport or client.HttpTransport(server, timeout)
    private = home.new_key()
    answer = client.enrol(transport, code, home.public_bytes(private), label)
    if answer["kind"] != kind:
        raise WrongDeviceKind("这个登记码是给另一类设备的(商户平板/服务点一体机)。",
                              f"this code enrols a {answer['kind']}, not a {kind}; the office has registered "
                              f"device {answer['device_id']}: revoke it and make a {kind} code")
    config = {"device_id": answer["device_id"], "kind": answer["kind"], "merchant_id": answer["merchant_id"],
              "service_point_id": answer["service_point_id"], "server": server.rstrip("/"),
              "community": answer["community"], "community_name": answer["community_name"],
              "issuing_keys": answer["issuing_keys"], "enrolled_at": clock.to_text(clock.now_utc())}
    h = home.create(path, config, private)
    conn = h.replica()
    try:
        client.pull(h, conn, transport, private=private)
        return h, True
    except (client.Unreachable, client.Refused):
        return h, False
    finally:
        conn.close()


__all__ = ["enroll", "WrongDeviceKind"]
