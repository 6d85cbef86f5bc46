"""Accounts: households with members, status, PIN stored only as a slow salted hash."""

import pytest

from bank import accounts
from bank.errors import InvalidInput, NotFound


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
