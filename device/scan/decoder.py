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

import numpy as np

try:
    import cv2
except ImportError:  # the Android build has no OpenCV: numpy preprocessing and the plain passes only
    cv2 = None

try:  # optional, measured better; see docs/scanning.md
    import zxingcpp
except ImportError:  # pragma: no cover - exercised on builds without the wheel
    zxingcpp = None

from pyzbar import pyzbar

BACKENDS = ("auto", "zxing", "zbar")


class Frame:
    """One frame being decoded, with what passes compute once and share (grey, code regions)."""

    def __init__(self, image: np.ndarray):
        self.gray = to_gray(image)
        self._regions: list[np.ndarray] | None = None

    @property
    def regions(self) -> list[np.ndarray]:
        """Crops of the grey frame that look like a QR code, most likely first (computed once)."""
        if self._regions is None:
            self._regions = [self.gray[y0:y1, x0:x1] for x0, y0, x1, y1 in code_regions(self.gray)]
        return self._regions


@dataclass(frozen=True)
class Pass:
    """One preprocessing step plus a decoder call; ``cost`` is a rough ms figure at 1280x720."""

    name: str
    run: Callable[[Frame], list[str]]
    cost: float
    cheap: bool = False  # run on every frame of a live camera, not in turns


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A single-channel uint8 view of a BGR, BGRA or grey frame."""
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 1:
        return frame[:, :, 0]
    if cv2 is None:   # the same BT.601 weights as OpenCV's conversion
        bgr = frame[:, :, :3].astype(np.float32)
        return (bgr @ np.array([0.114, 0.587, 0.299], np.float32) + 0.5).astype(np.uint8)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _scale(gray: np.ndarray, f: float) -> np.ndarray:
    """Resize by ``f``: area averaging down (it also averages noise away), linear up."""
    if cv2 is None:
        return _np_scale(gray, f)
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=interp)


def _np_scale(gray: np.ndarray, f: float) -> np.ndarray:
    """:func:`_scale` without OpenCV: 2x2 averaging for a half, nearest neighbour otherwise."""
    if f == 0.5:
        h, w = gray.shape[0] // 2 * 2, gray.shape[1] // 2 * 2
        quads = gray[:h, :w].reshape(h // 2, 2, w // 2, 2).astype(np.uint16)
        return ((quads.sum(axis=(1, 3)) + 2) // 4).astype(np.uint8)
    rows = np.minimum((np.arange(round(gray.shape[0] * f)) / f).astype(int), gray.shape[0] - 1)
    cols = np.minimum((np.arange(round(gray.shape[1] * f)) / f).astype(int), gray.shape[1] - 1)
    return gray[rows][:, cols]


def _unsharp(gray: np.ndarray, amount: float = 2.0, sigma: float = 2.0) -> np.ndarray:
    """Unsharp mask: restores module edges softened by defocus and small motion blur."""
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1 + amount, blurred, -amount, 0)


def _adaptive(gray: np.ndarray) -> np.ndarray:
    """Local-mean threshold: survives a hard shadow edge across the code.

    Run on the whole frame, not on candidate regions: a shadow halves the contrast of part of
    the code, and the region finder then boxes only the lit part.
    """
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 21, 2)


_GRAD_KERNEL = np.ones((3, 3), np.uint8)


def code_regions(gray: np.ndarray, limit: int = 2) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) around the densest high-contrast blobs, where a code may be.

    A QR code is the patch of a frame with the most dark/light transitions per area. At
    quarter scale the morphological gradient, averaged over a code-module-sized window and
    thresholded against the frame's own maximum, leaves a few blobs; each becomes a square box
    with a margin for the quiet zone. About 1 ms at 1280x720.
    """
    f = 0.25
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    grad = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, _GRAD_KERNEL)
    density = cv2.boxFilter(grad, cv2.CV_32F, (9, 9))
    threshold = max(float(density.max()) * 0.45, 12.0)  # 12: below this there is no code contrast
    mask = (density > threshold).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    h, w = gray.shape[:2]
    boxes = []
    for i in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:limit] + 1:
        x, y, bw, bh, area = stats[i]
        side = max(bw, bh) * 1.35 / f
        if side < 90:  # a code this small has modules under 2 px: no pass can read it
            continue
        cx, cy = (x + bw / 2) / f, (y + bh / 2) / f
        boxes.append((int(max(0, cx - side / 2)), int(max(0, cy - side / 2)),
                      int(min(w, cx + side / 2)), int(min(h, cy + side / 2))))
    return boxes


def _fit(region: np.ndarray, size: int = 480) -> np.ndarray:
    """Scale a crop so its longer side is ``size`` (at most 3x): small codes get ~3 px modules."""
    f = min(3.0, size / max(region.shape[:2]))
    return cv2.resize(region, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)


