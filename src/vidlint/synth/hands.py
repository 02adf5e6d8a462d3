"""Drawn hands for the HND rules: a shaded, skin-toned open hand (palm, tapered fingers, thumb,
forearm) with 4, 5 or 6 fingers, moving across the picture, that pops in, vanishes, flips or
jitters at chosen frames.

MediaPipe Hands detects these drawings (tests/test_hands.py checks it): the palm is a rounded
block, the fingers are capsules that taper towards rounded tips, and a distance-transform shading
darkens every edge the way a lit, rounded hand does.

Artifacts: ``hand`` (a clean hand over its span; params fingers, x, y, size, vx, vy, mirror),
``hand_pops_in`` (the same hand from ``start`` to the end), ``hand_vanishes`` (hides the ``hand``
from ``start`` on), ``extra_finger`` / ``missing_finger`` (the ``hand`` has 6 / 4 fingers over
the span), ``hand_flips`` (drawn mirrored: the other handedness) and ``hand_jitter`` (fingers
shaking from frame to frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from vidlint.synth.injections import Artifact, Context, FrameState, injection

SKIN = np.array([224, 172, 140], np.float32)
"""A light skin tone (RGB)."""


@dataclass(frozen=True)
class HandPose:
    """Where and how a hand is drawn, in pixels."""

    x: float
    y: float
    size: float
    """Palm width in pixels."""
    fingers: int = 5
    angle: float = 0.0
    """Rotation in degrees (0 = fingers up)."""
    mirror: bool = False
    wiggle: tuple[float, ...] = ()
    """Extra angle (degrees) per finger, for jitter."""


def finger_layout(fingers: int) -> list[tuple[float, float, float, float]]:
    """(base x, length, width, spread angle in degrees) of each non-thumb finger, in palm
    widths; ``fingers`` counts the thumb."""
    count = max(1, fingers - 1)
    lengths = {
        3: [0.9, 0.95, 0.75],
        4: [0.85, 0.95, 0.88, 0.68],
        5: [0.8, 0.9, 0.95, 0.86, 0.66],
    }.get(count, [0.85] * count)
    xs = np.linspace(-0.37, 0.37, count) if count > 1 else np.array([0.0])
    width = min(0.21, 0.8 / count)
    spreads = np.linspace(-14, 14, count) if count > 1 else np.array([0.0])
    return [
        (float(x), length, width, float(a))
        for x, length, a in zip(xs, lengths, spreads, strict=True)
    ]


def draw_hand(frame: np.ndarray, pose: HandPose) -> np.ndarray:
    """Draw the hand on ``frame`` (RGB uint8, in place) and return it."""
    w = pose.size
    half = int(2.2 * w)
    side = 2 * half + 1
    mask = np.zeros((side, side), np.uint8)
    centre = np.array([half, half], np.float64)

    def point(x: float, y: float) -> tuple[int, int]:
        return round(centre[0] + x * w), round(centre[1] + y * w)

    def capsule(x0: float, y0: float, x1: float, y1: float, r0: float, r1: float) -> None:
        """A tapered finger: circles of shrinking radius along the bone."""
        steps = 12
        for k in range(steps + 1):
            f = k / steps
            cx, cy = x0 + f * (x1 - x0), y0 + f * (y1 - y0)
            radius = max(1, round((r0 + f * (r1 - r0)) * w))
            cv2.circle(mask, point(cx, cy), radius, 255, -1, lineType=cv2.LINE_AA)

    # Forearm, palm (rounded block), fingers, thumb. Fingers up, thumb to the right.
    forearm = np.array([point(-0.33, 0.5), point(0.33, 0.5), point(0.36, 2.2), point(-0.36, 2.2)])
    cv2.fillConvexPoly(mask, forearm, 255, lineType=cv2.LINE_AA)
    cv2.ellipse(
        mask,
        point(0, 0.05),
        (int(0.5 * w), int(0.58 * w)),
        0,
        0,
        360,
        255,
        -1,
        lineType=cv2.LINE_AA,
    )
    cv2.rectangle(mask, point(-0.45, -0.42), point(0.45, 0.3), 255, -1)
    wiggle = list(pose.wiggle) + [0.0] * 8
    for number, (bx, length, width, spread) in enumerate(finger_layout(pose.fingers)):
        a = math.radians(spread + wiggle[number])
        x0, y0 = bx, -0.38
        capsule(
            x0, y0, x0 + length * math.sin(a), y0 - length * math.cos(a), width / 2, width * 0.4
        )
    thumb = math.radians(52 + wiggle[7])
    capsule(0.38, 0.2, 0.38 + 0.72 * math.sin(thumb), 0.2 - 0.72 * math.cos(thumb), 0.13, 0.095)

    # Shading: bright along each finger's and the palm's middle, darker at every edge.
    inside = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 5)
    shade = np.clip(inside / (0.09 * w), 0, 1) ** 0.6
    colour = SKIN[None, None, :] * (0.55 + 0.45 * shade[..., None])
    colour = cv2.GaussianBlur(colour, (0, 0), max(0.5, w * 0.01))
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(0.5, w * 0.008))

    matrix = cv2.getRotationMatrix2D((half, half), -pose.angle, 1.0)
    if pose.mirror:
        flip = np.array([[-1, 0, side - 1], [0, 1, 0], [0, 0, 1]], np.float64)
        matrix = matrix @ flip
    matrix[:, 2] += np.array([pose.x - half, pose.y - half])
    height, width = frame.shape[:2]
    layer = cv2.warpAffine(colour, matrix, (width, height), flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(alpha, matrix, (width, height), flags=cv2.INTER_LINEAR)[..., None]
    frame[:] = (cover * layer + (1 - cover) * frame.astype(np.float32)).astype(np.uint8)
    return frame


def hand_pose(state: FrameState, art: Artifact, ctx: Context) -> HandPose:
    """The pose of ``art``'s hand at this frame, with the other hand artifacts applied."""
    p = art.params
    height, width = ctx.scene.height, ctx.scene.width
    t = state.index / ctx.fps
    x = (float(p.get("x", 0.45)) + float(p.get("vx", 0.06)) * t) * width
    y = (float(p.get("y", 0.42)) + float(p.get("vy", 0.0)) * t) * height
    size = float(p.get("size", 0.2)) * min(width, height)
    angle = float(p.get("angle", 0.0)) + 6.0 * math.sin(1.3 * t)
    return HandPose(
        x,
        y,
        size,
        int(state.extra.get("hand_fingers", p.get("fingers", 5))),
        angle,
        bool(state.extra.get("hand_mirror", p.get("mirror", 0))),
        tuple(state.extra.get("hand_wiggle", ())),
    )


