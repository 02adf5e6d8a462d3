"""QLT: picture quality collapsing during the clip (blur, noise or blockiness bursts, colour
cast drift), each judged against the same clip's early frames, so a soft or grainy style is not
a defect but a clip that turns soft or grainy is."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vidlint.analyzers.flow.keys import MOTION
from vidlint.analyzers.quality import BLOCKINESS, CAST_A, CAST_B, NOISE, SHARPNESS
from vidlint.analyzers.temporal.keys import DIFF
from vidlint.rules.base import Fix, Hit, RuleInput, family, rule
from vidlint.rules.motion import spans_of
from vidlint.rules.temporal import explained_frames, first_shot, garbage_spans
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
    """How many frames make the clip's own reference: its first ``early_s``, at least 4."""
    return max(4, s.frames(early_s))


def early_reference(s: Signals, values: np.ndarray, early_s: float) -> float:
    head = values[: early_frames(s, early_s)]
    head = head[np.isfinite(head)]
    return float(np.median(head)) if len(head) else float("nan")


def long_spans(
    flags: np.ndarray, min_frames: int, s: Signals, early_s: float
) -> Iterator[tuple[int, int]]:
    """Spans of at least ``min_frames``, except those inside the reference frames themselves."""
    reference = early_frames(s, early_s)
    for start, end in spans_of(flags):
        if end - start + 1 >= min_frames and end >= reference:
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
    """The picture goes soft: sharpness falls far below the clip's own early frames.

    What it detects:
        The variance of the Laplacian (the standard focus measure) of each frame, against the
        median of the first half second; frames under ``ratio`` of it for at least
        ``min_frames`` frames, unless the frame moves fast (optical flow): motion blur is
        real.
    Why it matters:
        Late-clip blur is how many generators degrade; a blurred stretch cannot be published.
    Known false positives:
        Racking focus, a camera moving from a detailed subject onto a plain wall or sky, strong
        motion blur in a whip pan. Black, flat and garbage frames are TMP004's and TMP005's;
        frames after a scene cut (TMP003) are not compared with the first shot's.
    Example:
        Frames 20-25 blurred: ``QLT001 picture goes soft at frames 20-25 (22% of its early
        sharpness)``.
    Thresholds:
        ``ratio`` = 0.3, ``max_motion`` = 2 px/frame, ``early_s`` = 0.5 s, ``min_frames`` = 2.
    Fix hint:
        New seed, shorter clip; add "blurry" to the negative prompt.
    """
    s = data.signals
    sharp = s[SHARPNESS]
    reference = early_reference(s, sharp, p.early_s)
    if not reference > 0:
        return
    relative = sharp / reference
    motion = np.nan_to_num(s[MOTION], nan=0.0)
    fastest = motion.copy()
    fastest[1:] = np.maximum(fastest[1:], motion[:-1])
    fastest[:-1] = np.maximum(fastest[:-1], motion[1:])
    soft = (np.nan_to_num(relative, nan=1.0) < p.ratio) & (fastest <= p.max_motion)
    soft &= ~explained_frames(s)  # a black frame has no sharpness to lose
    soft &= first_shot(data)  # after a cut (TMP003) the early frames are another shot's
    for start, end in long_spans(soft, p.min_frames, s, p.early_s):
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
                "reference": round(reference, 1),
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
        scene cut (TMP003) are not compared with the first shot's. Blocks that appear at once in
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
    ref_noise = early_reference(s, noise, p.early_s)
    ref_blocks = early_reference(s, blocks, p.early_s)
    noisy = np.nan_to_num((noise >= p.noise_ratio * ref_noise) & (noise >= ref_noise + p.noise_add))
    blocky = (
        np.nan_to_num(blocks >= ref_blocks + p.block_add)
        if np.isfinite(ref_blocks)
        else np.zeros(s.n, bool)
    )
    burst = (noisy.astype(bool) | blocky.astype(bool)) & first_shot(data)
    if DIFF in s:
        for start, end in garbage_spans(s):
            burst[start : end + 1] = False
    needed = max(p.noise_ratio * ref_noise, ref_noise + p.noise_add)
    rising = ref_noise + p.onset_share * (needed - ref_noise)  # above the early frames' noise
    first = early_frames(s, p.early_s)
    for start, end in long_spans(burst, p.min_frames, s, p.early_s):
        part = slice(start, end + 1)
        if noisy[part].any():
            peak = start + int(np.nanargmax(noise[part]))
            while (
                start > first
                and noise[start - 1] >= rising
                and noise[start - 1] <= noise[start] + (rising - ref_noise)
            ):
                start -= 1  # report where the noise began to rise, not where it crossed
            what = f"noise rises (sigma {noise[peak]:.1f}, early {ref_noise:.1f})"
            confidence = min(1.0, noise[peak] / (2 * p.noise_ratio * max(ref_noise, 0.5)))
        else:
            peak = start + int(np.nanargmax(blocks[part]))
            what = f"blocks appear (blockiness {blocks[peak]:.2f}, early {ref_blocks:.2f})"
            confidence = min(1.0, (blocks[peak] - ref_blocks) / (2 * p.block_add))
        yield Hit(
            start,
            end,
            f"{what} at frames {start}-{end}",
            peak=peak,
            confidence=confidence,
            evidence={
                "noise": round(float(noise[peak]), 2),
                "noise_early": round(ref_noise, 2),
                "blockiness": round(float(blocks[peak]), 3),
                "blockiness_early": round(ref_blocks, 3),
            },
        )


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
        Frames after a scene cut (TMP003) are not compared with the first shot's; black, flat
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
    ref_a, ref_b = early_reference(s, a, p.early_s), early_reference(s, b, p.early_s)
    shift = np.hypot(a - ref_a, b - ref_b)
    needed = max(p.min_frames, s.frames(p.min_duration_s))
    shift = np.nan_to_num(shift, nan=0.0)
    drifted = (shift >= p.max_shift) & first_shot(data) & ~explained_frames(s)
    for start, end in long_spans(drifted, needed, s, p.early_s):
        peak = start + int(np.argmax(shift[start : end + 1]))
        while start > 0 and shift[start - 1] >= p.onset_share * p.max_shift:
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
                "a": round(float(a[peak] - ref_a), 2),
                "b": round(float(b[peak] - ref_b), 2),
            },
        )
