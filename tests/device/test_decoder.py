"""The frame decoder on generated card photos, with zxing-cpp and with pyzbar alone."""

from __future__ import annotations

import numpy as np
import pytest

from bench.scan import synth
from device.scan.decoder import Decoder, has_zxing, to_gray

BACKENDS = ["zbar", pytest.param("zxing", marks=pytest.mark.skipif(not has_zxing(), reason="no zxing-cpp"))]


@pytest.fixture(scope="module")
def frames():
    """A few frames of each difficulty, generated once for the module."""
    return {level: [synth.make_sample(level, i, seed=101) for i in range(4)]
            for level in synth.DIFFICULTIES}


@pytest.mark.parametrize("backend", BACKENDS)
def test_easy_cards_are_read_exactly(frames, backend):
    dec = Decoder(backend)
    for s in frames["easy"]:
        assert dec.decode(s.frame) == [s.text]


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_text_from_frames_without_a_card(frames, backend):
    dec = Decoder(backend)
    for s in frames["negative"]:
        assert dec.decode(s.frame) == [], s.effects


@pytest.mark.parametrize("backend", BACKENDS)
def test_never_a_wrong_text(frames, backend):
    dec = Decoder(backend)
    for s in frames["medium"] + frames["hard"]:
        texts = dec.decode(s.frame)
        assert texts in ([], [s.text]), s.effects


def test_auto_prefers_zxing_when_installed():
    assert Decoder("auto").backend == ("zxing" if has_zxing() else "zbar")


def test_bad_backend_name_is_refused():
    with pytest.raises(ValueError):
        Decoder("tesseract")


def test_grey_bgra_and_single_channel_frames_are_accepted(frames):
    s = frames["easy"][0]
    gray = to_gray(s.frame)
    bgra = np.dstack([s.frame, np.full(gray.shape, 255, np.uint8)])
    dec = Decoder()
    assert dec.decode(gray) == dec.decode(bgra) == dec.decode(gray[:, :, None]) == [s.text]


def test_budget_stops_further_passes():
    dec = Decoder()
    blank = np.full((720, 1280, 3), 128, np.uint8)
    assert dec.decode(blank, budget_ms=0) == []
    assert dec.last_pass is None
