"""The project's own points card, rendered and "photographed" the way a tablet camera sees it.

Tests and the scan benchmark share this generator, so what the scanner is judged on is the card
residents really carry: CR80 card, red header, masked holder name, a version-5 QR at level M.
Every frame is deterministic for a given (difficulty, index, seed).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw, ImageFont

from bank import cardcode

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "assets" / "fonts" / "NotoSansSC-Subset.otf"
SYSTEM_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CARD_MM = (85.6, 53.98)  # ISO/IEC 7810 ID-1 (CR80)
TITLE = "龙海社区 道德积分储户卡"
FRAME_SIZE = (1280, 720)
DIFFICULTIES = ("easy", "medium", "hard", "negative")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林"
GIVEN = "明华丽军芳敏静强磊洋艳勇杰娟涛超秀霞平刚桂英"
COMPOUNDS = ("滨江苑", "龙海花园", "金桥小区", "翠湖居", "鱼洞新村", "巴滨雅居")


@dataclass
class Sample:
    """One synthetic frame with the text a perfect decoder would read ("" if none)."""

    frame: np.ndarray
    text: str
    difficulty: str
    index: int
    effects: list[str] = field(default_factory=list)


def issuing_key(seed: int = 0) -> Ed25519PrivateKey:
    """A deterministic stand-in for the community's issuing key."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"bench-key-{seed}".encode()).digest())


def card_text(card_id: str, *, version: int = 1, seed: int = 0, key: Ed25519PrivateKey | None = None,
              community: str = "LH", key_id: str = "K1") -> str:
    """A real signed card text (the format the scanner meets in the field)."""
    return cardcode.sign(key or issuing_key(seed), community=community, role="resident",
                         card_id=card_id, version=version, key_id=key_id)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """The CJK font for card text: the shipped subset, else Debian's collection (SC face)."""
    if FONT.exists():
        return ImageFont.truetype(str(FONT), size)
    return ImageFont.truetype(str(SYSTEM_FONT), size, index=2)  # index 2 is SC in Noto CJK .ttc


def qr_modules(text: str) -> np.ndarray:
    """The QR module matrix (1 = dark) including the 4-module quiet zone."""
    qr = segno.make_qr(text, error="m")  # never segno.make: it may emit Micro QR
    return np.array(list(qr.matrix_iter(scale=1, border=4)), dtype=np.uint8)


def render_qr(text: str, px: int) -> np.ndarray:
    """The QR as a grey image ``px`` wide (white quiet zone included)."""
    m = qr_modules(text)
    img = np.where(m == 1, 20, 250).astype(np.uint8)
    return cv2.resize(img, (px, px), interpolation=cv2.INTER_NEAREST)


def render_card(text: str | None, *, holder: str = "张*明", compound: str = "滨江苑",
                card_id: str = "000123", px_per_mm: float = 10.0, qr: str = "real",
                rng: np.random.Generator | None = None) -> np.ndarray:
    """The printed card as a BGR image. ``qr`` is "real", "fake" (QR-like noise) or "none"."""
    w, h = round(CARD_MM[0] * px_per_mm), round(CARD_MM[1] * px_per_mm)
    img = Image.new("RGB", (w, h), (250, 248, 242))
    draw = ImageDraw.Draw(img)
    band = round(12 * px_per_mm)
    draw.rectangle([0, 0, w, band], fill=(200, 30, 36))
    draw.text((round(4 * px_per_mm), band // 2), TITLE, font=_font(round(5.2 * px_per_mm)),
              fill=(255, 240, 200), anchor="lm")
    f = _font(round(3.6 * px_per_mm))
    x0, y = round(5 * px_per_mm), band + round(7 * px_per_mm)
    for line in (f"储户  {holder}", f"小区  {compound}", f"卡号  {card_id}"):
        draw.text((x0, y), line, font=f, fill=(40, 40, 40), anchor="lm")
        y += round(7.5 * px_per_mm)
    draw.text((x0, h - round(4 * px_per_mm)), "凭卡在党群服务点及联盟商户兑换",
              font=_font(round(2.6 * px_per_mm)), fill=(120, 110, 100), anchor="lm")
    card = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)
    qr_px = round(36 * px_per_mm)  # 36 mm including quiet zone: ~0.8 mm modules
    qx, qy = w - qr_px - round(2 * px_per_mm), band + round(2.5 * px_per_mm)
    qr_px = min(qr_px, h - qy - round(1 * px_per_mm))
    if qr == "real" and text:
        patch = render_qr(text, qr_px)
    elif qr == "fake":
        patch = _fake_qr(qr_px, rng or np.random.default_rng(0))
    else:
        patch = _stamp(qr_px)
    card[qy:qy + qr_px, qx:qx + qr_px] = np.minimum(card[qy:qy + qr_px, qx:qx + qr_px],
                                                    patch[:, :, None])
    return card


