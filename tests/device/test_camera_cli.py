"""``--camera`` of both apps' command lines, run for real: a folder of images or of videos stands
in for a camera (one shared source in device.camera), and a value that cannot be used is one plain
line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.scan import synth
from tests.kiosk.conftest import enrol_kiosk
from tests.sync.kit import enrol_tablet

ROOT = Path(__file__).resolve().parents[2]
MAIN_LOOP = "Start application main loop"   # Kivy logs it once on_start (which opens the camera) is done


def _env() -> dict:
    env = dict(os.environ, KIVY_LOG_MODE="MIXED", SDL_VIDEODRIVER="offscreen")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def _run_app(app: str, home: Path, camera: Path, log: Path) -> tuple[bool, str]:
    """Start ``python -m APP --home HOME --camera CAMERA``; (still running once its main loop
    started, what it wrote on stderr). The app is stopped afterwards."""
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", app, "--home", str(home), "--camera", str(camera)],
                                cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 90
            while proc.poll() is None and MAIN_LOOP not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)            # the scanner thread reads its first frames meanwhile
            running = proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(30)
    return running, log.read_text()


def _image_folder(folder: Path) -> Path:
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"frame{i}.png"), np.full((240, 320, 3), 60 * i, np.uint8))
    return folder


def test_the_kiosk_takes_a_folder_of_images_as_its_camera(town, hub, tmp_path):
    enrol_kiosk(town.path, hub, tmp_path / "kiosk")
    running, err = _run_app("kiosk", tmp_path / "kiosk", _image_folder(tmp_path / "shots"), tmp_path / "err")
    assert running and "Traceback" not in err, err[-3000:]


def test_the_tablet_takes_a_folder_of_videos_as_its_camera(town, hub, tmp_path):
    enrol_tablet(town.path, hub, tmp_path / "tab", town.noodles)
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a.avi", "b.avi"):
        synth.write_video(videos / name, [synth.Showing(None, 4)], size=(320, 240))
    running, err = _run_app("terminal", tmp_path / "tab", videos, tmp_path / "err")
    assert running and "Traceback" not in err, err[-3000:]


@pytest.mark.parametrize("app", ["kiosk", "terminal"])
def test_a_camera_value_that_cannot_be_used_is_one_plain_line(app, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    for camera, says in ((tmp_path / "empty", "中没有图片或视频"), (tmp_path / "missing", "找不到"),
                         (tmp_path / "notes.txt", "不是图片或视频文件")):
        r = subprocess.run([sys.executable, "-m", app, "--home", str(tmp_path / "home"), "--camera", str(camera)],
                           cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and says in lines[0], r.stderr
        assert not (tmp_path / "home").exists()
