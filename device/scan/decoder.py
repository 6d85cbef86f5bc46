"""QR decoding of one camera frame: numpy image in, QR texts out.

The frame goes through a short list of passes, cheapest first, and stops at the first pass that
reads a code. Each pass is one preprocessing step (scale, median, unsharp mask, …) followed by one
decoder call. zxing-cpp is used when it is importable (it reads more and is ~20x faster than zbar
on a 1280x720 frame); pyzbar (libzbar0) is the fallback and can be forced with
``backend="zbar"`` — the Android build ships a pyzbar recipe but not zxing-cpp.

Both libraries check the QR's Reed-Solomon code, so a pass either reads the exact text or
nothing; partial or "error" results are never returned as text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np

try:  # optional, measured better; see docs/scanning.md
    import zxingcpp
except ImportError:  # pragma: no cover - exercised on builds without the wheel
    zxingcpp = None

from pyzbar import pyzbar

BACKENDS = ("auto", "zxing", "zbar")


@dataclass(frozen=True)
class Pass:
    """One preprocessing step plus a decoder call; ``cost`` is a rough ms figure at 1280x720."""

    name: str
    run: Callable[[np.ndarray], list[str]]
    cost: float
    cheap: bool = False  # run on every frame of a live camera, not in turns


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A single-channel uint8 view of a BGR, BGRA or grey frame."""
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    if frame.shape[2] == 1:
        return frame[:, :, 0]
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _scale(gray: np.ndarray, f: float) -> np.ndarray:
    """Resize by ``f``: area averaging down (it also averages noise away), linear up."""
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=interp)


def _unsharp(gray: np.ndarray, amount: float = 2.0, sigma: float = 2.0) -> np.ndarray:
    """Unsharp mask: restores module edges softened by defocus and small motion blur."""
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1 + amount, blurred, -amount, 0)


def _adaptive(gray: np.ndarray) -> np.ndarray:
    """Local-mean threshold: survives a hard shadow edge or glare across the code."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 5)


# --- decoder calls ---------------------------------------------------------------------------

def _zxing(gray: np.ndarray, downscale: bool = False) -> list[str]:
    """zxing-cpp restricted to QR; rotation and inversion searches off (cards are dark-on-light)."""
    results = zxingcpp.read_barcodes(
        gray, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False, try_invert=False,
        try_downscale=downscale, text_mode=zxingcpp.TextMode.Plain)
    return [r.text for r in results if r.valid]


def _bytes_text(data: bytes) -> str:
    """zbar hands back raw bytes; cards are ASCII, anything else is kept readable."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _zbar(gray: np.ndarray) -> list[str]:
    """pyzbar restricted to QR symbols (other symbologies only add false reads and time)."""
    return [_bytes_text(s.data) for s in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])]


def zxing_passes() -> list[Pass]:
    """The passes with zxing-cpp, ordered by reads gained per millisecond on the synth sets."""
    return [
        Pass("zx-half", lambda g: _zxing(_scale(g, 0.5)), 0.4, cheap=True),
        Pass("zx-full", lambda g: _zxing(g), 1.6, cheap=True),
        Pass("zx-up1.5", lambda g: _zxing(_scale(g, 1.5)), 3.0),
        Pass("zx-unsharp", lambda g: _zxing(_unsharp(g)), 4.7),
        Pass("zx-median", lambda g: _zxing(cv2.medianBlur(g, 3)), 1.0),
    ]


def zbar_passes() -> list[Pass]:
    """The passes with pyzbar alone: slower, so fewer of them."""
    return [
        Pass("zbar-half", lambda g: _zbar(_scale(g, 0.5)), 9.0, cheap=True),
        Pass("zbar-full", lambda g: _zbar(g), 34.0),
        Pass("zbar-unsharp", lambda g: _zbar(_unsharp(g, 1.0, 1.5)), 40.0),
    ]


def has_zxing() -> bool:
    """Whether the zxing-cpp backend is available on this build."""
    return zxingcpp is not None


class Decoder:
    """Reads QR codes from frames with the passes of one backend, cheapest first."""

    def __init__(self, backend: str = "auto"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}")
        if backend == "zxing" and not has_zxing():
            raise RuntimeError("zxing-cpp is not installed")
        self.backend = "zxing" if backend == "auto" and has_zxing() else (
            "zbar" if backend == "auto" else backend)
        self.passes: list[Pass] = zxing_passes() if self.backend == "zxing" else zbar_passes()
        self.last_pass: str | None = None

    def decode(self, frame: np.ndarray, passes: Sequence[int] | None = None,
               budget_ms: float | None = None) -> list[str]:
        """Texts of the QR codes in ``frame`` (distinct, in reading order); [] when none.

        ``passes`` picks pass indexes to run (the tracker spreads effort over frames); by
        default all of them run until one reads something. With ``budget_ms`` no new pass
        starts once that much time is spent: a live camera gets another frame soon anyway.
        """
        t0 = time.perf_counter()
        gray = to_gray(frame)
        self.last_pass = None
        for i in range(len(self.passes)) if passes is None else passes:
            if budget_ms is not None and (time.perf_counter() - t0) * 1000 > budget_ms:
                break
            found = self.passes[i].run(gray)
            if found:
                self.last_pass = self.passes[i].name
                return list(dict.fromkeys(found))
        return []

    def timed_decode(self, frame: np.ndarray, budget_ms: float | None = None) -> tuple[list[str], float]:
        """:meth:`decode` plus the elapsed milliseconds."""
        t0 = time.perf_counter()
        texts = self.decode(frame, budget_ms=budget_ms)
        return texts, (time.perf_counter() - t0) * 1000


_default: Decoder | None = None


def decode(frame: np.ndarray) -> list[str]:
    """Decode one frame with a shared default decoder (full effort)."""
    global _default
    if _default is None:
        _default = Decoder()
    return _default.decode(frame)