def qr_box(card_shape: tuple[int, ...], px_per_mm: float = 10.0) -> tuple[int, int, int]:
    """(x, y, size) of the QR region (with quiet zone) on a card rendered by :func:`render_card`."""
    h, w = card_shape[:2]
    band = round(12 * px_per_mm)
    qr_px = round(36 * px_per_mm)
    qx, qy = w - qr_px - round(2 * px_per_mm), band + round(2.5 * px_per_mm)
    return qx, qy, min(qr_px, h - qy - round(1 * px_per_mm))


def _fake_qr(px: int, rng: np.random.Generator) -> np.ndarray:
    """Finder patterns around random modules: looks like a QR code, decodes to nothing."""
    n = 37
    m = (rng.random((n, n)) < 0.5).astype(np.uint8)
    finder = np.ones((7, 7), np.uint8)
    finder[1:6, 1:6] = 0
    finder[2:5, 2:5] = 1
    for r, c in ((0, 0), (0, n - 7), (n - 7, 0)):
        m[max(r - 1, 0):r + 8, max(c - 1, 0):c + 8] = 0
        m[r:r + 7, c:c + 7] = finder
    m = np.pad(m, 4)
    img = np.where(m == 1, 20, 250).astype(np.uint8)
    return cv2.resize(img, (px, px), interpolation=cv2.INTER_NEAREST)


