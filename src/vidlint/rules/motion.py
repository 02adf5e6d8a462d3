"""MOT: motion and physics, from optical flow (analyzers/flow.py): content that motion cannot
explain, teleports, jerks, clips that never move, backgrounds that bend, things that pop in or
out. Every threshold is relative to the clip's own robust baseline (median / MAD) with a floor,
and grows with the frame's motion, because flow and warping errors grow with speed."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidlint.analyzers.faces import FacesOutput
from vidlint.analyzers.flow.keys import (
    BRIGHTNESS_SHIFT,
    CAMERA_RESIDUAL,
    DRIFT_GRID,
    ERROR_GRID,
    JERK_ACCEL,
    JERK_BOX,
    JERK_POINTS,
    LAYERS_RESIDUAL,
    MOTION,
    MOTION_P99,
    OCCLUDED,
    RESIDUAL_GRID,
    RETURN_FROM,
    RETURN_GRID,
    SHIFT_GRID,
    STATIC_GRID,
    TWIST_GRID,
    WARP_GRID,
    BlobEvent,
    FlowOutput,
)
from vidlint.decode import WORKING_SHORT_SIDE
from vidlint.report.model import Region
from vidlint.rules.base import Fix, Hit, RuleInput, family, oscillations, rule, runs
from vidlint.rules.temporal import explained_frames
from vidlint.settings import param

family("MOT", "motion & physics")

CALMER = Fix(
    negative_prompt=("morphing", "warping", "objects passing through each other"),
    prompt=("slow, subtle motion in one direction", "one action in the shot"),
    params={"motion_strength": 0.6},
    why="physics: one action per shot, slower motion, shorter clip (research, sec. 5)",
)

LIVELIER = Fix(
    negative_prompt=("static", "still frame", "frozen"),
    prompt=("the subject moves clearly through the shot",),
    why="a clip that barely moves: ask for visible motion; never lower the motion strength",
)


def robust_baseline(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Median and MAD (scaled to a standard deviation) ignoring NaN (an all-NaN column, such
    as a grid cell never visible, gives 0 without numpy's warning)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(values, axis=axis)
        mad = 1.4826 * np.nanmedian(np.abs(values - median), axis=axis)
    return np.nan_to_num(median), np.nan_to_num(mad)


def cell_region(cells: np.ndarray, grid: int) -> Region:
    """The box around the flagged cells of a ``grid`` x ``grid`` layout."""
    rows, cols = np.divmod(np.flatnonzero(cells), grid)
    return Region(
        cols.min() / grid,
        rows.min() / grid,
        (cols.max() - cols.min() + 1) / grid,
        (rows.max() - rows.min() + 1) / grid,
    )


GLOBAL_OCCLUDED = 0.3
"""Over 30% of the picture failing the flow's consistency test is a cut or a corrupt frame."""
GLOBAL_BRIGHTNESS = 10.0
"""A motion-compensated brightness step of 10 gray levels is a flash or exposure jump."""


def global_change(data: RuleInput, share: float = GLOBAL_OCCLUDED) -> np.ndarray:
    """Frames where much of the picture is unexplained by flow: a cut, a flash, a corrupt
    frame. These belong to TMP and FLK; the MOT rules judge local events."""
    s = data.signals
    return (np.nan_to_num(s[OCCLUDED], nan=0.0) >= share) | (
        np.abs(np.nan_to_num(s[BRIGHTNESS_SHIFT], nan=0.0)) >= GLOBAL_BRIGHTNESS
    )


FLICKER_SWING = 3.0
"""The picture's motion-compensated brightness swings up and down by 3 gray levels at least
for flicker (clean real and generated footage stays under it, measured)."""
FLICKER_CELL_SWING = 4.5
"""A cell of the grid must swing by 4.5: one cell's mean is noisier than the frame's."""
FLICKER_LEG_S = 0.25
"""Each swing within 0.25 s (flicker at 2 Hz or faster): slower changes are lighting or motion
(a child swinging at 1.5 Hz moved a dark seat in and out of the cells below her)."""


@dataclass(frozen=True)
class Flickering:
    """Where brightness oscillates: the picture's brightness level and the runs of its turning
    points; per cell of the flow grid, the cell's level and the frames inside an oscillation of
    that cell."""

    level: np.ndarray
    picture: list[list[int]]
    levels: np.ndarray
    cells: np.ndarray


