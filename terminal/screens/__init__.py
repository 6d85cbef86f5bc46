"""The tablet's screens: each a class (``<name>.py``) and its layout (``<name>.kv``)."""

from .card import CardScreen
from .confirm import ConfirmScreen
from .enrol import EnrolScreen
from .offers import OffersScreen
from .receipt import ReceiptScreen
from .scan import ScanScreen
from .settings import SettingsScreen
from .sync import SyncScreen
from .today import TodayScreen

ALL = (EnrolScreen, ScanScreen, CardScreen, OffersScreen, ConfirmScreen, ReceiptScreen, TodayScreen,
       SyncScreen, SettingsScreen)
