"""The temporal analyzer's keys: its signal names and settings, shared by its CPU path and its
torch path (``batched``)."""

from __future__ import annotations

from dataclasses import dataclass

from vidlint.settings import param

LUMA = "temporal.luma"
LUMA_STD = "temporal.luma_std"
DARK_FRACTION = "temporal.dark_fraction"
DIFF = "temporal.diff"
BLOCK_DIFF = "temporal.block_diff"
FREEZE_MAFD = "temporal.freeze_mafd"
FROZEN = "temporal.frozen"
CONTENT = "temporal.content"
SMEAR = "temporal.smear"
CUT_OCCLUDED = "temporal.cut_occluded"
STATISTICS = (LUMA, LUMA_STD, DARK_FRACTION, DIFF, BLOCK_DIFF, FREEZE_MAFD, FROZEN)
"""What the per-frame statistics compute (on the CPU or batched on the torch device)."""
CONTENT_WIDTH = 256


@dataclass(frozen=True)
class TemporalParams:
    freeze_noise: float = param(
        0.001,
        "ffmpeg freezedetect's default noise (-60 dB): mean absolute difference from the "
        "freeze's first frame, as a fraction of full scale",
        bounds=(0.0, 1.0),
    )
    black_pixel: float = param(
        0.10,
        "ffmpeg blackdetect's pix_th: a pixel darker than 10% of full scale is black",
        bounds=(0.0, 1.0),
    )
    cut_check_score: float = param(
        27.0,
        "a frame whose content score reaches PySceneDetect's default cut threshold (27) is "
        "checked with forward-backward optical flow against its predecessor (the flow "
        "analyzer's occlusion test, at its default settings): a cut leaves most pixels "
        "without a consistent match, a whip pan does not. Only candidates pay for flow",
        bounds=(0.0, 1000.0),
    )
