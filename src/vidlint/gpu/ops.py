"""Batched per-frame math in torch, written to give the OpenCV results the analyzers use.

Frames are uint8 tensors: RGB batches ``(N, H, W, 3)``, gray batches ``(N, H, W)``. Integer
steps are done in integers (so differences are exact); statistics in float64 where OpenCV
accumulates in double.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidlint.gpu import require_torch

torch = require_torch()
F = torch.nn.functional


def as_batch(frames: Any, device: Any) -> Any:
    """A tensor on ``device`` from a numpy array, a list or tuple of arrays, or a tensor."""
    if isinstance(frames, torch.Tensor):
        return frames.to(device)
    if isinstance(frames, (list, tuple)):
        frames = np.stack(frames)
    return torch.from_numpy(np.ascontiguousarray(frames)).to(device)


def abs_diff(a: Any, b: Any) -> Any:
    """``cv2.absdiff`` on uint8 batches."""
    return (a.to(torch.int16) - b.to(torch.int16)).abs().to(torch.uint8)


def consecutive_diff(gray: Any, previous: Any | None = None) -> Any:
    """``|frame_i - frame_(i-1)|`` for a batch; the first frame is compared with ``previous``
    (the last frame of the batch before), or dropped when there is none."""
    if previous is not None:
        gray = torch.cat([previous[None], gray])
    return abs_diff(gray[1:], gray[:-1])


def mean_std(images: Any) -> tuple[Any, Any]:
    """Per image (and channel): ``cv2.meanStdDev`` (population standard deviation)."""
    x = images.to(torch.float64)
    dims = (1, 2)
    mean = x.mean(dim=dims)
    std = ((x - mean[:, None, None]) ** 2).mean(dim=dims).sqrt()
    return mean, std


def block_means(images: Any, size: int) -> Any:
    """Mean of each ``size`` x ``size`` block of uint8 images, rounded like ``cv2.resize`` with
    INTER_AREA (the temporal analyzer's block_means), as float32 ``(N, rows, cols)``."""
    rows, cols = images.shape[1] // size, images.shape[2] // size
    x = images[:, : rows * size, : cols * size].to(torch.float32)[:, None]
    pooled = F.avg_pool2d(x, size)[:, 0]
    return torch.round(pooled)  # half to even, as cvRound


def warp(images: Any, flow: Any) -> Any:
    """Backward warp: ``out(x, y) = image(x + u, y + v)`` with bilinear sampling, as
    ``cv2.remap(image, x + u, y + v, INTER_LINEAR, BORDER_REPLICATE)``. ``images`` is
    ``(N, H, W[, C])``, ``flow`` is ``(N, H, W, 2)`` float pixels; returns float32 of the
    images' shape."""
    squeeze = images.dim() == 3
    x = images.to(torch.float32)
    x = x[:, None] if squeeze else x.permute(0, 3, 1, 2)
    height, width = x.shape[-2:]
    ys, xs = torch.meshgrid(
        torch.arange(height, device=x.device, dtype=torch.float32),
        torch.arange(width, device=x.device, dtype=torch.float32),
        indexing="ij",
    )
    gx = (xs[None] + flow[..., 0].to(torch.float32)) * (2.0 / max(width - 1, 1)) - 1.0
    gy = (ys[None] + flow[..., 1].to(torch.float32)) * (2.0 / max(height - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out[:, 0] if squeeze else out.permute(0, 2, 3, 1)
