"""Frame-sequence statistics on the shared 360p gray copy: what the TMP rules read.

One pass of cheap cv2 calls per frame (about 1 ms at 360p): brightness, difference from the
previous frame (whole frame and worst 8x8 block, as ffmpeg's mpdecimate), difference from the
current freeze reference (ffmpeg's freezedetect), PySceneDetect's content score, and a smear score
that spots decoder garbage (rows or columns copied across textured areas).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from scenedetect import FrameTimecode
from scenedetect.detectors import ContentDetector

from vidlint.analyzers.base import Analyzer, FrameSeries, Measured
from vidlint.analyzers.flow import check_size_of, consistency, pair_flows, pixel_grid
from vidlint.analyzers.flow.keys import PRESETS, FlowParams
from vidlint.analyzers.temporal.keys import (
    BLOCK_DIFF,
    CONTENT,
    CONTENT_WIDTH,
    CUT_OCCLUDED,
    DARK_FRACTION,
    DIFF,
    FREEZE_MAFD,
    FROZEN,
    LUMA,
    LUMA_STD,
    SMEAR,
    STATISTICS,
    TemporalParams,
)
from vidlint.decode import ClipInfo, Frame


class TemporalAnalyzer(Analyzer):
    name = "temporal"
    signals = (*STATISTICS, CONTENT, SMEAR, CUT_OCCLUDED)
    Params = TemporalParams
    uses_device = True

    def __init__(
        self, params: TemporalParams, clip: ClipInfo, context: Any, device: Any = None
    ) -> None:
        super().__init__(params, clip, context, device)
        self.statistics: Any
        if device is None:
            self.statistics = FrameStatistics(params)
        else:
            from vidlint.analyzers.temporal.batched import BatchedFrameStatistics

            self.statistics = BatchedFrameStatistics(params, device)
        self.series = FrameSeries(CONTENT, SMEAR, CUT_OCCLUDED)
        self.cut_check = CutCheck()
        self.previous_gray: np.ndarray | None = None
        # PySceneDetect's own content score (HSV deltas); min_scene_len=1 so it never withholds.
        self.content = ContentDetector(min_scene_len=1)
        self.fps = clip.fps or 24.0
        self.seen = 0

    def update(self, frame: Frame) -> None:
        self.statistics.push(frame.gray)
        self.content.process_frame(FrameTimecode(frame.index, self.fps), self._content_copy(frame))
        content = float(self.content._frame_score or 0.0) if self.seen else np.nan
        occluded = np.nan
        if self.previous_gray is not None and content >= self.params.cut_check_score:
            occluded = self.cut_check.occluded_share(self.previous_gray, frame.gray)
        self.series.append(
            **{CONTENT: content, SMEAR: smear_fraction(frame.gray), CUT_OCCLUDED: occluded}
        )
        self.previous_gray = frame.gray
        self.seen += 1

    def finish(self) -> Measured:
        return Measured({**self.statistics.columns(), **self.series.arrays()})

    def _content_copy(self, frame: Frame) -> np.ndarray:
        """PySceneDetect scores frames downscaled to about 256 px wide (its auto-downscale); its
        default threshold of 27 is tuned at that scale, and it is 9x cheaper than at 360p."""
        return cv2.cvtColor(frame.thumbnail(CONTENT_WIDTH), cv2.COLOR_RGB2BGR)


class CutCheck:
    """The share of pixels of a frame pair without a consistent forward-backward optical flow
    match (``flow.occluded`` of the flow analyzer at its default settings), for cut candidates
    only: most pixels lose their match at a cut, few in a whip pan."""

    def __init__(self) -> None:
        self.params = FlowParams()
        self.dis = cv2.DISOpticalFlow_create(PRESETS[self.params.preset])

    def occluded_share(self, previous: np.ndarray, gray: np.ndarray) -> float:
        size = check_size_of(gray.shape, self.params.check_side)
        forward, backward = pair_flows(self.dis, previous, gray, size)
        grid = pixel_grid((size[1], size[0]))
        return consistency(forward, backward, grid, self.params).occluded_share


class FrameStatistics:
    """Brightness, darkness, and differences from the previous frame and from the current
    freeze reference, one frame at a time with cv2 (the torch path batches the same values:
    ``batched.BatchedFrameStatistics``)."""

    def __init__(self, params: TemporalParams) -> None:
        self.params = params
        self.series = FrameSeries(*STATISTICS)
        self.previous: np.ndarray | None = None
        self.reference: np.ndarray | None = None

    def push(self, gray: np.ndarray) -> None:
        mean, std = cv2.meanStdDev(gray)
        dark = cv2.countNonZero(cv2.inRange(gray, 0, int(self.params.black_pixel * 255)))
        values = {
            LUMA: float(mean[0, 0]),
            LUMA_STD: float(std[0, 0]),
            DARK_FRACTION: dark / gray.size,
            FROZEN: 0.0,
        }
        if self.previous is not None:
            diff = cv2.absdiff(gray, self.previous)
            values[DIFF] = float(cv2.mean(diff)[0])
            values[BLOCK_DIFF] = float(block_means(diff, 8).max())
            mafd = float(cv2.mean(cv2.absdiff(gray, self.reference))[0]) / 255.0
            values[FREEZE_MAFD] = mafd
            values[FROZEN] = float(mafd <= self.params.freeze_noise)
        if not values[FROZEN]:
            self.reference = gray
        self.previous = gray
        self.series.append(**values)

    def columns(self) -> dict[str, np.ndarray]:
        return self.series.arrays()


def block_means(image: np.ndarray, size: int) -> np.ndarray:
    """Mean of each ``size`` x ``size`` block (the image cropped to whole blocks)."""
    height, width = image.shape[:2]
    rows, cols = height // size, width // size
    if rows == 0 or cols == 0:
        return np.array([float(cv2.mean(image)[0])])
    return cv2.resize(
        image[: rows * size, : cols * size], (cols, rows), interpolation=cv2.INTER_AREA
    ).astype(np.float32)


def smear_fraction(gray: np.ndarray, size: int = 16) -> float:
    """Share of 16x16 blocks where at least 90% of pixels repeat the pixel above exactly while
    the block is textured across: the vertical streaks a decoder leaves when it conceals lost
    macroblocks by stretching the last good row down (H.264 concealment; the evaluation set's
    corrupt stretch shows them)."""
    rows, cols = (gray.shape[0] - 1) // size * size, (gray.shape[1] - 1) // size * size
    if rows < size or cols < size:
        return 0.0
    here = gray[:rows, :cols]
    same_down = block_means(cv2.compare(here, gray[1 : rows + 1, :cols], cv2.CMP_EQ), size)
    across = block_means(cv2.absdiff(here, gray[:rows, 1 : cols + 1]), size)
    # block means are whole grey levels: "textured" is 2 or more, which keeps smooth
    # gradients stretched down (the worst case) while flat areas, whose rows repeat too, stay out
    return float(((same_down > 0.9 * 255) & (across > 1.0)).mean())


ANALYZER = TemporalAnalyzer
