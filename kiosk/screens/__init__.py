"""The kiosk's screens: each a class (``<name>.py``) and its layout (``<name>.kv``)."""

from .attract import AttractScreen
from .boards import BoardsScreen
from .convention import ConventionScreen
from .home import HomeScreen
from .object import ObjectScreen
from .passbook import PassbookScreen
from .pin import PinScreen
from .redeem import RedeemScreen
from .staff_confirm import StaffConfirmScreen
from .staff_find import StaffFindScreen
from .staff_items import StaffItemsScreen
from .staff_month import StaffMonthScreen
from .tip import TipScreen


def all_screens():
    """One instance of each screen (the PIN pad three times, under its three names)."""
    return [AttractScreen(), HomeScreen(), PassbookScreen(), PinScreen(name="pin"), ConventionScreen(),
            RedeemScreen(), BoardsScreen(), ObjectScreen(), TipScreen(), PinScreen(name="staff_pin"), StaffFindScreen(),
            StaffItemsScreen(), StaffConfirmScreen(), PinScreen(name="second_pin"), StaffMonthScreen()]
