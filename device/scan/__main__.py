"""Read QR codes from image and video files.

    python -m device.scan [--timings] [--backend auto|zxing|zbar] PATH...

For each image: ``PATH<TAB>TEXT`` (TEXT empty when no code was read). For a video: one line
``PATH#FRAME<TAB>TEXT`` per distinct code, at the first frame it was read. ``--timings`` adds a
third column, the decode time in ms (file reading and JPEG decoding excluded). No card
verification here: any QR text is printed. A tab, newline, carriage return or backslash inside
a text is written as ``\\t``, ``\\n``, ``\\r``, ``\\\\`` so that each result stays one line.
Unreadable files give a line with empty text and a message on stderr; the run goes on.
Exit status: 0 when every file was read, 1 when some could not be, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from device.camera import IMAGE_SUFFIXES, VIDEO_SUFFIXES, cv2, read_image   # cv2 None without OpenCV

from .decoder import BACKENDS, Decoder

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _line(name: str, text: str, ms: float | None, timings: bool) -> str:
    """One output line; the timing column is empty when nothing was decoded."""
    cols = [name, text.translate(_ESCAPES)]
    if timings:
        cols.append("" if ms is None else f"{ms:.2f}")
    return "\t".join(cols)


def _warn(path: str, why: str) -> None:
    print(f"device.scan: {path}: 无法读取 (cannot read): {why}", file=sys.stderr)


def scan_image(decoder: Decoder, path: str, timings: bool, out) -> bool:
    """Print the line for one image; False if the file could not be read."""
    image = read_image(path)
    if image is None:
        p = Path(path)
        reason = ("no such file" if not p.exists() else "is a directory" if p.is_dir()
                  else "not an image this build can decode")
        _warn(path, reason)
        print(_line(path, "", None, timings), file=out)
        return False
    texts, ms = decoder.timed_decode(image)
    print(_line(path, texts[0] if texts else "", ms, timings), file=out)
    return True


def scan_video(decoder: Decoder, path: str, timings: bool, out) -> bool:
    """Print one line per distinct code in a video; False if it could not be read."""
    cap = cv2.VideoCapture(path)
    seen: set[str] = set()
    frames = 0
    try:
        while True:
            ok, image = cap.read()
            if not ok:
                break
            texts, ms = decoder.timed_decode(image)
            for text in texts:
                if text not in seen:
                    seen.add(text)
                    print(_line(f"{path}#{frames}", text, ms, timings), file=out)
            frames += 1
    finally:
        cap.release()
    if frames == 0:
        _warn(path, "no frames could be decoded")
        print(_line(path, "", None, timings), file=out)
        return False
    return True


def main(argv: list[str] | None = None, out=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m device.scan",
                                     description="Print the QR text found in images and videos.")
    parser.add_argument("--timings", action="store_true", help="add decode time in ms")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="decoder backend (default: zxing-cpp when installed, else zbar)")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    if cv2 is None:   # files are read with OpenCV; a build without it decodes camera frames only
        print("读取图片和视频文件需要 OpenCV,本机没有安装 (reading image and video files needs OpenCV)",
              file=sys.stderr)
        return 2
    _quiet_opencv()
    cv2.setNumThreads(1)  # what the timings mean: one core, like a tablet's decode thread
    decoder = Decoder(args.backend)
    all_ok = True
    for path in args.paths:
        suffix = Path(path).suffix.lower()
        if suffix in VIDEO_SUFFIXES or (suffix not in IMAGE_SUFFIXES and _looks_like_video(path)):
            ok = scan_video(decoder, path, args.timings, out)
        else:
            ok = scan_image(decoder, path, args.timings, out)
        all_ok &= ok
        out.flush()
    return 0 if all_ok else 1


def _quiet_opencv() -> None:
    """OpenCV's own warnings about unreadable files would duplicate our one-line message."""
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:  # pragma: no cover - builds without the logging module
        pass


def _looks_like_video(path: str) -> bool:
    """A file with an unknown suffix that is not an image but opens as a video."""
    if read_image(path) is not None:
        return False
    cap = cv2.VideoCapture(path)
    try:
        return cap.isOpened() and cap.read()[0]
    finally:
        cap.release()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # e.g. piped into head
        sys.exit(0)
