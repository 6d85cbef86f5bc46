"""Enrolment: scan the office's enrolment QR, or type the office address and one-time code."""

from kivy.properties import StringProperty

from .base import FlowScreen, load_kv

load_kv(__file__)


class EnrolScreen(FlowScreen):
    camera_note = StringProperty("")

    def submit(self) -> None:
        self.act("enrol", self.ids.server.text, self.ids.code.text, self.ids.staff_pin.text)

    def staff_pin(self) -> str:
        """The staff PIN typed so far: a scanned QR enrols with it (it may be empty)."""
        return self.ids.staff_pin.text

    def attach(self, scanner) -> None:
        """Put the QR reader (or nothing, with a note) into the preview area."""
        self.ids.preview.clear_widgets()
        if scanner is not None:
            self.ids.preview.add_widget(scanner)