def _hand(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    if state.extra.get("hand_hidden"):
        return frame
    return draw_hand(frame, hand_pose(state, art, ctx))


def _setter(key: str, value: object):
    def before(state: FrameState, art: Artifact, ctx: Context) -> None:
        state.extra[key] = art.params.get("fingers", value) if key == "hand_fingers" else value

    return before


def _jitter(state: FrameState, art: Artifact, ctx: Context) -> None:
    rng = np.random.default_rng(state.index)
    amount = float(art.params.get("degrees", 30.0))
    state.extra["hand_wiggle"] = tuple(rng.uniform(-amount, amount, 8))


injection(
    "hand",
    (),
    "a clean open hand moving over the span (params fingers, x, y, size, vx, vy, angle, mirror)",
    after=_hand,
)
injection(
    "hand_pops_in",
    ("HND001",),
    "a hand appears at start, mid-frame, and stays",
    after=_hand,
    to_end=True,
)
injection(
    "hand_vanishes",
    ("HND001",),
    "the 'hand' disappears at start, mid-frame",
    before=_setter("hand_hidden", True),
    to_end=True,
)
injection(
    "extra_finger",
    ("HND002",),
    "the 'hand' has 6 fingers over the span",
    before=_setter("hand_fingers", 6),
)
injection(
    "missing_finger",
    ("HND002",),
    "the 'hand' has 4 fingers over the span",
    before=_setter("hand_fingers", 4),
)
injection(
    "hand_flips",
    ("HND003",),
    "the 'hand' is drawn mirrored (other handedness) over the span",
    before=_setter("hand_mirror", True),
)
injection(
    "hand_jitter", ("HND004",), "the 'hand''s fingers shake from frame to frame", before=_jitter
)
