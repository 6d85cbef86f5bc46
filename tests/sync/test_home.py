"""The device home: config changes are saved whole and checked first."""

import json

import pytest

from sync import home
from sync.faults import DeviceFault

CONFIG = {"device_id": "T0001", "kind": "tablet", "server": "https://192.168.1.10:8443", "community": "LH",
          "merchant_id": 3, "issuing_keys": {}}


@pytest.fixture
def tab(tmp_path):
    return home.create(tmp_path / "tab", CONFIG, home.new_key())


def test_a_changed_config_is_saved_whole_and_read_back(tab):
    moved = tab.with_config(server="https://192.168.1.20:8443")
    assert moved.server == "https://192.168.1.20:8443"
    assert home.open_home(tab.path).config == {**CONFIG, "server": "https://192.168.1.20:8443"}
    assert sorted(p.name for p in tab.path.iterdir()) == [home.CONFIG, home.KEY, home.REPLICA]   # no .tmp left


def test_a_change_that_would_break_the_config_writes_nothing(tab):
    before = (tab.path / home.CONFIG).read_bytes()
    with pytest.raises(DeviceFault):
        tab.with_config(merchant_id=None)
    assert (tab.path / home.CONFIG).read_bytes() == before
    assert json.loads(before)["merchant_id"] == 3
