"""Generate the scanner's cue sounds (short sine beeps, 16-bit mono WAV).

    python assets/sounds/make_sounds.py
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
RATE = 22050
#: name -> list of (frequency Hz, duration s); 0 Hz is silence.
SOUNDS = {
    "scan_ok": [(1320, 0.07), (0, 0.03), (1760, 0.09)],  # rising double beep: accepted
    "scan_refused": [(440, 0.12), (0, 0.04), (330, 0.18)],  # falling tones: look at the screen
}


def tone(freq: float, seconds: float) -> list[int]:
    """Samples of one sine tone with 5 ms fades (no clicks)."""
    n = int(RATE * seconds)
    fade = int(RATE * 0.005)
    out = []
    for i in range(n):
        env = min(1.0, i / fade, (n - 1 - i) / fade) if fade else 1.0
        out.append(int(0.5 * 32767 * env * math.sin(2 * math.pi * freq * i / RATE)) if freq else 0)
    return out


def main() -> None:
    for name, parts in SOUNDS.items():
        samples = [s for f, d in parts for s in tone(f, d)]
        with wave.open(str(HERE / f"{name}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
        print(HERE / f"{name}.wav")


if __name__ == "__main__":
    main()