def _stamp(px: int) -> np.ndarray:
    """A round red-ink-like seal where a card without a code has its emblem."""
    img = np.full((px, px), 250, np.uint8)
    c = px // 2
    cv2.circle(img, (c, c), int(px * 0.4), 90, max(2, px // 30))
    cv2.circle(img, (c, c), int(px * 0.28), 140, max(2, px // 40))
    return img


# --- photographing ---------------------------------------------------------------------------

def background(rng: np.random.Generator, size=FRAME_SIZE) -> np.ndarray:
    """A cluttered shop-counter-like background: gradient, shapes, lines, texture."""
    w, h = size
    c0, c1 = rng.integers(30, 200, 3), rng.integers(30, 200, 3)
    t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    img = (c0 * (1 - t) + c1 * t).astype(np.float32) * np.ones((h, 1, 1), np.float32)
    img = img.astype(np.uint8)
    for _ in range(rng.integers(6, 16)):
        color = tuple(int(v) for v in rng.integers(20, 235, 3))
        kind = rng.integers(0, 4)
        p = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        if kind == 0:
            cv2.circle(img, p, int(rng.integers(20, 160)), color, -1, cv2.LINE_AA)
        elif kind == 1:
            q = (p[0] + int(rng.integers(-300, 300)), p[1] + int(rng.integers(-200, 200)))
            cv2.rectangle(img, p, q, color, -1)
        elif kind == 2:
            q = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.line(img, p, q, color, int(rng.integers(1, 5)), cv2.LINE_AA)
        else:  # printed-matter-like stripes: a classic source of false finder patterns
            for k in range(int(rng.integers(3, 9))):
                y = p[1] + k * 12
                cv2.line(img, (p[0], y), (p[0] + int(rng.integers(60, 200)), y), color, 4)
    texture = rng.normal(0, 6, (h // 8 + 1, w // 8 + 1, 1)).astype(np.float32)
    texture = cv2.resize(texture, (w, h))[:, :, None]
    img = np.clip(img.astype(np.float32) + texture, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(img, (0, 0), 1.5)


def _project(card_w: float, card_h: float, yaw: float, pitch: float, roll: float,
             center: tuple[float, float], scale: float) -> np.ndarray:
    """Corners of a card rotated in 3-D and seen through a pinhole camera, as 4x2 pixels."""
    pts = np.array([[-card_w / 2, -card_h / 2, 0], [card_w / 2, -card_h / 2, 0],
                    [card_w / 2, card_h / 2, 0], [-card_w / 2, card_h / 2, 0]], np.float64)
    cy, sy, cp, sp, cr, sr = (math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch),
                              math.cos(roll), math.sin(roll))
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    p = pts @ (rz @ rx @ ry).T
    f = 2.5 * max(card_w, card_h)  # a phone-like focal length relative to the card
    z = p[:, 2] + f
    xy = p[:, :2] * (f / z)[:, None]
    return (xy * scale + np.array(center)).astype(np.float32)


# Ranges per difficulty: QR width in the frame (px, quiet zone excluded), tilt (deg), effects.
LEVELS = {
    "easy": dict(qr=(200, 380), tilt=12, roll=25, blur=(0.0, 0.8), gain=(0.85, 1.1), noise=(1, 3),
                 jpeg=(85, 95), extras=0),
    "medium": dict(qr=(140, 300), tilt=30, roll=180, blur=(0.4, 1.4), gain=(0.55, 1.0),
                   noise=(3, 7), jpeg=(70, 90), extras=1),
    "hard": dict(qr=(100, 280), tilt=35, roll=180, blur=(0.5, 1.3), gain=(0.55, 1.0), noise=(3, 8),
                 jpeg=(65, 90), extras=2),
}
HARD_EFFECTS = ("motion", "defocus", "small", "lowlight", "shadow", "tilt", "glare", "finger")
MEDIUM_EFFECTS = ("motion", "shadow", "glare", "lowlight", "defocus")


def photograph(card: np.ndarray, difficulty: str, rng: np.random.Generator,
               size=FRAME_SIZE, effects: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Place the card in a scene as a camera at ``difficulty`` would capture it."""
    lv = LEVELS[difficulty]
    if effects is None:
        pool = HARD_EFFECTS if difficulty == "hard" else MEDIUM_EFFECTS
        k = lv["extras"] if difficulty != "hard" else (3 if rng.random() < 0.35 else 2)
        effects = [str(e) for e in rng.choice(pool, size=k, replace=False)] if k else []
        if difficulty == "medium" and rng.random() < 0.5:
            effects = []
    w, h = size
    scene = background(rng, size)
    qx, qy, qs = qr_box(card.shape)
    qr_inner = qs * 37 / 45  # the symbol without quiet zone
    lo, hi = lv["qr"]
    if "small" in effects:
        lo, hi = 80, 150
    qr_target = rng.uniform(lo, min(hi, h * 0.75))
    scale = qr_target / qr_inner
    tilt = lv["tilt"] * (1.4 if "tilt" in effects else 1.0)
    yaw = math.radians(rng.uniform(-tilt, tilt))
    pitch = math.radians(rng.uniform(-tilt, tilt))
    roll = math.radians(rng.uniform(-lv["roll"], lv["roll"]))
    ch, cw = card.shape[:2]
    # Choose the centre so that the QR (not necessarily the whole card) stays in the frame.
    for _ in range(20):
        center = (rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h)
        dst = _project(cw, ch, yaw, pitch, roll, center, scale)
        m = cv2.getPerspectiveTransform(np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]]), dst)
        qc = cv2.perspectiveTransform(np.float32([[[qx, qy], [qx + qs, qy], [qx + qs, qy + qs],
                                                   [qx, qy + qs]]]), m)[0]
        if qc[:, 0].min() > 4 and qc[:, 1].min() > 4 and qc[:, 0].max() < w - 4 and qc[:, 1].max() < h - 4:
            break
    warped = cv2.warpPerspective(card, m, size, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full(card.shape[:2], 255, np.uint8), m, size)
    # A faint drop shadow so the card sits in the scene.
    shadow = cv2.GaussianBlur(cv2.warpAffine(mask, np.float32([[1, 0, 6], [0, 1, 8]]), size), (0, 0), 6)
    img = scene.astype(np.float32) * (1 - np.float32(0.35 / 255) * shadow[:, :, None])
    a = mask[:, :, None].astype(np.float32) * np.float32(1 / 255)
    img = img * (1 - a) + warped.astype(np.float32) * a
    qcenter = qc.mean(axis=0)
    qwidth = float(np.linalg.norm(qc[1] - qc[0]))

    if "finger" in effects:
        img = _finger(img, qc, rng)
    # Lighting: overall gain, a soft gradient, and the optional hard shadow edge or glare.
    gain = rng.uniform(*lv["gain"])
    if "lowlight" in effects:
        gain = rng.uniform(0.22, 0.4)
    # Broadcast rows against columns (float32 throughout: float64 frames made this 3x slower).
    yy, xx = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
    ang = rng.uniform(0, 2 * math.pi)
    grad = 1 + np.float32(0.25 / w) * ((xx - w / 2) * np.float32(math.cos(ang)) + (yy - h / 2) * np.float32(math.sin(ang)))
    img *= (np.float32(gain) * grad)[:, :, None]
    if "shadow" in effects:
        ang = rng.uniform(0, 2 * math.pi)
        d = ((xx - np.float32(qcenter[0])) * np.float32(math.cos(ang))
             + (yy - np.float32(qcenter[1])) * np.float32(math.sin(ang)) - np.float32(rng.uniform(-0.3, 0.3) * qwidth))
        edge = np.clip(d * np.float32(1 / rng.uniform(1, 4)) + np.float32(0.5), 0, 1)
        img *= (1 - np.float32(rng.uniform(0.45, 0.65)) * edge)[:, :, None]
    if "glare" in effects:
        gx, gy = qcenter + rng.uniform(-0.5, 0.5, 2) * qwidth
        r = rng.uniform(0.12, 0.3) * qwidth
        blob = np.exp(-((xx - np.float32(gx)) ** 2 + (yy - np.float32(gy)) ** 2) * np.float32(1 / (2 * r * r)))
        img += (blob * np.float32(rng.uniform(120, 200)))[:, :, None]
    img = np.clip(img, 0, 255)

    # Optics: focus and motion, then sensor noise (stronger when the scene is dark), then JPEG.
    sigma = rng.uniform(*lv["blur"])
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    if "defocus" in effects:
        img = cv2.filter2D(img, -1, _disk(rng.uniform(1.5, 2.5 if difficulty == "medium" else 3.0)))
    if "motion" in effects:
        length = rng.uniform(3, 6) if difficulty == "medium" else rng.uniform(4, 8)
        img = cv2.filter2D(img, -1, _motion_kernel(length, rng.uniform(0, 180)))
    noise = rng.uniform(*lv["noise"]) * (1.8 if "lowlight" in effects else 1.0)
    img = img + _noise(img.shape, rng) * np.float32(noise)
    img = np.clip(img, 0, 255).astype(np.uint8)
    q = int(rng.integers(*lv["jpeg"]))
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR), effects


@lru_cache(maxsize=2)
def _noise_bank(h: int, w: int, c: int) -> np.ndarray:
    """Unit Gaussian noise a little larger than a frame, made once (per-frame draws were slow)."""
    return np.random.default_rng(12345).standard_normal((h + 64, w + 64, c), dtype=np.float32)


def _noise(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A randomly offset window of the noise bank: fresh-looking noise at no generation cost."""
    h, w, c = shape
    dy, dx = rng.integers(0, 65, 2)
    bank = _noise_bank(h, w, c)
    return bank[dy:dy + h, dx:dx + w] if rng.random() < 0.5 else -bank[dy:dy + h, dx:dx + w]


def _finger(img: np.ndarray, qc: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thumb over one edge of the code, covering a few percent of it."""
    side = int(rng.integers(0, 4))
    a, b = qc[side], qc[(side + 1) % 4]
    t = rng.uniform(0.25, 0.75)
    tip = a + (b - a) * t
    centre = qc.mean(axis=0)
    inward = (centre - tip) / (np.linalg.norm(centre - tip) + 1e-6)
    width = np.linalg.norm(b - a) * rng.uniform(0.16, 0.24)
    tip = tip + inward * width * rng.uniform(0.2, 0.6)
    end = tip - inward * 1000
    overlay = img.copy()
    color = (rng.uniform(120, 160), rng.uniform(150, 180), rng.uniform(190, 225))
    cv2.line(overlay, tuple(int(v) for v in tip), tuple(int(v) for v in end), color, int(width), cv2.LINE_AA)
    cv2.circle(overlay, tuple(int(v) for v in tip), int(width / 2), color, -1, cv2.LINE_AA)
    return cv2.GaussianBlur(overlay, (0, 0), 1.2) * 0.5 + overlay * 0.5


def _disk(radius: float) -> np.ndarray:
    """A defocus (pillbox) kernel."""
    r = int(math.ceil(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    k = (xx * xx + yy * yy <= radius * radius).astype(np.float32)
    return k / k.sum()


def _motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A linear motion-blur kernel."""
    n = int(math.ceil(length)) | 1
    k = np.zeros((n, n), np.float32)
    c = n // 2
    dx, dy = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    cv2.line(k, (int(round(c - dx * length / 2)), int(round(c - dy * length / 2))),
             (int(round(c + dx * length / 2)), int(round(c + dy * length / 2))), 1.0, 1, cv2.LINE_AA)
    return k / k.sum()


def _rng(difficulty: str, index: int, seed: int) -> np.random.Generator:
    """A generator keyed by (difficulty, index, seed) so every sample is reproducible alone."""
    h = hashlib.sha256(f"{seed}/{difficulty}/{index}".encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def holder_name(rng: np.random.Generator) -> str:
    """A masked name as printed on cards: surname, stars, last character."""
    given = "".join(rng.choice(list(GIVEN), size=int(rng.integers(1, 3))))
    return rng.choice(list(SURNAMES)) + "*" * (len(given) - 1 or 1) + given[-1]


def make_sample(difficulty: str, index: int, seed: int = 0, size=FRAME_SIZE) -> Sample:
    """One synthetic frame of ``difficulty`` ("easy", "medium", "hard" or "negative")."""
    rng = _rng(difficulty, index, seed)
    card_id = f"{int(rng.integers(1, 999999)):06d}"
    holder, compound = holder_name(rng), str(rng.choice(COMPOUNDS))
    if difficulty == "negative":
        kind = int(rng.integers(0, 3))
        if kind == 0:
            return Sample(background(rng, size), "", difficulty, index, ["empty"])
        card = render_card(None, holder=holder, compound=compound, card_id=card_id,
                           qr="fake" if kind == 1 else "none", rng=rng)
        frame, effects = photograph(card, "medium", rng, size)
        return Sample(frame, "", difficulty, index, ["fake_qr" if kind == 1 else "no_qr", *effects])
    text = card_text(card_id, version=int(rng.integers(1, 4)), seed=seed)
    card = render_card(text, holder=holder, compound=compound, card_id=card_id)
    frame, effects = photograph(card, difficulty, rng, size)
    return Sample(frame, text, difficulty, index, effects)


def make_set(n_per_level: int, seed: int = 0, levels=DIFFICULTIES, size=FRAME_SIZE):
    """Yield ``n_per_level`` samples of each difficulty."""
    for level in levels:
        for i in range(n_per_level):
            yield make_sample(level, i, seed, size)


# --- video -----------------------------------------------------------------------------------

SLIDE_FRAMES = 3   # a shown card slides in (and out) over this many frames: shifted and smeared

@dataclass
class Showing:
    """A card held in front of the camera for ``frames`` frames (text None: an empty scene)."""

    text: str | None
    frames: int
    difficulty: str = "easy"


def write_video(path, showings: list[Showing], *, seed: int = 0, fps: float = 30.0,
                size=FRAME_SIZE) -> list[tuple[int, int, str | None]]:
    """Write an MJPG .avi of cards being shown and removed; return (first, last, text) per showing.

    A shown card slides in over 3 frames (motion-blurred), is held with a small hand tremor,
    and slides out over 3 frames; the empty scene in between is the same background.
    """
    rng = np.random.default_rng(seed)
    w, h = size
    scene = background(rng, size)
    # A few precomputed noise fields, cycled: per-frame Gaussian noise dominated writing time.
    noises = [rng.normal(0, 2.5, (h, w, 3)).astype(np.int16) for _ in range(4)]
    _noisy = lambda frame, _rng: np.clip(frame.astype(np.int16) + noises[int(_rng.integers(0, 4))],  # noqa: E731
                                         0, 255).astype(np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video {path}")
    spans, n = [], 0
    try:
        for showing in showings:
            start = n
            if showing.text is None:
                for _ in range(showing.frames):
                    writer.write(_noisy(scene, rng))
                    n += 1
            else:
                card = render_card(showing.text, holder=holder_name(rng))
                held, _ = photograph(card, showing.difficulty, rng, size, effects=[])
                for k in range(showing.frames):
                    edge = min(k, showing.frames - 1 - k)
                    if edge < SLIDE_FRAMES:  # sliding in or out: shifted and smeared, unreadable
                        dx = int((SLIDE_FRAMES - edge) * w / (2 * SLIDE_FRAMES))
                        frame = np.roll(held, dx, axis=1)
                        frame = cv2.blur(frame, (25, 1))
                    else:
                        frame = np.roll(held, (int(rng.integers(-2, 3)), int(rng.integers(-2, 3))), (0, 1))
                    writer.write(_noisy(frame, rng))
                    n += 1
            spans.append((start, n - 1, showing.text))
    finally:
        writer.release()
    return spans

