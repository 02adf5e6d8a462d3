"""QLT: picture quality collapsing during the clip (blur, noise or blockiness bursts, colour
cast drift), each judged against the same shot's early frames, so a soft or grainy style is not
a defect but a clip that turns soft or grainy is. A clip with scene cuts (TMP003) has a reference
per shot: the frames after a cut are another shot, not a change of quality."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vidlint.analyzers.flow.keys import MOTION
from vidlint.analyzers.quality import BLOCKINESS, CAST_A, CAST_B, NOISE, SHARPNESS
from vidlint.analyzers.temporal.keys import DIFF
from vidlint.rules.base import Fix, Hit, RuleInput, family, rule
from vidlint.rules.motion import spans_of
from vidlint.rules.temporal import cut_frames, explained_frames, garbage_spans, tmp003_flashes
from vidlint.settings import param
from vidlint.signals import Signals

family("QLT", "visual quality")

SHARPER = Fix(
    negative_prompt=("blurry", "noisy", "jpeg artifacts"),
    prompt=("sharp focus, clean detail",),
    why="quality: Wan's default negatives ('blurry details', 'JPEG artifacts')",
)


@dataclass(frozen=True)
class EarlyParams:
    early_s: float = param(
        0.5,
        "the clip's own reference is the median over its first half second (at least 4 "
        "frames): generators start from their cleanest frames",
    )
    min_frames: int = param(2, "a burst lasts at least 2 frames (one soft frame is a blink)")


def early_frames(s: Signals, early_s: float) -> int:
    """How many frames make a shot's own reference: its first ``early_s``, at least 4."""
    return max(4, s.frames(early_s))


@dataclass(frozen=True)
class Shots:
    """The clip's shots (frames ``start``..``stop - 1``, split at TMP003's cuts) and, per
    frame, where its shot starts and where the shot's reference frames end."""

    bounds: list[tuple[int, int]]
    start: np.ndarray
    head_end: np.ndarray

    @classmethod
    def of(cls, data: RuleInput, early_s: float) -> Shots:
        n = data.signals.n
        edges = [0, *(cut for cut in cut_frames(data) if 0 < cut < n), n]
        bounds = list(itertools.pairwise(edges))
        start, head_end = np.zeros(n, int), np.zeros(n, int)
        for a, b in bounds:
            start[a:b] = a
            head_end[a:b] = a + early_frames(data.signals, early_s)
        return cls(bounds, start, head_end)

    def reference(self, values: np.ndarray) -> np.ndarray:
        """Per frame, the median of ``values`` over its shot's reference frames (NaN where
        they have none)."""
        out = np.full(len(values), np.nan)
        for a, b in self.bounds:
            head = values[a : min(b, int(self.head_end[a]))]
            head = head[np.isfinite(head)]
            if len(head):
                out[a:b] = float(np.median(head))
        return out

    def long_spans(self, flags: np.ndarray, min_frames: int) -> Iterator[tuple[int, int]]:
        """Spans of at least ``min_frames`` within one shot, except those inside the shot's
        reference frames themselves."""
        for a, b in self.bounds:
            for start, end in spans_of(flags[a:b]):
                start, end = start + a, end + a
                if end - start + 1 >= min_frames and end >= self.head_end[a]:
                    yield start, end


@dataclass(frozen=True)
class BlurParams(EarlyParams):
    ratio: float = param(
        0.3,
        "sharpness (Laplacian variance) under 30% of the early frames' is a visible "
        "blur: a Gaussian blur of sigma 2.5 leaves under 10% on the synthetic clips",
    )
    max_motion: float = param(
        2.0,
        "frames moving faster than 2 px/frame at 360p (mean flow, or a neighbour's when "
        "the frame repeats) are excused: a moving camera's motion blur is real (the real "
        "clips' whip pans and pans fall to 8-28% sharpness at 7-55 px/frame)",
    )
    motion_floor: float = param(
        1.5,
        "motion of m px/frame explains a fall to at most motion_floor / m of the early "
        "sharpness: the real clips' motion blur keeps m x sharpness at 2.2-4.5 (8% at "
        "55 px/frame, 13% at 17), a Gaussian blur over people moving 7-15 px/frame leaves "
        "0.03-0.9 (0.3-6% of the early sharpness)",
        bounds=(0.0, 100.0),
    )


