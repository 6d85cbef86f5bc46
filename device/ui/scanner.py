"""The card scanner widget: camera preview with a guide frame, decoding off the UI thread.

A background thread reads frames from a :class:`device.camera.FrameSource`, hands each to a
:class:`device.scan.tracker.CardTracker` and keeps the latest frame for the preview; the UI
thread only uploads that frame to a texture 30 times a second, so it never waits on decoding.
When the tracker reports a card, the widget plays a cue sound, flashes the guide frame green
(verified) or red (refused) and dispatches ``on_card`` with the
:class:`~device.scan.tracker.CardEvent` on the UI thread.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

import assets
from device.camera import FrameSource, cv2   # cv2 is None on Android (no OpenCV there)
from device.scan.tracker import CardEvent, CardTracker

log = logging.getLogger(__name__)

SOUNDS = assets.path("sounds")
PROMPT = "请将积分卡二维码对准框内\nHold the card's QR code inside the frame"
PREVIEW_WIDTH = 640  # the preview needs no more; smaller uploads keep the UI thread light
GUIDE_IDLE = [1, 1, 1, 0.9]
GUIDE_OK = [0.2, 0.85, 0.3, 1]
GUIDE_REFUSED = [0.9, 0.2, 0.2, 1]

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def preview_rgb(image: np.ndarray) -> np.ndarray:
    """A BGR (or grey) frame as a small RGB image for the preview texture."""
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    h, w = image.shape[:2]
    if cv2 is None:   # Android: every n-th pixel is enough for a preview
        step = max(1, round(w / PREVIEW_WIDTH))
        return np.ascontiguousarray(image[::step, ::step, 2::-1])
    small = cv2.resize(image, (PREVIEW_WIDTH, round(h * PREVIEW_WIDTH / w)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)


class ScannerView(FloatLayout):
    """Preview + guide frame + prompt; ``on_card(event)`` fires once per card shown."""

    texture = ObjectProperty(None, allownone=True)
    prompt = StringProperty(PROMPT)
    status = StringProperty("")
    guide_color = ListProperty(GUIDE_IDLE)
    running = BooleanProperty(False)
    sound = BooleanProperty(True)

    __events__ = ("on_card",)

    def __init__(self, tracker: CardTracker | None = None, source: FrameSource | None = None, **kwargs):
        super().__init__(**kwargs)
        self.tracker, self.source = tracker, source
        self._latest = None  # RGB preview of the newest frame, written by the worker thread
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._preview_ev = None
        self._reset_ev = None
        self._sounds = {}
        self.frames_seen = 0

    # --- life cycle ---

    def start(self) -> None:
        """Start reading and decoding frames in the background."""
        if self._thread is not None:
            return
        if self.tracker is None or self.source is None:
            raise RuntimeError("ScannerView needs a tracker and a frame source")
        self._stop.clear()
        self._thread = threading.Thread(target=self._work, name="card-scanner", daemon=True)
        self._thread.start()
        self._preview_ev = Clock.schedule_interval(self._show_latest, 1 / 30)
        self.running = True

    def stop(self) -> None:
        """Stop the worker thread and release the frame source."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._preview_ev is not None:
            self._preview_ev.cancel()
            self._preview_ev = None
        if self.source is not None:
            self.source.close()
        self.running = False

    # --- worker thread: no Kivy widget calls here, only Clock.schedule_once ---

    def _work(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                if frame is None:
                    break
                rgb = preview_rgb(frame.image)
                with self._lock:
                    self._latest = rgb
                event = self.tracker.feed(frame.image, frame.index, frame.time)
                self.frames_seen += 1
                if event is not None:
                    Clock.schedule_once(lambda dt, e=event: self._deliver(e))
        except Exception:  # a broken camera must not kill the app silently
            log.exception("scanner worker stopped")
            Clock.schedule_once(lambda dt: setattr(self, "status", "摄像头出错 (camera error)"))
        finally:
            Clock.schedule_once(lambda dt: setattr(self, "running", False))

    # --- UI thread ---

    def _deliver(self, event) -> None:
        # an event the worker queued just before stop() must not reach whoever listens now (the
        # card screen after the enrolment reader, or the next app in the same process)
        if not self._stop.is_set():
            self.dispatch("on_card", event)

    def _show_latest(self, dt) -> None:
        with self._lock:
            rgb, self._latest = self._latest, None
        if rgb is None:
            return
        h, w = rgb.shape[:2]
        if self.texture is None or self.texture.size != (w, h):
            self.texture = Texture.create(size=(w, h), colorfmt="rgb")
            self.texture.flip_vertical()  # image rows run top-down, GL textures bottom-up
        self.texture.blit_buffer(rgb.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
        self.canvas.ask_update()

    def on_card(self, event: CardEvent) -> None:
        """Default handler: the visual and sound cue. Apps bind their own handler too."""
        ok = event.outcome.ok
        self.guide_color = GUIDE_OK if ok else GUIDE_REFUSED
        if ok:
            self.status = f"已识别 卡号 {event.outcome.card_id} (card read)"
        else:
            self.status = f"{event.outcome.zh}\n{event.outcome.en}"
        self._play("scan_ok" if ok else "scan_refused")
        if self._reset_ev is not None:
            self._reset_ev.cancel()
        self._reset_ev = Clock.schedule_once(self._reset_cue, 1.5)

    def _reset_cue(self, dt) -> None:
        self.guide_color = GUIDE_IDLE

    def _play(self, name: str) -> None:
        """Play a cue sound if this device has audio; silence is not an error."""
        if not self.sound:
            return
        if name not in self._sounds:
            try:
                from kivy.core.audio import SoundLoader

                self._sounds[name] = SoundLoader.load(str(SOUNDS / f"{name}.wav"))
            except Exception:  # no audio device (offscreen CI, some kiosks)
                log.info("no audio for cue %s", name, exc_info=True)
                self._sounds[name] = None
        sound = self._sounds[name]
        if sound is not None:
            sound.stop()
            sound.play()
