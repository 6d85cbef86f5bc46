"""My points: masked name, household, the balance in very large digits, points expiring soon."""

from kivy.properties import BooleanProperty, StringProperty

from .base import KioskScreen, load_kv

load_kv(__file__)


class HomeScreen(KioskScreen):
    name_text = StringProperty("")
    address = StringProperty("")
    balance = StringProperty("")
    expiring = StringProperty("")
    expiring_warn = BooleanProperty(False)
    can_object = BooleanProperty(False)

    def refresh(self) -> None:
        a = self.flow.account
        if a is None:
            self.name_text = self.address = self.balance = self.expiring = ""
            self.expiring_warn = False
            return
        self.name_text, self.address, self.balance = a.name, a.address, str(a.balance)
        self.expiring_warn = bool(a.expiring)
        if a.expiring:
            self.expiring = "\n".join(self.tr("有 {points} 分将在 {day} 到期,请及时兑换。").format(points=p, day=d)
                                      for d, p in a.expiring)
        else:
            self.expiring = self.tr("60天内没有到期的积分。")
        self.can_object = self.app.posting_open()
