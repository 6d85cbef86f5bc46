"""Frame sources: a camera, a video file or a folder of images, all behind one interface.

Tests and demos feed recorded frames through exactly the pipeline a tablet runs on its camera.
A source yields :class:`Frame` objects (BGR uint8 image, index, time in seconds) until it ends;
a live camera never ends on its own.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .android import is_android

try:
    import cv2
except ImportError:  # Android: no OpenCV; frames come from Kivy's camera (android_camera_source)
    cv2 = None

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v", ".mjpg", ".mjpeg"}


class SourceError(Exception):
    """A frame source could not be opened (message in Chinese and English)."""


def _opencv():
    """OpenCV, which desktop cameras, video files and image files need; a SourceError without it."""
    if cv2 is None:
        raise SourceError("本机没有安装 OpenCV,只能使用设备自带的摄像头 "
                          "(OpenCV is not installed: desktop cameras, video and image files need it)")
    return cv2


@dataclass(frozen=True)
class Frame:
    """One frame: BGR image, position in the source, and its time in seconds."""

    image: np.ndarray
    index: int
    time: float


class FrameSource:
    """Base class: iterate for frames; ``close()`` releases the device or file."""

    fps: float = 30.0

    def read(self) -> Frame | None:
        """The next frame, or None when the source has ended."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying camera or file."""

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_image(path: str | os.PathLike) -> np.ndarray | None:
    """Read an image file as BGR, or None if it cannot be read (never raises on bad files)."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # works for non-ASCII paths too
    except OSError:
        return None
    if data.size == 0:
        return None
    cv = _opencv()
    image = cv.imdecode(data, cv.IMREAD_COLOR)
    return image


class CameraSource(FrameSource):
    """A camera by index through OpenCV (V4L2 on Linux)."""

    def __init__(self, index: int = 0, width: int = 1280, height: int = 720):
        self._cap = _opencv().VideoCapture(index)
        if not self._cap.isOpened():
            raise SourceError(f"无法打开摄像头 {index} (cannot open camera {index})")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0
        self._index = 0

    def read(self) -> Frame | None:
        ok, image = self._cap.read()
        if not ok:
            return None
        frame = Frame(image, self._index, time.monotonic())
        self._index += 1
        return frame

    def close(self) -> None:
        self._cap.release()


class VideoFileSource(FrameSource):
    """A recorded video; with ``realtime`` frames are paced at the file's frame rate."""

    def __init__(self, path: str | os.PathLike, realtime: bool = False, loop: bool = False):
        self.path = str(path)
        if not Path(self.path).is_file():
            raise SourceError(f"找不到视频文件 {self.path} (video file not found)")
        self._cap = _opencv().VideoCapture(self.path)
        if not self._cap.isOpened():
            raise SourceError(f"无法读取视频 {self.path} (cannot read video)")
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0
        self.realtime, self.loop = realtime, loop
        self._index = 0
        self._start: float | None = None

    def read(self) -> Frame | None:
        ok, image = self._cap.read()
        if not ok and self.loop and self._index > 0:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._cap.read()
        if not ok:
            return None
        t = self._index / self.fps
        if self.realtime:
            if self._start is None:
                self._start = time.monotonic()
            delay = self._start + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        frame = Frame(image, self._index, t)
        self._index += 1
        return frame

    def close(self) -> None:
        self._cap.release()


class FolderSource(FrameSource):
    """The images of a folder in name order (or an explicit list), as if filmed at ``fps``."""

    def __init__(self, path_or_files, fps: float = 30.0):
        _opencv()   # image files are decoded by OpenCV: say so now, not as unreadable frames later
        if isinstance(path_or_files, (str, os.PathLike)):
            folder = Path(path_or_files)
            if not folder.is_dir():
                raise SourceError(f"找不到图片文件夹 {folder} (image folder not found)")
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files = [Path(p) for p in path_or_files]
        self.files, self.fps = files, fps
        self._index = 0

    def read(self) -> Frame | None:
        # Unreadable images are skipped: a folder source stands in for a camera, which has no
        # "bad frame" to report. The CLI reads files itself to report them.
        while self._index < len(self.files):
            i = self._index
            self._index += 1
            image = read_image(self.files[i])
            if image is not None:
                return Frame(image, i, i / self.fps)
        return None


def open_source(spec: str | int, **kwargs) -> FrameSource:
    """A source from a camera index ("0"), a video file, or a folder of images."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        if is_android():
            return android_camera_source(int(spec), **kwargs)
        return CameraSource(int(spec), **kwargs)
    path = Path(spec)
    if path.is_dir():
        return FolderSource(path, **kwargs)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return FolderSource([path], **kwargs)
    return VideoFileSource(path, **kwargs)


def android_camera_source(index: int = 0, width: int = 1280, height: int = 720) -> FrameSource:
    """Kivy's camera provider, the only camera on Android; Kivy is imported here and only here.

    Kivy delivers camera frames as a GL texture on the UI thread, so the pixels are copied out in
    its ``on_texture`` event and :meth:`read` (called from the scanner's worker thread) waits for
    the next copy. Not exercised by the desktop test suite: no Android device in CI.
    """
    import threading

    from kivy.core.camera import Camera  # noqa: PLC0415 - Android only, see DESIGN.md

    class _KivyCameraSource(FrameSource):
        def __init__(self):
            self._ready = threading.Condition()
            self._latest: np.ndarray | None = None
            self._closed = False
            self._index = 0
            self._camera = Camera(index=index, resolution=(width, height), stopped=True)
            self._camera.bind(on_texture=self._on_texture)
            self._camera.start()

        def _on_texture(self, camera) -> None:
            texture = camera.texture
            rgba = np.frombuffer(texture.pixels, np.uint8).reshape(texture.height, texture.width, 4)
            with self._ready:
                self._latest = rgba.copy()
                self._ready.notify()

        def read(self) -> Frame | None:
            with self._ready:
                self._ready.wait_for(lambda: self._latest is not None or self._closed, timeout=5)
                rgba, self._latest = self._latest, None
            if rgba is None:
                return None
            # GL textures are bottom-up; RGBA to BGR by reversing the first three channels (numpy:
            # no OpenCV on Android)
            image = np.ascontiguousarray(rgba[::-1, :, 2::-1])
            frame = Frame(image, self._index, time.monotonic())
            self._index += 1
            return frame

        def close(self) -> None:
            self._camera.stop()
            with self._ready:
                self._closed = True
                self._ready.notify_all()

    return _KivyCameraSource()
