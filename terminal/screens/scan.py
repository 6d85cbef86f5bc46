"""Scan: the camera preview with its guide frame, and a large prompt."""

from kivy.properties import NumericProperty, StringProperty

from .base import FlowScreen, load_kv

load_kv(__file__)


class ScanScreen(FlowScreen):
    today_count = NumericProperty(0)
    today_points = NumericProperty(0)
    camera_note = StringProperty("")

    def refresh(self) -> None:
        self.today_count, self.today_points = self.flow.day_totals()

    def attach(self, scanner) -> None:
        """Put the scanner widget (or nothing, with a note) into the preview area."""
        self.ids.preview.clear_widgets()
        if scanner is not None:
            self.ids.preview.add_widget(scanner)
