"""The flow analyzer's keys: its signal names, settings and the values its CPU path and its
torch path (``batched``) share, so the two paths import this module instead of each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from vidlint.settings import param

MOTION = "flow.motion"
MOTION_P99 = "flow.motion_p99"
WARP_ERROR = "flow.warp_error"
WARP_GRID = "flow.warp_grid"
ERROR_GRID = "flow.error_grid"
OCCLUDED = "flow.occluded"
OCCLUDED_GRID = "flow.occluded_grid"
CAMERA_RESIDUAL = "flow.camera_residual"
LAYERS_RESIDUAL = "flow.layers_residual"
"""CAMERA_RESIDUAL after the better of two homographies per point: the camera's, and one for
the points it leaves out (a near, rigid foreground with its own parallax)."""
RESIDUAL_GRID = "flow.residual_grid"
BRIGHTNESS_SHIFT = "flow.brightness_shift"
SHIFT_GRID = "flow.shift_grid"
"""BRIGHTNESS_SHIFT per cell: where a regional flicker is."""
STATIC_GRID = "flow.static_grid"
JERK_POINTS = "flow.jerk_points"
JERK_ACCEL = "flow.jerk_accel"
JERK_BOX = "flow.jerk_box"
TRACKED = "flow.tracked"
RETURN_GRID = "flow.return_grid"
"""Per cell, the warping error between a frame that ends a spike of change and the frame
before the spike began (1-3 frames earlier): low where the picture came back as it was."""
DRIFT_GRID = "flow.drift_grid"
"""Per cell, how much the content moved away from the anchor frame (up to ``anchor_s`` back,
carried along the chained flow) since the previous frame, in gray levels: a sustained rise is
content changing gradually under its own motion, what neighbouring-frame errors miss."""
TWIST_GRID = "flow.twist_grid"
"""Per cell, how much further the content twisted in place since the previous frame, in
radians: the largest local rotation of the chained flow's Jacobian (anchor frame to now, up to
``anchor_s`` back) away from the picture's median rotation, over pixels still seen where the
map turns more than it strains (``twist_strain``), after a 3x3 minimum (one pixel does not
count). A swirl turns content by an angle that varies across a region while its surroundings
do not turn; NaN on the first frame after an anchor."""
RETURN_FROM = "flow.return_from"
"""The earlier frame of ``RETURN_GRID`` (NaN where nothing was compared)."""

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
REFERENCE_SIDE = 360.0
BATCH_PAIRS = 16
"""Frame pairs per batch on the torch path (16 pairs at 240p: a few MB on the device)."""
RETURN_REACH = 3
"""A spike of change that ends within 3 frames of where it began is compared with the frame
before it (a double exposure lasts 1-2 frames, an object gone and back 1-3)."""
BROAD_START = 1 / 3
"""A spike that begins in a third of the cells at once (a double exposure, a frame of other
content) is compared back even where other cells were already spiking; a regional one only from
calm frames (on a busy clip some cell spikes every frame, and what passes through a cell and
leaves is not a break)."""
SPIKE = 3.0
"""A cell's warping error 3 gray levels over its running median is a spike worth comparing back
(MOT001's own ``min_excess``); the rules judge the spikes, this only picks what to compute."""
EXPLAINED = 0.9
"""A blob whose detail is found again where the flow points at 0.9 or better moved as the flow
says (real moved content scores 0.9-0.99): it is not kept as an event."""


@dataclass(frozen=True)
class FlowParams:
    scale: float = param(
        1.0,
        "flow runs on the working copy scaled by this; 1.0 keeps the shared 360p copy, "
        "where DIS FAST forward+backward ran at 182 pairs/s here (research/stage-speeds.md)",
        bounds=(0.1, 2.0),
    )
    check_side: int = param(
        240,
        "the consistency masks, warping error, camera fit and tracks run on the flow "
        "brought down to a 240-pixel short side: 2.25x fewer pixels than 360p, which keeps "
        "the three analyzers near the 1.2 s budget for a 5 s 720p clip, while DIS itself "
        "still sees the 360p copy",
        bounds=(32, 2160),
    )
    model: str = param(
        "dis",
        "the optical flow: dis (OpenCV DIS, what every threshold here was calibrated "
        "on) or raft (torchvision RAFT on the torch device, from weights placed in "
        "models/; needs device cuda or torch-cpu)",
        choices=("dis", "raft"),
    )
    preset: str = param(
        "fast",
        "DIS preset: FAST is 3.5x faster than MEDIUM at 360p (stage-speeds.md) and "
        "accurate enough for warp errors of a few gray levels",
        choices=tuple(PRESETS),
    )
    grid: int = param(
        6, "cells per side of the coarse grid that localizes findings (6x6)", bounds=(1, 32)
    )
    consistency_ratio: float = param(
        0.01,
        "Ruder et al. 2016 / Lai et al. 2018: a pixel is occluded when |F + B~|^2 > "
        "0.01 (|F|^2 + |B~|^2) + 0.5",
        bounds=(0.0, 1.0),
    )
    consistency_offset: float = param(
        0.5, "the 0.5 px^2 of the same occlusion test", bounds=(0.0, 100.0)
    )
    boundary_ratio: float = param(
        0.01,
        "Lai et al.: a motion boundary when |grad F|^2 > 0.01 |F|^2 + 0.002",
        bounds=(0.0, 1.0),
    )
    boundary_offset: float = param(
        0.002, "the 0.002 of the same motion-boundary test", bounds=(0.0, 100.0)
    )
    sample_step: int = param(
        12,
        "flow is sampled every 12 px (about 900 points at 360p) for the camera fit",
        bounds=(1, 128),
    )
    unexplained_level: float = param(
        30.0,
        "a pixel whose motion-compensated error exceeds 30 gray levels is unexplained "
        "(DIS and H.264 leave under 10 on clean content)",
        bounds=(0.0, 255.0),
    )
    min_blob: float = param(
        0.006,
        "an unexplained blob smaller than 0.6% of the frame is not searched for "
        "(moving edges leave thin slivers)",
        bounds=(0.0, 1.0),
    )
    match_score: float = param(
        0.6,
        "normalized cross-correlation at which a blob's content counts as found again",
        bounds=(-1.0, 1.0),
    )
    track_points: int = param(
        160, "points carried along the flow for acceleration", bounds=(0, 5000)
    )
    jerk_level: float = param(
        4.0,
        "a tracked point whose camera-compensated velocity changes by 4 px/frame (at 360p) "
        "in one frame has jerked; smooth motion on the evaluation clips stays under 1",
        bounds=(0.0, 1000.0),
    )
    anchor_s: float = param(
        1.0,
        "the drift grid compares each frame with an anchor frame up to 1 s back (Lai et al. "
        "2018's long-term warping error), re-anchored every second so that the chained flow's "
        "own drift stays small; morphs take 0.3-0.7 s",
        bounds=(0.1, 10.0),
    )
    twist_strain: float = param(
        0.5,
        "the twist grid counts a pixel only where the chained flow's map strains (its "
        "symmetric, shape-changing part) less than half as much as it turns: a layer sliding "
        "past another at an edge of something moving turns it by as much as it strains it, "
        "and synthetic sprites crossing a panning scene twisted cells by 0.9 rad that way; "
        "with the gate, under 0.4, while swirls keep 1.0-1.4",
        bounds=(0.0, 100.0),
    )
    static_motion: float = param(
        1.0,
        "a cell whose median motion beyond the camera's is under 1 px/frame at 360p is "
        "static (for texture boiling; boiling itself makes DIS jitter by up to 1 px)",
        bounds=(0.0, 1000.0),
    )


@dataclass(frozen=True)
class BlobEvent:
    """A compact blob of one frame pair that the flow could not explain, and where its content
    went: ``stay``, its match where the flow takes it; ``near``, its best match within half a
    box size of there (a fast object the flow missed); ``best``, its best match anywhere in the
    frame, ``found`` there and ``jump`` px (at 360p) from where the flow takes it; ``back``,
    whether the content now at the box was near there in the previous frame; ``change``, the
    gray difference at the expected place; ``own_motion``, the box's motion beyond the
    camera's; ``texture``, the patch's gray std. Boxes are normalized (x, y, w, h)."""

    frame: int
    box: list[float]
    area: float
    stay: float
    back: float
    near: float
    best: float
    jump: float
    found: list[float]
    change: float
    own_motion: float
    texture: float
    returned: float = 0.0
    """The best match of the content now at the box at the same place (within half a box
    size) 2 to ``RETURN_REACH`` + 1 frames back: content gone for 1-3 frames and back there
    matches its old self (0 at the clip's start)."""


@dataclass(frozen=True)
class FlowOutput:
    """The flow analyzer's per-clip result."""

    grid: int
    """Cells per side of the grids in the ``*_grid`` signals."""
    events: tuple[BlobEvent, ...] = ()
    tracks: dict[str, float] = field(default_factory=dict)
    """Summary of the tracked points' accelerations."""


@dataclass
class PairChecks:
    """What the dense per-pixel checks of one frame pair leave for the rest of the analysis:
    the per-pair values (motion in pixels of the flow image) and three masks."""

    values: dict[str, Any]
    valid: np.ndarray
    """Pixels whose flow is trusted: carried inside the frame, consistent forward and backward,
    off motion boundaries."""
    lost: np.ndarray
    """Pixels occluded or carried out of the frame: tracked points stop there."""
    unexplained: np.ndarray
    """Pixels occluded inside the frame, or whose warp error exceeds ``unexplained_level``."""
