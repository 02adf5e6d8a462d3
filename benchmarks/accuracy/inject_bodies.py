"""Body artifacts for the accuracy benchmark: a limb stretched, a knee reversed, a limb erased.

Each injector finds the limbs with MediaPipe Pose in static mode on the base's own frames (a
fresh detection on every frame, not vidlint's sampled, tracked analyzer), picks a limb that is
plainly in view over the span, and changes the picture geometrically: a stretch along the limb,
a mirror image of the shin about the thigh, an inpainted limb. The labels say which limb.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

SEGMENTS = {
    "left upper arm": (11, 13),
    "left forearm": (13, 15),
    "right upper arm": (12, 14),
    "right forearm": (14, 16),
    "left thigh": (23, 25),
    "left shin": (25, 27),
    "right thigh": (24, 26),
    "right shin": (26, 28),
}
LEGS = {"left": (23, 25, 27, 31), "right": (24, 26, 28, 32)}
"""Hip, knee, ankle, toe."""
SEEN = 0.8
"""Landmark visibility at which a limb counts as plainly in view."""


def poses(frames: np.ndarray) -> list[np.ndarray | None]:
    """Per frame, the 33 landmarks as pixel x, y and visibility (None where no person)."""
    import mediapipe as mp

    found: list[np.ndarray | None] = []
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as model:
        for frame in frames:
            result = model.process(frame)
            if result.pose_landmarks is None:
                found.append(None)
                continue
            h, w = frame.shape[:2]
            found.append(
                np.array([[p.x * w, p.y * h, p.visibility] for p in result.pose_landmarks.landmark])
            )
    return found


def seen(points: np.ndarray | None, joints: tuple[int, ...], size: tuple[int, int]) -> bool:
    """All ``joints`` plainly in view and inside the picture (with a margin of 4 px)."""
    if points is None:
        return False
    w, h = size
    xy = points[list(joints), :2]
    inside = (xy.min() >= 4) and (xy[:, 0].max() < w - 4) and (xy[:, 1].max() < h - 4)
    return bool(inside and points[list(joints), 2].min() >= SEEN)


def length(points: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(points[a, :2] - points[b, :2]))


def bend(points: np.ndarray, hip: int, knee: int, ankle: int) -> float:
    """Degrees the knee is bent in the picture (0 = straight)."""
    thigh, shin = points[hip, :2] - points[knee, :2], points[ankle, :2] - points[knee, :2]
    cos = float(thigh @ shin / max(np.linalg.norm(thigh) * np.linalg.norm(shin), 1e-9))
    return 180.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def choose(
    rng: np.random.Generator, count: int, length: int, fits: dict[Any, np.ndarray]
) -> tuple[Any, int, int]:
    """A limb and a span of ``length`` frames (clear of the first and last 2) over which the
    limb fits on every frame (``fits``: per limb, per frame), at random among those that do;
    shorter spans (down to 2 frames) when none of that length does."""
    for want in range(length, 1, -1):
        options = [
            (limb, start)
            for limb, ok in fits.items()
            for start in range(2, count - want - 1)
            if ok[start : start + want].all()
        ]
        if options:
            limb, start = options[int(rng.integers(len(options)))]
            return limb, start, want
    raise ValueError("no limb in plain view over two frames: the base cannot host this kind")


def box_of(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Pixel box (x, y, w, h) of a changed-pixel mask."""
    ys, xs = np.nonzero(mask)
    return xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()


def union(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (round(x0, 4), round(y0, 4), round(x1 - x0, 4), round(y1 - y0, 4))


# --- stretch -----------------------------------------------------------------------------------
def stretch(frame: np.ndarray, start: np.ndarray, end: np.ndarray, factor: float) -> np.ndarray:
    """The limb from ``start`` to ``end`` stretched along its axis by ``factor``, everything
    beyond ``end`` (the hand or foot) carried outwards with it, within a band of 0.4 limb
    lengths around the axis; returns the changed frame and the mask of changed pixels."""
    h, w = frame.shape[:2]
    span = float(np.linalg.norm(end - start))
    along = (end - start) / span
    across = np.array([-along[1], along[0]])
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xs - start[0]) * along[0] + (ys - start[1]) * along[1]
    d = (xs - start[0]) * across[0] + (ys - start[1]) * across[1]
    source_t = np.where(t < factor * span, t / factor, t - (factor - 1) * span)
    radius = 0.4 * span + 6
    weight = np.clip((radius - np.abs(d)) / (0.3 * radius), 0, 1) * (t > 0)
    weight *= t < (factor + 0.6) * span
    map_x = (start[0] + source_t * along[0] + d * across[0]).astype(np.float32)
    map_y = (start[1] + source_t * along[1] + d * across[1]).astype(np.float32)
    warped = cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out = frame * (1 - weight[..., None]) + warped * weight[..., None]
    return np.clip(out, 0, 255).astype(np.uint8), weight > 0.05


