"""The temporal analyzer's per-frame statistics, batched in torch: what the GPU path computes
for a whole clip while the CPU path does one frame at a time (vidlint.analyzers.temporal).

At a working size equal to the clip's own (short side <= 360) the values equal the CPU ones;
when frames are downscaled, torch's area interpolation differs slightly from OpenCV's INTER_AREA
at fractional ratios (benchmarks/gpu_check.py prints the differences).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vidlint.analyzers.temporal import BLOCK_DIFF, DIFF, LUMA, LUMA_STD
from vidlint.decode import WORKING_SHORT_SIDE, working_size
from vidlint.gpu import require_torch
from vidlint.gpu.decode import frame_batches
from vidlint.gpu.ops import block_means, consecutive_diff, laplacian_variance, mean_std, rgb_to_gray

SHARPNESS = "gpu.sharpness"
"""Laplacian variance of the working gray copy (a blur measure)."""

torch = require_torch()


def working_gray(rgb: Any, short_side: int = WORKING_SHORT_SIDE) -> Any:
    """Gray working copy of an RGB batch: downscaled (area) to the working size, then gray."""
    height, width = rgb.shape[1:3]
    size = working_size(width, height, short_side)
    if size != (width, height):
        x = rgb.permute(0, 3, 1, 2).to(torch.float32)
        x = torch.nn.functional.interpolate(x, size=(size[1], size[0]), mode="area")
        rgb = x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
    return rgb_to_gray(rgb)


def clip_statistics(path: str | Path, device: Any, batch_size: int = 32,
                    short_side: int = WORKING_SHORT_SIDE,
                    decoder: str = "auto") -> dict[str, np.ndarray]:
    """Per frame: luma mean and std, mean absolute difference from the previous frame, the
    worst 8x8 block of that difference, and the Laplacian variance (first frame's diffs NaN)."""
    columns: dict[str, list[Any]] = {LUMA: [], LUMA_STD: [], DIFF: [], BLOCK_DIFF: [],
                                     SHARPNESS: []}
    previous = None
    with torch.inference_mode():
        for batch in frame_batches(path, device, batch_size, decoder):
            gray = working_gray(batch.rgb, short_side)
            mean, std = mean_std(gray)
            diff = consecutive_diff(gray, previous)
            diff_mean = diff.to(torch.float64).mean(dim=(1, 2))
            block_max = block_means(diff, 8).amax(dim=(1, 2)).to(torch.float64)
            if previous is None:
                nan = torch.full((1,), float("nan"), dtype=torch.float64, device=gray.device)
                diff_mean, block_max = torch.cat([nan, diff_mean]), torch.cat([nan, block_max])
            columns[LUMA].append(mean)
            columns[LUMA_STD].append(std)
            columns[DIFF].append(diff_mean)
            columns[BLOCK_DIFF].append(block_max)
            columns[SHARPNESS].append(laplacian_variance(gray))
            previous = gray[-1]
    return {key: torch.cat(parts).cpu().numpy() if parts else np.zeros(0)
            for key, parts in columns.items()}
