"""A PIN pad: the account's PIN (deduction details), a member's PIN, a second member's PIN.

One class, three screens (``pin``, ``staff_pin``, ``second_pin``): only the title differs.
"""

from kivy.properties import StringProperty

from device.flowkit import N_

from .base import KioskScreen, load_kv

load_kv(__file__)

TITLES = {"pin": N_("请输入储户密码"), "staff_pin": N_("{name},请输入工作密码"),
          "second_pin": N_("请{name}输入密码,确认这一条")}


class PinScreen(KioskScreen):
    title = StringProperty("")
    dots = StringProperty("")

    def refresh(self) -> None:
        flow = self.flow
        who = flow.pending_member if self.name == "staff_pin" else flow.second_pending
        self.title = self.tr(TITLES[self.name]).format(name=who.name if who else "")
        self.dots = "● " * len(flow.pin) if flow.pin else self.tr("(请按数字)")
        if not self.ids.pad.children:
            for key in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back"):
                label = {"clear": self.tr("清除"), "back": self.tr("退格")}.get(key, key)
                self.ids.pad.add_widget(self.button(label, "pin_key", key, kind="KSecondary" if key.isdigit() else "KQuiet",
                                                     font_size=self.ids.dots.font_size if key.isdigit() else
                                                     self.ids.back.font_size))
