"""The Android build has no OpenCV: the scan package, the frame sources and the scanner widget
must import without it, and the decoder must still read numpy frames with pyzbar. Run in a
subprocess where ``import cv2`` fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys
    sys.modules["cv2"] = None          # as on Android: `import cv2` raises ImportError
    import numpy as np
    import segno

    import device.camera as camera
    from device.scan import decoder, tracker, verify   # noqa: F401
    assert camera.cv2 is None and not decoder.has_opencv()

    def frame(text, module=6, size=(720, 1280)):
        qr = np.array(segno.make_qr(text, error="m").matrix, np.uint8)
        qr = np.pad(qr, 4)                                  # the quiet zone
        img = np.where(np.kron(qr, np.ones((module, module), np.uint8)) > 0, 20, 235).astype(np.uint8)
        out = np.full(size, 200, np.uint8)
        y, x = (size[0] - img.shape[0]) // 2, (size[1] - img.shape[1]) // 3
        out[y:y + img.shape[0], x:x + img.shape[1]] = img
        return out

    text = "MPB1:LH:R:100001:1:K1:TEST"
    gray = frame(text)
    dec = decoder.Decoder("zbar")
    assert {p.name for p in dec.passes} <= decoder.NUMPY_PASSES, dec.passes
    assert dec.decode(gray) == [text], "grey frame"
    bgr = np.repeat(gray[:, :, None], 3, axis=2)
    assert dec.decode(bgr) == [text], "BGR frame"
    assert dec.decode(np.full((720, 1280), 128, np.uint8)) == []
    seen = []
    t = tracker.CardTracker(lambda s: seen.append(s) or s, decoder=dec)
    for i in range(3):
        t.feed(gray, i)
    assert seen == [text], seen

    # desktop sources say clearly that they need OpenCV
    for spec in ("0", "README.md", "."):     # a camera, a (would-be) video file, a folder
        try:
            camera.open_source(spec)
        except camera.SourceError as exc:
            assert "OpenCV" in str(exc), exc
        else:
            raise AssertionError(spec)

    from device.ui.scanner import preview_rgb
    rgb = preview_rgb(bgr)
    assert rgb.ndim == 3 and rgb.shape[1] <= 700
    print("ok")
""")


def test_scan_pipeline_without_opencv(tmp_path):
    r = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={"KIVY_NO_ARGS": "1", "KIVY_NO_CONFIG": "1", "KIVY_NO_FILELOG": "1",
                            "KIVY_LOG_MODE": "PYTHON", "SDL_VIDEODRIVER": "offscreen", "PATH": "/usr/bin:/bin",
                            "HOME": str(tmp_path)})
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), (r.stdout[-2000:], r.stderr[-3000:])
