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
            _pace(self, t)
        frame = Frame(image, self._index, t)
        self._index += 1
        return frame

    def close(self) -> None:
        self._cap.release()


def _pace(source: FrameSource, t: float) -> None:
    """Sleep until a recorded frame's time ``t`` has come, counted from the source's first frame."""
    if source._start is None:
        source._start = time.monotonic()
    delay = source._start + t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


class FolderSource(FrameSource):
    """The images of a folder in name order (or an explicit list), as if filmed at ``fps``; with
    ``realtime`` they come at that pace, as from a camera."""

    def __init__(self, path_or_files, fps: float = 30.0, realtime: bool = False):
        _opencv()   # image files are decoded by OpenCV: say so now, not as unreadable frames later
        if isinstance(path_or_files, (str, os.PathLike)):
            folder = Path(path_or_files)
            if not folder.is_dir():
                raise SourceError(f"找不到图片文件夹 {folder} (image folder not found)")
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files = [Path(p) for p in path_or_files]
        self.files, self.fps, self.realtime = files, fps, realtime
        self._index = 0
        self._start: float | None = None

    def read(self) -> Frame | None:
        # Unreadable images are skipped: a folder source stands in for a camera, which has no
        # "bad frame" to report. The CLI reads files itself to report them.
        while self._index < len(self.files):
            i = self._index
            self._index += 1
            image = read_image(self.files[i])
            if image is not None:
                if self.realtime:
                    _pace(self, i / self.fps)
                return Frame(image, i, i / self.fps)
        return None


class PlaylistSource(FrameSource):
    """The videos of a folder one after another, in name order, numbered as one recording."""

    def __init__(self, files: list[Path], realtime: bool = False):
        self.files, self.realtime = files, realtime
        self._current: VideoFileSource | None = None
        self._next = 0
        self._index = 0

    def read(self) -> Frame | None:
        while True:
            if self._current is None:
                if self._next >= len(self.files):
                    return None
                self._current = VideoFileSource(self.files[self._next], realtime=self.realtime)
                self._next += 1
            frame = self._current.read()
            if frame is not None:
                out = Frame(frame.image, self._index, frame.time)
                self._index += 1
                return out
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None


def _folder_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(images, videos) of a folder, in name order."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return ([p for p in files if p.suffix.lower() in IMAGE_SUFFIXES],
            [p for p in files if p.suffix.lower() in VIDEO_SUFFIXES])


def open_source(spec: str | int, **kwargs) -> FrameSource:
    """A source from a camera index ("0"), a video file, an image, or a folder of images (or of
    videos, played one after another)."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        kwargs.pop("realtime", None)    # a camera is real time by nature
        if is_android():
            return android_camera_source(int(spec), **kwargs)
        return CameraSource(int(spec), **kwargs)
    path = Path(spec)
    if path.is_dir():
        _opencv()      # images and videos alike are decoded by OpenCV
        images, videos = _folder_files(path)
        if images:
            return FolderSource(images, **kwargs)
        if videos:
            return PlaylistSource(videos, realtime=kwargs.get("realtime", False))
        raise SourceError(f"文件夹 {path} 中没有图片或视频 (no images or videos in the folder)")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return FolderSource([path], **kwargs)
    return VideoFileSource(path, **kwargs)


def open_for_app(spec: str | int) -> FrameSource:
    """The source an app scans from: a camera, or a recording (video, images, a folder of either)
    played at its own pace as if it were one. Both apps' ``--camera`` go through here."""
    return open_source(spec, realtime=True)


def check_spec(spec: str) -> str | None:
    """Why a ``--camera`` value cannot be used, in one plain line, or None: a camera index or an
    existing video, image, or folder holding images or videos. A camera itself is not opened here
    (the app may find it busy, and says so on its screen)."""
    if spec.isdigit():
        return None
    path = Path(spec)
    if path.is_dir():
        images, videos = _folder_files(path)
        if not images and not videos:
            return f"文件夹 {path} 中没有图片或视频。请换一个文件夹,或用摄像头编号(如 0)。"
        return None
    if not path.is_file():
        return f"找不到 {path}。--camera 可以是摄像头编号(如 0)、视频文件、图片,或存放图片或视频的文件夹。"
    if path.suffix.lower() not in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
        return f"{path} 不是图片或视频文件。--camera 可以是摄像头编号(如 0)、视频文件、图片,或存放图片或视频的文件夹。"
    return None


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
