"""Staff: find a resident by scanning the card, or by building, unit and household."""

from kivy.properties import StringProperty

from kiosk.flow import N_

from .base import KioskScreen, load_kv

load_kv(__file__)


class StaffFindScreen(KioskScreen):
    member = StringProperty("")

    def refresh(self) -> None:
        flow = self.flow
        self.member = flow.member.name if flow.member else ""
        for box, values, chosen, action, fmt in (
                (self.ids.buildings, flow.buildings(), flow.building, "set_building", N_("{}栋")),
                (self.ids.units, flow.units(), flow.unit, "set_unit", N_("{}单元"))):
            box.clear_widgets()
            for v in values:
                box.add_widget(self.button(self.tr(fmt).format(v), action, v,
                                           kind="KButton" if v == chosen else "KSecondary"))
        homes = self.ids.homes
        homes.clear_widgets()
        for account_id, name, room in flow.households():
            homes.add_widget(self.button(f"{room}  {name}", "choose_household", account_id, kind="KQuiet"))
