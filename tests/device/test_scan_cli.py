"""``python -m device.scan``: the exact output format other tools rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from bench.scan import synth

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "device.scan", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    card = synth.make_sample("easy", 3, seed=9)
    cv2.imwrite(str(d / "card.jpg"), card.frame)
    cv2.imwrite(str(d / "empty.png"), synth.make_sample("negative", 0, seed=9).frame)
    (d / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    spans = synth.write_video(d / "clip.avi", [synth.Showing(None, 5), synth.Showing(card.text, 12),
                                               synth.Showing(None, 5)], size=(960, 540))
    return d, card.text, spans


def test_one_line_per_image_with_text_or_empty(files):
    d, text, _ = files
    r = run_cli(d / "card.jpg", d / "empty.png")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"{d / 'card.jpg'}\t{text}", f"{d / 'empty.png'}\t"]


def test_timings_column_in_milliseconds(files):
    d, text, _ = files
    r = run_cli("--timings", d / "card.jpg")
    path, got, ms = r.stdout.rstrip("\n").split("\t")
    assert (path, got) == (str(d / "card.jpg"), text)
    assert 0 < float(ms) < 1000


def test_unreadable_files_give_empty_text_a_message_and_the_run_goes_on(files):
    d, text, _ = files
    r = run_cli(d / "broken.jpg", d / "missing.png", d, d / "card.jpg")
    assert r.returncode == 1
    assert r.stdout.splitlines() == [f"{d / 'broken.jpg'}\t", f"{d / 'missing.png'}\t", f"{d}\t",
                                     f"{d / 'card.jpg'}\t{text}"]
    assert "broken.jpg" in r.stderr and "missing.png: 无法读取 (cannot read): no such file" in r.stderr
    assert "is a directory" in r.stderr
    assert "Traceback" not in r.stderr


def test_video_gives_one_line_per_distinct_code_with_frame_number(files):
    d, text, spans = files
    r = run_cli(d / "clip.avi")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    where, got = lines[0].split("\t")
    name, frame = where.rsplit("#", 1)
    assert (name, got) == (str(d / "clip.avi"), text)
    assert spans[1][0] <= int(frame) <= spans[1][1]


def test_pyzbar_backend_and_bad_arguments(files):
    d, text, _ = files
    r = run_cli("--backend", "zbar", d / "card.jpg")
    assert r.stdout == f"{d / 'card.jpg'}\t{text}\n"
    assert run_cli().returncode == 2
    assert run_cli("--backend", "nope", d / "card.jpg").returncode == 2
