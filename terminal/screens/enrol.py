"""Enrolment: the office address and one-time code (typed, or from the enrolment QR)."""

from .base import FlowScreen, load_kv

load_kv(__file__)


class EnrolScreen(FlowScreen):
    def submit(self) -> None:
        self.act("enrol", self.ids.server.text, self.ids.code.text, self.ids.staff_pin.text)
