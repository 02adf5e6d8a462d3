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
    """One decoded frame. Analyzers read the shared working copy (``small`` RGB and ``gray``,
    short side 360) or the full-resolution ``rgb``; each is made once, on first use, straight
    from the decoded planes, so an analyzer that needs only gray never pays for colour."""

    __slots__ = ("_cache", "_picture", "_working", "extra", "index", "time_s")

    def __init__(
        self, index: int, time_s: float, picture: Picture, working: tuple[int, int]
    ) -> None:
        self.index = index
        self.time_s = time_s
        self.extra: dict = {}
        self._picture = picture
        self._working = working
        self._cache: dict[str, np.ndarray] = {}

    @property
    def rgb(self) -> np.ndarray:
        """Full-resolution RGB (uint8, H x W x 3)."""
        return self._cached("rgb", self._picture.rgb)

    @property
    def small(self) -> np.ndarray:
        """The working copy, RGB."""
        return self._cached("small", lambda: self._picture.rgb_at(*self._working))

    @property
    def gray(self) -> np.ndarray:
        """The working copy, gray (BT.601 luma, full range)."""
        return self._cached("gray", lambda: self._picture.gray_at(*self._working))

    def thumbnail(self, width: int) -> np.ndarray:
        """RGB about ``width`` pixels wide (never wider than the working copy), sampled
        linearly from the decoded planes, as PySceneDetect downscales, without converting the
        working copy first."""
        work_w, work_h = self._working
        if width >= work_w:
            return self.small
        height = max(2, round(work_h * width / work_w / 2) * 2)
        return self._picture.rgb_at(width, height, cv2.INTER_LINEAR)

    def _cached(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @classmethod
    def from_rgb(
        cls, index: int, time_s: float, rgb: np.ndarray, short_side: int = WORKING_SHORT_SIDE
    ) -> Frame:
        height, width = rgb.shape[:2]
        return cls(index, time_s, RGBPicture(rgb), working_size(width, height, short_side))


class Picture:
    """A decoded picture that converts itself on demand."""

    def rgb(self) -> np.ndarray:
        raise NotImplementedError

    def rgb_at(self, width: int, height: int, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        raise NotImplementedError

    def gray_at(self, width: int, height: int) -> np.ndarray:
        return cv2.cvtColor(self.rgb_at(width, height), cv2.COLOR_RGB2GRAY)


class RGBPicture(Picture):
    """An RGB array (decord, image folders, tests)."""

    def __init__(self, rgb: np.ndarray) -> None:
        self._rgb = rgb

    def rgb(self) -> np.ndarray:
        return self._rgb

    def rgb_at(self, width: int, height: int, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        if (width, height) == (self._rgb.shape[1], self._rgb.shape[0]):
            return self._rgb
        return cv2.resize(self._rgb, (width, height), interpolation=interpolation)


class I420Picture(Picture):
    """The Y, U and V planes of a yuv420p frame (most video). Scaling the planes with cv2 and
    converting only the small result is twice as fast as swscale's scale-and-convert (0.15 s
    against 0.29 s for the 120 frames of the 720p reference clip, decode included)."""

    def __init__(self, planes: np.ndarray, width: int, height: int) -> None:
        self._planes, self._width, self._height = planes, width, height
        self._scaled_luma: np.ndarray | None = None

    def rgb(self) -> np.ndarray:
        return cv2.cvtColor(self._planes, cv2.COLOR_YUV2RGB_I420)

    def rgb_at(self, width: int, height: int, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        if (width, height) == (self._width, self._height):
            return self.rgb()
        luma = self._luma_at(width, height, interpolation)
        quarter = self._width * self._height // 4
        chroma = self._planes[self._height :].ravel()
        # Chroma is smooth: linear sampling is enough and far cheaper than area averaging.
        u, v = (
            cv2.resize(
                chroma[i * quarter : (i + 1) * quarter].reshape(
                    self._height // 2, self._width // 2
                ),
                (width // 2, height // 2),
                interpolation=cv2.INTER_LINEAR,
            )
            for i in (0, 1)
        )
        i420 = np.concatenate([luma.ravel(), u.ravel(), v.ravel()]).reshape(height * 3 // 2, width)
        return cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420)

    def gray_at(self, width: int, height: int) -> np.ndarray:
        """Luma is the Y plane: scaled, then stretched from video range (16-235) to 0-255."""
        return cv2.LUT(self._luma_at(width, height), LIMITED_TO_FULL)

    def _luma_at(self, width: int, height: int, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        """Scaled from the working copy's luma when that was made and is larger (for a
        thumbnail), not from the full frame again."""
        luma = self._planes[: self._height]
        if (width, height) == (self._width, self._height):
            return luma
        scaled = self._scaled_luma
        if scaled is not None and scaled.shape[1] >= width and scaled.shape[0] >= height:
            if scaled.shape[:2] == (height, width):
                return scaled
            return cv2.resize(scaled, (width, height), interpolation=interpolation)
        resized = cv2.resize(luma, (width, height), interpolation=interpolation)
        if interpolation == cv2.INTER_AREA:
            self._scaled_luma = resized
        return resized


LIMITED_TO_FULL = np.clip(np.round((np.arange(256) - 16) * 255 / 219), 0, 255).astype(np.uint8)


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
