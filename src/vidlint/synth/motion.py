"""Injections for the physics, flicker and quality families (MOT, FLK, QLT, DRF): objects that
teleport, jerk, morph or vanish, a background that warps non-rigidly, brightness flicker and
flashes, texture boiling, blur / noise / blockiness bursts, colour drift, progressive
degradation and a clip that never moves. Object parameters: ``object`` (sprite number, 0)."""

from __future__ import annotations

import copy
import dataclasses

import cv2
import numpy as np

from vidlint.synth.injections import Artifact, Context, FrameState, injection
from vidlint.synth.scene import Scene, texture


def _progress(state: FrameState, art: Artifact) -> float:
    """0 at the artifact's first frame, 1 at its last."""
    return (state.index - art.start) / max(1, art.length - 1)


def _object(art: Artifact, scene: Scene) -> int:
    return int(art.params.get("object", 0)) % max(1, len(scene.sprites))


# -- what is filmed (MOT) -----------------------------------------------------------------------


def _teleport(state: FrameState, art: Artifact, ctx: Context) -> None:
    """From ``start`` on, the object is drawn mirrored through the frame centre: it jumps there
    in one frame and goes on moving from the new place."""
    number = _object(art, state.scene)
    key = ("teleport", art.start)
    if key not in ctx.memory:
        scene = state.scene
        position = scene.bounce(scene.sprites[number].position(art.start / ctx.fps))
        centre = np.array([scene.width / 2, scene.height / 2])
        jump = 2 * (centre - position)
        least = 0.4 * scene.width
        if abs(jump[0]) < least:  # near the centre: jump well across instead
            jump[0] = least if position[0] < centre[0] else -least
        ctx.memory[key] = jump
    state.offsets[number] = state.offsets.get(number, 0) + ctx.memory[key]


def _jerk(state: FrameState, art: Artifact, ctx: Context) -> None:
    """The object is kicked sideways for the span and snaps back: velocity jumps with no
    force to explain it (``amp``: fraction of the short side, 0.06)."""
    number = _object(art, state.scene)
    scene = state.scene
    amp = float(art.params.get("amp", 0.06)) * min(scene.width, scene.height)
    sprite = scene.sprites[number]
    direction = np.array([-sprite.velocity[1], sprite.velocity[0]])
    direction = direction / max(1e-6, float(np.linalg.norm(direction)))
    state.offsets[number] = state.offsets.get(number, 0) + amp * direction


def _vanish(state: FrameState, art: Artifact, ctx: Context) -> None:
    state.hidden.add(_object(art, state.scene))


def _morph(state: FrameState, art: Artifact, ctx: Context) -> None:
    """The object's texture turns into another one and back over the span, while it keeps
    moving: appearance change that no motion explains (a subject morphing)."""
    number = _object(art, state.scene)
    key = ("morph", art.start)
    if key not in ctx.memory:
        sprite = state.scene.sprites[number]
        size = sprite.patch.shape[0]
        other = texture(size, size, np.random.default_rng(art.start + 101))
        other = cv2.addWeighted(cv2.flip(255 - sprite.patch, 0), 0.7, other, 0.3, 0)
        other = cv2.convertScaleAbs(other, alpha=1.6, beta=-0.3 * float(other.mean()))
        ctx.memory[key] = (sprite.patch, other)
    original, other = ctx.memory[key]
    weight = float(np.sin(np.pi * (state.index - art.start + 1) / (art.length + 1)))
    patch = cv2.addWeighted(original, 1 - weight, other, weight, 0)
    scene = copy.copy(state.scene)
    scene.sprites = list(scene.sprites)
    scene.sprites[number] = dataclasses.replace(scene.sprites[number], patch=patch)
    state.scene = scene


def _still(state: FrameState, art: Artifact, ctx: Context) -> None:
    state.t = art.start / ctx.fps


# -- the picture (MOT005, FLK, QLT) -------------------------------------------------------------