_CLAHE = None   # made on first use: importing this module must not need OpenCV


def _clahe(gray: np.ndarray) -> np.ndarray:
    """Local contrast equalisation: lifts a code in low light or half in shadow."""
    global _CLAHE
    if _CLAHE is None:
        _CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))
    return _CLAHE.apply(gray)


def _each_region(frame: Frame, fn: Callable[[np.ndarray], list[str]]) -> list[str]:
    """Run ``fn`` on each candidate region until one reads."""
    for region in frame.regions:
        found = fn(region)
        if found:
            return found
    return []


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
        Pass("zx-half", lambda f: _zxing(_scale(f.gray, 0.5)), 0.4, cheap=True),
        Pass("zx-full", lambda f: _zxing(f.gray), 1.6, cheap=True),
        Pass("zx-region-unsharp", lambda f: _each_region(f, lambda r: _zxing(_unsharp(_fit(r), 1.5))), 3.5),
        Pass("zx-adaptive", lambda f: _zxing(_adaptive(f.gray)), 2.5),
        Pass("zx-region-up", lambda f: _each_region(f, lambda r: _zxing(_fit(r))), 2.5),
        Pass("zx-up1.5", lambda f: _zxing(_scale(f.gray, 1.5)), 3.0),
        Pass("zx-region-clahe", lambda f: _each_region(f, lambda r: _zxing(_clahe(_fit(r)))), 3.5),
    ]


def zbar_passes() -> list[Pass]:
    """The passes with pyzbar alone: slower, so fewer of them."""
    return [
        Pass("zbar-half", lambda f: _zbar(_scale(f.gray, 0.5)), 9.0, cheap=True),
        Pass("zbar-region-up", lambda f: _each_region(f, lambda r: _zbar(_fit(r, 480))), 6.0),
        Pass("zbar-region-unsharp", lambda f: _each_region(f, lambda r: _zbar(_unsharp(_fit(r, 480), 1.5))), 7.0),
        Pass("zbar-full", lambda f: _zbar(f.gray), 34.0),
    ]


# Passes that need nothing but numpy (see _np_scale): all a build without OpenCV runs.
NUMPY_PASSES = {"zx-half", "zx-full", "zbar-half", "zbar-full"}


def has_opencv() -> bool:
    """Whether OpenCV is importable (desktop); without it only :data:`NUMPY_PASSES` run."""
    return cv2 is not None


def has_zxing() -> bool:
    """Whether the zxing-cpp backend is available on this build."""
    return zxingcpp is not None


class Decoder:
    """Reads QR codes from frames with the passes of one backend, cheapest first."""

    #: No new pass starts after this many ms on one frame (zxing-cpp backend): the expensive
    #: passes that are cut off get their turn on the next frames of a live camera anyway. The
    #: budget is this thread's CPU time, not wall time, so that a busy machine (other processes,
    #: the UI thread) does not change what a frame yields: results stay reproducible.
    DEFAULT_BUDGET_MS = 10.0

    def __init__(self, backend: str = "auto", budget_ms: float | None | str = "default"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}")
        if backend == "zxing" and not has_zxing():
            raise RuntimeError("zxing-cpp is not installed")
        self.backend = "zxing" if backend == "auto" and has_zxing() else (
            "zbar" if backend == "auto" else backend)
        self.passes: list[Pass] = zxing_passes() if self.backend == "zxing" else zbar_passes()
        if cv2 is None:
            self.passes = [p for p in self.passes if p.name in NUMPY_PASSES]
        if budget_ms == "default":  # pyzbar alone cannot keep to it: its passes take 9-34 ms
            budget_ms = self.DEFAULT_BUDGET_MS if self.backend == "zxing" else None
        self.budget_ms = budget_ms
        self.last_pass: str | None = None

    def decode(self, frame: np.ndarray, passes: Sequence[int] | None = None,
               budget_ms: float | None | str = "default") -> list[str]:
        """Texts of the QR codes in ``frame`` (distinct, in reading order); [] when none.

        ``passes`` picks pass indexes to run (the tracker spreads effort over frames); by
        default all of them run until one reads something. No new pass starts once
        ``budget_ms`` is spent (default: the decoder's; None means full effort).
        """
        if budget_ms == "default":
            budget_ms = self.budget_ms
        t0 = time.thread_time()
        work = Frame(frame)
        self.last_pass = None
        for i in range(len(self.passes)) if passes is None else passes:
            if budget_ms is not None and (time.thread_time() - t0) * 1000 > budget_ms:
                break
            found = self.passes[i].run(work)
            if found:
                self.last_pass = self.passes[i].name
                return list(dict.fromkeys(found))
        return []

    def timed_decode(self, frame: np.ndarray, budget_ms: float | None | str = "default") -> tuple[list[str], float]:
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
