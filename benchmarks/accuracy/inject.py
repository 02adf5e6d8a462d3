"""Artifact injectors for the accuracy benchmark.

Each kind is one small function that changes a base clip's frames in place and returns the labels
of what it changed (frame span, normalized region). Its parameters are drawn per case from the
ranges in its row of ``KINDS``, which also holds the rule codes that should report it. Adding a
kind is one function plus one row.

This code is written independently of ``vidlint.synth``: the benchmark must not share the
assumptions of the clips the rules were developed on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from benchmarks.accuracy import inject_bodies

Box = tuple[int, int, int, int]
"""x, y, w, h in pixels."""
DISTINCT = 20.0
"""Mean absolute difference (gray levels) above which other content is plainly other."""


@dataclass(frozen=True)
class Label:
    """Where an injected artifact is: frames ``start``..``end`` (inclusive), and its region as a
    normalized (x, y, w, h) box when it is local."""

    start: int
    end: int
    region: tuple[float, float, float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "region": list(self.region) if self.region else None,
            **self.extra,
        }


@dataclass
class Scene:
    """What an injector works on: the base's RGB frames (T, H, W, 3) uint8, changed in place; its
    frame rate; the case's random generator; and another base's frames of the same size, for
    content from elsewhere."""

    frames: np.ndarray
    fps: float
    rng: np.random.Generator
    donor: np.ndarray

    @property
    def count(self) -> int:
        return len(self.frames)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.frames.shape[2], self.frames.shape[1]

    def frames_of(self, seconds: float) -> int:
        return max(1, round(seconds * self.fps))

    def place(self, length: int, tail: int | None = None) -> tuple[int, int]:
        """A start frame for a span of ``length`` frames, clear of the first 20% of the clip (the
        rules' baselines settle there) and of ``tail`` frames at the end; the length is shortened
        where the clip is too short for it. Returns (start, length)."""
        lead = max(3, round(0.2 * self.count))
        tail = max(2, round(0.1 * self.count)) if tail is None else tail
        length = max(1, min(length, self.count - lead - tail))
        start = int(self.rng.integers(lead, self.count - tail - length + 1))
        return start, length

    def region(self, box: Box) -> tuple[float, float, float, float]:
        width, height = self.size
        x, y, w, h = box
        return (
            round(x / width, 4),
            round(y / height, 4),
            round(w / width, 4),
            round(h / height, 4),
        )


Injector = Callable[[Scene, dict[str, float]], list[Label]]


@dataclass(frozen=True)
class Kind:
    """One artifact kind: its injector, the rule codes that should report it, and the ranges its
    parameters are drawn from (uniformly; an integer draw where both ends are integers).
    ``tolerated`` codes may also be right over its span (a strong flicker can be a
    photosensitive flash too): they are neither a hit nor a false finding."""

    inject: Injector
    codes: tuple[str, ...]
    params: dict[str, tuple[float, float]]
    summary: str
    tolerated: tuple[str, ...] = ()


def draw(params: dict[str, tuple[float, float]], rng: np.random.Generator) -> dict[str, float]:
    drawn: dict[str, float] = {}
    for name, (low, high) in params.items():
        if isinstance(low, int) and isinstance(high, int):
            drawn[name] = int(rng.integers(low, high + 1))
        else:
            drawn[name] = round(float(rng.uniform(low, high)), 4)
    return drawn


# --- regions -------------------------------------------------------------------------------


def random_box(s: Scene, area: float, aspect: float | None = None) -> Box:
    """A box of ``area`` (fraction of the frame), of aspect (w / h) ``aspect`` or a random one
    in 0.7-1.4, anywhere inside the frame."""
    width, height = s.size
    aspect = float(s.rng.uniform(0.7, 1.4)) if aspect is None else aspect
    w = min(round(math.sqrt(area * width * height * aspect)), int(0.9 * width))
    h = min(round(area * width * height / max(w, 1)), int(0.9 * height))
    x = int(s.rng.integers(0, width - w + 1))
    y = int(s.rng.integers(0, height - h + 1))
    return x, y, w, h


def texture(frame: np.ndarray, box: Box) -> float:
    x, y, w, h = box
    gray = cv2.cvtColor(frame[y : y + h, x : x + w], cv2.COLOR_RGB2GRAY)
    return float(np.abs(cv2.Laplacian(gray, cv2.CV_32F)).mean())


def textured_box(
    s: Scene, area: float, at: int, aspect: float | None = None, tries: int = 24
) -> Box:
    """The most textured of ``tries`` random boxes in frame ``at``: an artifact on flat wall or
    sky would be invisible, to people and rules alike."""
    boxes = [random_box(s, area, aspect) for _ in range(tries)]
    return max(boxes, key=lambda box: texture(s.frames[at], box))


def box_elsewhere(s: Scene, box: Box, distance: float, tries: int = 200) -> Box | None:
    """A box of the same size whose centre is at least ``distance`` (normalized units) from
    ``box``'s and that does not overlap it."""
    width, height = s.size
    x, y, w, h = box
    for _ in range(tries):
        nx = int(s.rng.integers(0, width - w + 1))
        ny = int(s.rng.integers(0, height - h + 1))
        apart = math.hypot((nx - x) / width, (ny - y) / height)
        overlaps = abs(nx - x) < w and abs(ny - y) < h
        if apart >= distance and not overlaps:
            return nx, ny, w, h
    return None


def soft_mask(w: int, h: int, feather: float, ellipse: bool) -> np.ndarray:
    """A (h, w) float32 mask, 1 inside, falling to 0 at the edge over ``feather`` of the shorter
    side."""
    mask = np.zeros((h, w), np.float32)
    pad = max(1, round(feather * min(w, h) / 2))
    if ellipse:
        cv2.ellipse(mask, (w // 2, h // 2), (w // 2 - pad, h // 2 - pad), 0, 0, 360, 1.0, -1)
    else:
        mask[pad : h - pad, pad : w - pad] = 1.0
    sigma = max(0.5, pad / 1.5)
    return cv2.GaussianBlur(mask, (0, 0), sigma)[..., None]


def inpaint(frame: np.ndarray, box: Box) -> np.ndarray:
    """``frame`` with ``box`` smudged away by cv2.inpaint (Telea), at half size for speed."""
    x, y, w, h = box
    height, width = frame.shape[:2]
    small = cv2.resize(frame, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    mask = np.zeros(small.shape[:2], np.uint8)
    mask[y // 2 : (y + h + 1) // 2 + 1, x // 2 : (x + w + 1) // 2 + 1] = 255
    filled = cv2.inpaint(small, mask, 5, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled, (width, height), interpolation=cv2.INTER_LINEAR)
    out = frame.copy()
    out[y : y + h, x : x + w] = filled[y : y + h, x : x + w]
    return out


def ramp(index: int, start: int, length: int) -> float:
    """0 before ``start``, rising linearly to 1 at ``start + length - 1``, 1 after."""
    return float(np.clip((index - start + 1) / length, 0.0, 1.0))


def blend(a: np.ndarray, b: np.ndarray, alpha: float | np.ndarray) -> np.ndarray:
    out = a.astype(np.float32) * (1 - alpha) + b.astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def scale_luma(frame: np.ndarray, gain: float | np.ndarray) -> np.ndarray:
    ycc = cv2.cvtColor(frame, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    ycc[..., 0] *= gain if np.isscalar(gain) else gain[..., 0]
    return cv2.cvtColor(np.clip(ycc + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_YCrCb2RGB)


def add_noise(frame: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Luma grain: the same Gaussian noise on all three channels."""
    noise = rng.standard_normal(frame.shape[:2], dtype=np.float32)[..., None] * sigma
    return np.clip(frame.astype(np.float32) + noise + 0.5, 0, 255).astype(np.uint8)


def blur(frame: np.ndarray, sigma: float) -> np.ndarray:
    return frame if sigma < 0.3 else cv2.GaussianBlur(frame, (0, 0), sigma)


def scaled(s: Scene, pixels: float) -> float:
    """A size in pixels at a 480-pixel short side, at this clip's size."""
    return pixels * min(s.size) / 480


def modulate_luma(
    s: Scene, p: dict[str, float], mask: np.ndarray | None, box: Box | None
) -> list[Label]:
    """Luma times 1 + amplitude sin(2 pi hz t) over whole cycles of a span of about
    ``seconds``, inside ``box`` through ``mask`` or over the whole picture; hz is kept under
    fps / 2.5, where it would alias."""
    hertz = min(p["hz"], s.fps / 2.5)
    cycles = max(1, round(p["seconds"] * hertz))
    start, length = s.place(max(2, round(cycles * s.fps / hertz)))
    for k in range(length):
        gain = 1 + p["amplitude"] * math.sin(2 * math.pi * hertz * (k + 0.5) / s.fps)
        index = start + k
        if mask is None:
            s.frames[index] = scale_luma(s.frames[index], gain)
        else:
            x, y, w, h = box
            patch = s.frames[index, y : y + h, x : x + w]
            s.frames[index, y : y + h, x : x + w] = scale_luma(patch, 1 + (gain - 1) * mask)
    region = s.region(box) if box else None
    return [Label(start, start + length - 1, region, {"hz": round(hertz, 2)})]


# --- kinds ---------------------------------------------------------------------------------


def clean(s: Scene, p: dict[str, float]) -> list[Label]:
    return []


def morph_swirl(s: Scene, p: dict[str, float]) -> list[Label]:
    """A disc swirls (polar remap: rotation falling off with radius), its angle growing over
    ``ramp_s``, then stays swirled to the end."""
    start, length = s.place(s.frames_of(p["ramp_s"]), tail=max(2, s.frames_of(0.5)))
    width, height = s.size
    radius = min(math.sqrt(p["area"] * width * height / math.pi), 0.45 * min(width, height))
    box = textured_box(s, (2 * radius) ** 2 / (width * height), start, aspect=1.0)
    x, y = box[:2]
    yy, xx = np.mgrid[0 : box[3], 0 : box[2]].astype(np.float32)
    dx, dy = xx - box[2] / 2, yy - box[3] / 2
    falloff = np.clip(1 - np.hypot(dx, dy) / radius, 0, 1) ** 2
    for index in range(start, s.count):
        angle = p["angle"] * ramp(index, start, length) * falloff
        cos, sin = np.cos(angle), np.sin(angle)
        map_x = (box[2] / 2 + dx * cos - dy * sin).astype(np.float32)
        map_y = (box[3] / 2 + dx * sin + dy * cos).astype(np.float32)
        patch = s.frames[index, y : y + box[3], x : x + box[2]]
        s.frames[index, y : y + box[3], x : x + box[2]] = cv2.remap(
            patch, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
    return [Label(start, start + length - 1, s.region(box))]


def morph_dissolve(s: Scene, p: dict[str, float]) -> list[Label]:
    """A region dissolves (alpha blend, soft elliptical edge) into other content over
    ``ramp_s``, then stays: where ``elsewhere`` > 0.5, the place of the same frame that looks most
    different from it (when it differs enough to be seen), else another base's picture."""
    start, length = s.place(s.frames_of(p["ramp_s"]), tail=max(2, s.frames_of(0.5)))
    box = textured_box(s, p["area"], start)
    x, y, w, h = box
    here = s.frames[start, y : y + h, x : x + w].astype(np.float32)

    def difference(place: Box) -> float:
        px, py = place[:2]
        return float(np.abs(s.frames[start, py : py + h, px : px + w] - here).mean())

    other = None
    if p["elsewhere"] > 0.5:
        places = [b for b in (box_elsewhere(s, box, 0.0) for _ in range(12)) if b is not None]
        other = max(places, key=difference, default=None)
        other = other if other is not None and difference(other) >= DISTINCT else None
    mask = soft_mask(w, h, 0.3, ellipse=True)
    for index in range(start, s.count):
        if other is None:
            source = s.donor[index % len(s.donor), y : y + h, x : x + w]
        else:
            ox, oy = other[:2]
            source = s.frames[index, oy : oy + h, ox : ox + w].copy()
        alpha = ramp(index, start, length) * mask
        patch = s.frames[index, y : y + h, x : x + w]
        s.frames[index, y : y + h, x : x + w] = blend(patch, source, alpha)
    source_name = "donor" if other is None else "same frame"
    return [Label(start, start + length - 1, s.region(box), {"from": source_name})]


def flicker(s: Scene, p: dict[str, float]) -> list[Label]:
    """The whole picture's luma times 1 + a sin(2 pi f t) for whole cycles."""
    return modulate_luma(s, p, None, None)


def flicker_region(s: Scene, p: dict[str, float]) -> list[Label]:
    """The same gain modulation inside one soft-edged region (a lamp, a window)."""
    box = random_box(s, p["area"])
    return modulate_luma(s, p, soft_mask(box[2], box[3], 0.4, ellipse=False), box)


def teleport(s: Scene, p: dict[str, float]) -> list[Label]:
    """A textured region jumps ``distance`` (normalized) away for ``away_s``, its old place
    smudged by inpainting, then returns."""
    start, length = s.place(s.frames_of(p["away_s"]))
    box = textured_box(s, p["area"], start)
    target = box_elsewhere(s, box, p["distance"])
    while target is None:  # a big box in a small frame: shrink it until it fits twice
        box = (box[0], box[1], int(box[2] * 0.85), int(box[3] * 0.85))
        target = box_elsewhere(s, box, p["distance"])
    x, y, w, h = box
    tx, ty = target[:2]
    edge = soft_mask(w, h, 0.1, ellipse=False)
    for index in range(start, start + length):
        patch = s.frames[index, y : y + h, x : x + w].copy()
        s.frames[index] = inpaint(s.frames[index], box)
        under = s.frames[index, ty : ty + h, tx : tx + w]
        s.frames[index, ty : ty + h, tx : tx + w] = blend(under, patch, edge)
    return [Label(start, start + length - 1, s.region(box), {"region_to": list(s.region(target))})]


def corrupt(s: Scene, p: dict[str, float]) -> list[Label]:
    """Decoding damage: from a damaged reference (a concealment smear of vertical streaks below
    a block row, and blocks of picture moved by wrong vectors), the picture stays almost frozen,
    only a few 16x16 blocks updating each frame (from wrong places), then jumps back to clean."""
    start, length = s.place(s.frames_of(p["seconds"]))
    block = 16
    width, height = s.size
    rows, cols = height // block, width // block
    ref = s.frames[start - 1].copy()
    row0 = int(s.rng.integers(rows // 4, max(rows // 4 + 1, 2 * rows // 3)))
    span = max(1, round(cols * float(s.rng.uniform(0.6, 1.0))))
    col0 = int(s.rng.integers(0, cols - span + 1))
    streaks = ref[row0 * block - 1, col0 * block : (col0 + span) * block]
    ref[row0 * block :, col0 * block : (col0 + span) * block] = streaks[None]

    def misplaced(picture: np.ndarray, reach: int) -> None:
        """One block of ``ref`` overwritten by ``picture`` at a wrong vector of up to ``reach``."""
        r, c = int(s.rng.integers(0, rows)), int(s.rng.integers(0, cols))
        y = int(np.clip(r * block + s.rng.integers(-reach, reach + 1), 0, height - block))
        x = int(np.clip(c * block + s.rng.integers(-reach, reach + 1), 0, width - block))
        ref[r * block : (r + 1) * block, c * block : (c + 1) * block] = picture[
            y : y + block, x : x + block
        ]

    elsewhere = s.frames[min(s.count - 1, start + s.frames_of(0.5))]
    for _ in range(round(p["garbage"] * rows * cols)):
        misplaced(elsewhere, 3 * block)
    for index in range(start, start + length):
        for _ in range(max(1, round(p["updating"] * rows * cols))):
            misplaced(s.frames[index], block)
        s.frames[index] = ref
    return [Label(start, start + length - 1)]


def repeat_single(s: Scene, p: dict[str, float]) -> list[Label]:
    """Footage with film grain (fresh luma noise every frame) in which 1-3 lone frames repeat
    the frame before them, at least half a second apart."""
    for index in range(s.count):
        s.frames[index] = add_noise(s.frames[index], p["grain"], s.rng)
    lead, tail = max(3, round(0.2 * s.count)), max(2, round(0.1 * s.count))
    gap = s.frames_of(0.5)
    chosen: list[int] = []
    for candidate in s.rng.permutation(np.arange(lead, s.count - tail)):
        if all(abs(int(candidate) - c) >= gap for c in chosen):
            chosen.append(int(candidate))
        if len(chosen) == p["repeats"]:
            break
    for index in sorted(chosen):
        s.frames[index] = s.frames[index - 1]
    return [Label(index, index) for index in sorted(chosen)]


def repeat_cadence(s: Scene, p: dict[str, float]) -> list[Label]:
    """A slow, smooth camera move (the picture zoomed by ``pan`` and panned across it over the
    clip), in which every frame is shown ``hold`` times over ``seconds``: a frame-rate drop."""
    width, height = s.size
    zoom = 1 + p["pan"]
    moved = np.empty_like(s.frames)
    for index in range(s.count):
        shift = p["pan"] * width * index / max(1, s.count - 1)
        matrix = np.float32([[zoom, 0, -shift], [0, zoom, -p["pan"] * height / 2]])
        moved[index] = cv2.warpAffine(
            s.frames[index],
            matrix,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
    s.frames[:] = moved
    hold = int(p["hold"])
    start, length = s.place(s.frames_of(p["seconds"]))
    length -= length % hold  # whole groups, so the span ends on a held frame
    for index in range(start, start + length):
        s.frames[index] = moved[start + hold * ((index - start) // hold)]
    return [Label(start, start + length - 1, extra={"hold": hold})]


def freeze(s: Scene, p: dict[str, float]) -> list[Label]:
    """One frame held for ``seconds``, then the clip goes on from where it would be."""
    start, length = s.place(s.frames_of(p["seconds"]))
    s.frames[start + 1 : start + length] = s.frames[start]
    return [Label(start, start + length - 1)]


def cut(s: Scene, p: dict[str, float]) -> list[Label]:
    """From frame ``at`` x length on, another base's picture: a splice."""
    at = round(p["at"] * s.count)
    for index in range(at, s.count):
        s.frames[index] = s.donor[(index - at) % len(s.donor)]
    return [Label(at, at)]


def black(s: Scene, p: dict[str, float]) -> list[Label]:
    """A few frames of (near) black."""
    start, length = s.place(int(p["frames"]))
    s.frames[start : start + length] = int(p["level"])
    return [Label(start, start + length - 1)]


def flash(s: Scene, p: dict[str, float]) -> list[Label]:
    """``flashes`` full-frame flashes (blends toward white) within one second, each one frame
    with a normal frame between them: more than three per second, the photosensitive limit."""
    window = max(1, round(0.95 * s.fps))
    count = min(int(p["flashes"]), 1 + (window - 1) // 2)
    start, window = s.place(window)
    spacing = max(2, (window - 1) // max(1, count - 1))
    flashes = [start + k * spacing for k in range(count)]
    white = np.full_like(s.frames[0], 255)
    for index in flashes:
        s.frames[index] = blend(s.frames[index], white, p["strength"])
    return [Label(flashes[0], flashes[-1], extra={"flashes": count})]


def blur_burst(s: Scene, p: dict[str, float]) -> list[Label]:
    """The picture goes soft (Gaussian blur) for ``seconds``, then sharp again."""
    start, length = s.place(s.frames_of(p["seconds"]))
    sigma = scaled(s, p["sigma"])
    for index in range(start, start + length):
        s.frames[index] = blur(s.frames[index], sigma)
    return [Label(start, start + length - 1)]


def degradation(s: Scene, p: dict[str, float]) -> list[Label]:
    """From frame ``onset`` x length to the end, noise and blur grow linearly."""
    onset = round(p["onset"] * s.count)
    for index in range(onset, s.count):
        growth = (index - onset + 1) / (s.count - onset)
        frame = blur(s.frames[index], scaled(s, p["blur"]) * growth)
        s.frames[index] = add_noise(frame, p["noise"] * growth, s.rng)
    return [Label(onset, s.count - 1)]


def ghost(s: Scene, p: dict[str, float]) -> list[Label]:
    """A double exposure: 1-2 frames blended 50/50 with the frame ``offset_s`` away."""
    offset = s.frames_of(p["offset_s"])
    start, length = s.place(int(p["frames"]))
    other = start + offset if start + offset + length <= s.count else start - offset
    partner = s.frames[other : other + length].copy()
    for k in range(length):
        s.frames[start + k] = blend(s.frames[start + k], partner[k], 0.5)
    return [Label(start, start + length - 1, extra={"blended_with": other})]


def vanish(s: Scene, p: dict[str, float]) -> list[Label]:
    """A textured region vanishes (inpainted away) for 1-3 frames, then is back."""
    start, length = s.place(int(p["frames"]))
    box = textured_box(s, p["area"], start)
    for index in range(start, start + length):
        s.frames[index] = inpaint(s.frames[index], box)
    return [Label(start, start + length - 1, s.region(box))]


def background_wave(s: Scene, p: dict[str, float]) -> list[Label]:
    """The picture ripples for ``seconds``: every pixel displaced along a wave of ``wavelength``
    (a share of the picture's height) running across it, by up to ``amplitude`` of its width,
    the displacement easing in and out over the span."""
    start, length = s.place(s.frames_of(p["seconds"]))
    width, height = s.size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    waves = 2 * np.pi / (p["wavelength"] * height)
    for k in range(length):
        strength = np.sin(np.pi * (k + 1) / (length + 1)) * p["amplitude"] * width
        phase = 2 * np.pi * k / max(2.0, s.fps / 4)  # a quarter second a period
        map_x = xs + strength * np.sin(ys * waves + phase)
        map_y = ys + 0.5 * strength * np.sin(xs * waves + phase)
        index = start + k
        s.frames[index] = cv2.remap(
            s.frames[index], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
    return [Label(start, start + length - 1)]


KINDS: dict[str, Kind] = {
    "clean": Kind(clean, (), {}, "the base as it is (the clean twin)"),
    "morph_swirl": Kind(
        morph_swirl,
        ("MOT001",),
        {"area": (0.05, 0.25), "ramp_s": (0.3, 0.7), "angle": (2.0, 4.0)},
        "a disc swirls, angle (radians at its centre) growing over ramp_s, then stays swirled",
    ),
    "morph_dissolve": Kind(
        morph_dissolve,
        ("MOT001",),
        {"area": (0.05, 0.25), "ramp_s": (0.3, 0.7), "elsewhere": (0.0, 1.0)},
        "a region dissolves into other content (another base, or another place of the frame) "
        "over ramp_s, then stays",
    ),
    "flicker": Kind(
        flicker,
        ("FLK001",),
        {"amplitude": (0.08, 0.15), "hz": (3.0, 6.0), "seconds": (1.0, 2.0)},
        "luma x (1 + amplitude sin 2 pi hz t) over the whole picture (hz at most fps / 2.5)",
        tolerated=("FLK002",),
    ),
    "flicker_region": Kind(
        flicker_region,
        ("FLK001",),
        {"amplitude": (0.08, 0.15), "hz": (3.0, 6.0), "seconds": (1.0, 2.0), "area": (0.15, 0.4)},
        "the same luma modulation inside one soft-edged region",
        tolerated=("FLK002",),
    ),
    "teleport": Kind(
        teleport,
        ("MOT002",),
        {"area": (0.03, 0.08), "distance": (0.3, 0.45), "away_s": (0.4, 1.0)},
        "a textured region jumps distance away for away_s, its place inpainted, then returns",
    ),
    "corrupt": Kind(
        corrupt,
        ("TMP005",),
        {"seconds": (0.25, 0.8), "garbage": (0.05, 0.15), "updating": (0.01, 0.04)},
        "macroblock smear from a damaged reference, almost frozen, a few 16x16 blocks updating",
    ),
    "repeat_single": Kind(
        repeat_single,
        ("TMP002",),
        {"grain": (3.0, 6.0), "repeats": (1, 3)},
        "footage with film grain in which 1-3 lone frames repeat their predecessor",
    ),
    "repeat_cadence": Kind(
        repeat_cadence,
        ("TMP002",),
        {"pan": (0.04, 0.1), "hold": (2, 3), "seconds": (1.0, 2.0)},
        "a slow smooth pan over the clip; each frame shown hold times over seconds",
    ),
    "freeze": Kind(freeze, ("TMP001",), {"seconds": (0.5, 1.2)}, "one frame held for seconds"),
    "cut": Kind(cut, ("TMP003",), {"at": (0.35, 0.65)}, "another base spliced in from frame at"),
    "black": Kind(black, ("TMP004",), {"frames": (2, 8), "level": (0, 12)}, "frames of black"),
    "flash": Kind(
        flash,
        ("FLK002",),
        {"flashes": (4, 6), "strength": (0.7, 1.0)},
        "4-6 one-frame white flashes within one second (fewer where the frame rate is low)",
        tolerated=("FLK001", "TMP004"),  # a frame flashed to white is blank as well
    ),
    "blur": Kind(
        blur_burst,
        ("QLT001",),
        {"seconds": (0.3, 1.0), "sigma": (2.5, 6.0)},
        "Gaussian blur (sigma in pixels at 480p) for seconds",
    ),
    "degradation": Kind(
        degradation,
        ("DRF001", "QLT001", "QLT002"),
        {"onset": (0.35, 0.6), "noise": (8.0, 20.0), "blur": (1.0, 2.5)},
        "from onset x length to the end, noise (sigma) and blur growing linearly",
    ),
    "ghost": Kind(
        ghost,
        ("MOT007",),
        {"frames": (1, 2), "offset_s": (0.3, 0.5)},
        "1-2 frames blended 50/50 with the frame offset_s away: a double exposure",
    ),
    "vanish": Kind(
        vanish,
        ("MOT006", "MOT007"),
        {"frames": (1, 3), "area": (0.02, 0.06)},
        "a textured region inpainted away for 1-3 frames",
    ),
    "background_wave": Kind(
        background_wave,
        ("MOT005",),
        {"amplitude": (0.01, 0.02), "wavelength": (0.3, 0.7), "seconds": (0.4, 1.0)},
        "the whole picture ripples along a travelling wave for seconds (up to amplitude of its "
        "width, easing in and out), as when a generator bends the background",
    ),
    "limb_stretch": Kind(
        inject_bodies.limb_stretch,
        ("BOD001",),
        {"factor": (1.5, 2.0), "seconds": (0.3, 0.6)},
        "a limb in plain view, near its full length, stretched along its axis (the hand or foot "
        "carried outwards) for seconds",
    ),
    "knee_reverse": Kind(
        inject_bodies.knee_reverse,
        ("BOD002",),
        {"seconds": (0.4, 0.8), "min_bend": (20.0, 20.0)},
        "a knee bent by min_bend degrees or more made to bend the other way (the shin and foot "
        "mirrored about the thigh) for seconds",
    ),
    "limb_erase": Kind(
        inject_bodies.limb_erase,
        ("BOD003",),
        {"frames": (2, 4)},
        "a forearm with its hand, or a shin with its foot, inpainted away for 2-4 frames",
        tolerated=("HND001",),  # the hand goes with its forearm
    ),
}
"""Every kind: injector, the rule codes that should report it, parameter ranges, summary, and
codes that may also report it."""
PEOPLE_KINDS = ("limb_stretch", "knee_reverse", "limb_erase")
"""Kinds that need a person in view: they go into the bases with people only (bases.csv's
``people`` column), and the other kinds into the others."""
LEG_KINDS = ("knee_reverse",)
"""Of those, the kinds that need legs in view (``people`` = legs, not arms)."""
