"""Across frames: spread decoding effort, report each card once, then wait for it to leave.

A camera delivers ~30 frames a second and most hold no card. Every frame gets the cheap passes
(a half-scale and a full-scale read, ~2 ms); the expensive rescue passes (upscale, unsharp,
median) take turns, one per frame, so a card held still for a few frames has had every pass
tried while no single frame costs more than ~8 ms (zxing-cpp backend). A card that was read is reported once; it
is "gone" after ``leave_frames`` frames without reading it, and only then can it be reported
again. A different card shown meanwhile is reported at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .decoder import Decoder
from .verify import ScanOutcome

@dataclass(frozen=True)
class CardEvent:
    """A card newly in front of the camera: where it was first read and what verification said."""

    frame_index: int
    time: float
    outcome: ScanOutcome
    decode_ms: float


class CardTracker:
    """Feeds frames through the decoder and turns texts into one event per card appearance."""

    def __init__(self, verify: Callable[[str], ScanOutcome], decoder: Decoder | None = None,
                 leave_frames: int = 12, rescue: bool = True):
        self.decoder = decoder or Decoder()
        self.verify = verify
        self.leave_frames = leave_frames
        self.rescue = rescue
        passes = self.decoder.passes
        self._cheap = [i for i, p in enumerate(passes) if p.cheap]
        self._rescue = [i for i, p in enumerate(passes) if not p.cheap]
        self._turn = 0
        self._present: str | None = None  # text of the card in front of the camera
        self._missed = 0
        self.frames = 0

    @property
    def card_present(self) -> bool:
        """Whether a card was read recently and has not left yet."""
        return self._present is not None

    def _passes(self) -> list[int]:
        """Cheap passes always, plus one rescue pass in turn."""
        if not self.rescue or not self._rescue:
            return self._cheap
        extra = self._rescue[self._turn % len(self._rescue)]
        self._turn += 1
        return [*self._cheap, extra]

    def feed(self, image: np.ndarray, index: int | None = None, t: float | None = None) -> CardEvent | None:
        """Process one frame; return an event when a card appears, else None."""
        index = self.frames if index is None else index
        self.frames += 1
        t0 = time.perf_counter()
        texts = self.decoder.decode(image, passes=self._passes())
        ms = (time.perf_counter() - t0) * 1000
        if self._present is not None and self._present in texts:
            self._missed = 0
            return None
        new = [x for x in texts if x != self._present]
        if new:
            self._present, self._missed = new[0], 0
            outcome = self.verify(new[0])
            return CardEvent(index, time.monotonic() if t is None else t, outcome, ms)
        if self._present is not None:
            self._missed += 1
            if self._missed >= self.leave_frames:
                self._present = None
        return None

    def reset(self) -> None:
        """Forget the card in front of the camera (e.g. when a screen is left)."""
        self._present, self._missed = None, 0