def _background_warp(
    frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context
) -> np.ndarray:
    """A smooth wave of displacement (``amp``: fraction of the short side, 0.02) travelling
    over the picture: the world bends in a way no camera motion can."""
    height, width = frame.shape[:2]
    amp = float(art.params.get("amp", 0.02)) * min(width, height)
    phase = 0.9 * (state.index - art.start)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x = xs + amp * np.sin(2 * np.pi * ys / (0.45 * height) + phase).astype(np.float32)
    map_y = ys + amp * np.cos(2 * np.pi * xs / (0.45 * width) + phase).astype(np.float32)
    return cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _flicker(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """Brightness alternating up and down every frame (``amp``: gain, 0.07)."""
    amp = float(art.params.get("amp", 0.07))
    sign = 1 if (state.index - art.start) % 2 == 0 else -1
    return cv2.convertScaleAbs(frame, alpha=1 + sign * amp)


def _flash(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """Every ``period`` frames (3) the whole picture flashes towards white."""
    period = int(art.params.get("period", 3))
    if (state.index - art.start) % period:
        return frame
    return cv2.addWeighted(frame, 0.25, np.full_like(frame, 255), 0.75, 0)


def _boil(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """Fine texture re-drawn every frame in a fixed box (``x, y, w, h`` fractions; default the
    top-left quarter): the 'boiling' of static detail in generated video."""
    height, width = frame.shape[:2]
    x0, y0 = int(art.params.get("x", 0.0) * width), int(art.params.get("y", 0.0) * height)
    x1 = x0 + int(art.params.get("w", 0.5) * width)
    y1 = y0 + int(art.params.get("h", 0.5) * height)
    rng = np.random.default_rng(state.index * 7 + 3)
    box = frame[y0:y1, x0:x1]
    noise = rng.normal(0, float(art.params.get("sigma", 24)), box.shape[:2]).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.0) * 2.0
    out = frame.copy()
    out[y0:y1, x0:x1] = np.clip(box.astype(np.float32) + noise[..., None], 0, 255).astype(np.uint8)
    return out


def _blur(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    sigma = float(art.params.get("sigma", 2.5))
    return cv2.GaussianBlur(frame, (0, 0), sigma)


def _noise(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    sigma = float(art.params.get("sigma", 14))
    rng = np.random.default_rng(state.index * 13 + 5)
    noisy = frame.astype(np.float32) + rng.normal(0, sigma, frame.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _blocky(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """JPEG at a very low quality (``q``, 6): 8x8 block edges, as a starved encoder leaves."""
    return jpeg(frame, int(art.params.get("q", 6)))


def jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if ok else frame


def _colour_drift(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """Red gain rising and blue falling from ``start`` to the end (``amp``: 0.3 at the end)."""
    amp = float(art.params.get("amp", 0.3)) * (state.index - art.start + 1) / art.length
    gains = np.array([1 + amp, 1.0, 1 - amp], np.float32)
    return np.clip(frame.astype(np.float32) * gains, 0, 255).astype(np.uint8)


def _degrade(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """From ``start`` to the end the picture gets worse: visibly blurred and noisy at once, then
    more so every frame (what long generations do as errors accumulate)."""
    level = 0.5 + 0.5 * _progress(state, art)
    soft = cv2.GaussianBlur(frame, (0, 0), 0.5 + 2.5 * level)
    rng = np.random.default_rng(state.index * 17 + 11)
    noisy = soft.astype(np.float32) + rng.normal(0, 14 * level, frame.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _still_noise(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """Sensor-like noise so a still clip is not an exact freeze (TMP001 would find that)."""
    rng = np.random.default_rng(state.index * 19 + 1)
    noisy = frame.astype(np.float32) + rng.normal(0, 1.5, frame.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


injection(
    "teleport",
    ("MOT002",),
    "object (param object=0) jumps across the frame at start and moves on from there",
    before=_teleport,
    to_end=True,
)
injection(
    "jerk",
    ("MOT003",),
    "object kicked sideways over the span, then snaps back (param amp=0.06 of the short side)",
    before=_jerk,
)
injection(
    "morph",
    ("MOT001",),
    "object's texture turns into another and back over the span",
    before=_morph,
)
injection(
    "vanish",
    ("MOT006",),
    "object hidden over the span: it vanishes at start and "
    "pops back after end, with nothing in front of it",
    before=_vanish,
)
injection(
    "bgwarp",
    ("MOT005",),
    "the picture bends in a travelling wave (param amp=0.02): non-rigid background motion",
    after=_background_warp,
)
injection(
    "static",
    ("MOT004",),
    "nothing moves from start on (only faint sensor noise)",
    before=_still,
    after=_still_noise,
    to_end=True,
)
injection("flicker", ("FLK001",), "brightness alternates +-amp (0.07) every frame", after=_flicker)
injection(
    "flash", ("FLK002",), "the picture flashes towards white every period (3) frames", after=_flash
)
injection(
    "boil",
    ("FLK003",),
    "fine texture re-drawn every frame in a fixed box "
    "(x, y, w, h fractions; default the top-left quarter)",
    after=_boil,
)
injection("blur", ("QLT001",), "Gaussian blur (sigma=2.5)", after=_blur)
injection("noise", ("QLT002",), "Gaussian noise (sigma=14)", after=_noise)
injection("blocky", ("QLT002",), "JPEG blockiness (q=6)", after=_blocky)
injection(
    "colordrift",
    ("QLT003",),
    "colour cast growing from start to the end (red up, blue down, amp=0.3)",
    after=_colour_drift,
    to_end=True,
)
injection(
    "degrade",
    ("DRF001", "QLT002"),
    "from start to the end: blur and noise, growing every frame",
    after=_degrade,
    to_end=True,
)
