"""Fixtures for the kiosk: the small sync community plus a review group, entries in the last
quarter, its posting open today, and an enrolled kiosk of the compound's service point (``hub`` and
the ``now`` clock come from tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from bank import accounts, clock, db, devices, ledger, periods, postings, reviewers
from device import enrolment
from tests.sync.kit import Community, build

STAFF_PIN = "2468"


@dataclass
class KioskTown:
    town: Community
    path: Path
    staff: list          # [(Reviewer, staff card QR)]: staff[0] lives in `rich`'s household
    q_entry: int         # an award of the last quarter on `poor`'s account (objectable)
    posting_id: int


def make_town(path: Path, *, posting_open: bool = True) -> KioskTown:
    town = build(path)
    conn = db.connect(path)
    now = clock.now_utc()
    with db.transaction(conn):
        staff = []
        for aid, name in ((town.rich[0], "张喆明"), (town.poor[0], "李四")):
            member, card = reviewers.add(conn, compound_id=1, account_id=aid, name=name, pin=STAFF_PIN)
            staff.append((member, card.qr))
        third = accounts.open_account(conn, kind="single", holder="赵六", compound_id=1, building=2, unit=1,
                                      room="201", now=now)
        member, card = reviewers.add(conn, compound_id=1, account_id=third, name="赵六", pin=STAFF_PIN)
        staff.append((member, card.qr))
        quarter = periods.previous_quarter(now)
        mid = clock.local_midnight(quarter.first_day + dt.timedelta(days=20)) + dt.timedelta(hours=3)
        q_entry = ledger.record_item(conn, town.poor[0], "RJ01", recorded_by="评议小组成员:赵六", now=mid).entry_id
        today = clock.local_date(now)
        opens = today if posting_open else today - dt.timedelta(days=30)
        if opens <= quarter.last_day:
            opens = quarter.last_day + dt.timedelta(days=1)
        posting = postings.publish(conn, kind="quarterly", period=quarter, compound_id=1, opens_on=opens, days=7,
                                   by="council")
    conn.close()
    return KioskTown(town, path, staff, q_entry, posting.posting_id)


def enrol_kiosk(store_path: Path, transport, home_dir: Path):
    conn = db.connect(store_path)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, service_point_id=1)
    conn.close()
    h, pulled = enrolment.enrol(home_dir, "http://office.test", code, kind="kiosk", transport=transport)
    assert pulled
    return h


@pytest.fixture
def kt(tmp_path):
    return make_town(tmp_path / "office.sqlite")


@pytest.fixture
def town(kt):
    """The shared ``hub`` (tests/conftest.py) serves this town: the kiosk's, with its review group."""
    return kt.town


@pytest.fixture
def kiosk_home(kt, hub, tmp_path):
    enrol_kiosk(kt.path, hub, tmp_path / "kiosk")
    return tmp_path / "kiosk"


@pytest.fixture
def flow(kiosk_home, hub, now):
    from kiosk.flow import KioskFlow
    f = KioskFlow(kiosk_home, now=now, transport=hub)
    yield f
    f.conn.close()
