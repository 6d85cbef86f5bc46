"""Card: the holder's masked name, household, points available here, today's use, warnings."""

from kivy.properties import NumericProperty, StringProperty

from .base import FlowScreen, load_kv

load_kv(__file__)


class CardScreen(FlowScreen):
    name_text = StringProperty("")
    household_text = StringProperty("")
    card_id = StringProperty("")
    available = NumericProperty(0)
    used_today = NumericProperty(0)
    daily_cap = NumericProperty(0)
    left_today = NumericProperty(0)
    warnings = StringProperty("")

    def refresh(self) -> None:
        c = self.flow.card
        if c is None:
            return
        self.name_text, self.card_id = c.name, c.card_id
        household = c.household_message()
        self.household_text = self.app.render(household) if household else ""
        self.available, self.used_today, self.daily_cap, self.left_today = (
            c.available, c.used_today, c.daily_cap, c.left_today)
        self.warnings = "\n".join(self.app.render(w) for w in c.warnings)
