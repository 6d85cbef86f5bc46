"""Fixtures for the tablet app: an enrolled tablet's flow on the shared small community
(``town``, ``hub`` and the ``now`` clock come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.sync.kit import enrol_tablet


@pytest.fixture
def tablet_home(town, hub, tmp_path):
    enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    return tmp_path / "tab"


@pytest.fixture
def flow(tablet_home, hub, now):
    from terminal.flow import TerminalFlow
    return TerminalFlow(tablet_home, now=now, transport=hub)
