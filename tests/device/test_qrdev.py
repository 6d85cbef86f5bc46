"""Accuracy on the shared camera-like photos (../shared/qr-dev), a second check beside synth."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from device.camera import read_image
from device.scan.decoder import Decoder, has_zxing

QR_DEV = Path(__file__).resolve().parents[3] / "shared" / "qr-dev"
# A little below what the pipeline measures (see docs/scanning.md), to absorb library updates.
MIN_RATE = {"zxing": {"easy": 1.0, "medium": 0.95, "hard": 0.5},
            "zbar": {"easy": 0.9, "medium": 0.85, "hard": 0.15}}

pytestmark = pytest.mark.skipif(not (QR_DEV / "truth.tsv").exists(), reason="qr-dev photos not present")


def truth():
    rows = (line.rstrip("\n").split("\t") for line in (QR_DEV / "truth.tsv").read_text().splitlines())
    return [(name, text) for name, text in rows]


@pytest.mark.parametrize("backend", [
    "zbar", pytest.param("zxing", marks=pytest.mark.skipif(not has_zxing(), reason="no zxing-cpp"))])
def test_qr_dev_accuracy(backend):
    dec = Decoder(backend)
    read, total = Counter(), Counter()
    for name, text in truth():
        level = name.split("_")[0]
        got = dec.decode(read_image(QR_DEV / name))
        if not text:
            assert got == [], f"false decode on {name}"
            continue
        assert got in ([], [text]), f"wrong text on {name}"
        total[level] += 1
        read[level] += got == [text]
    for level, minimum in MIN_RATE[backend].items():
        assert read[level] / total[level] >= minimum, (level, read[level], total[level])