@rule(
    "QLT001",
    "blur-burst",
    severity="error",
    requires=["quality", "flow"],
    uses=["temporal"],  # black, flat and garbage frames are TMP004's, cuts TMP003's
    params=BlurParams,
    fix=SHARPER,
)
def blur_burst(data: RuleInput, p: BlurParams) -> Iterator[Hit]:
    """The picture goes soft: sharpness falls far below the shot's own early frames.

    What it detects:
        The variance of the Laplacian (the standard focus measure) of each frame, against the
        median of the first half second; frames under ``ratio`` of it for at least
        ``min_frames`` frames, unless the frame moves fast (optical flow) and the fall is
        no deeper than that motion explains: motion blur is real, but motion of m px/frame
        smears an edge over about m pixels, which keeps m x sharpness ratio above
        ``motion_floor``; a blur far below that on a moving subject is still a blur.
    Why it matters:
        Late-clip blur is how many generators degrade; a blurred stretch cannot be published.
    Known false positives:
        Racking focus, a camera moving from a detailed subject onto a plain wall or sky, strong
        motion blur in a whip pan. Black, flat and garbage frames are TMP004's and TMP005's,
        flashed frames (TMP003's flash test) FLK002's;
        after a scene cut (TMP003) the new shot has its own early frames.
    Example:
        Frames 20-25 blurred: ``QLT001 picture goes soft at frames 20-25 (22% of its early
        sharpness)``.
    Thresholds:
        ``ratio`` = 0.3, ``max_motion`` = 2 px/frame, ``motion_floor`` = 1.5,
        ``early_s`` = 0.5 s, ``min_frames`` = 2.
    Fix hint:
        New seed, shorter clip; add "blurry" to the negative prompt.
    """
    s = data.signals
    sharp = s[SHARPNESS]
    shots = Shots.of(data, p.early_s)
    reference = shots.reference(sharp)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(reference > 0, sharp / reference, np.nan)
    motion = np.nan_to_num(s[MOTION], nan=0.0)
    fastest = motion.copy()
    fastest[1:] = np.maximum(fastest[1:], motion[:-1])
    fastest[:-1] = np.maximum(fastest[:-1], motion[1:])
    relative_known = np.nan_to_num(relative, nan=1.0)
    motion_explains = relative_known * np.maximum(fastest, 1e-6) >= p.motion_floor
    soft = (relative_known < p.ratio) & ((fastest <= p.max_motion) | ~motion_explains)
    soft &= ~explained_frames(s)  # a black frame has no sharpness to lose
    soft &= ~tmp003_flashes(s)  # a flashed frame is washed out, not soft: FLK002's
    for start, end in shots.long_spans(soft, p.min_frames):
        low = float(np.min(relative[start : end + 1]))
        yield Hit(
            start,
            end,
            f"picture goes soft at frames {start}-{end} ({low:.0%} of its early sharpness)",
            peak=start + int(np.argmin(relative[start : end + 1])),
            confidence=min(1.0, (1 - low) / (1 - p.ratio) * 0.8),
            evidence={
                "sharpness_ratio": round(low, 3),
                "threshold": p.ratio,
                "reference": round(float(reference[start]), 1),
            },
        )


@dataclass(frozen=True)
class NoiseParams(EarlyParams):
    noise_ratio: float = param(
        2.5, "noise (Immerkaer's estimate) 2.5x the early frames' and at least ``noise_add`` more"
    )
    noise_add: float = param(
        2.0, "gray levels of estimated noise sigma added: grain at sigma 2 is barely visible"
    )
    block_add: float = param(
        0.35,
        "blockiness (edge/inside gradient ratio, 1 = none) 0.35 above the early frames': "
        "JPEG at quality 10 adds about 0.8, clean H.264 varies by under 0.1 (measured)",
    )
    onset_share: float = param(
        0.1,
        "a noise burst is reported from where the noise began to rise: back while it stays a "
        "tenth of the way to the threshold above the early frames' and keeps falling (a "
        "gradual degradation crosses the threshold well after it starts)",
        bounds=(0.0, 1.0),
    )


@rule(
    "QLT002",
    "noise-burst",
    severity="error",
    requires=["quality"],
    uses=["temporal"],  # decoded garbage is TMP005's, cuts TMP003's
    params=NoiseParams,
    fix=SHARPER,
)
def noise_burst(data: RuleInput, p: NoiseParams) -> Iterator[Hit]:
    """Noise or compression blocks appear during the clip.

    What it detects:
        Immerkaer's fast noise estimate and an 8x8 blockiness ratio per frame, against the
        median of the clip's first half second.
    Why it matters:
        A clip that breaks into grain or blocks partway has degraded (or was starved of
        bitrate on export).
    Known false positives:
        A camera moving onto fine texture (foliage) raises the noise estimate; frames after a
        scene cut (TMP003) have their own shot's early frames. Blocks that appear at once in
        a held picture are damaged decoding: TMP005 reports them, not this rule.
    Example:
        ``QLT002 noise rises at frames 20-25 (sigma 9.8, early 1.0)``.
    Thresholds:
        ``noise_ratio`` = 2.5 and ``noise_add`` = 2 gray levels; ``block_add`` = 0.35; a noise
        burst starts where the noise first rose ``onset_share`` = a tenth of the way there.
    Fix hint:
        New seed or a higher-quality export; a shorter clip.
    """
    s = data.signals
    noise, blocks = s[NOISE], s[BLOCKINESS]
    shots = Shots.of(data, p.early_s)
    ref_noise, ref_blocks = shots.reference(noise), shots.reference(blocks)
    noisy = noisy_frames(noise, ref_noise, p)
    blocky = np.nan_to_num(blocks >= ref_blocks + p.block_add).astype(bool)
    burst = noisy | blocky
    if DIFF in s:
        for start, end in garbage_spans(s):
            burst[start : end + 1] = False
    for start, end in shots.long_spans(burst, p.min_frames):
        part = slice(start, end + 1)
        early_noise, early_blocks = float(ref_noise[start]), float(ref_blocks[start])
        if noisy[part].any():
            peak = start + int(np.nanargmax(noise[part]))
            needed = max(p.noise_ratio * early_noise, early_noise + p.noise_add)
            rising = early_noise + p.onset_share * (needed - early_noise)  # above the early
            while (
                start > shots.head_end[start]
                and noise[start - 1] >= rising
                and noise[start - 1] <= noise[start] + (rising - early_noise)
            ):
                start -= 1  # report where the noise began to rise, not where it crossed
            what = f"noise rises (sigma {noise[peak]:.1f}, early {early_noise:.1f})"
            confidence = min(1.0, noise[peak] / (2 * p.noise_ratio * max(early_noise, 0.5)))
        else:
            peak = start + int(np.nanargmax(blocks[part]))
            what = f"blocks appear (blockiness {blocks[peak]:.2f}, early {early_blocks:.2f})"
            confidence = min(1.0, (blocks[peak] - early_blocks) / (2 * p.block_add))
        yield Hit(
            start,
            end,
            f"{what} at frames {start}-{end}",
            peak=peak,
            confidence=confidence,
            evidence={
                "noise": round(float(noise[peak]), 2),
                "noise_early": round(early_noise, 2),
                "blockiness": round(float(blocks[peak]), 3),
                "blockiness_early": round(early_blocks, 3),
            },
        )


