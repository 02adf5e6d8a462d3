"""FLK: brightness and texture that change with no motion to explain them."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vidlint.analyzers.flicker import LUMINANCE_GRID
from vidlint.analyzers.flow.keys import (
    ERROR_GRID,
    STATIC_GRID,
)
from vidlint.report.model import Region
from vidlint.rules.base import Fix, Hit, RuleInput, family, oscillations, rule, runs
from vidlint.rules.motion import (
    FLICKER_CELL_SWING,
    FLICKER_LEG_S,
    FLICKER_SWING,
    cell_region,
    flicker_claims,
    flickering,
    global_change,
    spans_of,
)
from vidlint.settings import param

family("FLK", "flicker")

STEADIER = Fix(
    negative_prompt=("flicker", "flickering", "strobing"),
    prompt=("steady, even lighting",),
    params={"motion_strength": 0.7},
    why="flicker: new seed, pin lighting and style, lower motion (research, sec. 5)",
)


@dataclass(frozen=True)
class FlickerParams:
    min_swing: float = param(
        FLICKER_SWING,
        "the picture's motion-compensated brightness swings by 3 gray levels or more; on the "
        "benchmark's clean tune footage no run of swings reaches it",
    )
    min_cell_swing: float = param(
        FLICKER_CELL_SWING,
        "a regional flicker: a cell of the flow grid swings by 4.5 (a cell is noisier than "
        "the picture)",
    )
    min_cells: int = param(
        2, "in 2 cells at once at least: a lone cell is a blinking eye or a moving edge"
    )
    max_leg_s: float = param(
        FLICKER_LEG_S,
        "each swing within 0.25 s: flicker is 2 Hz or faster; slower pumping is lighting or "
        "motion (a child swinging towards the camera at 1.5 Hz moved a dark seat in and out "
        "of the cells below her, 5 gray levels a swing)",
    )
    min_swings: int = param(
        3, "three swings in a row (up-down-up): one step is an exposure change, a pair a flash"
    )


@rule(
    "FLK001",
    "luminance-flicker",
    severity="error",
    requires=["flow"],
    params=FlickerParams,
    fix=STEADIER,
)
def luminance_flicker(data: RuleInput, p: FlickerParams) -> Iterator[Hit]:
    """The brightness of the picture, or of one region of it, pumps up and down with no motion
    to explain it.

    What it detects:
        The brightness change between each frame and the previous frame warped onto it by
        optical flow (so moving content does not count), summed along the clip into a
        brightness level for the whole picture and for each cell of the flow grid. Three
        swings or more in a row, each of at least ``min_swing`` gray levels and each within
        ``max_leg_s``, are flicker: over the whole picture, or over the cells where
        ``min_cells`` swing together (a lamp, a window, one object). A gain that pumps at
        3-6 Hz is found as well as one that alternates every frame.
    Why it matters:
        Brightness flicker is one of the most visible defects of generated video and makes a
        clip unusable.
    Known false positives:
        Strobe lights and lightning in the scene; fast-blinking screens. A region is not
        judged on frames where the flow does not hold (violent shake, heavy blur).
    Example:
        Brightness pumping by 10% at 4 Hz: ``FLK001 brightness pumps up and down 8 times at
        frames 27-57 (+-9 gray levels, 4.1 Hz)``.
    Thresholds:
        ``min_swing`` = 3 gray levels (``min_cell_swing`` = 4.5 in a region of ``min_cells``
        = 2 cells at least), ``min_swings`` = 3, ``max_leg_s`` = 0.25 s. A region's flicker
        is a warning: a few cells' means are noisier than the picture's.
    Fix hint:
        New seed, lower motion strength; as a last resort a deflicker filter.
    """
    s = data.signals
    found = flickering(data, p.min_swing, p.min_cell_swing, p.max_leg_s, p.min_swings)
    leg = s.frames(p.max_leg_s)
    whole = np.zeros(s.n, bool)
    for turns in found.picture:
        whole[max(0, turns[0] - leg) : turns[-1] + leg + 1] = True
        yield flicker_hit(s.fps, found.level, turns, None)
    cells = found.cells & ~whole[:, None]
    g = math.isqrt(cells.shape[1])
    for start, end in runs(cells.sum(axis=1) >= p.min_cells):
        region = cells[start : end + 1].any(axis=0)
        level = found.levels[:, region].mean(axis=1)
        for turns in oscillations(level, p.min_swing, leg, p.min_swings):
            if start - leg <= turns[0] and turns[-1] <= end + leg:
                yield flicker_hit(s.fps, level, turns, cell_region(region, g))


def flicker_hit(fps: float, level: np.ndarray, turns: list[int], region: Region | None) -> Hit:
    """One FLK001 finding from the turning points of a brightness level (an error over the
    whole picture, a warning in a region)."""
    start, end = turns[0], turns[-1]
    legs = np.abs(np.diff(level[turns]))
    amplitude = float(legs.max()) / 2 if len(legs) else 0.0
    hz = (len(turns) - 1) / 2 / max((end - start) / fps, 1e-6) if fps else 0.0
    where = "" if region is None else " in one region"
    return Hit(
        start,
        end,
        f"brightness pumps up and down {len(turns) - 1} times{where} at frames {start}-{end} "
        f"(+-{amplitude:.0f} gray levels, {hz:.1f} Hz)",
        peak=start + int(np.argmax(np.abs(level[start : end + 1] - level[start]))),
        confidence=min(1.0, amplitude / (3 * FLICKER_SWING)),
        region=region,
        evidence={"amplitude": round(amplitude, 2), "hz": round(hz, 2), "swings": len(turns) - 1},
        severity=None if region is None else "warning",
    )


@dataclass(frozen=True)
class FlashParams:
    min_change: float = param(
        0.1,
        "a flash transition changes relative luminance by 0.1 of white: the guideline's "
        "20 cd/m2 on a 200 cd/m2 display (ITU-R BT.1702; no display calibration is known, "
        "so 200 cd/m2 white is assumed)",
    )
    max_dark: float = param(
        0.8,
        "the darker state must be under 0.8 of white (the guideline's 160 cd/m2 on the "
        "same assumed display)",
    )
    min_area: float = param(
        0.25, "the transition covers over 25% of the screen (ITU-R BT.1702, Ofcom, WCAG 2.3.1)"
    )
    max_flashes: int = param(3, "more than 3 flashes in any 1 second fails (Harding / PSE)")


@rule(
    "FLK002",
    "photosensitive-flash",
    severity="error",
    requires=["flicker"],
    params=FlashParams,
    fix=STEADIER,
)
def photosensitive_flash(data: RuleInput, p: FlashParams) -> Iterator[Hit]:
    """More than three general flashes in one second: a photosensitive-epilepsy risk.

    What it detects:
        The broadcast flash test, simplified: per cell of an 8x8 grid, relative luminance goes
        through alternating rises and falls of at least 0.1 (of white) with the darker state
        under 0.8; a transition counts for the frame when it covers over 25% of the screen; a
        flash is a pair of opposing transitions; more than 3 flashes in any 1 s window fails.
    Why it matters:
        Broadcasters (Ofcom, ITU-R BT.1702) and WCAG 2.3.1 forbid it; publishing such a clip is
        a health risk and gets it rejected.
    Known false positives:
        None known beyond the simplifications: luminance is the sRGB gray level mapped to
        linear light on an assumed 200 cd/m2 display; red flashes and spatial patterns are not
        judged; the area is measured on 8x8 cells, not on the guideline's 10-degree field.
    Example:
        The picture flashing white every 3 frames at 24 fps: ``FLK002 8 flashes in 1 s``.
    Thresholds:
        ``min_change`` = 0.1, ``max_dark`` = 0.8, ``min_area`` = 0.25, ``max_flashes`` = 3.
    Fix hint:
        Regenerate with a new seed; avoid strobes and lightning in the prompt.
    """
    s = data.signals
    grid = np.nan_to_num(s[LUMINANCE_GRID], nan=0.0)
    n, cells = grid.shape
    transitions = np.zeros((n, cells), np.int8)  # +1 rise / -1 fall completed at frame t
    for cell in range(cells):
        values = grid[:, cell]
        low = high = values[0]
        direction = 0
        for t in range(1, n):
            v = values[t]
            high, low = max(high, v), min(low, v)
            if direction >= 0 and high - v >= p.min_change and v < p.max_dark:
                transitions[t, cell] = -1  # fell from the high
                direction, low, high = -1, v, v
            elif direction <= 0 and v - low >= p.min_change and low < p.max_dark:
                transitions[t, cell] = 1
                direction, high, low = 1, v, v
    rise = (transitions == 1).mean(axis=1) > p.min_area
    fall = (transitions == -1).mean(axis=1) > p.min_area
    events = np.flatnonzero(rise | fall)
    kinds = np.where(rise[events], 1, -1)
    # a flash is a pair of opposing transitions, from the first to the second
    flashes = [
        (int(events[i - 1]), int(events[i]))
        for i in range(1, len(events))
        if kinds[i] != kinds[i - 1]
    ]
    window = s.frames(1.0)
    flagged = np.zeros(n, bool)
    worst = 0
    for i, (begin, _) in enumerate(flashes):
        inside = [f for f in flashes[i:] if f[1] - begin < window]
        if len(inside) > p.max_flashes:
            flagged[begin : inside[-1][1] + 1] = True
            worst = max(worst, len(inside))
    for start, end in spans_of(flagged, gap=window):
        count = sum(start <= f[1] <= end for f in flashes)
        yield Hit(
            start,
            end,
            f"{worst} flashes within 1 s at frames {start}-{end} "
            f"({count} in all): photosensitive-epilepsy risk",
            peak=start,
            confidence=1.0,
            evidence={"flashes_per_second": worst, "flashes": count, "limit": p.max_flashes},
        )


@dataclass(frozen=True)
class BoilParams:
    window_s: float = param(0.5, "texture flicker is judged over half-second windows")
    min_error: float = param(
        10.0,
        "the cell's motion-compensated error on static content is at least 10 gray "
        "levels (H.264 at usual quality and camera noise leave 1-3; busy real scenes "
        "reach 9 in a few cells, measured)",
    )
    ratio: float = param(
        4.0,
        "and 3x the median cell of the same window: boiling is local, while grain or "
        "compression noise spread over the whole frame is not flagged",
    )
    min_static: float = param(0.6, "the cell is static (moves with the camera) in 60% of frames")
    min_static_clip: float = param(
        0.5,
        "of the window, and in half the clip's frames: a moving subject that pauses is still "
        "for a moment, not a still part of the picture (a generated child on a swing, still "
        "for 3 frames at the top of its arc in a 10 fps clip, 4 of 15 in all)",
        bounds=(0.0, 1.0),
    )


@rule(
    "FLK003",
    "texture-boiling",
    severity="warning",
    requires=["flow"],
    params=BoilParams,
    fix=STEADIER,
)
def texture_boiling(data: RuleInput, p: BoilParams) -> Iterator[Hit]:
    """Fine texture in still parts of the picture shimmers or boils from frame to frame.

    What it detects:
        In cells that move only with the camera (in most of the half-second window and in
        half the clip: a moving subject pausing is not a still part), the per-pixel
        motion-compensated error (without the area filter MOT001 uses) stays high over half
        a second, several times the level of the rest of the frame.
    Why it matters:
        Boiling textures (walls, grass, hair re-drawn every frame) are the texture-level
        flicker of diffusion video.
    Known false positives:
        Real fine motion the flow cannot resolve: leaves in wind, water, film grain applied to
        only part of the picture. It is a warning. Cells whose brightness pumps up and down are
        FLK001's flicker, not boiling.
    Example:
        Fine noise re-drawn every frame in the top-left quarter: ``FLK003 texture boils at
        frames 10-39``.
    Thresholds:
        ``min_error`` = 10 gray levels, ``ratio`` = 4, ``window_s`` = 0.5, ``min_static`` = 0.6,
        ``min_static_clip`` = 0.5.
    Fix hint:
        New seed; pin the style in the prompt; a still source image for image-to-video.
    """
    s = data.signals
    error = s[ERROR_GRID]
    static = np.nan_to_num(s[STATIC_GRID], nan=0.0)
    g = math.isqrt(error.shape[1])
    window = max(3, s.frames(p.window_s))
    busy = global_change(data)
    judged = ~busy
    still_in_clip = (static[judged] > 0.5).sum(axis=0) >= p.min_static_clip * max(1, judged.sum())
    flagged = np.zeros(error.shape, bool)
    for start in range(1, max(2, s.n - window + 1), max(1, window // 2)):
        part = slice(start, min(s.n, start + window))
        keep = ~busy[part]
        if keep.sum() < 3:
            continue
        values = np.where(static[part][keep] > 0.5, error[part][keep], np.nan)
        with warnings.catch_warnings():  # cells never static in the window give NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            level = np.nanmedian(values, axis=0)
            typical = np.nanmedian(level)
        still = ((static[part][keep] > 0.5).mean(axis=0) >= p.min_static) & still_in_clip
        cells = still & (np.nan_to_num(level) >= max(p.min_error, p.ratio * typical))
        flagged[part] |= cells & (np.nan_to_num(error[part]) >= p.min_error)
    flagged &= ~flicker_claims(data)  # brightness pumping up and down is FLK001's
    frames = flagged.any(axis=1)
    for start, end in spans_of(frames, gap=window // 2):
        cells = flagged[start : end + 1].any(axis=0)
        worst = float(np.nanmax(np.where(flagged[start : end + 1], error[start : end + 1], np.nan)))
        yield Hit(
            start,
            end,
            f"texture boils at frames {start}-{end} in still parts of the "
            f"picture (error up to {worst:.1f} gray levels)",
            confidence=min(1.0, worst / (3 * p.min_error)),
            region=cell_region(cells, g),
            evidence={"error": round(worst, 2), "cells": int(cells.sum())},
        )
