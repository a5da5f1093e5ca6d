"""Synthetic person re-ID images: a data set anyone can regenerate, so the demo needs no download.

An identity is a clothing description drawn from ``(seed, pid)``: top and bottom colours, a pattern
(plain, stripes, checks, a jersey number block, a side stripe), shorts or trousers, shoes, hair, skin and
maybe a bag. Each image renders that identity through one of two cameras, each with its own background
and colour cast, plus per-image pose, scale, translation, light, mirror, occlusion and sensor noise.
Appearance is a pure function of ``(seed, pid)``, so training identities (pids from
``TRAIN_FIRST_PID``) never coincide with test identities (pids from 1) and every run is identical.

    >>> images, labels = training_arrays(identities=4, images_per_identity=2, seed=0)
    >>> images.shape, images.dtype, labels.tolist()
    ((8, 128, 64, 3), dtype('uint8'), [0, 0, 1, 1, 2, 2, 3, 3])
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from zoo.core.files import os_errors

DEFAULT_SEED = 2024
DEFAULT_SIZE = (128, 64)  # height, width
TRAIN_FIRST_PID = 10_000
TOPS = ("plain", "hstripes", "vstripes", "checks", "number")
BOTTOMS = ("plain", "side_stripe")
BAGS = ("none", "none", "backpack", "shoulder")

# Label values of the body-part map each image is drawn into, then coloured.
_BG, _SKIN, _HAIR, _TOP, _BOTTOM, _SHOES, _BAG = range(7)
# Per camera: background base colour, floor colour, colour cast applied to the whole frame.
_CAMERAS = (
    (np.array([196, 160, 112]), np.array([176, 128, 80]), np.array([1.06, 1.0, 0.90])),
    (np.array([92, 104, 128]), np.array([120, 124, 132]), np.array([0.92, 1.0, 1.08])),
)


@dataclass(frozen=True)
class Identity:
    """What one synthetic person wears; every image of the person is rendered from this."""

    pid: int
    top: tuple[int, int, int]
    top_second: tuple[int, int, int]
    top_pattern: str
    pattern_period: int
    bottom: tuple[int, int, int]
    bottom_pattern: str
    shorts: bool
    shoes: tuple[int, int, int]
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    bag: str
    bag_colour: tuple[int, int, int]
    build: float  # relative body width


def _colour(rng: np.random.Generator, *, saturation: tuple[float, float] = (0.25, 1.0)) -> tuple[int, int, int]:
    h = rng.random()
    s = rng.uniform(*saturation)
    v = rng.uniform(0.2, 0.95)
    return tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(h, s, v))  # type: ignore[return-value]


def identity(pid: int, seed: int = DEFAULT_SEED) -> Identity:
    """The identity ``pid`` of the population ``seed`` (same arguments, same person)."""
    rng = np.random.default_rng([seed, pid])
    skin_v = rng.uniform(0.3, 0.95)
    return Identity(
        pid=pid,
        top=_colour(rng),
        top_second=_colour(rng),
        top_pattern=str(rng.choice(TOPS)),
        pattern_period=int(rng.integers(4, 9)),
        bottom=_colour(rng, saturation=(0.0, 0.8)),
        bottom_pattern=str(rng.choice(BOTTOMS)),
        shorts=bool(rng.random() < 0.4),
        shoes=_colour(rng, saturation=(0.0, 0.6)),
        skin=tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(0.07, 0.45, skin_v)),  # type: ignore[arg-type]
        hair=_colour(rng, saturation=(0.0, 0.5)),
        bag=str(rng.choice(BAGS)),
        bag_colour=_colour(rng),
        build=float(rng.uniform(0.85, 1.15)),
    )


def _part_map(who: Identity, rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """Draw the person's body parts as labels; returns the map and the torso box (for patterns)."""
    canvas = Image.new("L", (width, height), _BG)
    draw = ImageDraw.Draw(canvas)
    ph = height * rng.uniform(0.78, 0.98)  # person height: scale change
    top = rng.uniform(0.0, height - ph)
    cx = width / 2 + rng.uniform(-0.12, 0.12) * width  # small translation
    u = ph / 100.0  # body unit
    half = 11 * u * who.build
    stride = rng.uniform(-9, 9) * u  # walking pose: legs and arms swing
    hip_y, knee_y, foot_y = top + 52 * u, top + 74 * u, top + 97 * u
    torso = (cx - half, top + 15 * u, cx + half, hip_y)
    # legs (trousers; shorts leave the shins bare)
    for side in (-1, 1):
        hip_x = cx + side * half * 0.5
        foot_x = hip_x + side * stride * 0.5 + stride * 0.3
        knee_x = (hip_x + foot_x) / 2
        leg = [(hip_x - 5 * u, hip_y), (hip_x + 5 * u, hip_y), (foot_x + 4 * u, foot_y), (foot_x - 4 * u, foot_y)]
        draw.polygon(leg, fill=_BOTTOM)
        if who.shorts:
            draw.polygon([(knee_x - 4.5 * u, knee_y), (knee_x + 4.5 * u, knee_y), leg[2], leg[3]], fill=_SKIN)
        draw.rectangle((foot_x - 5 * u, foot_y - 3 * u, foot_x + 6 * u, foot_y + 1.5 * u), fill=_SHOES)
    # arms: sleeves of the top colour, then hands
    for side in (-1, 1):
        shoulder = (cx + side * half, top + 17 * u)
        hand = (shoulder[0] + side * 3 * u - side * stride * 0.4, top + 52 * u)
        draw.line([shoulder, hand], fill=_TOP, width=max(1, int(6 * u)))
        draw.ellipse((hand[0] - 2.5 * u, hand[1] - 2.5 * u, hand[0] + 2.5 * u, hand[1] + 2.5 * u), fill=_SKIN)
    draw.rectangle(torso, fill=_TOP)
    if who.bag == "shoulder":
        draw.rectangle((cx + half - 2 * u, top + 38 * u, cx + half + 7 * u, top + 52 * u), fill=_BAG)
        draw.line([(cx - half * 0.6, top + 16 * u), (cx + half + 2 * u, top + 38 * u)], fill=_BAG, width=max(1, int(2 * u)))
    elif who.bag == "backpack":
        for side in (-1, 1):
            draw.line([(cx + side * half * 0.6, top + 16 * u), (cx + side * half * 0.6, top + 40 * u)], fill=_BAG, width=max(1, int(2.5 * u)))
    # neck, head, hair
    draw.rectangle((cx - 3 * u, top + 11 * u, cx + 3 * u, top + 16 * u), fill=_SKIN)
    draw.ellipse((cx - 6 * u, top + 1 * u, cx + 6 * u, top + 13 * u), fill=_SKIN)
    draw.chord((cx - 6.5 * u, top, cx + 6.5 * u, top + 12 * u), 180, 360, fill=_HAIR)
    return np.asarray(canvas), torso


