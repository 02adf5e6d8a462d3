"""Per-frame picture quality: sharpness, noise, blockiness and colour cast.

Cheap cv2 measures, each meaningful only relative to the same clip's early frames (the QLT
rules compare against those): Laplacian variance for sharpness; Immerkaer's fast noise estimate
(1996); blockiness as the gradient across 8x8 block edges against the gradient inside blocks,
on a crop of the full-resolution picture where codec blocks live; and the frame's mean colour in
CIE Lab (a*, b*) for casts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, FrameSeries, Measured
from vidlint.decode import ClipInfo, Frame
from vidlint.settings import param

SHARPNESS = "quality.sharpness"
NOISE = "quality.noise"
BLOCKINESS = "quality.blockiness"
CAST_A = "quality.cast_a"
CAST_B = "quality.cast_b"
LIGHTNESS = "quality.lightness"

IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


@dataclass(frozen=True)
class QualityParams:
    block_crop: int = param(
        256,
        "blockiness is measured on a centred 256x256 crop (codec blocks are on the "
        "coded picture's grid; the crop keeps it under 0.3 ms)",
        bounds=(16, 4096),
    )


class QualityAnalyzer(Analyzer):
    name = "quality"
    signals = (SHARPNESS, NOISE, BLOCKINESS, CAST_A, CAST_B, LIGHTNESS)
    Params = QualityParams

    def __init__(self, params: QualityParams, clip: ClipInfo, context: Any) -> None:
        super().__init__(params, clip, context)
        self.series = FrameSeries(*self.signals)

    def update(self, frame: Frame) -> None:
        gray = frame.gray
        _, deviation = cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_16S))
        response = cv2.filter2D(gray.astype(np.float32), -1, IMMERKAER)
        noise = math.sqrt(math.pi / 2) / 6 * float(cv2.mean(cv2.absdiff(response, 0.0))[0])
        mean = np.asarray(cv2.mean(frame.small)[:3], np.float32).reshape(1, 1, 3) / 255.0
        lightness, a, b = cv2.cvtColor(mean, cv2.COLOR_RGB2Lab).ravel()
        self.series.append(
            **{
                SHARPNESS: float(deviation[0, 0]) ** 2,
                NOISE: noise,
                BLOCKINESS: self._blockiness(frame),
                CAST_A: float(a),
                CAST_B: float(b),
                LIGHTNESS: float(lightness),
            }
        )

    def _blockiness(self, frame: Frame) -> float:
        """On the working copy when codec blocks land on a whole pixel period there (the clip
        itself, or an exact 2x reduction: 8 px blocks become 4 px), else on the full picture."""
        block = 8 * frame.small.shape[1] / max(1, self.clip.width or frame.small.shape[1])
        if block >= 2 and abs(block - round(block)) < 0.01:
            return blockiness(frame.gray, self.params.block_crop, round(block))
        return blockiness(frame.rgb[..., 1], self.params.block_crop, 8)

    def finish(self) -> Measured:
        return Measured(self.series.arrays())


def blockiness(gray: np.ndarray, crop: int, block: int = 8) -> float:
    """Mean step across block edges over the mean step elsewhere, on a centred crop aligned to
    the block grid: about 1 for clean pictures, well above for blocky ones. NaN when the frame
    is too small."""
    height, width = gray.shape[:2]
    size_y, size_x = min(crop, height) // block * block, min(crop, width) // block * block
    if size_y < 4 * block or size_x < 4 * block:
        return math.nan
    y0 = (height - size_y) // (2 * block) * block
    x0 = (width - size_x) // (2 * block) * block
    part = gray[y0 : y0 + size_y, x0 : x0 + size_x].astype(np.int16)
    steps_x = np.abs(np.diff(part, axis=1)).mean(axis=0)  # step between column i and i+1
    steps_y = np.abs(np.diff(part, axis=0)).mean(axis=1)
    last = block - 1
    edges = np.concatenate([steps_x[last::block], steps_y[last::block]])
    inside = np.concatenate(
        [np.delete(steps_x, np.s_[last::block]), np.delete(steps_y, np.s_[last::block])]
    )
    return float(edges.mean() / max(0.5, inside.mean()))


ANALYZER = QualityAnalyzer
