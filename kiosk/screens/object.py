"""Objection: choose an entry of your own household from the posted period, then a reason."""

from kivy.factory import Factory
from kivy.properties import BooleanProperty

from kiosk import objections

from .base import KioskScreen, load_kv

load_kv(__file__)


class ObjectScreen(KioskScreen):
    choosing_reason = BooleanProperty(False)

    def refresh(self) -> None:
        flow = self.flow
        box = self.ids.rows
        box.clear_widgets()
        self.choosing_reason = flow.object_entry is not None
        if self.choosing_reason:
            line = next((p for p in flow.passbook() if p.entry_id == flow.object_entry), None)
            self.ids.prompt.text = self.tr("对“{title}”的异议理由是:").format(title=line.title if line else "")
            self.ids.pager.show(flow, 0, self.tr)     # one page: the pager hides
            reasons = objections.OBJECTION_REASONS
            for i in range(0, len(reasons), 2):       # two a row: the reasons fit the small screen too
                row = Factory.KRow()
                for reason in reasons[i:i + 2]:
                    row.add_widget(self.button(self.tr(reason), "object_with", reason, kind="KSecondary"))
                if len(reasons[i:i + 2]) == 1:
                    row.add_widget(Factory.Widget())
                box.add_widget(row)
            return
        lines = flow.objectable()
        self.ids.prompt.text = self.tr("请选择您家有异议的那一条记录:") if lines else \
            self.tr("公示期内您家没有可以提出异议的加扣分记录。")
        self.ids.pager.show(flow, len(lines), self.tr)
        for line in flow.page_of(lines):
            sign = "+" if line.points > 0 else ""
            box.add_widget(self.button(f"{line.day}  {line.title}  {sign}{line.points}分", "choose_objection",
                                       line.entry_id, kind="KSecondary"))
