"""Today: the day's receipts and totals; void a recent one, all its lines (reversals, never deletions)."""

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from .base import FlowScreen, load_kv



class TodayRow(BoxLayout):
    """One redemption of the day; ``on_void`` when its void button is tapped."""

    seq = NumericProperty(0)
    line_text = StringProperty("")
    can_void = BooleanProperty(False)
    voided = BooleanProperty(False)
    synced = BooleanProperty(False)
    office = StringProperty("")      # the office's decision when it did not book the receipt
    __events__ = ("on_void",)

    def on_void(self) -> None:
        """Default handler (the screen binds its own)."""


load_kv(__file__)


class TodayScreen(FlowScreen):
    count = NumericProperty(0)
    points = NumericProperty(0)

    def refresh(self) -> None:
        flow = self.flow
        self.count, self.points = flow.day_totals()
        rows = self.ids.rows
        rows.clear_widgets()
        for line in flow.today():
            row = TodayRow()
            row.seq, row.can_void, row.voided = line.seq, line.can_void, line.voided
            row.line_text = f"{line.at}  #{line.seq}  {line.name}  {line.offer}  {line.points} " + self.tr("分")
            if line.office_reason:
                row.line_text += f" · {line.office_reason}"
            row.synced, row.office = line.synced, line.office
            row.bind(on_void=lambda r: self.act("void", r.seq))
            rows.add_widget(row)