def brightness_level(shift: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """Brightness relative to frame 0 along the motion: the motion-compensated steps summed
    (a ``skip`` frame adds nothing)."""
    steps = np.where(skip, 0.0, np.nan_to_num(shift, nan=0.0))
    steps[:1] = 0.0
    return np.cumsum(steps, axis=0)


def flickering(
    data: RuleInput,
    swing: float = FLICKER_SWING,
    cell_swing: float = FLICKER_CELL_SWING,
    leg_s: float = FLICKER_LEG_S,
    legs: int = 3,
) -> Flickering:
    """Brightness going up and down ``legs`` times or more in a row, each swing large and quick:
    FLK001's finding, and what MOT001 leaves to it. A cell's brightness is not followed where
    the flow does not hold (shake, blur, a cut): one cell's mean swings there by itself."""
    s = data.signals
    cut = np.nan_to_num(s[OCCLUDED], nan=0.0) >= GLOBAL_OCCLUDED
    leg = s.frames(leg_s)
    level = brightness_level(s[BRIGHTNESS_SHIFT], cut)
    picture = oscillations(level, swing, leg, legs)
    untrusted = cut | (np.nan_to_num(s[CAMERA_RESIDUAL], nan=0.0) >= GeometryParams.min_residual)
    levels = brightness_level(s[SHIFT_GRID], untrusted[:, None])
    cells = np.zeros(levels.shape, bool)
    for cell in range(levels.shape[1]):
        for turns in oscillations(levels[:, cell], cell_swing, leg, legs):
            cells[turns[0] : turns[-1] + 1, cell] = True
    return Flickering(level, picture, levels, cells)


def non_rigid(data: RuleInput) -> np.ndarray:
    """Frames where the background itself does not move rigidly (MOT005's territory), or that
    change globally: local object events cannot be judged there."""
    residual = np.nan_to_num(data.signals[CAMERA_RESIDUAL], nan=0.0)
    bad = global_change(data) | (residual >= GeometryParams.min_residual)
    settled = bad.copy()
    for lag in range(1, 4):  # and 3 frames after: tracks and blobs settle back
        settled[lag:] |= bad[:-lag]
    settled[:-1] |= bad[1:]
    return settled


def repeats_near(s: Any, still: float = 0.05) -> np.ndarray:
    """Frames next to a repeated frame (no motion at all): with duplicates, velocity alternates
    between zero and double, which is TMP002's finding, not a jerk."""
    motion = np.nan_to_num(s[MOTION], nan=1.0)
    repeat = motion < still
    near = repeat.copy()
    near[1:] |= repeat[:-1]
    near[:-1] |= repeat[1:]
    return near


def spans_of(flags: np.ndarray, gap: int = 1) -> Iterator[tuple[int, int]]:
    """Runs of flagged frames, joining runs separated by at most ``gap`` clean frames."""
    merged: list[list[int]] = []
    for start, end in runs(flags):
        if merged and start - merged[-1][1] - 1 <= gap:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    for start, end in merged:
        yield start, end


# -- events: compact blobs the flow could not explain (teleport / pop) ---------------------------


@dataclass(frozen=True)
class EventParams:
    lost_match: float = param(
        0.8,
        "a blob whose detail matches where the flow takes it at under 0.8 (normalized "
        "correlation of the picture minus its blur; moved content keeps about 0.9) did "
        "not move the way the flow says",
    )
    found_match: float = param(
        0.75,
        "its detail found elsewhere at 0.75 or more, on another unexplained blob of the "
        "same frame: the content jumped there (synthetic teleports match at 0.85-0.93)",
    )
    min_gain: float = param(
        0.15,
        "the match elsewhere beats the match where the flow points by 0.15: the content "
        "is clearly there, not just similar (repetitive real texture stays closer); and "
        "content back after a gap matches its old self better than the departed by as much",
    )
    min_jump: float = param(
        25.0,
        "a jump of at least 25 px (at 360p) from where the flow takes the content; "
        "DIS FAST follows real motion up to about that far between frames",
    )
    pop_match: float = param(
        0.5,
        "a pop's detail (picture minus its blur) matches under 0.5 where the flow points, "
        "within half a box size, and back: it is gone, not moved (moved content keeps 0.9)",
    )
    min_pop_area: float = param(
        0.015,
        "a pop covers at least 1.5% of the frame: smaller blobs on the real clips were "
        "fast balls and limbs the flow missed (0.6-1.6%), synthetic vanishings 2.7-5%",
    )
    min_change: float = param(
        18.0,
        "a pop changes the blob's content by at least 18 gray levels on average "
        "(H.264 noise and lighting changes stay under 5)",
    )
    max_own_motion: float = param(
        6.0,
        "the blob moves with the camera within 6 px/frame at 360p: nothing moving fast "
        "there covered or uncovered it (the vanishing itself drags DIS by up to 5 px)",
    )
    min_texture: float = param(
        15.0,
        "the blob's content has texture (gray std >= 15): flat walls, sky and van roofs "
        "match anywhere and were the real clips' false teleports (measured)",
    )
    link_match: float = param(
        0.4,
        "for a round trip: the content's detail found again far away at 0.4 or better (a "
        "region moved onto other content matched at 0.42-0.6: the blob's box takes in its "
        "surroundings too), on another unexplained region of the same frame",
        bounds=(-1.0, 1.0),
    )
    trip_jump: float = param(
        90.0,
        "a round trip covers at least 90 px at 360p (a quarter of the short side): hands "
        "wrestling to and fro within a few frames made trips of 60 px (measured, real "
        "footage); the benchmark's teleports go 30-45% of the frame",
        bounds=(0.0, 10000.0),
    )
    max_away_s: float = param(
        1.2,
        "and both places changing again within 1.2 s: the content came back (content away "
        "for longer is two teleports)",
        bounds=(0.0, 60.0),
    )


def _boxes_overlap(point: list[float], box: list[float], margin: float = 0.5) -> bool:
    x, y, w, h = box
    return (
        x - margin * w <= point[0] <= x + (1 + margin) * w
        and y - margin * h <= point[1] <= y + (1 + margin) * h
    )


def _centre(box: list[float]) -> list[float]:
    return [box[0] + box[2] / 2, box[1] + box[3] / 2]


def _unsettled(event: BlobEvent, neighbours: list[BlobEvent]) -> bool:
    """The same place is unexplained in the frame before or after too: it changes all the
    time (boiling, fast motion at a low frame rate), which is not one thing popping."""
    return any(_boxes_overlap(_centre(event.box), o.box, margin=0.0) for o in neighbours)


def unjudged_blobs(data: RuleInput) -> np.ndarray:
    """Frames whose unexplained blobs are not judged as pops or jumps: the background bends or
    the picture changes globally, or a frame repeats next to them."""
    return non_rigid(data) | repeats_near(data.signals)


def replaced_in_place(
    event: BlobEvent, p: EventParams, max_motion: float, max_match: float
) -> bool:
    """The blob's textured content was replaced (by ``min_change``, on ``min_pop_area`` or
    more) while it moved with the camera within ``max_motion``, and its detail matches under
    ``max_match`` where the flow points and nearby: gone, not moved."""
    return (
        event.texture >= p.min_texture
        and event.change >= p.min_change
        and event.area >= p.min_pop_area
        and event.own_motion <= max_motion
        and max(event.stay, event.near) < max_match
    )


def classify_events(data: RuleInput, p: EventParams) -> list[tuple[str, BlobEvent]]:
    """Each unexplained blob as ``teleport``, ``pop`` or ``explained``."""
    events = data.output(FlowOutput).events
    busy = unjudged_blobs(data)
    by_frame: dict[int, list[BlobEvent]] = {}
    for event in events:
        by_frame.setdefault(int(event.frame), []).append(event)
    out = []
    for event in events:
        frame = int(event.frame)
        kind = "explained"
        if not busy[frame] and event.stay < p.lost_match and event.texture >= p.min_texture:
            others = [o for o in by_frame[frame] if o is not event]
            lands = any(_boxes_overlap(event.found, o.box) for o in others)
            gone = event.change >= p.min_change and event.back < p.lost_match
            if (
                event.best >= p.found_match
                and event.jump >= p.min_jump
                and lands
                and event.best - event.stay >= p.min_gain
                and gone
            ):
                kind = "teleport"
            elif (
                gone
                and replaced_in_place(event, p, p.max_own_motion, p.pop_match)
                and event.back < p.pop_match
                and not _unsettled(event, by_frame.get(frame - 1, []) + by_frame.get(frame + 1, []))
            ):
                kind = "pop"
        out.append((kind, event))
    return out


@dataclass(frozen=True)
class RoundTrip:
    """Content gone from ``origin`` to ``target`` at frame ``left`` and back at ``back``; ``link``
    is the blob whose detail was found at the other place."""

    left: int
    back: int
    origin: list[float]
    target: list[float]
    link: BlobEvent


def _intersect(a: list[float], b: list[float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def round_trips(data: RuleInput, p: EventParams) -> list[RoundTrip]:
    """Content that jumps away and comes back: a textured blob whose detail is found far away
    on another unexplained blob of the same frame where the content was clearly replaced (by
    half ``min_change``), and a frame within ``max_away_s`` (before or after, at least two
    frames apart) where both places are clearly replaced again, while in the frames
    between they mostly hold still (in at most a third of them does either change that much:
    a limb swinging to and fro changes there all the time). One trip per departure; the
    nearest such frame wins. Unlike a single jump, a trip is judged where the
    background bends too (a face turning): four blobs that agree are evidence enough."""
    events = data.output(FlowOutput).events
    # a bending background is no reason to doubt four blobs that agree; cuts and repeats still are
    busy = global_change(data) | repeats_near(data.signals)
    textured = [e for e in events if not busy[int(e.frame)] and e.texture >= p.min_texture]
    by_frame: dict[int, list[BlobEvent]] = {}
    for event in textured:
        if event.change >= p.min_change / 2:  # the places: content clearly replaced there
            by_frame.setdefault(int(event.frame), []).append(event)
    reach = data.signals.frames(p.max_away_s)
    trips: list[RoundTrip] = []
    for event in textured:
        frame = int(event.frame)
        if (
            event.jump < p.trip_jump
            or event.best < p.link_match
            or event.area < p.min_pop_area  # slivers at the frame's edge match anywhere
            or frame not in by_frame
        ):
            continue
        landed = [
            o.box
            for o in by_frame[frame]
            if o is not event and _boxes_overlap(event.found, o.box, margin=0.0)
        ]
        if not landed or any(t.left <= frame <= t.back for t in trips):
            continue
        here, there = event.box, landed[0]
        if _intersect(here, there):  # found next to itself: it moved, it did not jump
            continue
        for apart in (d * sign for d in range(2, reach + 1) for sign in (1, -1)):
            others = by_frame.get(frame + apart, [])
            if any(_intersect(o.box, here) for o in others) and any(
                _intersect(o.box, there) for o in others
            ):
                left, back = sorted((frame, frame + apart))
                unsettled = sum(
                    any(_intersect(o.box, b) for o in by_frame.get(f, []) for b in (here, there))
                    for f in range(left + 1, back)
                )
                if 3 * unsettled <= back - left - 1:  # still while away: not a swinging limb
                    origin, target = (here, there) if apart > 0 else (there, here)
                    trips.append(RoundTrip(left, back, origin, target, event))
                break
    return trips


def _on_trip(event: BlobEvent, trips: list[RoundTrip]) -> bool:
    """The blob is one of a round trip's departure or return."""
    return any(
        int(event.frame) in (t.left, t.back)
        and (_intersect(event.box, t.origin) or _intersect(event.box, t.target))
        for t in trips
    )


# -- MOT001 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MorphParams:
    min_z: float = param(
        5.0,
        "a cell's warping error must stand 5 robust deviations above that cell's own "
        "median over the clip",
    )
    floor: float = param(
        0.5,
        "gray levels added to the MAD so near-constant cells (flat synthetic areas) do "
        "not turn noise into huge z",
    )
    min_excess: float = param(
        3.0,
        "and exceed the cell's median by 3 gray levels (a morph on the synthetic clips "
        "adds about 4 after the 5x5 minimum; clean synthetic clips stay under 1, slow "
        "real ones under 3)",
    )
    motion_factor: float = param(
        0.8,
        "or by 0.8 x the frame's 99th-percentile motion in px, if that is more: warping "
        "errors grow with speed and motion blur (the real clips with fast motion reach "
        "0.75x, measured)",
    )
    max_cells: float = param(
        0.33, "over a third of the cells at once is a global change (cut, flash): TMP/FLK"
    )
    min_frames_error: int = param(
        2,
        "a spike on a single frame is only noted (info): a reflection, a blink, a codec "
        "hiccup on the real clips, one frame's motion blur on small fast people; none of 53 "
        "single-frame spikes on the accuracy benchmark's cases was an injected morph (those "
        "take 0.3-0.7 s). 2 frames or more in a row is an error",
    )
    drift_rise: float = param(
        1.0,
        "gradual morphs: a cell's content moves away from the anchor frame (the flow "
        "analyzer's drift grid) by 1 gray level a frame or more, while clean content's drift "
        "wanders by under 0.5",
        bounds=(0.0, 255.0),
    )
    drift_frames: int = param(
        3, "for 3 frames in a row or more (a morph takes 0.3-0.7 s)", bounds=(1, 1000)
    )
    drift_total: float = param(
        12.0,
        "adding up to 12 gray levels: dissolves measured 15-31 over their ramp; on clean "
        "real footage the most was 10 (a car passing behind a fence), 6 elsewhere; twice "
        "that is an error, less a warning",
        bounds=(0.0, 255.0),
    )
    drift_still: float = param(
        0.6,
        "while the cell holds still beyond the camera's motion (the flow's static grid) in "
        "60% of the run's frames: a morph changes content in place (dissolves measured "
        "0.75-1.0), while a head turning or people walking change their look as they move "
        "(0.0-0.5 on generated street and dinner scenes)",
        bounds=(0.0, 1.0),
    )
    twist_rise: float = param(
        0.02,
        "swirls: a cell's content turns in place further from the anchor frame (the flow "
        "analyzer's twist grid: local rotation of the chained flow beyond the picture's) by "
        "0.02 rad a frame or more; injected swirls add 0.03-0.09 a frame over their ramp",
        bounds=(0.0, 10.0),
    )
    twist_frames: int = param(
        5,
        "for 5 frames in a row or more (swirls measured over 8-17 frames of ramp)",
        bounds=(1, 1000),
    )
    twist_total: float = param(
        0.8,
        "adding up to 0.8 rad within one anchor: swirls whose flow the analyzer follows "
        "measured 1.0-1.4; on clean footage the most was 0.70 (a fork winding noodles at "
        "16 fps), under 0.5 elsewhere; a swirl whose disc the flow loses (flat surroundings, "
        "8 fps) measured 0.0-0.7 and is missed; twice the total is an error, less a warning",
        bounds=(0.0, 100.0),
    )


def flicker_claims(data: RuleInput) -> np.ndarray:
    """Cells (frames x cells) whose change is brightness going up and down, a frame either
    side: FLK001 reports them, not MOT001."""
    found = flickering(data)
    claimed = found.cells.copy()
    for turns in found.picture:
        claimed[turns[0] : turns[-1] + 1] = True
    near = claimed.copy()
    near[1:] |= claimed[:-1]
    near[:-1] |= claimed[1:]
    return near


def rising_runs(
    values: np.ndarray,
    rise: float,
    frames: int,
    total: float,
    still: np.ndarray | None = None,
    still_share: float = 0.0,
    anchored: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(frames x cells) inside runs of ``frames`` or more values of ``rise`` or more in a
    cell, adding up to ``total``, while the cell mostly holds still (``still``, a share of
    ``still_share`` of the run's frames), and each such frame's run total. A NaN (a new anchor)
    neither breaks nor extends a run, unless ``anchored``: then a run ends with its anchor."""
    flags = np.zeros(values.shape, bool)
    totals = np.zeros(values.shape)
    for cell in range(values.shape[1]):
        run: list[int] = []
        for frame in [*range(values.shape[0]), -1]:
            value = values[frame, cell] if frame >= 0 else 0.0
            if np.isnan(value) and not anchored:
                continue
            if value >= rise:
                run.append(frame)
                continue
            amount = float(values[run, cell].sum()) if run else 0.0
            if (
                len(run) >= frames
                and amount >= total
                and (still is None or np.nanmean(still[run, cell]) >= still_share)
            ):
                flags[run[0] : run[-1] + 1, cell] = True
                totals[run[0] : run[-1] + 1, cell] = amount
            run = []
    return flags, totals


def drifting_cells(data: RuleInput, p: MorphParams) -> tuple[np.ndarray, np.ndarray]:
    """(frames x cells) where a cell's content keeps moving away from the anchor frame: runs of
    ``drift_frames`` or more rises of ``drift_rise`` adding up to ``drift_total`` while the
    cell mostly holds still (``drift_still``), and each such frame's run total. A NaN (a new
    anchor) neither breaks nor extends a run."""
    s = data.signals
    return rising_runs(
        s[DRIFT_GRID], p.drift_rise, p.drift_frames, p.drift_total, s[STATIC_GRID], p.drift_still
    )


def twisting_cells(data: RuleInput, p: MorphParams) -> tuple[np.ndarray, np.ndarray]:
    """(frames x cells) where a cell's content keeps turning in place away from the anchor
    frame, by a rotation the rest of the picture does not make (a swirl): runs of
    ``twist_frames`` or more rises of ``twist_rise`` adding up to ``twist_total`` within one
    anchor (the chained flow's twist drifts along motion edges, and a run carried over a new
    anchor added such drift up on clean footage), and each such frame's run total in
    radians."""
    return rising_runs(
        data.signals[TWIST_GRID], p.twist_rise, p.twist_frames, p.twist_total, anchored=True
    )


@rule(
    "MOT001",
    "content-morphs",
    severity="error",
    requires=["flow"],
    uses=["temporal", "quality"],  # black, flat and garbage frames are TMP004's and TMP005's
    params=MorphParams,
    fix=CALMER,
)
def content_morphs(data: RuleInput, p: MorphParams) -> Iterator[Hit]:
    """Content changes in a way its motion cannot explain: morphing, melting, popping detail.

    What it detects:
        Spikes of the occlusion-masked warping error (Lai et al. 2018) in one region of the
        frame: after motion compensation, the pixels there still changed. The error is taken
        per cell of a coarse grid after a 5x5 minimum filter (so only changes covering an area
        count), against the same cell's median over the clip. A gradual morph, too small a
        step between neighbouring frames, is seen against an anchor frame up to 1 s back along
        the chained flow (Lai et al.'s long-term error, minus each cell's mean change so that
        light is not content): a cell that holds still while its content moves further from
        the anchor frame after frame. A swirl, which the flow follows (so neither error sees
        it), is seen in the same chained flow's local rotation: a cell whose content turns
        in place further from the anchor frame after frame, by a rotation the rest of the
        picture does not make and that turns the content more than it strains it (a rigid
        turn of the whole picture is the camera's; a layer sliding past an edge strains as
        much as it turns). Each cell's own brightness step is taken out first
        (light on a wall is not content); cells whose brightness pumps up and down (FLK001's
        flicker) are left to FLK001, black, flat and garbage frames to TMP004 and TMP005.
    Why it matters:
        A subject that morphs between frames (a face turning into another, an object changing
        shape or texture) is the most typical failure of video generators.
    Known false positives:
        Fast motion with heavy motion blur, fire, water and smoke (content that really changes),
        intentional transformations (a "becomes" prompt); a twist: something really turning in
        place (a wheel, a spinning top) and fast motion edges. Missed: a swirl whose inside the
        flow cannot follow consistently (flat surroundings, low frame rates).
    Example:
        A ball whose texture turns into another over 4 frames: ``MOT001 content changes with no
        motion to explain it at frames 20-23 (+3.0 gray levels over its baseline)``; a region
        dissolving into other content over half a second: ``MOT001 content changes gradually
        with no motion to explain it at frames 44-58 (+19.5 gray levels over 15 frames)``; a
        disc swirling: ``MOT001 content twists in place with no motion to explain it at
        frames 30-46 (turned 1.39 rad beyond the picture's rotation over 17 frames)``.
    Thresholds:
        ``min_z`` = 5 robust deviations, ``min_excess`` = 3 gray levels or 0.8 x the frame's
        motion, ``max_cells`` = 1/3 of the frame (more is a cut or flash); a single-frame spike
        is only noted (info), ``min_frames_error`` = 2 frames make an error. Gradual:
        ``drift_rise`` = 1 gray level a frame for ``drift_frames`` = 3 frames adding up to
        ``drift_total`` = 12 (twice that is an error), the cell still in ``drift_still`` = 60%
        of them. Swirls: ``twist_rise`` = 0.02 rad a frame for ``twist_frames`` = 5 frames
        adding up to ``twist_total`` = 0.8 rad within one anchor (twice that is an error); the
        flow analyzer's ``twist_strain`` = 0.5.
    Fix hint:
        Regenerate with a new seed and lower motion strength; describe the subject's appearance
        consistently in the prompt.
    """
    s = data.signals
    grid = s[WARP_GRID]
    g = math.isqrt(grid.shape[1])
    median, mad = robust_baseline(grid)
    excess = grid - median
    z = excess / (mad + p.floor)
    motion = np.nan_to_num(s[MOTION_P99], nan=0.0)
    need = np.maximum(p.min_excess, p.motion_factor * motion)[:, None]
    flagged = np.nan_to_num((z >= p.min_z) & (excess >= need), nan=0.0).astype(bool)
    unclaimed = ~flicker_claims(data) & ~explained_frames(s)[:, None]  # FLK001's, TMP004/5's
    flagged &= unclaimed
    too_many = flagged.sum(axis=1) > p.max_cells * grid.shape[1]
    flagged[too_many] = False
    drifting, totals = drifting_cells(data, p)
    drifting &= unclaimed
    twisting, turns = twisting_cells(data, p)
    twisting &= unclaimed
    frames = (flagged | drifting | twisting).any(axis=1) & ~global_change(data)
    for start, end in spans_of(frames):
        if not flagged[start : end + 1].any():
            if drifting[start : end + 1].any():
                yield gradual_morph(start, end, drifting | twisting, totals, g, p)
            else:
                yield swirl_morph(start, end, twisting, turns, g, p)
            continue
        cells = (flagged | drifting | twisting)[start : end + 1].any(axis=0)
        span_excess = np.where(flagged[start : end + 1], excess[start : end + 1], 0.0)
        peak = start + int(np.argmax(span_excess.max(axis=1)))
        worst = float(span_excess.max())
        cell = int(np.argmax(span_excess.max(axis=0)))
        lasting = end - start + 1 >= p.min_frames_error
        strong = float(totals[start : end + 1].max()) >= 2 * p.drift_total or (
            float(turns[start : end + 1].max()) >= 2 * p.twist_total
        )
        severity = None if lasting or strong else "info"
        yield Hit(
            start,
            end,
            f"content changes with no motion to explain it at frames "
            f"{start}-{end} (+{worst:.1f} gray levels over its baseline)",
            peak=peak,
            confidence=min(1.0, worst / (3 * float(need[peak, 0]))),
            region=cell_region(cells, g),
            evidence={
                "excess": round(worst, 2),
                "baseline": round(float(median[cell]), 2),
                "z": round(float(z[peak, cell]), 1),
                "needed": round(float(need[peak, 0]), 2),
            },
            severity=severity,
        )


def gradual_morph(
    start: int, end: int, drifting: np.ndarray, totals: np.ndarray, g: int, p: MorphParams
) -> Hit:
    """MOT001's hit for a span only the drift grid saw: content changing a little each frame."""
    total = float(totals[start : end + 1].max())
    return Hit(
        start,
        end,
        f"content changes gradually with no motion to explain it at frames {start}-{end} "
        f"(+{total:.1f} gray levels over {end - start + 1} frames)",
        confidence=min(1.0, total / (3 * p.drift_total)),
        region=cell_region(drifting[start : end + 1].any(axis=0), g),
        evidence={"drift": round(total, 2), "needed": p.drift_total},
        severity=None if total >= 2 * p.drift_total else "warning",
    )


def swirl_morph(
    start: int, end: int, twisting: np.ndarray, turns: np.ndarray, g: int, p: MorphParams
) -> Hit:
    """MOT001's hit for a span only the twist grid saw: content turning in place, a region's
    centre more than its rim (the flow follows a swirl, so the warping error stays low)."""
    total = float(turns[start : end + 1].max())
    return Hit(
        start,
        end,
        f"content twists in place with no motion to explain it at frames {start}-{end} "
        f"(turned {total:.2f} rad beyond the picture's rotation over {end - start + 1} frames)",
        confidence=min(1.0, total / (3 * p.twist_total)),
        region=cell_region(twisting[start : end + 1].any(axis=0), g),
        evidence={"twist": round(total, 3), "needed": p.twist_total},
        severity=None if total >= 2 * p.twist_total else "warning",
    )


# -- MOT002 ---------------------------------------------------------------------------------------


@rule(
    "MOT002",
    "object-teleports",
    severity="warning",
    requires=["flow"],
    params=EventParams,
    fix=CALMER,
)
def object_teleports(data: RuleInput, p: EventParams) -> Iterator[Hit]:
    """Something jumps to another place between two frames.

    What it detects:
        A compact textured region the flow cannot explain, whose content is gone from there in
        the next frame (what shows there now is new) and is found again far from where the
        flow takes it, on another unexplained region (where it landed). Matching uses the
        picture's detail (minus its blur), so smooth shading does not match anywhere. Content
        that jumps away and comes back (both places change again within ``max_away_s`` and
        hold still in between) is one finding over the time it is away, from the frame it
        leaves to the frame before it is back, with where it went in ``region_to``.
    Why it matters:
        Objects that teleport break continuity and physics at a glance.
    Known false positives:
        Repetitive texture (two similar windows) next to a real occlusion; very fast real
        motion beyond what the flow follows (a ball kicked at full speed), busy real scenes
        (the evaluation's street and gym footage get a few). That is why it is a warning.
    Example:
        A ball jumping 90 px in one frame: ``MOT002 content jumps 127 px at frame 20``; a
        patch gone to the other corner for 0.7 s: ``MOT002 content jumps 229 px away at frame
        32 and is back at 53``.
    Thresholds:
        ``lost_match`` = 0.8 (also for what now shows there), ``min_change`` = 18 gray
        levels, ``found_match`` = 0.75 (normalized correlation), ``min_gain`` =
        0.15, ``min_jump`` = 25 px at 360p, ``min_texture`` = 15 (gray std); a round trip:
        ``link_match`` = 0.4, ``trip_jump`` = 90 px at 360p, ``max_away_s`` = 1.2 s, the
        blob at least ``min_pop_area``.
    Fix hint:
        New seed, lower motion strength; one action per shot in the prompt.
    """
    trips = round_trips(data, p)
    for trip in trips:
        link = trip.link
        yield Hit(
            trip.left,
            trip.back - 1,
            f"content jumps {link.jump:.0f} px away at frame {trip.left} and is back at "
            f"{trip.back}",
            confidence=min(1.0, 2 * link.best),
            region=Region.of_box(trip.origin),
            evidence={
                "jump": link.jump,
                "best": link.best,
                "region_to": [round(v, 4) for v in trip.target],
                "frames_away": trip.back - trip.left,
            },
        )
    for kind, event in classify_events(data, p):
        if kind != "teleport" or _on_trip(event, trips):
            continue
        frame = int(event.frame)
        yield Hit(
            frame,
            frame,
            f"content jumps {event.jump:.0f} px at frame {frame} with no motion in between",
            confidence=min(1.0, event.best),
            region=Region.of_box(event.box),
            evidence={k: getattr(event, k) for k in ("jump", "best", "stay", "found")},
        )


# -- MOT003 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JerkParams:
    min_points: int = param(
        4, "at least 4 tracked points of one object must jerk together (one point can slip)"
    )
    min_accel: float = param(
        8.0,
        "median acceleration of those points, px/frame^2 at 360p after removing the "
        "camera; the real clips' hands and players stay under 7 outside cuts (measured)",
    )
    motion_factor: float = param(
        0.5,
        "or half the frame's 99th-percentile motion if more: fast real motion changes "
        "speed by more",
    )
    measured_fps: float = param(
        30.0,
        "min_accel was measured on 28-30 fps footage; at a lower frame rate the same change "
        "of speed (px/s) is a larger change per frame, so min_accel grows by 30 / fps: the "
        "hands of generated clips eating and painting at 8 and 16 fps change speed by 9-12 "
        "px/frame^2 in smooth, natural moves (frames looked at)",
        bounds=(1.0, 240.0),
    )


def on_a_face(data: RuleInput, frame: int, box: Region, within_s: float = 0.25) -> bool:
    """The box's centre lies in a tracked face's box, as sampled within ``within_s`` of the
    frame (no faces analyzer run: False)."""
    faces = data.optional_output(FacesOutput)
    if faces is None:
        return False
    reach = data.signals.frames(within_s)
    centre = [box.x + box.w / 2, box.y + box.h / 2]
    return any(
        abs(sampled - frame) <= reach and _boxes_overlap(centre, face, margin=0.0)
        for track in faces.tracks
        for sampled, face in zip(track.frames, track.boxes, strict=True)
    )


@rule(
    "MOT003",
    "motion-jerks",
    severity="warning",
    requires=["flow"],
    uses=["faces"],  # a face's own features (a blink) jerk: only a note there
    params=JerkParams,
    fix=CALMER,
    thresholds={"flow.jerk_points": "min_points"},
)
def motion_jerks(data: RuleInput, p: JerkParams) -> Iterator[Hit]:
    """An object's motion changes abruptly: an acceleration spike no smooth motion explains.

    What it detects:
        Points carried along the optical flow; the camera's motion (a homography) is removed
        and the change of each point's velocity from one frame to the next is its
        acceleration. A frame is flagged when several neighbouring points accelerate far more
        than the frame's motion allows; below 30 fps the bar rises with the time between
        frames (a change of speed spreads over fewer, longer steps). The evidence gives the
        direction.
    Why it matters:
        Momentum violations (an object kicked by nothing, a jitter, a reversal in mid-air) read
        as physically wrong even when each frame looks fine.
    Known false positives:
        Real impacts (a ball bouncing, a punch), handheld shake the homography cannot model.
        That is why this is a warning. On a tracked face it is only a note (info): eyelids
        shut and open within a frame or two in a blink, and the FAC rules judge faces.
        Gravity is not judged (see docs/physics.md).
    Example:
        A ball kicked sideways by 14 px for two frames: ``MOT003 motion jerks by 20 px/frame^2``.
    Thresholds:
        ``min_points`` = 4, ``min_accel`` = 8 px/frame^2 at 360p and 30 fps (x 30 / fps below
        it: 15 at 16 fps), ``motion_factor`` = 0.5.
    Fix hint:
        New seed, lower motion strength, simpler action.
    """
    s = data.signals
    points = np.nan_to_num(s[JERK_POINTS], nan=0.0)
    accel = np.nan_to_num(s[JERK_ACCEL], nan=0.0)
    motion = np.nan_to_num(s[MOTION_P99], nan=0.0)
    fps = data.clip.fps if data.clip and data.clip.fps else p.measured_fps
    need = np.maximum(p.min_accel * max(1.0, p.measured_fps / fps), p.motion_factor * motion)
    flags = (points >= p.min_points) & (accel >= need) & ~non_rigid(data) & ~repeats_near(s)
    for start, end in spans_of(flags):
        peak = start + int(np.argmax(accel[start : end + 1]))
        region = Region.of_box(s[JERK_BOX][peak])
        face = region is not None and on_a_face(data, peak, region)
        yield Hit(
            start,
            end,
            f"motion jerks by {accel[peak]:.0f} px/frame^2 at frames "
            f"{start}-{end} ({int(points[peak])} points)" + (" on a face" if face else ""),
            peak=peak,
            confidence=min(1.0, accel[peak] / (2 * need[peak])),
            region=region,
            severity="info" if face else None,
            evidence={
                "accel": round(float(accel[peak]), 2),
                "needed": round(float(need[peak]), 2),
                "points": int(points[peak]),
            },
        )


# -- MOT004 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticParams:
    max_motion: float = param(
        0.4,
        "no part of the picture (99th percentile of flow) moves more than 0.4 px/frame at "
        "360p in 90% of the frames; DIS on a still noisy frame reads 0.1-0.3",
    )
    share: float = param(0.9, "share of frames that must be that still")


@rule(
    "MOT004",
    "clip-is-static",
    severity="warning",
    requires=["flow"],
    params=StaticParams,
    fix=LIVELIER,
    thresholds={"flow.motion_p99": "max_motion"},
)
def clip_is_static(data: RuleInput, p: StaticParams) -> Iterator[Hit]:
    """The clip barely moves: an image-to-video output that did not animate.

    What it detects:
        Almost no motion anywhere: the 99th percentile of the flow magnitude stays under
        ``max_motion`` in 90% of the frame pairs.
    Why it matters:
        A video that is a still picture is a failed generation (TMP001 catches exact freezes;
        this catches pictures that only shimmer).
    Known false positives:
        Deliberately still shots (a landscape with no camera move). It is a warning.
    Example:
        ``MOT004 the clip barely moves (99% of pixels under 0.2 px/frame)``.
    Thresholds:
        ``max_motion`` = 0.4 px/frame at 360p, ``share`` = 0.9.
    Fix hint:
        Ask for explicit motion (and camera verbs), add "static, still frame" to the negative
        prompt; the motion strength is never lowered for it.
    """
    motion = data.signals[MOTION_P99][1:]
    motion = motion[np.isfinite(motion)]
    if len(motion) < 2:
        return
    still = float(np.mean(motion <= p.max_motion))
    if still >= p.share:
        level = float(np.percentile(motion, 90))
        yield Hit(
            0,
            data.signals.n - 1,
            f"the clip barely moves (the fastest 1% of the picture moves {level:.2f} px/frame)",
            confidence=min(1.0, still),
            evidence={
                "motion_p90": round(level, 3),
                "still_share": round(still, 3),
                "threshold": p.max_motion,
            },
        )


# -- MOT005 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeometryParams:
    min_residual: float = param(
        1.5,
        "median flow residual after the best single homography, px/frame at 360p; rigid "
        "scenes and the real clips stay under 1.2 outside cuts and whip pans (measured)",
    )
    min_z: float = param(6.0, "and 6 robust deviations above the clip's own median residual")
    error_layers: bool = param(
        True,
        "an error only where two rigid layers do not explain it either: the residual after "
        "the better of two homographies per point (the camera's, and one for the points it "
        "leaves out) also reaches the threshold on min_frames frames; else a warning. A "
        "hand-held whip over arms close to the camera left 9.8 px/frame to one homography and "
        "1.1-1.5 to two, a travelling wave of 2% of the frame 3.3-4.4 to two (measured)",
    )
    min_frames: int = param(
        2,
        "for 2 frames in a row: a bent background persists, while a single-frame spike is a "
        "whip pan's motion blur or a cut (the real clips' spikes are all single frames)",
    )
    join_s: float = param(
        0.1,
        "bent spans at most 0.1 s apart are one finding: a frame inside one bend may go "
        "unjudged (a ripple over a generated fork scene at 16 fps occluded 30% of the picture "
        "at its peak, which counts as a global change) or dip under the threshold, and a "
        "ripple over frames 36-45 was found as 37-40 and 42-45",
        bounds=(0.0, 10.0),
    )
    motion_factor: float = param(
        0.15,
        "or 15% of the frame's 99th-percentile motion if more: DIS errors grow with "
        "speed and motion blur (a whip pan)",
    )


@rule(
    "MOT005",
    "background-warps",
    severity="error",
    requires=["flow"],
    params=GeometryParams,
    fix=CALMER,
)
def background_warps(data: RuleInput, p: GeometryParams) -> Iterator[Hit]:
    """The background moves in a way no single camera motion explains: it bends or wobbles.

    What it detects:
        A homography is fitted (RANSAC) to flow sampled over the frame: it models any camera
        pan, tilt, zoom or rotation over a distant or flat scene. A second one is fitted to
        the points the first leaves out: a hand-held camera close to a rigid foreground (arms
        on a table) sees two planes move by different amounts, each rigid. A spike of the
        median residual after the camera's homography means the background deformed; where
        two rigid layers explain it (the residual after the better of the two per point stays
        under the threshold) it is a warning, not an error.
    Why it matters:
        Backgrounds that ripple or bend against perspective are a tell-tale of generated video.
    Known false positives:
        Strong parallax over many depths (a camera moving sideways through a cluttered
        scene), a large non-rigid foreground filling the frame, water.
    Example:
        A wave of displacement over the picture: ``MOT005 background bends (2.9 px/frame beyond
        the camera's motion)``.
    Thresholds:
        ``min_residual`` = 1.5 px/frame at 360p, ``min_z`` = 6, ``motion_factor`` = 0.15,
        ``min_frames`` = 2; spans ``join_s`` = 0.1 s apart or less are one finding.
    Fix hint:
        New seed, calmer camera motion; describe the camera move explicitly in the prompt.
    """
    s = data.signals
    residual = s[CAMERA_RESIDUAL]
    layers = np.nan_to_num(s[LAYERS_RESIDUAL], nan=0.0)
    median, mad = robust_baseline(residual)
    motion = np.nan_to_num(s[MOTION_P99], nan=0.0)
    need = np.maximum(np.maximum(p.min_residual, median + p.min_z * mad), p.motion_factor * motion)
    flags = np.nan_to_num(residual, nan=0.0) >= need
    flags &= ~global_change(data)
    grid = s[RESIDUAL_GRID]
    g = math.isqrt(grid.shape[1])
    lasting = np.zeros_like(flags)
    for start, end in spans_of(flags, gap=0):
        lasting[start : end + 1] = end - start + 1 >= p.min_frames
    for start, end in spans_of(lasting, gap=s.frames(p.join_s)):
        peak = start + int(np.nanargmax(residual[start : end + 1]))
        cells = np.nan_to_num(grid[peak], nan=0.0) >= need[peak]
        unexplained = int((layers[start : end + 1] >= need[start : end + 1]).sum())
        rigid_layers = p.error_layers and unexplained < p.min_frames
        yield Hit(
            start,
            end,
            f"background bends at frames {start}-{end} "
            f"({residual[peak]:.1f} px/frame beyond the camera's motion"
            + (
                "; two rigid layers, a near one and a far one, would explain it)"
                if rigid_layers
                else ")"
            ),
            peak=peak,
            confidence=min(1.0, residual[peak] / (2 * need[peak])),
            region=cell_region(cells, g) if cells.any() else None,
            evidence={
                "residual": round(float(residual[peak]), 2),
                "two_layers": round(float(layers[peak]), 2),
                "needed": round(float(need[peak]), 2),
                "baseline": round(float(median), 3),
            },
            severity="warning" if rigid_layers else None,
        )


# -- MOT006 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PopParams(EventParams):
    settle_frames: int = param(
        2,
        "the place must be free of other unexplained change (by min_change gray levels or "
        "more) this many frames before and after the pop: a limb or a food strand moving "
        "too fast for the flow leaves such blobs along its path on neighbouring frames "
        "(every MOT006 warning on the real clips had one 1-2 frames away, changing by 24-43 "
        "gray levels); a vanishing object leaves none (synthetic vanishings at 8-24 fps: "
        "none, the moving sprites nearby at most 14 gray levels)",
        bounds=(0, 12),
    )
    reach_speed: float = param(
        500.0,
        "how far that other change may be, in px per second at 360p, times the time "
        "between the two frames (so the reach grows with the frame interval: 62 px a "
        "frame at 8 fps, 21 px at 24 fps). Fast real motion measured: a generated "
        "street artist's arm 60 px in one frame at 8 fps (480 px/s); a passer-by behind "
        "a diner uncovering another (24 fps) 36 px in two frames "
        "(432 px/s)",
        bounds=(0.0, 100000.0),
    )
    gap_frames: int = param(
        3,
        "gone and back: content missing for at most 3 frames; a blob unexplained into the "
        "gap and another on the same place (each box's centre inside the other) out of it",
        bounds=(1, 12),
    )
    pair_match: float = param(
        0.6,
        "two blobs that agree are evidence enough for looser tests than a lone pop: each "
        "matches where the flow points and nearby under 0.6 (not 0.5; content inpainted "
        "away for a frame kept 0.58 where its surroundings were plain)",
        bounds=(-1.0, 1.0),
    )
    pair_motion: float = param(
        8.0,
        "and moves with the camera within 8 px/frame at 360p (not 6: a 10 fps swing's "
        "vanished rope dragged DIS by 6.4)",
        bounds=(0.0, 1000.0),
    )


@dataclass(frozen=True)
class GoneAndBack:
    """Content gone at the frame of the blob ``left`` and back on the same place at the frame
    of the blob ``back``."""

    left: BlobEvent
    back: BlobEvent

    @property
    def events(self) -> tuple[BlobEvent, BlobEvent]:
        return self.left, self.back


def _same_place(a: list[float], b: list[float]) -> bool:
    """Each (x, y, w, h) box's centre lies inside the other box."""
    return _boxes_overlap(_centre(a), b, margin=0.0) and _boxes_overlap(_centre(b), a, margin=0.0)


def gone_and_back(data: RuleInput, p: PopParams) -> list[GoneAndBack]:
    """Content gone for 1 to ``gap_frames`` frames and back: a blob the flow cannot explain
    where the content left and another on the same place where it returned, each a pop but for
    the other (a lone pop needs its place steady on the frames around it, and here the return
    is on them), with the looser ``pair_match`` and ``pair_motion``. What comes back must be
    what was there: its match with the frames before the gap (``returned``) beats the departed
    content's by ``min_gain`` (content that changes twice, or a brightness step out and back,
    matches its old self as well or as badly both times). The place must be free of
    other unexplained change around the two (``moving_through``: a limb too fast for the flow
    passes there), blobs inside the gap on the same place aside."""
    events = data.output(FlowOutput).events
    busy = unjudged_blobs(data)
    candidates = [
        e
        for e in events
        if not busy[int(e.frame)] and replaced_in_place(e, p, p.pair_motion, p.pair_match)
    ]
    found: list[GoneAndBack] = []
    for left in candidates:
        if any(g.left.frame <= left.frame <= g.back.frame for g in found):
            continue
        for back in candidates:
            gap = int(back.frame) - int(left.frame)
            if not 1 <= gap <= p.gap_frames or not _same_place(left.box, back.box):
                continue
            if back.returned - left.returned < p.min_gain:
                continue  # what came back is not what was there: it changed twice
            inside = [
                e
                for e in events
                if left.frame < e.frame < back.frame and _intersect(e.box, left.box)
            ]
            rest = [e for e in events if e is not left and e is not back and e not in inside]
            if moving_through(left, rest, data, p) or moving_through(back, rest, data, p):
                continue
            found.append(GoneAndBack(left, back))
            break
    return found


def moving_through(
    event: BlobEvent, events: Sequence[BlobEvent], data: RuleInput, p: PopParams
) -> bool:
    """True when other unexplained change (by ``min_change`` or more) lies on or near the
    event's box in the frames just before or after it: something moving fast passes there (too
    fast for the flow), nothing popped. Near means within ``reach_speed`` times the time
    between the frames."""
    s = data.signals
    frame, times = int(event.frame), s.time_s
    width, height = (s.width, s.height) if s.width and s.height else (1, 1)
    unit = WORKING_SHORT_SIDE / min(width, height)  # pixels of the working copy, as the flow's
    x, y, w, h = event.box
    for other in events:
        apart = int(other.frame) - frame
        if apart == 0 or abs(apart) > p.settle_frames or not 0 <= frame + apart < len(times):
            continue
        if other.change < p.min_change:
            continue  # DIS slipping on a moving sprite's edge, not content replaced
        ox, oy, ow, oh = other.box
        dx = max(0.0, max(x, ox) - min(x + w, ox + ow)) * width
        dy = max(0.0, max(y, oy) - min(y + h, oy + oh)) * height
        seconds = abs(float(times[frame + apart] - times[frame]))
        if math.hypot(dx, dy) * unit <= p.reach_speed * seconds:
            return True
    return False


@rule("MOT006", "object-pops", severity="warning", requires=["flow"], params=PopParams, fix=CALMER)
def object_pops(data: RuleInput, p: PopParams) -> Iterator[Hit]:
    """Something vanishes or appears inside the frame with nothing passing in front of it.

    What it detects:
        A compact region whose content changes completely between two frames (by
        ``min_change`` gray levels) while the flow there is about the camera's: nothing moved
        over it, so no occlusion explains the change; its detail is found neither where the
        flow points nor nearby (elsewhere would be MOT002); and the place is steady in the
        frames before and after (a place that changes all the time is boiling or fast motion
        at a low frame rate, not one thing popping): no other unexplained change of
        ``min_change`` or more within ``settle_frames`` frames on or near the box, near being
        ``reach_speed`` times the time between the frames (a limb too fast for the flow leaves
        such changes along its path). Frames next to repeated frames are not judged (a
        generator's repeat cadence makes every new frame a jump). Content gone for 1 to
        ``gap_frames`` frames and back is one finding over the gap: a blob like that where it
        left and another on the same place where it returned, what came back matching the
        frames before the gap better than what left did by ``min_gain``.
    Why it matters:
        Objects popping in or out, or passing through each other, break object permanence.
    Known false positives:
        A fast object the flow misses that crosses the place in one frame and leaves no trace
        on the frames around it, a mouth opening or a blink, lights switching on; and a morph
        (MOT001) often shows here too. It is a warning. Missed: an object that vanishes right
        next to fast motion, or fades out over several frames (MOT001 sees the fade).
    Example:
        A ball hidden for 8 frames: ``MOT006 content vanishes or appears at frame 20``; an
        object inpainted away for one frame: ``MOT006 content vanishes at frame 32 and is
        back at frame 33``.
    Thresholds:
        ``min_change`` = 18 gray levels, ``max_own_motion`` = 6 px/frame, ``pop_match`` =
        0.5, ``min_pop_area`` = 1.5% of the frame; ``settle_frames`` = 2, ``reach_speed`` =
        500 px/s at 360p (62 px a frame at 8 fps, 21 px at 24 fps); gone and back:
        ``gap_frames`` = 3, ``pair_match`` = 0.6, ``pair_motion`` = 8 px/frame, ``min_gain``
        = 0.15.
    Fix hint:
        New seed; name every object that should stay in view in the prompt.
    """
    events = data.output(FlowOutput).events
    trips = round_trips(data, p)
    returns = [g for g in gone_and_back(data, p) if not any(_on_trip(e, trips) for e in g.events)]
    for g in returns:
        left, back = int(g.left.frame), int(g.back.frame)
        change = min(g.left.change, g.back.change)
        yield Hit(
            left,
            back - 1,
            f"content vanishes at frame {left} and is back at frame {back}, with nothing "
            "in front of it",
            confidence=min(1.0, change / (2 * p.min_change)),
            region=Region.of_box(g.left.box),
            evidence={"change": change, "back_at": back},
        )
    paired = {id(e) for g in returns for e in g.events}
    for kind, event in classify_events(data, p):
        if (
            kind != "pop"
            or id(event) in paired
            or moving_through(event, events, data, p)
            or _on_trip(event, trips)
        ):
            continue
        frame = int(event.frame)
        yield Hit(
            frame,
            frame,
            f"content vanishes or appears at frame {frame} with nothing in front of it",
            confidence=min(1.0, event.change / (2 * p.min_change)),
            region=Region.of_box(event.box),
            evidence={k: getattr(event, k) for k in ("change", "stay", "back", "own_motion")},
        )


# -- MOT007 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransientParams:
    min_excess: float = param(
        3.0,
        "a cell's motion-compensated error rises 3 gray levels over its median for the clip "
        "both into the broken frames and out of them (double exposures measured 8-25)",
        bounds=(0.0, 255.0),
    )
    back_ratio: float = param(
        0.5,
        "and the frame after them compares with the frame before them within half the smaller "
        "of the two rises: the picture came back as it was (double exposures measured "
        "0.27-0.32; spikes of real fast motion, blinks and shake on clean footage 1.3 or more, "
        "since what moved does not move back)",
        bounds=(0.0, 10.0),
    )
    picture_share: float = param(
        1 / 3,
        "a break over a third of the picture or more is an error (a double exposure, a frame "
        "of other content); a smaller one, something gone and back, is a warning and must "
        "stand out twice as clearly: twice the rise, half the ratio (on clean footage, a brush "
        "stroking back and forth, an 8 fps dance and spaghetti at 16 fps rose by 3-9 gray "
        "levels with the frames around within 0.25-0.5 of that)",
        bounds=(0.0, 1.0),
    )


@rule(
    "MOT007",
    "frames-break-and-return",
    severity="error",
    requires=["flow"],
    uses=["temporal", "quality"],  # black, flat and garbage frames are TMP004's and TMP005's
    params=TransientParams,
    fix=CALMER,
)
def frames_break_and_return(data: RuleInput, p: TransientParams) -> Iterator[Hit]:
    """One to three frames break from the frames around them, which agree with each other.

    What it detects:
        A spike of the motion-compensated error into a frame and another out of a frame at
        most three later, in the same cells, while the frame after the spike, compared with
        the frame before it (flow computed for that pair), matches: the picture broke and came
        back as it was. Picture-wide, that is a double exposure (two poses blended) or a frame
        of other content slipped in; in a region, an object gone for a frame or two and back.
        Flashes and black frames (a brightness step) are FLK002's and TMP004's, decoder garbage
        TMP005's, flicker FLK001's.
    Why it matters:
        A double exposure or a flash of other content is seen at once, though it lasts 1-2
        frames; neighbouring-frame checks judge each side of it alone.
    Known false positives:
        Something that passes in front for 1-3 frames and leaves (a bird, a thrown object)
        in a region: a warning there. A lightning strike or a muzzle flash changes more than
        brightness. Not seen: a break longer than three frames (MOT001, TMP003 see its sides).
    Example:
        A frame blended half and half with one 0.4 s later: ``MOT007 the picture breaks at
        frame 44 and returns at 45 (+24.9 gray levels; the frames around it differ by 1.9)``.
    Thresholds:
        ``min_excess`` = 3 gray levels, ``back_ratio`` = 0.5, ``picture_share`` = 1/3 (an error
        from there; a region is a warning and needs twice the rise at half the ratio); at most
        3 frames (the flow analyzer's reach).
    Fix hint:
        New seed; lower motion strength.
    """
    s = data.signals
    grid = s[ERROR_GRID]
    g = math.isqrt(grid.shape[1])
    median, _ = robust_baseline(grid)
    excess = np.nan_to_num(grid - median, nan=0.0)
    returned = s[RETURN_GRID] - median
    shift = np.abs(np.nan_to_num(s[BRIGHTNESS_SHIFT], nan=0.0))
    skip = explained_frames(s)
    claimed = flicker_claims(data)
    for back in np.flatnonzero(np.isfinite(s[RETURN_FROM])):
        before = int(s[RETURN_FROM][back])
        first = before + 1
        if max(shift[first], shift[back]) >= GLOBAL_BRIGHTNESS or skip[before : back + 1].any():
            continue
        rise = np.minimum(excess[first], excess[back])
        around = np.nan_to_num(returned[back], nan=np.inf)
        unclaimed = ~claimed[first] & ~claimed[back]
        cells = (rise >= p.min_excess) & (around <= p.back_ratio * rise) & unclaimed
        picture = cells.mean() >= p.picture_share
        if not picture:  # a region must stand out twice as clearly
            cells &= (rise >= 2 * p.min_excess) & (around <= p.back_ratio / 2 * rise)
        if not cells.any():
            continue
        worst = float(rise[cells].max())
        differ = float(np.nanmax(returned[back][cells]))
        what = "the picture" if picture else "a region"
        yield Hit(
            first,
            back - 1,
            f"{what} breaks at frame {first} and returns at {back} (+{worst:.1f} gray levels; "
            f"the frames around it differ by {max(0.0, differ):.1f})",
            confidence=min(1.0, worst / (4 * p.min_excess)),
            region=None if picture else cell_region(cells, g),
            evidence={
                "rise": round(worst, 2),
                "around": round(differ, 2),
                "cells": int(cells.sum()),
                "compared_with": before,
            },
            severity=None if picture else "warning",
        )
