"""Staff: this month's entries for the compound; undo one's own entry of today."""

from kivy.factory import Factory

from .base import KioskScreen, load_kv

load_kv(__file__)


class StaffMonthScreen(KioskScreen):
    def refresh(self) -> None:
        flow = self.flow
        rows = self.ids.rows
        rows.clear_widgets()
        total = len(flow.month())
        for line in flow.month_page():
            sign = "+" if line.points > 0 else ""
            state = self.tr("(已撤销)") if line.reversed else self.tr("(待上传)") if line.pending else ""
            row = Factory.KRow()
            row.add_widget(self.text(f"{line.day[5:]}  {line.address} {line.name}  {line.title} {sign}{line.points}{state}\n"
                                     f"{line.recorded_by}", size_hint_x=0.78))
            b = self.button(self.tr("撤销"), "undo", line.key, disabled=not flow.can_undo(line), size_hint_x=0.22)
            b.line_key = line.key
            row.add_widget(b)
            rows.add_widget(row)
        if total == 0:
            rows.add_widget(self.text(self.tr("本月还没有记录。")))
        self.ids.pager.show(flow, total, self.tr)
