"""Attract: a large prompt to show the card, the camera preview, rotating boards and postings."""

from kivy.properties import StringProperty

from .base import KioskScreen, load_kv

load_kv(__file__)


class AttractScreen(KioskScreen):
    slide_title = StringProperty("")
    slide_text = StringProperty("")
    camera_note = StringProperty("")
    slide = 0

    def refresh(self) -> None:
        slides = self.app.slides()
        if not slides:
            self.slide_title, self.slide_text = "", ""
            return
        title, text = slides[self.slide % len(slides)]
        self.slide_title, self.slide_text = title, text

    def next_slide(self) -> None:
        self.slide += 1
        self.refresh()

    def attach(self, scanner) -> None:
        self.ids.preview.clear_widgets()
        if scanner is not None:
            self.ids.preview.add_widget(scanner)
