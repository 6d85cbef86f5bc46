"""The card-video renderer: a recorded video of demo cards shown one after another to a camera,
which the demo apps, screenshots and UI tests read instead of a real camera."""

from __future__ import annotations

from pathlib import Path


def write_card_video(path: Path, texts: list[str], *, hold_frames: int = 45, gap_frames: int = 40,
                     seed: int = 5) -> Path:
    """A recorded video of cards shown one after another, with empty scenes between."""
    from bench.scan.synth import Showing, write_video  # the scanner benchmark's card renderer and camera model
    showings = [Showing(None, gap_frames)]
    for text in texts:
        showings += [Showing(text, hold_frames), Showing(None, gap_frames)]
    write_video(path, showings, seed=seed)
    return path