def noisy_frames(noise: np.ndarray, early: np.ndarray, p: NoiseParams) -> np.ndarray:
    """Frames whose noise rose ``noise_ratio`` times and ``noise_add`` over the shot's early
    frames' (QLT002's rise; FAC001/FAC002 leave descriptors taken there out)."""
    with np.errstate(invalid="ignore"):
        rose = (noise >= p.noise_ratio * early) & (noise >= early + p.noise_add)
    return np.nan_to_num(rose).astype(bool)


@dataclass(frozen=True)
class CastParams(EarlyParams):
    max_shift: float = param(
        12.0,
        "a shift of the frame's mean colour by 12 units in CIE a*b* from the early "
        "frames (a clearly visible cast; just-noticeable is about 2.3, but content "
        "moving in and out of view shifts the mean by up to 9 on the real clips)",
    )
    min_duration_s: float = param(0.5, "the cast holds for at least half a second")
    onset_share: float = param(
        0.1, "the reported span starts where the drift first passed a tenth of ``max_shift``"
    )


@rule(
    "QLT003",
    "colour-cast-drift",
    severity="warning",
    requires=["quality"],
    uses=["temporal"],  # after a cut the early frames are another shot's
    params=CastParams,
    fix=SHARPER,
)
def colour_cast_drift(data: RuleInput, p: CastParams) -> Iterator[Hit]:
    """The whole picture drifts towards a colour over the clip.

    What it detects:
        The frame's mean colour in CIE Lab; its a*b* distance from the early frames' mean
        colour, held above ``max_shift`` for at least ``min_duration_s``.
    Why it matters:
        Colour drift (a clip turning orange or green) is a known accumulation artifact of long
        generations and breaks a cut against other shots.
    Known false positives:
        Content changes: a pan from sky to grass shifts the mean colour. It is a warning.
        After a scene cut (TMP003) the new shot has its own early frames; black, flat
        and garbage frames are TMP004's and TMP005's.
    Example:
        Red gain rising to +30%: ``QLT003 colour drifts by 15 a*b* units from frame 30``.
    Thresholds:
        ``max_shift`` = 12 a*b* units, ``min_duration_s`` = 0.5 s.
    Fix hint:
        New seed, shorter clip; state the colour grading in the prompt.
    """
    s = data.signals
    a, b = s[CAST_A], s[CAST_B]
    shots = Shots.of(data, p.early_s)
    ref_a, ref_b = shots.reference(a), shots.reference(b)
    shift = np.hypot(a - ref_a, b - ref_b)
    needed = max(p.min_frames, s.frames(p.min_duration_s))
    shift = np.nan_to_num(shift, nan=0.0)
    drifted = (shift >= p.max_shift) & ~explained_frames(s)
    for start, end in shots.long_spans(drifted, needed):
        peak = start + int(np.argmax(shift[start : end + 1]))
        while start > shots.start[start] and shift[start - 1] >= p.onset_share * p.max_shift:
            start -= 1  # report where the drift began, not where it crossed the line
        yield Hit(
            start,
            end,
            f"colour drifts by {shift[peak]:.0f} a*b* units from frame {start}",
            peak=peak,
            confidence=min(1.0, shift[peak] / (2 * p.max_shift)),
            evidence={
                "shift": round(float(shift[peak]), 2),
                "threshold": p.max_shift,
                "a": round(float(a[peak] - ref_a[peak]), 2),
                "b": round(float(b[peak] - ref_b[peak]), 2),
            },
        )
