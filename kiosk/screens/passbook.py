"""Passbook: big rows, paging by tap; a deduction's reason needs the account's PIN."""

from kivy.properties import BooleanProperty, StringProperty

from device.flowkit import N_

from .base import KioskScreen, load_kv

load_kv(__file__)

KIND = {"award": N_("加分"), "deduction": N_("扣分"), "redemption": N_("兑换"), "reversal": N_("冲正"),
        "expiry": N_("到期"), "adjustment": N_("调整")}


class PassbookScreen(KioskScreen):
    can_unlock = BooleanProperty(False)
    expiring = StringProperty("")      # the points expiring within 60 days, as on the home screen

    def refresh(self) -> None:
        flow = self.flow
        rows = self.ids.rows
        rows.clear_widgets()
        total = len(flow.passbook())
        for line in flow.passbook_page():
            title = self.tr("扣分(输入密码后显示原因)") if flow.hides_details(line) else line.title
            sign = "+" if line.points > 0 else ""
            state = self.tr("(已冲正)") if line.reversed else self.tr("(待上传)") if line.pending else ""
            rows.add_widget(self.text(f"{line.day}   {self.tr(KIND.get(line.kind, line.kind))}   {title}{state}",
                                      size_hint_x=0.64))
            rows.add_widget(self.text(f"{sign}{line.points}", kind="KLarge", size_hint_x=0.14, halign="right",
                                      bold=True))
            rows.add_widget(self.text(self.tr("余额 {balance}").format(balance=line.balance_after), size_hint_x=0.22,
                                      halign="right"))
        if total == 0:
            rows.add_widget(self.text(self.tr("还没有记录。")))
        a = flow.account
        self.expiring = "\n".join(self.tr("有 {points} 分将在 {day} 到期,请及时兑换。").format(points=p, day=d)
                                  for d, p in (a.expiring if a else ()))
        self.ids.pager.show(flow, total, self.tr)
        self.can_unlock = any(flow.hides_details(line) for line in flow.passbook())
