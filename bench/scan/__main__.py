"""Scan benchmark: the project's pipeline beside plain pyzbar, OpenCV and zxing-cpp, same frames.

    python -m bench.scan [--n 60] [--seed 2026] [--qr-dev ../shared/qr-dev] [--jobs 2]

Generates ``--n`` frames per difficulty (easy, medium, hard, negative) with bench.scan.synth,
runs every decoder on every frame on one core, and prints a Markdown table: decode rate per
difficulty, false positives on frames without a card, wrong texts, median and p95 ms per frame.
With ``--qr-dev`` the shared photos get a second table. Results also go to bench/out/scan/.
Times are the decoding thread's CPU time (``time.thread_time``) with OpenCV limited to one
thread, so other work on a shared machine does not inflate them; wall time on an idle core is
the same within noise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from bench.scan import synth

OUT = Path(__file__).resolve().parents[2] / "bench" / "out" / "scan"
LEVELS = ("easy", "medium", "hard")


def decoders() -> dict:
    """name -> function(BGR frame) -> list of texts. Each converts to grey itself."""
    from pyzbar import pyzbar

    from device.scan.decoder import Decoder, has_zxing, to_gray

    found = {
        "project pipeline": Decoder("auto").decode,
        "project pipeline (pyzbar only)": Decoder("zbar").decode,
        "plain pyzbar (QR only)": lambda f: [s.data.decode("utf-8", "replace") for s in pyzbar.decode(
            to_gray(f), symbols=[pyzbar.ZBarSymbol.QRCODE])],
    }
    detector = cv2.QRCodeDetector()

    def opencv(f):
        text = detector.detectAndDecode(to_gray(f))[0]
        return [text] if text else []

    found["OpenCV QRCodeDetector"] = opencv
    if has_zxing():
        import zxingcpp

        found["zxing-cpp (QR only)"] = lambda f: [r.text for r in zxingcpp.read_barcodes(
            to_gray(f), formats=zxingcpp.BarcodeFormat.QRCode)]
    return found


def _gen(args):
    level, i, seed = args
    s = synth.make_sample(level, i, seed)
    return s.frame, s.text, level


def synth_frames(n: int, seed: int, jobs: int):
    """(frame, truth text, level) for n frames of each difficulty, generated in parallel."""
    work = [(level, i, seed) for level in synth.DIFFICULTIES for i in range(n)]
    if jobs <= 1:
        return [_gen(w) for w in work]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(_gen, work, chunksize=8))


def qr_dev_frames(folder: Path):
    """(frame, truth text, level) for the shared photos; negatives are level "negative"."""
    out = []
    for line in (folder / "truth.tsv").read_text().splitlines():
        name, text = line.split("\t")
        level = name.split("_")[0]
        out.append((cv2.imread(str(folder / name)), text, "negative" if level == "neg" else level))
    return out


def measure(frames, fns: dict) -> dict:
    """Per decoder: reads per level, false positives, wrong texts, times."""
    results = {}
    for name, fn in fns.items():
        fn(frames[0][0])  # warm-up: first calls allocate
        r = {"read": dict.fromkeys(LEVELS, 0), "total": dict.fromkeys(LEVELS, 0), "fp": 0,
             "negatives": 0, "wrong": 0, "ms": []}
        for frame, text, level in frames:
            t0 = time.thread_time()
            got = fn(frame)
            r["ms"].append((time.thread_time() - t0) * 1000)
            if level == "negative":
                r["negatives"] += 1
                r["fp"] += bool(got)
                continue
            r["total"][level] += 1
            r["read"][level] += text in got
            r["wrong"] += any(g != text for g in got)
        results[name] = r
    return results


def table(results: dict, title: str) -> str:
    """Markdown table of :func:`measure` results."""
    lines = [f"**{title}**", "",
             "| decoder | easy | medium | hard | false pos. | wrong text | median ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        rates = [f"{100 * r['read'][lv] / max(1, r['total'][lv]):.0f} %" for lv in LEVELS]
        ms = np.array(r["ms"])
        lines.append(f"| {name} | {' | '.join(rates)} | {r['fp']}/{r['negatives']} | {r['wrong']} "
                     f"| {np.median(ms):.1f} | {np.percentile(ms, 95):.1f} |")
    return "\n".join(lines)


def video_latency(seed: int, showings: int = 12) -> str:
    """Card held up in a recorded video -> verified card event: latency per showing, in ms.

    Latency counts from the first frame where the card is held still (the writer slides it in
    over three frames) to the event, plus the decode time of the frame that produced it; the
    video plays at 30 fps, so a read on the first still frame costs only its decode time.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bank import cardcode
    from device.camera import VideoFileSource
    from device.scan.tracker import CardTracker
    from device.scan.verify import CardVerifier

    key = Ed25519PrivateKey.generate()
    records = {}
    plan = [synth.Showing(None, 10)]
    for i in range(showings):
        card_id = f"{500000 + i:06d}"
        records[card_id] = (1, "active")
        text = cardcode.sign(key, community="LH", role="resident", card_id=card_id, version=1, key_id="K1")
        plan += [synth.Showing(text, 24, "easy" if i % 2 else "medium"), synth.Showing(None, 14)]

    class Registry:
        def card_record(self, card_id):
            return records.get(card_id)

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"counter-{seed}.avi"
    spans = [s for s in synth.write_video(path, plan, seed=seed) if s[2] is not None]
    tracker = CardTracker(CardVerifier(community="LH", keyring={"K1": key.public_key()}, registry=Registry()))
    with VideoFileSource(path) as src:
        events = [e for f in src if (e := tracker.feed(f.image, f.index, f.time))]
    lat = []
    for first, last, text in spans:
        hit = [e for e in events if first <= e.frame_index <= last]
        if hit:
            lat.append((hit[0].time - (first + 3) / src.fps) * 1000 + hit[0].decode_ms)
    verified = sum(e.outcome.ok for e in events)
    return (f"**Recorded video** ({len(spans)} cards shown at 30 fps, tracker with verification): "
            f"{verified}/{len(spans)} verified, {len(events)} events; latency card held still -> "
            f"verified: median {np.median(lat):.0f} ms, max {max(lat):.0f} ms"
            if lat else "**Recorded video**: no card read")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scan", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="frames per difficulty (default 60)")
    parser.add_argument("--seed", type=int, default=2026, help="synth seed (tuning used others)")
    parser.add_argument("--qr-dev", type=Path, default=None, help="folder of the shared photos")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes for frame generation (decoding is always one core)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    cv2.setNumThreads(1)  # "one core": OpenCV would otherwise spread resizes over all cores
    fns = decoders()
    t0 = time.time()
    frames = synth_frames(args.n, args.seed, args.jobs)
    print(f"generated {len(frames)} frames (1280x720) in {time.time() - t0:.0f} s", file=sys.stderr)
    out = [table(measure(frames, fns), f"Generated frames: {args.n} per difficulty, seed {args.seed}")]
    if args.qr_dev:
        if not (args.qr_dev / "truth.tsv").exists():
            parser.error(f"no truth.tsv in {args.qr_dev}")
        out.append(table(measure(qr_dev_frames(args.qr_dev), fns), f"qr-dev photos ({args.qr_dev})"))
    out.append(video_latency(args.seed))
    text = "\n\n".join(out)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.md").write_text(text + "\n")
    print(f"written to {OUT / 'results.md'} ({time.time() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
