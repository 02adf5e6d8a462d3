"""DRF: the clip gets worse as it goes on. An aggregate rule: it reads the per-frame badness of
every other family (the worst finding covering each frame) and finds the frame from which the
clip stays bad, with the clean prefix before it, for the regeneration loop's trim-and-salvage."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vidlint.rules.base import Fix, Hit, RuleInput, family, rule
from vidlint.settings import param

family("DRF", "degradation")


@dataclass(frozen=True)
class OnsetParams:
    bad_level: float = param(
        0.3,
        "a frame is bad when some family's badness (severity weight x confidence) reaches "
        "0.3: a confident warning or any error",
    )
    min_bad_share: float = param(
        0.75, "from the onset to the end, at least 75% of frames are bad: the clip stays worse"
    )
    end_share: float = param(
        0.5,
        "and at least half of the last ``min_tail_s`` is bad: the clip ends worse, it did "
        "not recover",
    )
    max_clean_share: float = param(
        0.1, "before the onset, at most 10% of frames are bad: the prefix is clean"
    )
    min_tail_s: float = param(
        0.5,
        "the bad tail lasts at least half a second (a short bad ending is a finding of its "
        "own, not an accumulation)",
    )
    min_prefix_s: float = param(
        0.5, "the clean prefix lasts at least half a second, so there is something to keep"
    )


@rule(
    "DRF001",
    "degradation-onset",
    severity="warning",
    params=OnsetParams,
    stage="aggregate",
    fix=Fix(why="degradation with length: the shorten rung cuts the clip at the onset"),
)
def degradation_onset(data: RuleInput, p: OnsetParams) -> Iterator[Hit]:
    """From some frame on, the clip keeps getting worse: artifacts accumulate with length.

    What it detects:
        The earliest frame after which most frames carry findings of other families while
        the frames before it are nearly clean, from the per-frame badness curves of all
        families. The evidence gives ``onset_frame`` and ``clean_prefix_frames`` /
        ``clean_prefix_s``: what can be kept if the clip is trimmed.
    Why it matters:
        Generated clips degrade with length (a 4 s clip is usually cleaner than an 8 s one).
        Trimming to the clean prefix, or regenerating shorter, often saves the clip.
    Known false positives:
        A clip whose only problem starts late for a reason unrelated to length (a cut).
    Example:
        Blur and noise from frame 24 of 48: ``DRF001 the clip degrades from frame 24 (clean
        prefix 24 frames, 1.00 s)``.
    Thresholds:
        ``bad_level`` = 0.3, ``min_bad_share`` = 0.75, ``end_share`` = 0.5,
        ``max_clean_share`` = 0.1, ``min_tail_s`` and ``min_prefix_s`` = 0.5 s.
    Fix hint:
        Keep the clean prefix, or regenerate with a shorter duration.
    """
    s = data.signals
    curves = [np.asarray(v, float) for family, v in data.badness.items() if family != "DRF"]
    if not curves or s.n < 4:
        return
    worst = np.max(np.stack(curves), axis=0)
    bad = worst >= p.bad_level
    min_prefix, min_tail = s.frames(p.min_prefix_s), s.frames(p.min_tail_s)
    for onset in range(min_prefix, s.n - min_tail + 1):
        if not bad[onset]:
            continue
        tail, prefix = bad[onset:], bad[:onset]
        ending = bad[-min_tail:].mean()
        if (
            tail.mean() >= p.min_bad_share
            and prefix.mean() <= p.max_clean_share
            and ending >= p.end_share
        ):
            families = sorted(
                f
                for f, v in data.badness.items()
                if f != "DRF" and np.max(np.asarray(v)[onset:]) >= p.bad_level
            )
            prefix_s = float(s.time_s[onset] - s.time_s[0])
            yield Hit(
                onset,
                s.n - 1,
                f"the clip degrades from frame {onset} (clean prefix "
                f"{onset} frames, {prefix_s:.2f} s; {', '.join(families)})",
                peak=onset,
                confidence=float(tail.mean()),
                evidence={
                    "onset_frame": onset,
                    "clean_prefix_frames": onset,
                    "clean_prefix_s": round(prefix_s, 3),
                    "bad_share_after": round(float(tail.mean()), 3),
                    "bad_share_before": round(float(prefix.mean()), 3),
                    "families": families,
                },
            )
            return
