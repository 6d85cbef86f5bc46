"""Enrolment by QR end to end: ``office enrol --qr --server`` writes the PNG, a video of that
image feeds the tablet app's camera, the enrolment screen's reader enrols against the real office
server (a subprocess), and the card scanner takes the camera over."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from device.ui.scripted import headless_env, run_script, wait_until

from .conftest import cli

pytestmark = pytest.mark.slow


def video_of_image(png, path, frames: int = 90):
    """A 1280x720 camera-like video: empty scene, the printed QR held up, empty scene."""
    qr = cv2.imread(str(png))
    canvas = np.full((720, 1280, 3), 170, np.uint8)
    h, w = qr.shape[:2]
    scale = 420 / max(h, w)
    qr = cv2.resize(qr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_NEAREST)
    shown = canvas.copy()
    y, x = (720 - qr.shape[0]) // 2, (1280 - qr.shape[1]) // 2
    shown[y:y + qr.shape[0], x:x + qr.shape[1]] = qr
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (1280, 720))
    for i in range(frames):
        out.write(shown if frames // 6 <= i < frames - frames // 6 else canvas)
    out.release()
    return path


def test_tablet_enrols_from_the_office_qr_through_the_camera(town, server, tmp_path):
    png = tmp_path / "enrol.png"
    code = cli("office", "enrol", "--db", town.path, "--merchant", town.noodles, "--qr", png,
               "--server", server.url).stdout.strip().splitlines()[-1]
    video = video_of_image(png, tmp_path / "enrol.avi")

    headless_env(1280, 800)   # the reference tablet, landscape
    from terminal.app import TerminalApp
    from terminal.flow import Step, TerminalFlow

    home = tmp_path / "tab"
    flow = TerminalFlow(home, camera=str(video))       # no transport: HTTP to the real server
    assert flow.step is Step.ENROL
    app = TerminalApp(home, flow=flow)
    seen = {}

    def script(app):
        assert app.enrol_scanner is not None and app.scanner is None
        yield from wait_until(app, lambda: flow.home is not None and not app.busy, 30)
        yield 0.3
        seen["step"], seen["banner"] = flow.step, app.root.ids.banner.text
        seen["scanners"] = (app.enrol_scanner, app.scanner is not None)
        seen["server"] = flow.home.server

    run_script(app, script, timeout=60)
    assert seen["step"] is Step.SCAN and "老街小面" in seen["banner"]
    assert seen["scanners"] == (None, True)          # the card scanner has the camera now
    assert seen["server"] == server.url
    status = cli("terminal", "status", "--home", home, "--json").stdout
    assert '"merchant": "老街小面"' in status and code not in status
