"""Values the decoder hands to analyzers: clip metadata, frames and decode issues."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
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


class Frame:
    """One decoded frame: the shared small working copy (RGB and gray), made once here so no
    analyzer resizes the same frame again, and the full-resolution RGB, converted only when an
    analyzer asks for it (most need only the working copy)."""

    __slots__ = ("index", "time_s", "small", "gray", "extra", "_rgb", "_full")

    def __init__(self, index: int, time_s: float, small: np.ndarray,
                 rgb: np.ndarray | None = None,
                 full: Callable[[], np.ndarray] | None = None) -> None:
        self.index = index
        self.time_s = time_s
        self.small = small
        self.gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        self.extra: dict = {}
        self._rgb = rgb
        self._full = full

    @property
    def rgb(self) -> np.ndarray:
        """Full-resolution RGB (uint8, H x W x 3)."""
        if self._rgb is None:
            self._rgb = self._full() if self._full else self.small
        return self._rgb

    @classmethod
    def from_rgb(cls, index: int, time_s: float, rgb: np.ndarray,
                 short_side: int = WORKING_SHORT_SIDE) -> Frame:
        return cls(index, time_s, resize_short_side(rgb, short_side), rgb=rgb)


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
