"""Driver for the scanner widget test: a real Kivy window (SDL offscreen) fed by a video file.

    python -m tests.device.scanner_app OUT_DIR

Writes OUT_DIR/result.json (events seen by the app) and OUT_DIR/scanner.png (a screenshot taken
just after the card was reported). Runs in its own process: Kivy's window is a per-process
singleton and SDL's video driver is chosen at import.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

for _k, _v in {"KIVY_NO_ARGS": "1", "KIVY_NO_CONFIG": "1", "KIVY_LOG_MODE": "PYTHON",
               "KIVY_NO_FILELOG": "1", "KIVY_WINDOW": "sdl2", "SDL_VIDEODRIVER": "offscreen",
               "SDL_AUDIODRIVER": "dummy"}.items():
    os.environ.setdefault(_k, _v)

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402

from bench.scan import synth  # noqa: E402
from device.camera import VideoFileSource  # noqa: E402
from device.scan.tracker import CardTracker  # noqa: E402
from device.ui.fonts import register_fonts  # noqa: E402
from tests.device.helpers import Issuer  # noqa: E402


class ScannerTestApp(App):
    def __init__(self, out: Path, **kwargs):
        super().__init__(**kwargs)
        self.out = out
        self.events = []
        issuer = Issuer()
        self.good = issuer.card("000123")
        video = out / "counter.avi"
        self.spans = synth.write_video(video, [synth.Showing(None, 10), synth.Showing(self.good, 45),
                                               synth.Showing(None, 25)], size=(960, 540))
        self.tracker = CardTracker(issuer.verifier())
        self.source = VideoFileSource(video, realtime=True)

    def build(self):
        from device.ui.scanner import ScannerView

        register_fonts()
        view = ScannerView(self.tracker, self.source, sound=True)
        view.bind(on_card=self.card_seen)
        Clock.schedule_once(lambda dt: view.start(), 0)
        Clock.schedule_interval(self.check_done, 0.1)
        Clock.schedule_once(lambda dt: self.finish("timeout"), 30)
        return view

    def card_seen(self, view, event):
        self.events.append({"frame": event.frame_index, "ok": event.outcome.ok,
                            "card_id": getattr(event.outcome, "card_id", None),
                            "status": None})
        Clock.schedule_once(lambda dt: self.snapshot(view), 0.3)

    def snapshot(self, view):
        self.events[-1]["status"] = view.status
        view.export_to_png(str(self.out / "scanner.png"))

    def check_done(self, dt):
        if self.root.frames_seen and not self.root.running:
            Clock.schedule_once(lambda dt: self.finish("end of video"), 0.5)
            return False

    def finish(self, why):
        self.root.stop()
        (self.out / "result.json").write_text(json.dumps(
            {"why": why, "events": self.events, "frames_seen": self.root.frames_seen,
             "spans": self.spans}, ensure_ascii=False))
        self.stop()


if __name__ == "__main__":
    ScannerTestApp(Path(sys.argv[1])).run()
