"""The Kivy scanner widget in a real (offscreen) window, fed by a video file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_scanner_window_reports_the_card_once(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tests.device.scanner_app", str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["why"] == "end of video"
    assert result["frames_seen"] == 80
    assert len(result["events"]) == 1, result
    event = result["events"][0]
    assert event["ok"] and event["card_id"] == "000123"
    first, last, _ = result["spans"][1]
    assert first <= event["frame"] <= last
    assert "000123" in event["status"]
    shot = cv2.imread(str(tmp_path / "scanner.png"))
    assert shot is not None and shot.std() > 10  # the preview shows the scene, not a blank
