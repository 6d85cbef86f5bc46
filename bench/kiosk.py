"""Kiosk benchmark: card shown -> balance on screen, from a recorded video, beside decode-only time.

    python -m bench.kiosk [--cards 12] [--out bench/out/kiosk.txt]

The demo community's kiosk of compound 1 runs in a real (offscreen) window; the camera is a
recorded video of resident cards being shown one after another, read at its real frame rate.
For each card the clock starts when the scanner thread reads the first frame in which the card
is in view, and stops at the first window flip after the home screen shows that resident's
balance (decode, verify against the replica, the account view, layout and drawing). The reference
in the same run: the decoder alone on the same card frames (no verification, no UI), per frame.
Target: median and p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
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
    from bench.scan.synth import Showing, write_video
    from device import camera as camera_mod
    from device.scan.decoder import Decoder
    from device.scan.tracker import CardTracker
    from device.tts import Speaker
    from device.ui.scanner import ScannerView
    from kiosk import demo
    from kiosk.app import KioskApp
    from kiosk.flow import KioskFlow, Step

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
        state = {"pending": None}

        decoded: dict[str, int] = {}
        handled: dict[str, tuple[float, float]] = {}

        def on_card(_scanner, event):
            state["pending"] = event.outcome.claim.text if event.outcome.ok else None
            if event.outcome.ok:
                decoded.setdefault(event.outcome.claim.text, event.frame_index)
                handled[event.outcome.claim.text] = (event.time, time.perf_counter())

        def on_flip(_window):
            text = state["pending"]
            if text is not None and flow.step is Step.HOME:
                shown.append((text, time.perf_counter()))
                state["pending"] = None

        def script(app):
            from kivy.core.window import Window
            yield 0.5
            scanner = ScannerView(tracker=CardTracker(app._verify), source=Timed(camera_mod.open_source(str(video), realtime=True)))
            scanner.sound = False
            scanner.bind(on_card=app.on_card)
            scanner.bind(on_card=on_card)     # after the app's handler: the screen is already updated
            Window.bind(on_flip=on_flip)
            app.scanner = scanner
            app.root.ids.sm.get_screen("attract").attach(scanner)
            scanner.start()
            yield from wait_until(app, lambda: not scanner.running and scanner.frames_seen > 0, 120)

        run_script(app, script, timeout=180)
        latencies, after_decode, frames_to_read, stages = [], [], [], []
        for (first, _last, text) in spans:
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
        decode_ms = [dec.timed_decode(frames[i])[1] for first, last, _ in spans for i in range(first, last + 1)
                     if i < len(frames)]
    finally:
        k.stop()

    lines = [
        "Kiosk: card shown -> balance on screen (python -m bench.kiosk)",
        f"cards shown: {len(spans)}, balances shown: {len(latencies)} (video {video.name}, 30 fps, realtime)",
        f"card shown -> balance on screen: median {statistics.median(latencies):.0f} ms, "
        f"p95 {pct(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms (target <= {TARGET_MS} ms)"
        if latencies else "no balance shown",
        f"of which: frames until the card was readable (slides in, blur): median {statistics.median(frames_to_read) if frames_to_read else 0:.0f}, "
        f"max {max(frames_to_read) if frames_to_read else 0}; read of the decoded frame -> balance on screen: "
        f"median {statistics.median(after_decode) if after_decode else 0:.0f} ms, p95 {pct(after_decode, 0.95) if after_decode else 0:.0f} ms",
        f"stages: decoded frame read -> screen updated (decode, verify, hand-over to the UI thread, account view, "
        f"layout): median {statistics.median(x for x, _ in stages) if stages else 0:.0f} ms; -> drawn (next flip): "
        f"median {statistics.median(y for _, y in stages) if stages else 0:.0f} ms",
        f"reference, decode only per card frame ({dec.backend}): median {statistics.median(decode_ms):.1f} ms, "
        f"p95 {pct(decode_ms, 0.95):.1f} ms over {len(decode_ms)} frames",
        "one frame interval at 30 fps is 33 ms: a card that slides in is readable from its 2nd-4th frame.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    return 0 if latencies and pct(latencies, 0.95) <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
