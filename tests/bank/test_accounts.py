"""Accounts: households with members, status, PIN stored only as a slow salted hash."""

import pytest

from bank import accounts
from bank.errors import InvalidInput, NotFound

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def test_household_with_members(store, account):
    accounts.add_member(store, account, "李玥", "配偶")
    names = [m["name"] for m in accounts.members(store, account)]
    assert names == ["张喆明", "李玥"]
    assert accounts.get(store, account).kind == "household"


def test_pin_is_hashed_with_scrypt_and_salt(store, account):
    accounts.set_pin(store, account, "2468")
    stored = store.execute("SELECT pin_hash FROM accounts WHERE account_id = ?", (account,)).fetchone()[0]
    assert stored.startswith("scrypt$") and "2468" not in stored
    assert accounts.check_pin(stored, "2468")
    assert not accounts.check_pin(stored, "2469")
    assert accounts.hash_pin("2468") != accounts.hash_pin("2468")  # salted
    accounts.set_pin(store, account, None)
    assert not accounts.get(store, account).has_pin


@pytest.mark.parametrize("pin", ["12", "1234567", "12a4", "", "١٢٣٤"])
def test_bad_pins_are_refused(store, account, pin):
    with pytest.raises(InvalidInput):
        accounts.set_pin(store, account, pin or "x")


def test_mask_name():
    assert [accounts.mask_name(n) for n in ("张三明", "李四", "欧阳娜娜", "王")] == ["张*明", "李*", "欧**娜", "王"]


def test_unknown_account(store):
    with pytest.raises(NotFound):
        accounts.get(store, 424242)


@pytest.mark.parametrize("compound,building,unit", [(99, 1, 1), (1, 0, 1), (1, 10, 1), (1, 1, 0), (1, "3", 1)])
def test_address_must_exist(store, compound, building, unit):
    with pytest.raises(InvalidInput):
        accounts.open_account(store, kind="single", holder="王五", compound_id=compound, building=building,
                              unit=unit, room="101")
    assert store.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0


def test_search_finds_by_name_number_and_address_with_balances(store, account):
    from bank import ledger
    from tests.conftest import T0
    other = accounts.open_account(store, kind="single", holder="王五", compound_id=1, building=1, unit=1,
                                  room="101", now=T0)
    ledger.record_item(store, account, "ML05", recorded_by="测试", now=T0)   # red list +3
    found = accounts.search(store, term="张")
    assert [(r["account_id"], r["balance"], r["compound"], r["member_count"]) for r in found.rows] == \
        [(account, 3, "龙海花园", 1)]
    assert [r["account_id"] for r in accounts.search(store, building=1).rows] == [other]
    assert [r["account_id"] for r in accounts.search(store, term=str(other)).rows] == [other]
    assert accounts.search(store).total == 2
