"""The temporal analyzer's per-frame statistics, batched in torch: what its torch path computes
(``device`` set) where the CPU path calls cv2 one frame at a time
(``FrameStatistics``). Same values: the gray frames are the same arrays,
and every step is exact in integers or accumulated in float64 as OpenCV does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidlint.analyzers.temporal.keys import (
    BLOCK_DIFF,
    DARK_FRACTION,
    DIFF,
    FREEZE_MAFD,
    FROZEN,
    LUMA,
    LUMA_STD,
    STATISTICS,
    TemporalParams,
)
from vidlint.gpu import require_torch
from vidlint.gpu.ops import abs_diff, as_batch, block_means, consecutive_diff, mean_std

torch = require_torch()

BATCH_FRAMES = 32
"""Frames per batch: 32 gray 360p frames are 7 MB on the device, and enough work per launch."""


class BatchedFrameStatistics:
    """Collects gray working copies and computes their statistics a batch at a time on
    ``device``; only the previous frame and the freeze reference stay on the device between
    batches, so memory is bounded by the batch, not the clip."""

    keys = STATISTICS

    def __init__(self, params: TemporalParams, device: Any, batch_size: int = BATCH_FRAMES) -> None:
        self.params = params
        self.device = device
        self.batch_size = batch_size
        self.pending: list[np.ndarray] = []
        self.previous: Any = None
        self.reference: Any = None
        self.parts: dict[str, list[np.ndarray]] = {key: [] for key in self.keys}

    def push(self, gray: np.ndarray) -> None:
        self.pending.append(gray)
        if len(self.pending) == self.batch_size:
            self._flush()

    def columns(self) -> dict[str, np.ndarray]:
        self._flush()
        return {
            key: np.concatenate(parts) if parts else np.empty(0)
            for key, parts in self.parts.items()
        }

    def _flush(self) -> None:
        if not self.pending:
            return
        with torch.inference_mode():
            gray = as_batch(self.pending, self.device)
            self.pending = []
            mean, std = mean_std(gray)
            black = int(self.params.black_pixel * 255)
            values = {
                LUMA: mean,
                LUMA_STD: std,
                DARK_FRACTION: (gray <= black).to(torch.float64).mean(dim=(1, 2)),
            }
            diff = consecutive_diff(gray, self.previous)
            values[DIFF] = diff.to(torch.float64).mean(dim=(1, 2))
            if min(diff.shape[1:]) >= 8:
                values[BLOCK_DIFF] = block_means(diff, 8).amax(dim=(1, 2)).to(torch.float64)
            else:  # smaller than one block: the whole frame is the block
                values[BLOCK_DIFF] = values[DIFF]
            values[FREEZE_MAFD], values[FROZEN] = self._freeze(gray)
            if self.previous is None:
                nan = torch.full((1,), float("nan"), dtype=torch.float64, device=gray.device)
                values[DIFF] = torch.cat([nan, values[DIFF]])
                values[BLOCK_DIFF] = torch.cat([nan, values[BLOCK_DIFF]])
            self.previous = gray[-1]
            for key, value in values.items():
                self.parts[key].append(value.cpu().numpy())

    def _freeze(self, gray: Any) -> tuple[Any, Any]:
        """ffmpeg freezedetect's test, frame by frame against the current reference (the first
        frame of the freeze); kept on the device with ``torch.where``, no sync per frame."""
        mafds, frozen = [], []
        nan = torch.tensor(float("nan"), dtype=torch.float64, device=gray.device)
        for frame in gray:
            if self.reference is None:
                mafds.append(nan)
                frozen.append(torch.zeros((), dtype=torch.bool, device=gray.device))
                self.reference = frame
                continue
            mafd = abs_diff(frame, self.reference).to(torch.float64).mean() / 255.0
            still = mafd <= self.params.freeze_noise
            mafds.append(mafd)
            frozen.append(still)
            self.reference = torch.where(still, self.reference, frame)
        return torch.stack(mafds), torch.stack(frozen).to(torch.float64)
