"""Batched per-frame math in torch, written to give the OpenCV results the analyzers use.

Frames are uint8 tensors: RGB batches ``(N, H, W, 3)``, gray batches ``(N, H, W)``. Integer
steps are done in integers (so gray and differences are exact); statistics in float64 where
OpenCV accumulates in double.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidlint.gpu import require_torch

torch = require_torch()
F = torch.nn.functional

GRAY_WEIGHTS = (9798, 19235, 3735)
GRAY_SHIFT = 15
"""OpenCV 4's fixed-point RGB to gray weights: 0.299, 0.587, 0.114 scaled by 2^15."""


def as_batch(frames: Any, device: Any) -> Any:
    """A uint8 tensor on ``device`` from a numpy array, a list of arrays or a tensor."""
    if isinstance(frames, torch.Tensor):
        return frames.to(device)
    if isinstance(frames, (list, tuple)):
        frames = np.stack(frames)
    return torch.from_numpy(np.ascontiguousarray(frames)).to(device)


def rgb_to_gray(rgb: Any) -> Any:
    """``cv2.cvtColor(rgb, COLOR_RGB2GRAY)`` for a batch, bit-exact."""
    r, g, b = (rgb[..., i].to(torch.int32) for i in range(3))
    y = r * GRAY_WEIGHTS[0] + g * GRAY_WEIGHTS[1] + b * GRAY_WEIGHTS[2]
    y = (y + (1 << (GRAY_SHIFT - 1))) >> GRAY_SHIFT
    return y.to(torch.uint8)


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
    x = images[:, :rows * size, :cols * size].to(torch.float32)[:, None]
    pooled = F.avg_pool2d(x, size)[:, 0]
    return torch.round(pooled)  # half to even, as cvRound


def laplacian_variance(gray: Any) -> Any:
    """``cv2.Laplacian(gray, CV_32F).var()`` per image (3x3 aperture, reflect-101 border).
    Done with shifted slices, not a convolution: exact in integers, and free of the TF32
    rounding CUDA convolutions use by default."""
    x = F.pad(gray.to(torch.float32)[:, None], (1, 1, 1, 1), mode="reflect")[:, 0]
    lap = (x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:]
           - 4 * x[:, 1:-1, 1:-1]).to(torch.float64)
    return lap.var(dim=(1, 2), unbiased=False)


def warp(images: Any, flow: Any, border: str = "border") -> Any:
    """Backward warp: ``out(x, y) = image(x + u, y + v)`` with bilinear sampling, as
    ``cv2.remap(image, x + u, y + v, INTER_LINEAR, BORDER_REPLICATE)`` (``border="zeros"`` for
    BORDER_CONSTANT). ``images`` is ``(N, H, W[, C])``, ``flow`` is ``(N, H, W, 2)`` float
    pixels; returns float32 of the images' shape."""
    squeeze = images.dim() == 3
    x = images.to(torch.float32)
    x = x[:, None] if squeeze else x.permute(0, 3, 1, 2)
    height, width = x.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(height, device=x.device, dtype=torch.float32),
                            torch.arange(width, device=x.device, dtype=torch.float32),
                            indexing="ij")
    gx = (xs[None] + flow[..., 0].to(torch.float32)) * (2.0 / max(width - 1, 1)) - 1.0
    gy = (ys[None] + flow[..., 1].to(torch.float32)) * (2.0 / max(height - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode=border, align_corners=True)
    return out[:, 0] if squeeze else out.permute(0, 2, 3, 1)


def occlusion_mask(forward: Any, backward: Any) -> Any:
    """Pixels whose forward flow is confirmed by the backward flow (Lai et al. 2018, after
    Sundaram et al. 2010): ``|f + b(x + f)|^2 < 0.01 (|f|^2 + |b(x + f)|^2) + 0.5``.
    ``forward``/``backward`` are ``(N, H, W, 2)``; returns bool ``(N, H, W)``."""
    warped = warp(backward.permute(0, 3, 1, 2).reshape(-1, *backward.shape[1:3]),
                  forward.repeat_interleave(2, dim=0))
    warped = warped.reshape(backward.shape[0], 2, *backward.shape[1:3]).permute(0, 2, 3, 1)
    total = ((forward + warped) ** 2).sum(-1)
    bound = 0.01 * ((forward ** 2).sum(-1) + (warped ** 2).sum(-1)) + 0.5
    return total < bound


def warp_error(previous: Any, current: Any, flow: Any, mask: Any | None = None) -> Any:
    """Mean absolute difference between ``current`` and ``previous`` warped by ``flow`` (the
    flow from current to previous), over ``mask`` when given; one value per pair."""
    warped = warp(previous, flow)
    error = (warped - current.to(torch.float32)).abs()
    if error.dim() == 4:
        error = error.mean(-1)
    if mask is None:
        return error.mean(dim=(1, 2))
    weight = mask.to(torch.float32)
    return (error * weight).sum(dim=(1, 2)) / weight.sum(dim=(1, 2)).clamp(min=1.0)
