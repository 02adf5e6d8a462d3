"""TMP: the integrity of the frame sequence itself (freezes, repeats, cuts, black, corrupt frames,
timing)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidlint.analyzers.quality import BLOCKINESS
from vidlint.analyzers.temporal.keys import (
    BLOCK_DIFF,
    CONTENT,
    CUT_OCCLUDED,
    DARK_FRACTION,
    DIFF,
    FROZEN,
    LUMA,
    LUMA_STD,
    SMEAR,
)
from vidlint.rules.base import Fix, Hit, RuleInput, family, rule, runs
from vidlint.settings import param
from vidlint.signals import Signals

family("TMP", "temporal integrity")

RESEED = Fix(why="other temporal defects: a new seed")


def repeat_groups(signals: Signals, p: RepeatParams) -> np.ndarray:
    """``repeat[i]`` is True when frame i shows the same picture as frame i-1. Each run of nearly
    unchanged frames is one held picture; it is a repeat only when the clip enters it and leaves
    it with clear changes: its differences must be under ``max_relative`` times the largest change
    among the ``context_frames`` before the run AND among those after it. So a near-still real
    shot has no repeats even next to one sharp change (a head turning after a still moment)."""
    diff = np.nan_to_num(signals[DIFF], nan=np.inf)
    block = np.nan_to_num(signals[BLOCK_DIFF], nan=np.inf)
    still = (diff <= p.max_diff) & (block <= p.max_block_diff)
    repeat = np.zeros(len(diff), dtype=bool)
    for start, end in runs(still):
        before = diff[max(0, start - p.context_frames) : start]
        after = diff[end + 1 : end + 1 + p.context_frames]
        sides = [
            float(side[np.isfinite(side)].max())
            for side in (before, after)
            if np.isfinite(side).any()
        ]  # a side cut off by the clip's edge is not judged
        if sides:
            run = slice(start, end + 1)
            repeat[run] = diff[run] <= p.max_relative * min(sides)
    return repeat


def explained_frames(signals: Signals) -> np.ndarray:
    """Frames TMP004 (black or flat) and TMP005 (decoder garbage) explain, which the other rules
    leave alone: entering a black frame is not a cut, a held broken picture is not a stutter."""
    defaults = BlankParams()
    mask = (signals[DARK_FRACTION] >= defaults.black_fraction) | (
        signals[LUMA_STD] <= defaults.blank_std
    )
    for start, end in garbage_spans(signals):
        mask[start : end + 1] = True
    return mask


def cadence_of(repeat: np.ndarray, coverage: float = 0.8) -> int:
    """k when most frames sit in groups of exactly k identical frames (a generator that shows
    every frame k times), else 1."""
    sizes = []
    start = 0
    for i in range(1, len(repeat) + 1):
        if i == len(repeat) or not repeat[i]:
            sizes.append(i - start)
            start = i
    counted = Counter(sizes)
    size, frames = max(((s, s * c) for s, c in counted.items()), key=lambda item: item[1])
    return size if size >= 2 and frames >= coverage * len(repeat) else 1


@dataclass(frozen=True)
class RepeatParams:
    max_diff: float = param(
        0.3,
        "mean absolute gray difference (0-255) under which two frames are the same picture "
        "(the evaluation set's notes use 0.3)",
    )
    max_block_diff: float = param(
        5.0,
        "no 8x8 block may differ more than this per pixel: ffmpeg mpdecimate's lo (64*5 per block)",
    )
    max_relative: float = param(
        0.35,
        "and under this share of the largest change on each side. Measured: true repeats "
        "0.00-0.09 (the evaluation set's pull-down, 3x cadence, mpeg4 duplicates), 0.21 "
        "for a synthetic repeat in a slow 480x272 zoom; near-still real frames 0.45 and up "
        "(a real talking selfie; its frame 268 measures 0.67)",
    )
    context_frames: int = param(
        3,
        "frames on each side of a held picture that show the change into and out of it: 3 "
        "reaches past the 2 repeats of a 3x cadence and a 4-frame hold",
    )
    stutter_s: float = param(
        0.5,
        "lone repeats within half a second of each other read as one stutter and are one "
        "finding; repeats further apart are findings of their own, each at its frames",
        bounds=(0.0, 60.0),
    )


@dataclass(frozen=True)
class FreezeParams(RepeatParams):
    min_duration_s: float = param(
        0.25,
        "ffmpeg freezedetect waits 2 s, made for broadcast; in a 2-10 s generated clip a "
        "quarter second of no change is already a visible stall",
    )
    min_frames: int = param(3, "a frame shown twice is a duplicate (TMP002), not a freeze")
    refresh_diff: float = param(
        2.0,
        "a frozen picture re-encoded across a key frame changes by about 1.3 gray levels "
        "once (mpeg4, measured); frozen runs joined by up to 3 changes this small are one "
        "freeze when one of them is long enough to be a freeze on its own",
    )
    in_step: int = param(
        3,
        "3 pictures or more held equally long back to back are a local repeat cadence, not "
        "freezes: at 8 fps a picture shown 3 times lasts 0.375 s, longer than a freeze's "
        "quarter second, yet the clip moves on every third frame",
        bounds=(2, 1000),
    )


@rule(
    "TMP001",
    "frozen-span",
    severity="error",
    requires=["temporal"],
    uses=["quality"],  # garbage spans (TMP005) read its blockiness
    params=FreezeParams,
    fix=Fix(
        negative_prompt=("static", "still frame", "frozen frame"),
        prompt=("continuous natural motion throughout",),
        why="freezes: Wan's default negatives name 'static, still frame'",
    ),
)
def frozen_span(data: RuleInput, p: FreezeParams) -> Iterator[Hit]:
    """The picture stops changing for a stretch of the clip.

    What it detects:
        A run of frames that all match the run's first frame within ffmpeg freezedetect's noise
        level, longer than the clip's own repeat cadence and at least ``min_duration_s``.
        Frozen runs split by re-encoding refreshes count as one freeze when one of them is a
        freeze on its own; short holds over slow motion (each picture shown 2-3 times), and
        pictures held equally long back to back (``in_step``, a local cadence at a low frame
        rate), are TMP002's.
    Why it matters:
        A generator that stalls (or a pipeline that pads with copies) leaves a clip that stops
        dead and restarts; viewers see it at once.
    Known false positives:
        Genuinely still shots (a still life with no camera move) and title cards. Ignore TMP001
        for such clips with an ``[[overrides]]`` glob.
    Example:
        A 5 s clip whose frames 40-60 are the same picture: ``TMP001 frozen for 21 frames``.
    Thresholds:
        ``temporal.freeze_noise`` = 0.001 (ffmpeg freezedetect ``n``), ``min_duration_s`` = 0.25
        (freezedetect's ``d`` is 2 s, too long for short clips), ``min_frames`` = 3.
    Fix hint:
        Regenerate with a new seed; if the stall is at the end, generate a shorter clip.
    """
    s = data.signals
    for first, end, needed, cadence in freezes(s, p):
        length = end - first + 1
        yield Hit(
            first,
            end,
            f"picture frozen for {length} frames "
            f"({s.time_s[end] - s.time_s[first] + s.seconds(1):.2f} s)",
            peak=first,
            confidence=min(1.0, length / (2 * needed)),
            evidence={"frames": length, "needed": needed, "cadence": cadence},
        )


def frames_for_a_freeze(s: Signals, p: FreezeParams, cadence: int) -> int:
    """How many frames one picture must be held to be a freeze; shorter holds are repeats."""
    return max(p.min_frames, s.frames(p.min_duration_s), 2 * cadence)


def freezes(s: Signals, p: FreezeParams | None = None) -> list[tuple[int, int, int, int]]:
    """(first, last, frames needed, cadence) of each freeze TMP001 reports; TMP002 leaves the
    repeats inside them alone."""
    p = p or FreezeParams()
    frozen = s[FROZEN] > 0.5
    diff = np.nan_to_num(s[DIFF], nan=np.inf)
    cadence = cadence_of(repeat_groups(s, p))
    needed = frames_for_a_freeze(s, p, cadence)
    spans: list[list[int]] = []  # [first, last, longest held run]
    for start, end in runs(frozen):
        first = start - 1  # the run's reference frame is the one before its first match
        held = end - first + 1
        previous_end = spans[-1][1] if spans else -10
        gap = diff[previous_end + 1 : first + 1]
        if 0 < first - previous_end <= 3 and gap.max() <= p.refresh_diff:
            # frozen again after a change or two this small: one freeze, re-encoded
            spans[-1][1:] = [end, max(spans[-1][2], held)]
        else:
            spans.append([first, end, held])
    explained = explained_frames(s)
    stepped = {hold for row in held_in_step(s, p) for hold in row}
    return [
        (first, end, needed, cadence)
        for first, end, longest in spans
        # short holds only, however many: a repeat cadence over slow motion, TMP002's
        if longest >= needed
        # a black frame or a corrupt picture held by the decoder is TMP004's or TMP005's
        and not explained[first + 1 : end + 1].all()
        # pictures held alike back to back are a local cadence, TMP002's
        and (first, end) not in stepped
    ]


def held_in_step(s: Signals, p: FreezeParams | None = None) -> list[list[tuple[int, int]]]:
    """Rows of ``in_step`` or more pictures held equally long back to back, each picture as
    (first, last): each frame shown k times over a stretch (a generator's or a converter's
    local cadence), however long k is at a low frame rate. These are repeats (TMP002), not
    freezes: the clip moves on every k frames."""
    p = p or FreezeParams()
    holds = [(start - 1, end) for start, end in runs(s[FROZEN] > 0.5)]
    rows: list[list[tuple[int, int]]] = []
    row: list[tuple[int, int]] = []
    for hold in [*holds, (-10, -10)]:
        if row and hold[0] == row[-1][1] + 1 and hold[1] - hold[0] == row[-1][1] - row[-1][0]:
            row.append(hold)
            continue
        if len(row) >= p.in_step:
            rows.append(row)
        row = [hold]
    return rows


@rule(
    "TMP002",
    "repeated-frames",
    severity="warning",
    requires=["temporal"],
    uses=["quality"],  # garbage spans (TMP005) read its blockiness
    params=RepeatParams,
    fix=Fix(
        negative_prompt=("stutter", "repeated frames"),
        why="repeats come from frame interpolation or pull-down: reseed, then ask for smooth "
        "motion",
    ),
)
def repeated_frames(data: RuleInput, p: RepeatParams) -> Iterator[Hit]:
    """Frames shown more than once: a steady repeat cadence or irregular stutter.

    What it detects:
        Frames identical to the frame before them: nearly no difference, in a held picture that
        the clip enters and leaves with clear changes (see ``repeat_groups``). When most of the
        clip repeats every frame k times it reports the cadence once ("every frame shown 3x":
        generator-native repetition, the clip really moves at fps/k); a stretch where pictures
        are held as long as a freeze but equally long back to back, as one local cadence
        ("each picture shown 3x at frames 16-24"); otherwise each stretch of stutter, saying
        when the repeats are periodic (frame-rate conversion pull-down).
    Why it matters:
        Repeats make motion judder; a repeat cadence means the clip is really at a lower frame
        rate than it claims.
    Known false positives:
        A still moment in real footage between two clear moves on both sides can look like a
        repeat. A near-still stretch (a talking head holding still before it turns) is not
        flagged: its frames barely change on at least one side. Runs long enough to be a
        freeze are left to TMP001.
    Example:
        AnimateDiff v1 GIFs show each of 16 frames 3 times: ``TMP002 every frame shown 3x``.
    Thresholds:
        ``max_diff`` = 0.3 gray levels, ``max_block_diff`` = 5 per pixel per 8x8 block (ffmpeg
        mpdecimate's ``lo``), ``max_relative`` = 0.35 of the change on each side within
        ``context_frames`` = 3 (measured on the evaluation set); lone repeats within
        ``stutter_s`` = 0.5 s of each other are one stutter.
    Fix hint:
        Export at the generator's native frame rate, or interpolate frames instead of repeating.
    """
    s = data.signals
    repeat = repeat_groups(s, p) & ~explained_frames(s)
    for first, end, _, _ in freezes(s):
        # TMP001 reports these; the frame after a freeze that repeats it is the freeze's tail
        # (re-encoding can lift the last frozen frame just over the freeze noise)
        repeat[first : end + 2] = False
    cadence = cadence_of(repeat)
    if cadence > 1:
        unique = int((~repeat).sum())
        yield Hit(
            0,
            s.n - 1,
            f"every frame shown {cadence}x ({unique} unique frames of {s.n}): "
            f"motion runs at {s.fps / cadence:.1f} fps",
            confidence=0.9,
            evidence={"cadence": cadence, "unique_frames": unique, "frames": s.n},
        )
        return
    needed = frames_for_a_freeze(s, FreezeParams(), cadence)
    for row in held_in_step(s):  # held alike back to back: a local cadence, not freezes
        first, end = row[0][0], row[-1][1]
        shown = row[0][1] - row[0][0] + 1
        if shown < needed:  # short holds: the stutter below reports them
            continue
        repeat[first : end + 1] = False
        yield Hit(
            first,
            end,
            f"each picture shown {shown}x at frames {first}-{end}: motion runs at "
            f"{s.fps / shown:.1f} fps there",
            confidence=0.8,
            evidence={"cadence": shown, "pictures": len(row)},
        )
    short = np.zeros_like(repeat)
    for start, end in runs(repeat):
        if end - start + 2 < needed:  # a picture held this long is a freeze, TMP001's
            short[start : end + 1] = True
    events = np.flatnonzero(short)
    if len(events) == 0:
        return
    gaps = np.diff(events)
    period = float(np.median(gaps)) if len(gaps) else 0.0
    periodic = len(events) >= 4 and np.mean(np.abs(gaps - period) <= 1) >= 0.7
    if periodic:
        yield Hit(
            int(events[0]),
            int(events[-1]),
            f"one frame in {period:.0f} is repeated ({len(events)} repeats): "
            "frame-rate conversion pull-down",
            peak=int(events[0]),
            confidence=0.8,
            evidence={"repeats": len(events), "period_frames": round(period, 2)},
        )
        return
    window = s.frames(p.stutter_s)
    cluster = [int(events[0])]
    for index in map(int, events[1:]):
        if index - cluster[-1] <= window:
            cluster.append(index)
            continue
        yield _stutter(cluster)
        cluster = [index]
    yield _stutter(cluster)


def _stutter(cluster: list[int]) -> Hit:
    frames = ", ".join(map(str, cluster[:8])) + (" ..." if len(cluster) > 8 else "")
    return Hit(
        cluster[0],
        cluster[-1],
        f"{len(cluster)} repeated frame(s): stutter at {frames}",
        peak=cluster[0],
        confidence=min(1.0, 0.5 + 0.1 * len(cluster)),
        evidence={"repeats": len(cluster), "frames": cluster},
    )


@dataclass(frozen=True)
class CutParams:
    content_threshold: float = param(
        27.0, "PySceneDetect ContentDetector's default threshold on its HSV content score"
    )
    adaptive_ratio: float = param(
        3.0,
        "PySceneDetect AdaptiveDetector's default: the score must be 3x the mean of its "
        "2 neighbours on each side, so steady fast motion is not a cut",
    )
    min_occluded: float = param(
        0.4,
        "a cut leaves most pixels without a consistent forward-backward flow match "
        "(0.61-0.81 at the evaluation set's cuts), a blurred whip pan keeps them (0.14)",
    )
    max_flash_s: float = param(
        0.125,
        "a flash (a camera flash, a strobe, a lightning frame) lasts a frame or three; the "
        "jump into it and the jump back are not two cuts",
    )
    min_flash_change: float = param(
        0.1,
        "the flash moves mean brightness by at least a tenth of full scale, the size of a "
        "flash transition in the photosensitivity guideline (FLK002's min_change)",
    )
    flash_return: float = param(
        0.25,
        "and afterwards the picture is back within a quarter of that excursion of its "
        "brightness before it: a cut to a brighter or darker shot does not come back",
    )


@rule(
    "TMP003",
    "scene-cut",
    severity="error",
    requires=["temporal"],
    uses=["quality"],  # garbage spans (TMP005) read its blockiness
    params=CutParams,
    fix=Fix(
        negative_prompt=("scene cut", "transition", "multiple shots"),
        prompt=("single continuous shot, no cuts",),
        why="unwanted cuts: say 'single continuous shot', drop multi-shot wording "
        "(integrations research, section 5)",
    ),
    thresholds={"temporal.content": "content_threshold"},
)
def scene_cut(data: RuleInput, p: CutParams) -> Iterator[Hit]:
    """A hard cut or scene jump inside what should be one shot.

    What it detects:
        Frames whose content score (PySceneDetect's HSV difference to the previous frame) is
        above the ContentDetector threshold and well above its neighbours (AdaptiveDetector's
        ratio; the neighbours are the nearest frames that are not repeats, since a held frame
        scores 0 and the jump after it carries all its showings' motion). The reported frame
        is the first frame of the new shot.
    Why it matters:
        A generated clip is one shot; a jump means the generator lost the scene, and the clip
        cannot be cut around without losing its middle.
        A candidate whose pixels mostly still match across the two frames by forward-backward
        optical flow is motion, not a cut, and is dropped (the temporal analyzer runs that
        check on every frame whose content score reaches its ``cut_check_score``, 27). The
        jumps into and out of a flash (a brief brightening or darkening that comes back, see
        ``flash_frames``) are not cuts either: FLK002 judges flashes; nor is the jump where a
        freeze ends and the picture catches up with the motion (TMP001's).
    Known false positives:
        Real edited footage (set ``ignore = ["TMP003"]`` for it in an ``[[overrides]]`` glob).
        A flash longer than ``max_flash_s``. With ``content_threshold`` set under the
        analyzer's ``cut_check_score``, the candidates in between are not checked with flow.
    Example:
        A clip that jumps from a street to a beach at frame 60: ``TMP003 scene cut at frame 60``.
    Thresholds:
        ``content_threshold`` = 27 (ContentDetector), ``adaptive_ratio`` = 3.0
        (AdaptiveDetector, window 2), ``min_occluded`` = 0.4 (measured on the evaluation set);
        flashes: ``max_flash_s`` = 0.125, ``min_flash_change`` = 0.1, ``flash_return`` = 0.25.
    Fix hint:
        Ask for a single continuous shot; regenerate with a new seed.
    """
    s = data.signals
    content = np.nan_to_num(s[CONTENT], nan=0.0)
    # entering or leaving black, garbage or a flash is not a cut
    flashes = flash_frames(s, p.max_flash_s, p.min_flash_change, p.flash_return)
    explained = explained_frames(s) | flashes
    thawed = {end + 1 for _, end, _, _ in freezes(s)}  # the picture catching up: TMP001's
    occluded = s[CUT_OCCLUDED]
    repeated = s[FROZEN] > 0.5
    for index in np.flatnonzero(content >= p.content_threshold):
        index = int(index)
        if explained[index] or explained[index - 1] or index in thawed:
            continue
        if occluded[index] < p.min_occluded:  # NaN (not checked) compares False
            continue  # the flow still matches most pixels: fast motion, not a new shot
        neighbours = moving_neighbours(content, repeated, index)
        ratio = content[index] / max(1e-6, float(np.mean(neighbours))) if neighbours else math.inf
        if ratio >= p.adaptive_ratio:
            yield Hit(
                index,
                index,
                f"scene cut at frame {index} (content score "
                f"{content[index]:.1f}, {min(ratio, 99):.1f}x its neighbours)",
                confidence=min(1.0, content[index] / (2 * p.content_threshold)),
                evidence={
                    "content": round(float(content[index]), 2),
                    "threshold": p.content_threshold,
                    "ratio": round(min(ratio, 99.0), 2),
                    **(
                        {"occluded": round(float(occluded[index]), 3)}
                        if np.isfinite(occluded[index])
                        else {}
                    ),
                },
            )


def moving_neighbours(content: np.ndarray, repeated: np.ndarray, index: int) -> list[float]:
    """The content scores of the two frames on each side of ``index`` that are not repeats of
    their predecessor: a frame shown twice or three times scores 0, and the jump after it
    carries the motion of all its showings, so next to repeats every jump would read as a
    cut (a jogger held 2-3 frames at a time scored 99x its neighbours)."""
    found = []
    for step in (-1, 1):
        j, taken = index + step, 0
        while 1 <= j < len(content) and taken < 2:
            if not repeated[j]:
                found.append(float(content[j]))
                taken += 1
            j += step
    return found


def cut_frames(data: RuleInput) -> list[int]:
    """The first frames of new shots, as TMP003 finds them (none when the temporal analyzer did
    not run). What changes at a cut changed with the shot: TMP003 reports it, and the rules
    that compare frames with a reference from earlier leave it alone. Seven rules ask for the
    same clip's cuts, so the last clip's answer is kept (by the identity of its signals)."""
    if CONTENT not in data.signals:
        return []
    signals, cuts = _last_cuts[0]  # one tuple, read and replaced whole: safe across threads
    if signals is not data.signals:
        cuts = [hit.start for hit in scene_cut(data, CutParams())]
        _last_cuts[0] = (data.signals, cuts)
    return list(cuts)


_last_cuts: list[tuple[Any, list[int]]] = [(None, [])]


def flash_frames(s: Signals, longest_s: float, min_change: float, back_within: float) -> np.ndarray:
    """Frames inside a flash: a run of at most ``longest_s`` all brighter (or all darker) than
    the frame before it by ``min_change`` (a share of full scale), after which the brightness
    comes back within ``back_within`` of the excursion. TMP003 leaves the jumps in and out to
    FLK002; the BOD rules do not judge a body under the light."""
    luma = np.nan_to_num(s[LUMA], nan=0.0) / 255.0
    longest = max(1, s.frames(longest_s))
    flash = np.zeros(s.n, dtype=bool)
    for start in range(1, s.n):
        step = luma[start] - luma[start - 1]
        if abs(step) < min_change:
            continue
        sign = np.sign(step)
        for end in range(start, min(start + longest, s.n - 1)):
            if sign * (luma[end] - luma[start - 1]) < min_change:
                break  # the excursion ended without coming back: not a flash
            excursion = abs(luma[start : end + 1] - luma[start - 1]).max()
            if abs(luma[end + 1] - luma[start - 1]) <= back_within * excursion:
                flash[start : end + 1] = True
                break
    return flash


def tmp003_flashes(s: Signals, min_change: float | None = None) -> np.ndarray:
    """:func:`flash_frames` with TMP003's default thresholds, from a step of ``min_change``
    instead of its own where given: other rules leave flashed frames to FLK002."""
    cut = CutParams()
    step = cut.min_flash_change if min_change is None else min_change
    return flash_frames(s, cut.max_flash_s, step, cut.flash_return)


@dataclass(frozen=True)
class BlankParams:
    black_fraction: float = param(
        0.98, "ffmpeg blackdetect's pic_th: 98% of pixels black makes a black frame"
    )
    blank_std: float = param(
        2.0,
        "a frame whose gray levels vary by under 2 (std, 0-255) shows nothing: a blank "
        "or flat-colour frame",
    )


@rule(
    "TMP004",
    "blank-frames",
    severity="error",
    requires=["temporal"],
    params=BlankParams,
    fix=Fix(
        negative_prompt=("black frames", "fade to black"),
        why="blank frames: a new seed; the constrain rung keeps the scene lit",
    ),
    thresholds={"temporal.dark_fraction": "black_fraction", "temporal.luma_std": "blank_std"},
)
def blank_frames(data: RuleInput, p: BlankParams) -> Iterator[Hit]:
    """Black or blank (flat single-colour) frames.

    What it detects:
        Frames where at least 98% of pixels are black (ffmpeg blackdetect) or the whole picture
        is one flat colour. Runs of such frames are reported as one span; at the very start or
        end of a clip (a fade) they are warnings, in the middle errors.
    Why it matters:
        A black or blank frame in the middle of a generated clip is a failed generation step or
        a broken export; it flashes on screen.
    Known false positives:
        Intentional fades to black, night scenes with almost no light.
    Example:
        Frames 30-32 all black: ``TMP004 3 black frames``.
    Thresholds:
        ``black_fraction`` = 0.98 with pixels under 10% of full scale (blackdetect's pic_th and
        pix_th; blackdetect's 2 s minimum is dropped: one black frame counts), ``blank_std`` = 2.
    Fix hint:
        Regenerate with a new seed; check the export step.
    """
    s = data.signals
    black = s[DARK_FRACTION] >= p.black_fraction
    blank = black | (s[LUMA_STD] <= p.blank_std)
    for start, end in runs(blank):
        kind = "black" if black[start : end + 1].all() else "blank"
        edge = start == 0 or end == s.n - 1
        count = end - start + 1
        yield Hit(
            start,
            end,
            f"{count} {kind} frame(s)" + (" at the clip's edge (fade?)" if edge else ""),
            severity="warning" if edge else None,
            confidence=1.0,
            evidence={
                "frames": count,
                "luma": round(float(s[LUMA][start]), 2),
                "dark_fraction": round(float(s[DARK_FRACTION][start]), 3),
            },
        )


@dataclass(frozen=True)
class CorruptParams:
    smear_fraction: float = param(
        0.15,
        "share of 16x16 blocks with rows copied down across texture; every clean clip of "
        "the evaluation set stays under 0.02, the real concealment streaks reach 0.27",
    )
    smear_jump: float = param(
        0.12,
        "and it must jump by this much over the previous frames: garbage appears at once, "
        "smooth gradients in real footage build up gradually",
    )
    block_jump: float = param(
        1.0,
        "or the 8x8 blockiness (QLT002's) jumps by 1.0 in one frame: a damaged reference's "
        "misplaced blocks add 1.2 or more at once, clean footage moves it by under 0.2 a frame "
        "(benchmark tune bases)",
    )
    moved_block: float = param(
        80.0,
        "and a cell of the 8x8 grid changes by 80 gray levels at once: blocks of picture out "
        "of place change one by 110 or more, compression blocks that stay in place by under "
        "60 (the synthetic JPEG bursts)",
    )
    still_diff: float = param(
        1.0,
        "after the garbage, frames changing by under 1 gray level are the decoder holding "
        "the broken picture until the next key frame",
    )
    truncated_ratio: float = param(
        0.9, "fewer decoded frames than 90% of what the container declares means a cut-off file"
    )


@rule(
    "TMP005",
    "corrupt-frames",
    severity="error",
    requires=["temporal"],
    uses=["quality"],  # garbage spans (TMP005) read its blockiness
    params=CorruptParams,
    fix=Fix(
        negative_prompt=("glitch", "corrupted", "compression artifacts"),
        why="garbage frames: new seed; generation length is the usual cause",
    ),
    thresholds={"temporal.smear": "smear_fraction"},
)
def corrupt_frames(data: RuleInput, p: CorruptParams) -> Iterator[Hit]:
    """Frames the decoder could not decode, or decoded into garbage.

    What it detects:
        (1) packets the decoder rejected; (2) a file that ends before the frames its container
        declares; (3) decoded garbage: a sudden jump in concealment streaks (rows copied down
        across textured areas) or in blockiness (blocks of picture moved by wrong vectors),
        together with the stretch that usually follows it while the decoder holds the damaged
        picture until the next key frame (nearly still, a few blocks updating).
    Why it matters:
        A broken file or a corrupt stretch cannot be published and says the export or upload
        failed; the rest of the report is unreliable for those frames.
    Known false positives:
        Synthetic graphics with perfectly straight vertical stripes over a whole frame.
    Example:
        Hand-held real footage with fast motion: streaks at frame 229, then smeared and frozen
        to 267.
    Thresholds:
        ``smear_fraction`` = 0.15 and ``smear_jump`` = 0.12 (measured on the evaluation set),
        ``block_jump`` = 1.0 with ``moved_block`` = 80, ``truncated_ratio`` = 0.9.
    Fix hint:
        Re-export or re-download the clip; regenerate if the generator produced it this way.
    """
    s = data.signals
    for issue in data.issues:
        index = min(issue.index, s.n - 1)
        yield Hit(
            index,
            index,
            f"undecodable data near frame {issue.index}: {issue.message}",
            confidence=1.0,
            evidence={"decoder": issue.message},
        )
    expected = data.declared_frames
    if expected and s.n < p.truncated_ratio * expected:
        yield Hit(
            s.n - 1,
            s.n - 1,
            f"clip ends after {s.n} of {expected} declared frames (truncated file)",
            confidence=1.0,
            evidence={"decoded_frames": s.n, "declared_frames": expected},
        )
    smear = np.nan_to_num(s[SMEAR], nan=0.0)
    blocks = np.nan_to_num(s[BLOCKINESS], nan=0.0) if BLOCKINESS in s else np.zeros(s.n)
    for start, end in garbage_spans(s, p):
        before = slice(max(0, start - 5), start)
        if smear[start] >= p.smear_fraction:
            what = f"concealment streaks over {smear[start]:.0%} of the picture"
            confidence = smear[start] / (2 * p.smear_fraction)
        else:
            what = f"blocks out of place, blockiness {blocks[start]:.1f}"
            confidence = (blocks[start] - float(np.median(blocks[before]))) / (2 * p.block_jump)
        yield Hit(
            start,
            end,
            f"decoded garbage from frame {start} to {end} ({what}"
            + (", then held)" if end > start else ")"),
            peak=start,
            confidence=min(1.0, confidence),
            evidence={
                "smear": round(float(smear[start]), 3),
                "threshold": p.smear_fraction,
                "baseline": round(float(np.median(smear[before])), 3),
                "blockiness": round(float(blocks[start]), 2),
                "blockiness_before": round(float(np.median(blocks[before])), 2),
            },
        )


def garbage_spans(s: Signals, p: CorruptParams | None = None) -> list[tuple[int, int]]:
    """Spans of decoded garbage: a sudden jump in concealment streaks or in blockiness,
    extended over the frames that follow while the decoder holds the broken picture (nearly
    still) or the blocks stay."""
    p = p or CorruptParams()
    smear = np.nan_to_num(s[SMEAR], nan=0.0)
    blocks = np.nan_to_num(s[BLOCKINESS], nan=0.0) if BLOCKINESS in s else np.zeros(s.n)
    still = (s[FROZEN] > 0.5) | (np.nan_to_num(s[DIFF], nan=np.inf) <= p.still_diff)
    flat = s[LUMA_STD] <= BlankParams().blank_std  # a flat frame's blockiness means nothing
    spans = []
    index = 1
    while index < s.n:
        # the baseline is the last pictures before this one: a black or flat frame has no
        # blocks and no streaks, so coming back from one is not garbage appearing (TMP004's)
        before = [j for j in range(max(0, index - 5), index) if not flat[j]]
        if not before or flat[index]:
            index += 1
            continue
        baseline = float(np.median(smear[before]))
        streaks = smear[index] >= p.smear_fraction and smear[index] - baseline >= p.smear_jump
        block_level = float(np.median(blocks[before])) + p.block_jump / 2
        blocky = (
            blocks[index] - float(np.median(blocks[before])) >= p.block_jump
            and np.nan_to_num(s[BLOCK_DIFF][index], nan=0.0) >= p.moved_block
        )
        if streaks or blocky:
            damaged = blocks >= block_level if blocky else np.zeros(s.n, bool)
            held = still | damaged
            end = index
            probe = index + 1
            while probe < s.n and probe <= end + 2 and not held[probe]:
                probe += 1
            while probe < s.n and held[probe]:
                end = probe
                probe += 1
            spans.append((index, end))
            index = end + 1
        else:
            index += 1
    return spans


@dataclass(frozen=True)
class TimingParams:
    gap_factor: float = param(
        1.9, "an interval nearly twice the typical one means at least one frame is missing"
    )
    jitter_cv: float = param(
        0.25,
        "intervals varying by more than 25% (coefficient of variation) make uneven "
        "playback; GIF delays rounded to 1/100 s stay near 0.1",
    )


@rule(
    "TMP006",
    "timestamp-gaps",
    severity="warning",
    requires=["temporal"],
    params=TimingParams,
    fix=RESEED,
)
def timestamp_gaps(data: RuleInput, p: TimingParams) -> Iterator[Hit]:
    """Gaps, repeats or jitter in the frames' presentation times.

    What it detects:
        Frame intervals much longer than the clip's typical interval (dropped frames),
        timestamps that do not advance (errors), and intervals so uneven that playback
        stutters (variable frame rate or uneven GIF delays).
    Why it matters:
        Editors and players assume steady timing; gaps look like jumps and jitter like judder.
    Known false positives:
        Deliberate variable-frame-rate recordings from phones (real footage).
    Example:
        A clip whose timestamps jump from 1.00 s to 1.25 s at 24 fps: ``TMP006 gap of 5 frames``.
    Thresholds:
        ``gap_factor`` = 1.9 x the median interval, ``jitter_cv`` = 0.25.
    Fix hint:
        Export at a constant frame rate.
    """
    s = data.signals
    intervals = np.diff(s.time_s)
    if len(intervals) == 0:
        return
    typical = float(np.median(intervals[intervals > 0])) if (intervals > 0).any() else 0.0
    for start, end in runs(intervals <= 0):
        yield Hit(
            start + 1,
            end + 1,
            f"timestamps do not advance at frames {start + 1}-{end + 1}",
            severity="error",
            evidence={"time_s": round(float(s.time_s[start]), 4)},
        )
    if typical <= 0:
        return
    for index in np.flatnonzero(intervals > p.gap_factor * typical):
        gap = float(intervals[index])
        missing = round(gap / typical) - 1
        yield Hit(
            int(index),
            int(index) + 1,
            f"timestamp gap of {gap:.3f} s after frame {int(index)} (~{missing} frame(s) missing)",
            peak=int(index) + 1,
            confidence=min(1.0, gap / (2 * p.gap_factor * typical)),
            evidence={"interval_s": round(gap, 4), "typical_s": round(typical, 4)},
        )
    positive = intervals[(intervals > 0) & (intervals <= p.gap_factor * typical)]
    cv = float(positive.std() / positive.mean()) if len(positive) > 2 else 0.0
    if cv > p.jitter_cv:
        yield Hit(
            0,
            s.n - 1,
            f"irregular frame timing (intervals vary by {cv:.0%})",
            confidence=min(1.0, cv / (2 * p.jitter_cv)),
            evidence={"interval_cv": round(cv, 3), "threshold": p.jitter_cv},
        )
