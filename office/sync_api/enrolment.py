"""Enrolment at the office: a device registers its key with a one-time code."""

from __future__ import annotations

import datetime as dt
import sqlite3

from bank import cards, clock, community, devices
from bank.db import transaction
from bank.errors import BankError
from sync import wire
from sync.wire import ProtocolError


def enrol(conn: sqlite3.Connection, body: bytes, now: dt.datetime) -> dict:
    """Register a device key with a one-time code; answer with its identity and the community keys."""
    obj = wire.parse_json(body, wire.MAX_SMALL_BYTES)
    if not isinstance(obj, dict) or not {"code", "public_key"} <= set(obj) <= {"code", "public_key", "label"}:
        raise wire.malformed("an enrolment has code, public_key and optionally label")
    code, label = obj["code"], obj.get("label", "")
    if not isinstance(code, str) or not isinstance(label, str) or len(label) > 60:
        raise wire.malformed("code and label must be text")
    public_key = wire.b64d(obj["public_key"], length=32)
    try:
        with transaction(conn):
            device = devices.enrol(conn, code, public_key, label=label, now=now)
    except devices.EnrolmentRefused as exc:
        raise ProtocolError(exc.code, exc.zh, exc.en, status=403) from None
    except BankError as exc:
        raise ProtocolError(exc.code, exc.zh, exc.en, status=400) from None
    response = {
        "protocol": wire.PROTOCOL, "device_id": device.device_id, "kind": device.kind,
        "merchant_id": device.merchant_id, "service_point_id": device.service_point_id,
        "community": community.code(conn), "community_name": community.name(conn),
        "issuing_keys": {k: wire.b64e(v) for k, v in cards.public_keys(conn).items()},
        "server_time": clock.to_text(now),
    }
    response["mac"] = wire.enrolment_mac(code, response)
    return response