def limb_stretch(s: Any, p: dict[str, float]) -> list:
    """One limb in plain view, near its full length, stretched by ``factor`` for ``seconds``."""
    from benchmarks.accuracy.inject import Label

    found = poses(s.frames)
    fits = {}
    for name, (a, b) in SEGMENTS.items():
        lengths = np.array([length(q, a, b) if q is not None else 0.0 for q in found])
        full = np.percentile(lengths[lengths > 0], 75) if (lengths > 0).any() else 0.0
        fits[name] = np.array(
            [seen(q, (a, b), s.size) and length(q, a, b) >= 0.8 * full for q in found]
        )
    name, start, count = choose(s.rng, s.count, s.frames_of(p["seconds"]), fits)
    a, b = SEGMENTS[name]
    boxes = []
    for index in range(start, start + count):
        points = found[index]
        assert points is not None
        s.frames[index], changed = stretch(
            s.frames[index], points[a, :2], points[b, :2], p["factor"]
        )
        boxes.append(s.region(box_of(changed)))
    return [Label(start, start + count - 1, union(boxes), {"limb": name})]


# --- knee --------------------------------------------------------------------------------------
def limb_band(size: tuple[int, int], points: np.ndarray, chain: list[int], width: float):
    """A mask along the polyline through ``chain``'s landmarks, ``width`` pixels thick."""
    w, h = size
    mask = np.zeros((h, w), np.uint8)
    line = points[chain, :2].round().astype(np.int32)
    cv2.polylines(mask, [line], False, 255, max(3, int(width)))
    return mask


def mirror_shin(frame: np.ndarray, points: np.ndarray, leg: tuple[int, int, int, int]):
    """The shin and foot mirrored about the thigh's axis, so the knee bends the other way; the
    original shin inpainted away first. Returns the frame and the changed pixels."""
    hip, knee, ankle, toe = leg
    size = (frame.shape[1], frame.shape[0])
    shin = length(points, knee, ankle)
    band = limb_band(size, points, [knee, ankle, toe], 0.45 * shin)
    background = cv2.inpaint(frame, band, 7, cv2.INPAINT_TELEA)
    origin = points[knee, :2]
    axis = (points[knee, :2] - points[hip, :2]) / max(length(points, hip, knee), 1e-6)
    h, w = frame.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    rel_x, rel_y = xs - origin[0], ys - origin[1]
    along = rel_x * axis[0] + rel_y * axis[1]
    # reflection about the line through the knee along the thigh's axis (its own inverse)
    map_x = (origin[0] + 2 * along * axis[0] - rel_x).astype(np.float32)
    map_y = (origin[1] + 2 * along * axis[1] - rel_y).astype(np.float32)
    mirrored_band = cv2.remap(band, map_x, map_y, cv2.INTER_NEAREST) > 0
    mirrored = cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out = np.where(mirrored_band[..., None], mirrored, background)
    return out.astype(np.uint8), mirrored_band | (band > 0)


def knee_reverse(s: Any, p: dict[str, float]) -> list:
    """A bent knee in plain view made to bend the other way for ``seconds``."""
    from benchmarks.accuracy.inject import Label

    found = poses(s.frames)
    fits = {
        side: np.array(
            [seen(q, leg[:3], s.size) and bend(q, *leg[:3]) >= p["min_bend"] for q in found]
        )
        for side, leg in LEGS.items()
    }
    side, start, count = choose(s.rng, s.count, s.frames_of(p["seconds"]), fits)
    boxes = []
    for index in range(start, start + count):
        points = found[index]
        assert points is not None
        s.frames[index], changed = mirror_shin(s.frames[index], points, LEGS[side])
        boxes.append(s.region(box_of(changed)))
    return [Label(start, start + count - 1, union(boxes), {"limb": f"{side} shin"})]


# --- erase -------------------------------------------------------------------------------------
ERASABLE = {
    "left forearm": (13, 15, 19),
    "right forearm": (14, 16, 20),
    "left shin": (25, 27, 31),
    "right shin": (26, 28, 32),
}
"""Limbs that can go, with what lies beyond them (the hand's index, the foot's toe)."""


def limb_erase(s: Any, p: dict[str, float]) -> list:
    """A forearm with its hand, or a shin with its foot, inpainted away for ``frames`` frames,
    then back."""
    from benchmarks.accuracy.inject import Label

    found = poses(s.frames)
    fits = {
        name: np.array([seen(q, ends, s.size) for q in found]) for name, ends in ERASABLE.items()
    }
    name, start, count = choose(s.rng, s.count, int(p["frames"]), fits)
    boxes = []
    for index in range(start, start + count):
        points = found[index]
        assert points is not None
        a, b, beyond = ERASABLE[name]
        band = limb_band(s.size, points, [a, b, beyond], 0.45 * length(points, a, b))
        s.frames[index] = cv2.inpaint(s.frames[index], band, 9, cv2.INPAINT_TELEA)
        boxes.append(s.region(box_of(band > 0)))
    return [Label(start, start + count - 1, union(boxes), {"limb": name})]
