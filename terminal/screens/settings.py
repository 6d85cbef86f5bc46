"""Settings behind the staff PIN: language, camera, office address, re-enrol."""

from kivy.properties import BooleanProperty, StringProperty

from .base import FlowScreen, load_kv

load_kv(__file__)


class SettingsScreen(FlowScreen):
    unlocked = BooleanProperty(False)
    camera = StringProperty("")
    server = StringProperty("")

    def refresh(self) -> None:
        flow = self.flow
        self.unlocked = flow.settings_unlocked
        self.camera = flow.settings.camera
        self.server = flow.home.server if flow.home else ""
