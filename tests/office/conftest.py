import pytest

from tests.sync.kit import build, office


@pytest.fixture
def town(tmp_path):
    return build(tmp_path / "office.sqlite")


@pytest.fixture
def hub(town):
    tc, transport = office(town.path)
    with tc:
        yield transport
