"""Values the decoder hands to analyzers: clip metadata, frames and decode issues."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction

import cv2
import numpy as np

WORKING_SHORT_SIDE = 360
"""Short side of the shared working copy. 360p keeps DIS flow near 180 pairs/s on 2 cores
(research/stage-speeds.md) while motion and texture stay measurable."""


@dataclass(slots=True)
class ClipInfo:
    """What a clip is. ``frame_count``, ``duration_s`` and ``vfr`` are probed when the
    clip opens and made exact once every frame has been decoded."""

    path: str
    sha256: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str
    vfr: bool = False
    container: str = ""
    has_audio: bool = False
    time_base: Fraction | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("time_base")
        return data


@dataclass(frozen=True, slots=True)
class DecodeIssue:
    """A frame or packet the decoder could not turn into a picture. ``index`` is the position in
    the decoded sequence where it happened (the index the next good frame gets)."""

    index: int
    time_s: float
    message: str


@dataclass(slots=True)
class Frame:
    """One decoded frame: full-resolution RGB plus the shared small working copy (RGB and gray),
    made once here so no analyzer resizes the same frame again."""

    index: int
    time_s: float
    rgb: np.ndarray
    small: np.ndarray
    gray: np.ndarray
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_rgb(cls, index: int, time_s: float, rgb: np.ndarray,
                 short_side: int = WORKING_SHORT_SIDE) -> Frame:
        small = resize_short_side(rgb, short_side)
        return cls(index, time_s, rgb, small, cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))


def working_size(width: int, height: int, short_side: int = WORKING_SHORT_SIDE) -> tuple[int, int]:
    """(width, height) of the working copy: the short side brought down to ``short_side``, never
    up, with even dimensions."""
    scale = min(1.0, short_side / max(1, min(width, height)))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def resize_short_side(rgb: np.ndarray, short_side: int = WORKING_SHORT_SIDE) -> np.ndarray:
    height, width = rgb.shape[:2]
    size = working_size(width, height, short_side)
    if size == (width, height):
        return rgb
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
