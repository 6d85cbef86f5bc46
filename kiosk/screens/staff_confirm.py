"""Staff: the entry to confirm, a short note chosen by tap, and the second member when needed; all on
one screen at both sizes (the note prompt is the first cell of the notes' grid)."""

from kivy.properties import BooleanProperty, StringProperty

from kiosk import style
from kiosk.staff_flow import NOTES

from .base import KioskScreen, load_kv

load_kv(__file__)


class StaffConfirmScreen(KioskScreen):
    summary = StringProperty("")
    second_text = StringProperty("")
    ready = BooleanProperty(False)

    def refresh(self) -> None:
        flow = self.flow
        if flow.item is None or flow.target is None:
            return
        sign = "+" if flow.item.points > 0 else ""
        self.summary = self.tr("{name}({address}):{item} {points}分").format(
            name=flow.target.name, address=flow.target.address, item=flow.item.name, points=f"{sign}{flow.item.points}")
        if flow.needs_second():
            self.second_text = self.tr("复核人:{name}").format(name=flow.second.name) if flow.second else \
                self.tr("需要另一位评议小组成员刷工作卡确认。")
        else:
            self.second_text = self.tr("记录人:{name}").format(name=flow.member.name)
        self.ready = not flow.needs_second() or flow.second is not None
        notes = self.ids.notes
        notes.clear_widgets()
        notes.add_widget(self.text(self.tr("备注(点选一项,可不选):"), color=style.MUTED))   # first cell: no line of its own
        for note in NOTES:
            notes.add_widget(self.button(self.tr(note), "set_note", note,
                                         kind="KButton" if note == flow.note else "KQuiet"))
