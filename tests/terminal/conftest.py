"""Fixtures for the tablet app: a small community in-process and an enrolled tablet's flow."""

from __future__ import annotations

import datetime as dt

import pytest

from bank import clock
from tests.sync.kit import build, enrol_tablet, office


class FakeClock:
    """A clock the test moves forward (starts at the real now: enrolment pulls at real time)."""

    def __init__(self):
        self.t = clock.now_utc()

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **delta) -> None:
        self.t += dt.timedelta(**delta)


@pytest.fixture
def town(tmp_path):
    return build(tmp_path / "office.sqlite")


@pytest.fixture
def hub(town):
    tc, transport = office(town.path)
    with tc:
        yield transport


@pytest.fixture
def now():
    return FakeClock()


@pytest.fixture
def tablet_home(town, hub, tmp_path):
    enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    return tmp_path / "tab"


@pytest.fixture
def flow(tablet_home, hub, now):
    from terminal.flow import TerminalFlow
    return TerminalFlow(tablet_home, now=now, transport=hub)
