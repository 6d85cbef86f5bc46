"""Staff: find a resident by scanning the card, or by building, then unit, then household: one list at a
time in big buttons, paged with 上一页/下一页; the chosen building and unit are buttons that choose again."""

from kivy.properties import StringProperty

from device.flowkit import N_

from .base import KioskScreen, load_kv

load_kv(__file__)


class StaffFindScreen(KioskScreen):
    member = StringProperty("")
    building_text = StringProperty("")
    unit_text = StringProperty("")

    def refresh(self) -> None:
        flow = self.flow
        self.member = flow.member.name if flow.member else ""
        self.building_text = self.tr(N_("{}栋 · 重选")).format(flow.building) if flow.building is not None else ""
        self.unit_text = self.tr(N_("{}单元 · 重选")).format(flow.unit) if flow.unit is not None else ""
        level = flow.find_level()
        choices = flow.find_choices()
        self.ids.pager.show(flow, len(choices), self.tr)
        box = self.ids.choices
        box.clear_widgets()
        for choice in flow.page_of(choices):
            if level == "household":
                account_id, name, room = choice
                box.add_widget(self.button(f"{room}  {name}", "choose_household", account_id, kind="KQuiet"))
            else:
                fmt, action = (N_("{}栋"), "set_building") if level == "building" else (N_("{}单元"), "set_unit")
                box.add_widget(self.button(self.tr(fmt).format(choice), action, choice, kind="KSecondary"))
        if not choices:
            box.add_widget(self.text(self.tr("这里没有住户。")))
