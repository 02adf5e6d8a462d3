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

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, FrameSeries, param
from vidlint.decode import Frame

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
        256, "blockiness is measured on a centred 256x256 crop of the full-resolution frame "
             "(codec blocks are at full resolution; the crop keeps it under 0.3 ms)")


class QualityAnalyzer(Analyzer):
    name = "quality"
    signals = (SHARPNESS, NOISE, BLOCKINESS, CAST_A, CAST_B, LIGHTNESS)
    Params = QualityParams

    def __init__(self, params: QualityParams, clip, context) -> None:
        super().__init__(params, clip, context)
        self.series = FrameSeries(*self.signals)

    def update(self, frame: Frame) -> None:
        gray = frame.gray
        _, deviation = cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_16S))
        response = cv2.filter2D(gray.astype(np.float32), -1, IMMERKAER)
        noise = math.sqrt(math.pi / 2) / 6 * float(cv2.mean(cv2.absdiff(response, 0.0))[0])
        mean = np.asarray(cv2.mean(frame.small)[:3], np.float32).reshape(1, 1, 3) / 255.0
        lightness, a, b = cv2.cvtColor(mean, cv2.COLOR_RGB2Lab).ravel()
        self.series.append(**{
            SHARPNESS: float(deviation[0, 0]) ** 2, NOISE: noise,
            BLOCKINESS: blockiness(frame.rgb, self.params.block_crop),
            CAST_A: float(a), CAST_B: float(b), LIGHTNESS: float(lightness)})

    def finish(self) -> dict[str, np.ndarray]:
        return self.series.arrays()


def blockiness(rgb: np.ndarray, crop: int) -> float:
    """Mean green-channel step across 8-pixel block edges over the mean step elsewhere, on a
    centred crop aligned to the 8x8 grid: about 1 for clean pictures, well above for blocky
    ones. NaN when the frame is too small."""
    height, width = rgb.shape[:2]
    size_y, size_x = min(crop, height) // 8 * 8, min(crop, width) // 8 * 8
    if size_y < 32 or size_x < 32:
        return math.nan
    y0, x0 = (height - size_y) // 16 * 8, (width - size_x) // 16 * 8
    green = rgb[y0:y0 + size_y, x0:x0 + size_x, 1].astype(np.int16)
    steps_x = np.abs(np.diff(green, axis=1)).mean(axis=0)  # step between column i and i+1
    steps_y = np.abs(np.diff(green, axis=0)).mean(axis=1)
    edges = np.concatenate([steps_x[7::8], steps_y[7::8]])
    inside = np.concatenate([np.delete(steps_x, np.s_[7::8]), np.delete(steps_y, np.s_[7::8])])
    return float(edges.mean() / max(0.5, inside.mean()))
