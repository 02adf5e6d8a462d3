"""Injections for the FAC family: a real face photographed into the synthetic scene, and what
goes wrong with faces. The faces are scikit-image's sample photos (``skimage.data.astronaut()``:
Eileen Collins, NASA, public domain; ``skimage.data.camera()``: the cameraman, the classic test
image), loaded on first use, so ``scikit-image`` is needed only to render these kinds
(``pip install vidlint[test]``).

Each kind draws the face over its own span at a position that depends only on the frame index,
so consecutive artifacts make one continuous face: ``face@0:24`` then ``face_swap@24:24`` is one
face that turns into another person at frame 24.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from vidlint.synth.injections import Artifact, Context, FrameState, injection

ASTRONAUT_FACE = (150, 30, 300, 200)
"""x0, y0, x1, y1 of the astronaut's head (hair to chin) in the 512x512 photo."""
CAMERAMAN_FACE = (178, 95, 298, 231)
"""The cameraman's head in his 512x512 photo, about the same framing."""


@lru_cache(maxsize=4)
def face_patch(who: str) -> tuple[np.ndarray, np.ndarray]:
    """(RGB head crop, soft elliptical alpha mask), both float32, 170x150."""
    try:
        from skimage import data
    except ImportError as exc:  # only these artifact kinds need it
        raise ValueError("face artifacts need scikit-image (pip install vidlint[test])") from exc
    if who == "astronaut":
        image, (x0, y0, x1, y1) = data.astronaut(), ASTRONAUT_FACE
    elif who == "cameraman":
        image, (x0, y0, x1, y1) = np.dstack([data.camera()] * 3), CAMERAMAN_FACE
    else:
        raise ValueError(f"unknown face {who!r} (astronaut, cameraman)")
    crop = cv2.resize(
        np.ascontiguousarray(image[y0:y1, x0:x1]), (150, 170), interpolation=cv2.INTER_AREA
    ).astype(np.float32)
    mask = np.zeros((170, 150), np.float32)
    cv2.ellipse(mask, (75, 85), (70, 82), 0, 0, 360, 1.0, -1, lineType=cv2.LINE_AA)
    return crop, cv2.GaussianBlur(mask, (0, 0), 4)


def face_box(
    index: int, fps: float, width: int, height: int, size: float, centre_x: float = 0.5
) -> tuple[int, int, int, int]:
    """Where the face is drawn at frame ``index``: a slow drift around ``centre_x`` (a share of
    the frame width) at mid-height."""
    t = index / fps
    face_h = int(size * height)
    face_w = int(face_h * 150 / 170)
    cx = width * (centre_x + 0.12 * np.sin(2 * np.pi * t / 4.0))
    cy = height * (0.5 + 0.05 * np.cos(2 * np.pi * t / 3.0))
    return int(cx - face_w / 2), int(cy - face_h / 2), face_w, face_h


def draw_face(
    frame: np.ndarray,
    patch: np.ndarray,
    mask: np.ndarray,
    state: FrameState,
    art: Artifact,
    ctx: Context,
) -> np.ndarray:
    height, width = frame.shape[:2]
    x, y, w, h = face_box(
        state.index,
        ctx.fps,
        width,
        height,
        float(art.params.get("size", 0.6)),
        float(art.params.get("x", 0.5)),
    )
    patch = cv2.resize(patch, (w, h), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)[..., None]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        return frame
    out = frame.copy()
    region = out[y0:y1, x0:x1].astype(np.float32)
    part = patch[y0 - y : y1 - y, x0 - x : x1 - x]
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    out[y0:y1, x0:x1] = np.clip(a * part + (1 - a) * region, 0, 255).astype(np.uint8)
    return out


def _face(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    patch, mask = face_patch(str(art.params.get("who", "astronaut")))
    return draw_face(frame, patch, mask, state, art, ctx)


def _face_swap(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """The astronaut cross-fades into the cameraman over ``fade`` frames from ``start``, then
    stays the cameraman for the rest of the span."""
    first, mask = face_patch("astronaut")
    second, _ = face_patch(str(art.params.get("into", "cameraman")))
    fade = max(1, int(art.params.get("fade", 6)))
    alpha = min(1.0, (state.index - art.start + 1) / fade)
    return draw_face(frame, (1 - alpha) * first + alpha * second, mask, state, art, ctx)


MELT_COLOUR = np.array([255.0, 120.0, 40.0], np.float32)
"""The orange the face melts into (a generated boy's face turns into an orange blob like this)."""


def _face_melt(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """The face dissolves over ``melt`` frames from ``start``: its features blur and its colours
    flow into a flat orange, from the chin up (up to ``strength`` of it at the chin, a third of
    that at the forehead, so a blob that still reads as a head remains), and it stays melted for
    the rest of the span."""
    patch, mask = face_patch(str(art.params.get("who", "astronaut")))
    melt = max(1, int(art.params.get("melt", 12)))
    amount = min(1.0, (state.index - art.start + 1) / melt)
    strength = float(art.params.get("strength", 0.7))
    rows = np.linspace(1 / 3, 1.0, patch.shape[0], dtype=np.float32)[:, None, None]
    weight = strength * amount * rows
    blurred = cv2.GaussianBlur(patch, (0, 0), 0.5 + 3 * amount)
    return draw_face(frame, (1 - weight) * blurred + weight * MELT_COLOUR, mask, state, art, ctx)


def _gone(state: FrameState, art: Artifact, ctx: Context) -> None:
    """Nothing is drawn: this span only labels the frames where a face drawn before it is
    missing."""


injection(
    "face",
    (),
    "a real face photo (scikit-image astronaut) drifting in the scene; "
    "params who=astronaut|cameraman, size=0.6 (of frame height), x=0.5 (centre)",
    after=_face,
)
injection(
    "face_swap",
    ("FAC001", "FAC002"),
    "the face cross-fades into another person over "
    "fade=6 frames and stays them (params into, fade, size)",
    after=_face_swap,
)
injection(
    "face_melt",
    ("FAC006",),
    "the face blurs and melts into orange from the chin up over "
    "melt=12 frames and stays melted (params who, melt, strength=0.7, size, x)",
    after=_face_melt,
)
injection(
    "face_gone",
    ("FAC003",),
    "a face drawn before this span is missing in it (put it "
    "right after a face span: the face vanishes mid-frame)",
    before=_gone,
)