def _top_pattern(who: Identity, torso: tuple[float, ...], height: int, width: int) -> np.ndarray:
    """Where the top shows its second colour: stripes, checks or a number block on the chest."""
    y, x = np.mgrid[0:height, 0:width]
    p = who.pattern_period
    if who.top_pattern == "hstripes":
        return ((y - torso[1]) // (p / 2)) % 2 == 1
    if who.top_pattern == "vstripes":
        return ((x - torso[0]) // (p / 2)) % 2 == 1
    if who.top_pattern == "checks":
        return (((y - torso[1]) // p + (x - torso[0]) // p) % 2) == 1
    if who.top_pattern == "number":
        x0, y0, x1, y1 = torso
        cx, cy, w, h = (x0 + x1) / 2, y0 + (y1 - y0) * 0.45, (x1 - x0) * 0.22, (y1 - y0) * 0.22
        return (abs(x - cx) < w) & (abs(y - cy) < h)
    return np.zeros((height, width), bool)


def _background(camera: int, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    wall, floor, _ = _CAMERAS[camera]
    horizon = rng.uniform(0.45, 0.8) * height
    rows = np.arange(height, dtype=np.float32)[:, None, None]
    bg = np.where(rows < horizon, wall, floor).astype(np.float32) * np.ones((1, width, 1), np.float32)
    bg += rng.normal(0, 14, 3).astype(np.float32)  # scene changes from frame to frame
    blobs = rng.normal(0, 18, (4, 2, 3)).astype(np.float32)  # low-frequency clutter, upscaled
    bg += _upscale(blobs, height, width)
    line = int(rng.integers(0, width))
    bg[int(horizon):, max(0, line - 1) : line + 1] = 235  # a court line
    return bg


def _upscale(small: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear upscale of a tiny ``(h, w, 3)`` grid, as two small matrix products."""
    wy = _interpolation_matrix(small.shape[0], height)
    wx = _interpolation_matrix(small.shape[1], width)
    return np.einsum("yi,ijc,xj->yxc", wy, small, wx, optimize=True)


def _interpolation_matrix(n: int, size: int) -> np.ndarray:
    positions = np.linspace(0, n - 1, size)
    return np.stack([np.interp(positions, np.arange(n), row) for row in np.eye(n, dtype=np.float32)], axis=1).astype(np.float32)


def render(who: Identity, camera: int, rng: np.random.Generator, size: tuple[int, int] = DEFAULT_SIZE) -> np.ndarray:
    """One crop of ``who`` seen by ``camera`` (0 or 1): an ``(height, width, 3)`` uint8 RGB array."""
    height, width = size
    parts, torso = _part_map(who, rng, height, width)
    palette = np.zeros((7, 3), np.float32)
    palette[[_SKIN, _HAIR, _TOP, _BOTTOM, _SHOES, _BAG]] = [who.skin, who.hair, who.top, who.bottom, who.shoes, who.bag_colour]
    image = palette[parts]
    second = (parts == _TOP) & _top_pattern(who, torso, height, width)
    image[second] = who.top_second
    if who.bottom_pattern == "side_stripe":
        x = np.arange(width)[None, :]
        image[(parts == _BOTTOM) & (np.abs(x - (torso[0] + 1)) < 1.5)] = who.top_second
    # body shading: light comes from one side, stronger on the far side of the body
    shade = 1.0 + np.float32(rng.uniform(-0.25, 0.25)) * (np.arange(width, dtype=np.float32) / width - 0.5)
    image *= shade[None, :, None]
    background = _background(camera, rng, height, width)
    image = np.where((parts == _BG)[..., None], background, image)
    if rng.random() < 0.2:  # occlusion: another object covers a side or the feet
        h, w = int(rng.uniform(0.15, 0.35) * height), int(rng.uniform(0.2, 0.45) * width)
        y0 = int(rng.integers(height // 2, height - h + 1))
        x0 = 0 if rng.random() < 0.5 else width - w
        image[y0 : y0 + h, x0 : x0 + w] = _colour(rng)
    _, _, cast = _CAMERAS[camera]
    image = image * (cast * rng.uniform(0.7, 1.25)).astype(np.float32) + 4 * rng.standard_normal(image.shape, np.float32)
    if rng.random() < 0.5:  # seen walking the other way
        image = image[:, ::-1]
    return np.clip(image, 0, 255).astype(np.uint8)


def training_arrays(
    identities: int,
    images_per_identity: int,
    *,
    seed: int = DEFAULT_SEED,
    epoch: int = 0,
    size: tuple[int, int] = DEFAULT_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, h, w, 3)`` uint8 and class labels ``0..identities-1`` of the training identities.

    Training pids start at ``TRAIN_FIRST_PID``, so they never overlap the test set's. Each ``epoch``
    renders new views of the same people (free augmentation), both cameras alternating.
    """
    rng = np.random.default_rng([seed, epoch, 1])
    people = [identity(TRAIN_FIRST_PID + i, seed) for i in range(identities)]
    images = np.stack([render(who, k % 2, rng, size) for who in people for k in range(images_per_identity)])
    labels = np.repeat(np.arange(identities), images_per_identity)
    return images, labels


@dataclass(frozen=True)
class TestSet:
    """A written DeepSportradar-layout test split and the parameters that regenerate it."""

    root: Path
    identities: int
    gallery_per_identity: int
    seed: int
    size: tuple[int, int]

    @property
    def queries(self) -> int:
        return self.identities

    @property
    def gallery(self) -> int:
        return self.identities * self.gallery_per_identity


def write_test_set(
    root: str | Path,
    *,
    identities: int = 50,
    gallery_per_identity: int = 10,
    seed: int = DEFAULT_SEED,
    size: tuple[int, int] = DEFAULT_SIZE,
) -> TestSet:
    """Write ``root/reid_test/{query,gallery}/<pid>_<seq>_<frame>.jpeg`` like the DeepSportradar test split.

    Each identity (pids 1..identities) has one sequence: frame 1, seen by camera 0, is the query; frames
    2.. seen by camera 1 form the gallery. JPEG quality 95 keeps compression from hiding the patterns.
    """
    root = Path(root)
    split = root / "reid_test"
    rng = np.random.default_rng([seed, 2])
    with os_errors(split):  # --keep may name a file, a read-only folder or a full disk: one line, not a traceback
        for name in ("query", "gallery"):
            (split / name).mkdir(parents=True, exist_ok=True)
        for pid in range(1, identities + 1):
            who = identity(pid, seed)
            for frame in range(1, gallery_per_identity + 2):
                folder = split / ("query" if frame == 1 else "gallery")
                image = render(who, 0 if frame == 1 else 1, rng, size)
                Image.fromarray(image).save(folder / f"{pid:04d}_00_{frame}.jpeg", quality=95)
    return TestSet(root=root, identities=identities, gallery_per_identity=gallery_per_identity, seed=seed, size=size)
