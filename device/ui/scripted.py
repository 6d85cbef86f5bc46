"""Running a real app window under a script, for UI tests, screenshots and benchmarks.

Used by both apps (the tablet at 1280x800, the kiosk at 1920x1080: the window size is a
parameter). A script is a generator function ``script(app)`` that taps and inspects the app
between ``yield`` points; each ``yield`` gives the seconds to let the app run (frames, threads,
the scanner) before the script continues. The app stops when the script ends, and an exception
in the script is re-raised by :func:`run_script` after the window is closed.
"""

from __future__ import annotations

import os
import time


def headless_env(width: int, height: int) -> None:
    """Kivy settings for a window with no desktop: SDL's offscreen driver when there is no DISPLAY."""
    for name, value in {"KIVY_NO_ARGS": "1", "KIVY_NO_CONFIG": "1", "KIVY_LOG_MODE": "PYTHON",
                        "KIVY_NO_FILELOG": "1"}.items():
        os.environ.setdefault(name, value)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    from kivy.config import Config
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0")
    Config.set("kivy", "exit_on_escape", "0")


def run_script(app, script, timeout: float = 120.0) -> None:
    """Run ``app`` with ``script(app)`` driving it; re-raise what the script raised."""
    from kivy.clock import Clock

    state = {"gen": None, "until": 0.0, "error": None, "deadline": time.monotonic() + timeout}

    def step(_dt):
        if time.monotonic() > state["deadline"]:
            state["error"] = TimeoutError("UI script did not finish in time")
            app.stop()
            return False
        if time.monotonic() < state["until"]:
            return True
        try:
            if state["gen"] is None:
                state["gen"] = script(app)
            wait = next(state["gen"])
            state["until"] = time.monotonic() + float(wait or 0)
            return True
        except StopIteration:
            app.stop()
            return False
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            state["error"] = exc
            app.stop()
            return False

    Clock.schedule_interval(step, 1 / 60)
    app.run()
    if state["error"] is not None:
        raise state["error"]


def wait_until(app, predicate, timeout: float = 10.0):
    """A sub-generator: yield until ``predicate()`` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached in time")
        yield 0.02


def press(button) -> None:
    """Tap a Kivy button as a finger would (press and release events)."""
    button.dispatch("on_press")
    button.dispatch("on_release")
