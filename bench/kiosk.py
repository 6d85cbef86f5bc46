"""Kiosk benchmark: card shown -> balance on screen, from a recorded video, beside decode-only time.

    python -m bench.kiosk [--cards 12] [--out bench/out/kiosk.txt]

The demo community's kiosk of compound 1 runs in a real (offscreen) window; the camera is a
recorded video of resident cards being shown one after another, read at its real frame rate.
Each card is shown to the attract screen (the app is reset 0.3 s after each balance, as when the
resident taps 看完了,退出). For each card the clock starts when the scanner thread reads the
first frame in which the card is fully in view (the synthetic card slides in over ``SLIDE_FRAMES`` smeared frames before that:
those are the hand moving, not the kiosk), and stops when the first frame that shows that
resident's balance -- on the home screen alone, the screen switch finished -- has been rendered:
``glFinish`` at every flip, because with the offscreen driver the swap does not wait for the
software rasterizer (Mesa llvmpipe), which would otherwise render a frame lazily at the next
texture upload and hide its cost in a later frame.

References in the same run: the decoder alone on the same card frames (no verification, no UI),
and the render time (draw + glFinish) of an empty window of the same size: what the renderer
costs before the kiosk draws anything. Target: median and p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

TARGET_MS = 150


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.kiosk")
    ap.add_argument("--cards", type=int, default=12)
    ap.add_argument("--out", type=Path, default=Path("bench/out/kiosk.txt"))
    ap.add_argument("--workdir", type=Path, default=None, help="reuse a demo directory (default: a temporary one)")
    args = ap.parse_args(argv)

    from device.ui.scripted import headless_env, run_script, wait_until
    headless_env(1920, 1080)
    from bank import db
    from bench.scan.synth import SLIDE_FRAMES, Showing, write_video
    from device import camera as camera_mod
    from device.scan.decoder import Decoder
    from device.scan.tracker import CardTracker
    from kiosk.tts import Speaker
    from device.ui.scanner import ScannerView
    from demo import kiosk as demo
    from kiosk.app import KioskApp
    from kiosk.flow import KioskFlow
    from kiosk.steps import Step

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-kiosk-"))
    k = demo.make(workdir, video=False)
    try:
        conn = db.connect(k.office_db)
        cards = [r[0] for r in conn.execute(
            "SELECT c.qr FROM cards c JOIN accounts a USING (account_id) WHERE a.compound_id = 1 AND "
            "a.status = 'active' AND c.status = 'active' AND c.role = 'resident' ORDER BY c.card_id LIMIT ?",
            (args.cards,))]
        conn.close()
        video = workdir / "bench-cards.avi"
        showings = [Showing(None, 20)]
        for qr in cards:
            showings += [Showing(qr, 30), Showing(None, 30)]
        spans = [s for s in write_video(video, showings, seed=3) if s[2] is not None]

        read_at: dict[int, float] = {}

        class Timed(camera_mod.FrameSource):
            def __init__(self, inner):
                self.inner, self.fps = inner, inner.fps

            def read(self):
                frame = self.inner.read()
                if frame is not None:
                    read_at[frame.index] = time.perf_counter()
                return frame

            def close(self):
                self.inner.close()

        flow = KioskFlow(k.home)
        app = KioskApp(k.home, flow=flow, start_camera=False, speaker=Speaker(engine=""))
        shown: list[tuple[str, float]] = []
        state = {"pending": None, "draw_start": 0.0}
        frame_ms: list[float] = []        # draw + glFinish of each frame that showed a new balance

        decoded: dict[str, int] = {}
        handled: dict[str, tuple[float, float]] = {}

        def on_card(_scanner, event):
            state["pending"] = event.outcome.claim.text if event.outcome.ok else None
            if event.outcome.ok:
                decoded.setdefault(event.outcome.claim.text, event.frame_index)
                handled[event.outcome.claim.text] = (event.time, time.perf_counter())

        def on_draw(_window):
            state["draw_start"] = time.perf_counter()

        def on_flip(_window):
            from kivy.graphics.opengl import glFinish
            glFinish()     # the frame's pixels exist now (a real display's swap waits for them too)
            text = state["pending"]
            sm = app.root.ids.sm
            if text is not None and flow.step is Step.HOME and sm.current_screen.name == "home" \
                    and not sm.transition.is_active:
                now = time.perf_counter()
                shown.append((text, now))
                frame_ms.append((now - state["draw_start"]) * 1000)
                state["pending"] = None
                # The resident taps 看完了,退出: every card is shown to the attract screen, as in use.
                from kivy.clock import Clock
                Clock.schedule_once(lambda _dt: app.act("reset"), 0.3)

        empty_ms: list[float] = []
        gl = {"renderer": "?"}

        def empty_window_reference(window):
            """Draw + glFinish of the same window with nothing in it (the renderer's own cost)."""
            from kivy.graphics.opengl import GL_RENDERER, glGetString
            gl["renderer"] = glGetString(GL_RENDERER).decode(errors="replace")
            root = app.root
            window.remove_widget(root)
            window.unbind(on_draw=on_draw, on_flip=on_flip)
            yield 0.2
            for _ in range(30):
                t0 = time.perf_counter()
                window.dispatch("on_draw")
                from kivy.graphics.opengl import glFinish
                glFinish()
                empty_ms.append((time.perf_counter() - t0) * 1000)
                yield 0.03
            window.add_widget(root)

        def script(app):
            from kivy.core.window import Window
            yield 0.5
            scanner = ScannerView(tracker=CardTracker(app.verify_card), source=Timed(camera_mod.open_source(str(video), realtime=True)))
            scanner.sound = False
            scanner.bind(on_card=app.on_card)
            scanner.bind(on_card=on_card)     # after the app's handler: the screen is already updated
            Window.bind(on_draw=on_draw, on_flip=on_flip)
            app.scanner = scanner
            app.root.ids.sm.get_screen("attract").attach(scanner)
            scanner.start()
            yield from wait_until(app, lambda: not scanner.running and scanner.frames_seen > 0, 120)
            yield from empty_window_reference(Window)

        run_script(app, script, timeout=180)
        latencies, after_decode, frames_to_read, stages = [], [], [], []
        for (start, _last, text) in spans:
            first = start + SLIDE_FRAMES       # the first frame with the card fully in view
            hit = next((t for s, t in shown if s == text), None)
            if hit is not None and first in read_at:
                latencies.append((hit - read_at[first]) * 1000)
                after_decode.append((hit - read_at[decoded[text]]) * 1000)
                frames_to_read.append(decoded[text] - first)
                stages.append(((handled[text][1] - read_at[decoded[text]]) * 1000, (hit - handled[text][1]) * 1000))

        # Reference, same frames, same run: the decoder alone on every frame with a card in view.
        import cv2
        cap = cv2.VideoCapture(str(video))
        frames = []
        while True:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(img)
        dec = Decoder()
        decode_ms = [dec.timed_decode(frames[i])[1] for first, last, _ in spans
                     for i in range(first + SLIDE_FRAMES, last + 1 - SLIDE_FRAMES) if i < len(frames)]
    finally:
        k.stop()

    med = lambda xs: statistics.median(xs) if xs else 0  # noqa: E731
    p95 = lambda xs: pct(xs, 0.95) if xs else 0  # noqa: E731
    lines = [
        "Kiosk: card shown -> balance on screen (python -m bench.kiosk)",
        f"cards shown: {len(spans)}, balances shown: {len(latencies)} (video {video.name}, 30 fps, realtime; "
        f"window 1920x1080, glFinish at every flip)",
        f"card fully in view -> balance rendered: median {statistics.median(latencies):.0f} ms, "
        f"p95 {pct(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms (target <= {TARGET_MS} ms)"
        if latencies else "no balance shown",
        f"of which: frames from fully in view to the decoded frame: median {med(frames_to_read):.0f}, "
        f"max {max(frames_to_read) if frames_to_read else 0} (the card slid in over {SLIDE_FRAMES} smeared frames "
        f"before, not counted); decoded frame read -> balance rendered: median {med(after_decode):.0f} ms, "
        f"p95 {p95(after_decode):.0f} ms",
        f"stages: decoded frame read -> screen updated (decode, verify, hand-over to the UI thread, account view): "
        f"median {med([x for x, _ in stages]):.0f} ms; -> frame rendered: median {med([y for _, y in stages]):.0f} ms, "
        f"of which the balance frame's draw + glFinish: median {med(frame_ms):.0f} ms, p95 {p95(frame_ms):.0f} ms",
        f"reference, empty 1920x1080 window, draw + glFinish (the renderer alone, {gl['renderer']}): "
        f"median {med(empty_ms):.0f} ms, p95 {p95(empty_ms):.0f} ms over {len(empty_ms)} frames",
        f"reference, decode only per card frame ({dec.backend}): median {statistics.median(decode_ms):.1f} ms, "
        f"p95 {pct(decode_ms, 0.95):.1f} ms over {len(decode_ms)} frames",
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end "
        "(llvmpipe rasterizes on the CPU, beside the decoder thread)",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    return 0 if latencies and pct(latencies, 0.95) <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
