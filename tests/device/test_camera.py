"""Frame sources: folder, single image, video file; bad sources are clear errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.scan import synth
from device.camera import FolderSource, SourceError, VideoFileSource, open_source, read_image


def test_folder_source_yields_images_in_name_order_and_skips_bad_files(tmp_path):
    for name, value in (("b.png", 20), ("a.png", 10), ("c.jpg", 30)):
        cv2.imwrite(str(tmp_path / name), np.full((8, 8, 3), value, np.uint8))
    (tmp_path / "d.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    frames = list(open_source(str(tmp_path)))
    assert [int(f.image[0, 0, 0]) for f in frames] == [10, 20, 30]
    assert [f.index for f in frames] == [0, 1, 2]
    assert isinstance(open_source(str(tmp_path)), FolderSource)


def test_video_source_reads_every_frame_with_times(tmp_path):
    path = tmp_path / "v.avi"
    synth.write_video(path, [synth.Showing(None, 6)], size=(320, 240))
    with open_source(str(path)) as src:
        assert isinstance(src, VideoFileSource)
        frames = list(src)
    assert len(frames) == 6
    assert frames[0].image.shape == (240, 320, 3)
    assert frames[3].time == pytest.approx(3 / 30)


def test_missing_sources_are_clear_errors(tmp_path):
    with pytest.raises(SourceError, match="video file not found"):
        open_source(str(tmp_path / "missing.avi"))
    with pytest.raises(SourceError, match="cannot read video"):
        (tmp_path / "junk.avi").write_bytes(b"junk" * 100)
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        open_source(str(tmp_path / "junk.avi"))


def test_read_image_returns_none_for_unreadable_files(tmp_path):
    (tmp_path / "x.jpg").write_bytes(b"\xff\xd8 broken")
    assert read_image(tmp_path / "x.jpg") is None
    assert read_image(tmp_path / "missing.jpg") is None
    (tmp_path / "empty.png").write_bytes(b"")
    assert read_image(tmp_path / "empty.png") is None
