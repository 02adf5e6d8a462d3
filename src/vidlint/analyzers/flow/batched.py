"""The flow analyzer's torch path: its dense per-pixel checks batched on a device, and RAFT
optical flow from torchvision, only when its weights are placed in ``models/``.

Nothing is ever downloaded: the network is built with ``weights=None`` and loaded from
``models/raft_large.pth`` or ``models/raft_small.pth`` (torchvision state dicts, e.g. saved from
``Raft_Large_Weights.DEFAULT`` on a machine with network access). Without a weights file the
callers keep the CPU flow (OpenCV DIS).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from vidlint.analyzers.flow.keys import (
    BRIGHTNESS_SHIFT,
    ERROR_GRID,
    MOTION,
    MOTION_P99,
    OCCLUDED,
    OCCLUDED_GRID,
    SHIFT_GRID,
    WARP_ERROR,
    WARP_GRID,
    FlowParams,
    PairChecks,
)
from vidlint.errors import ConfigError
from vidlint.gpu import require_torch
from vidlint.gpu.ops import as_batch, warp

RAFT_FILES = {"raft_large": "raft_large.pth", "raft_small": "raft_small.pth"}
MODELS_ENV = "VIDLINT_MODELS"
REMAP_STEPS = 32
"""cv2.remap samples at 1/32 px (INTER_BITS = 5)."""


def models_dir() -> Path:
    return Path(os.environ.get(MODELS_ENV, "models"))


def find_raft_weights(folder: str | Path | None = None) -> tuple[str, Path] | None:
    """(variant, file) of the first RAFT weights file in ``folder``, or None."""
    folder = Path(folder) if folder is not None else models_dir()
    for variant, name in RAFT_FILES.items():
        if (folder / name).is_file():
            return variant, folder / name
    return None


def load_raft(device: Any, folder: str | Path | None = None) -> Any | None:
    """The RAFT model on ``device`` in eval mode, or None when no weights file is present."""
    found = find_raft_weights(folder)
    if found is None:
        return None
    variant, path = found
    torch = require_torch()
    try:
        from torchvision.models import optical_flow
    except Exception as exc:  # ImportError, or a torchvision built for another torch
        raise ConfigError(
            f"RAFT weights found but torchvision cannot be loaded ({exc}); "
            "install the torchvision that matches torch",
            path,
        ) from exc
    model = getattr(optical_flow, variant)(weights=None, progress=False)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:  # a truncated file, or weights of the other variant
        raise ConfigError(f"cannot load {variant} weights ({exc})", path) from exc
    return model.eval().to(device)


def raft_flow(model: Any, previous: Any, current: Any, iterations: int = 12) -> Any:
    """Flow from ``previous`` to ``current`` (uint8 RGB batches ``(N, H, W, 3)``) as
    ``(N, H, W, 2)`` pixels. Frames are padded to a multiple of 8, as RAFT needs."""
    torch = require_torch()
    F = torch.nn.functional

    def prepare(rgb: Any) -> Any:
        x = rgb.permute(0, 3, 1, 2).to(torch.float32) / 127.5 - 1.0
        height, width = x.shape[-2:]
        return F.pad(x, (0, (-width) % 8, 0, (-height) % 8), mode="replicate")

    height, width = previous.shape[1:3]
    with torch.inference_mode():
        flows = model(prepare(previous), prepare(current), num_flow_updates=iterations)
    return flows[-1][:, :, :height, :width].permute(0, 2, 3, 1)


def raft_pairs(model: Any, prev: Any, cur: Any, device: Any) -> tuple[np.ndarray, np.ndarray]:
    """Forward (previous to current) and backward RAFT flow for a batch of gray pairs
    ``(N, H, W)`` uint8, as float32 ``(N, H, W, 2)`` arrays; both directions in one pass."""
    torch = require_torch()
    before, after = (
        as_batch(frames, device)[..., None].expand(-1, -1, -1, 3) for frames in (prev, cur)
    )
    flows = raft_flow(model, torch.cat([before, after]), torch.cat([after, before]))
    forward, backward = np.split(flows.float().cpu().numpy(), 2)
    return forward, backward


def dense_checks(
    prev: Any, cur: Any, forward: Any, backward: Any, params: FlowParams, device: Any
) -> list[PairChecks]:
    """The flow analyzer's per-pixel checks (FlowAnalyzer._dense) for a batch of pairs:
    gray frames ``(N, H, W)`` uint8 and flows ``(N, H, W, 2)`` float32 (forward: previous to
    current). Sampling positions are rounded to 1/32 px and the warped frame to whole grey
    levels (half up), as cv2.remap does, so the values equal the CPU path's but for cv2's
    fixed-point interpolation weights."""
    torch = require_torch()
    F = torch.nn.functional
    p = params
    with torch.inference_mode():
        before = as_batch(prev, device).to(torch.float32)
        fwd, bwd = as_batch(forward, device), as_batch(backward, device)
        n, height, width = before.shape
        fx, fy = fwd[..., 0], fwd[..., 1]
        xs = torch.arange(width, device=before.device, dtype=torch.float32)
        ys = torch.arange(height, device=before.device, dtype=torch.float32)[:, None]
        map_x, map_y = xs + fx, ys + fy
        at = torch.stack([remap_position(map_x) - xs, remap_position(map_y) - ys], dim=-1)
        warped = torch.floor(warp(as_batch(cur, device), at) + 0.5)
        back_at = warp(bwd, at)
        bx, by = back_at[..., 0], back_at[..., 1]
        # Forward-backward consistency (Ruder et al. 2016): F(x) + B(x + F(x)) ~ 0.
        forward_sq = fx * fx + fy * fy
        occluded = (fx + bx) ** 2 + (fy + by) ** 2 > p.consistency_ratio * (
            forward_sq + bx * bx + by * by
        ) + p.consistency_offset
        # Motion boundary (Lai et al.): |grad u|^2 + |grad v|^2 > 0.01 |F|^2 + 0.002.
        boundary = (
            _gradient_sq(fx) + _gradient_sq(fy) > p.boundary_ratio * forward_sq + p.boundary_offset
        )
        inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
        valid = inside & ~occluded & ~boundary
        valid_f = valid.to(torch.float32)
        difference = before - warped
        count = valid_f.sum(dim=(1, 2)).clamp(min=1.0)
        shift = (difference * valid_f).sum(dim=(1, 2)) / count
        error = (difference - shift[:, None, None]).abs()
        masked = error * valid_f
        cell_valid = _cell_means(valid_f, p.grid)
        usable = cell_valid.clamp(min=1e-6)
        signed = _cell_means(difference * valid_f, p.grid) / usable
        content = (difference - _per_pixel(signed, difference.shape)).abs() * valid_f
        # the 5x5 minimum of cv2.erode (whose border never erodes: max_pool pads with -inf)
        coherent = -F.max_pool2d(-content[:, None], 5, stride=1, padding=2)[:, 0]
        nan = torch.tensor(float("nan"), device=before.device)
        warp_grid = torch.where(cell_valid > 0.05, _cell_means(coherent, p.grid) / usable, nan)
        error_grid = torch.where(cell_valid > 0.05, _cell_means(masked, p.grid) / usable, nan)
        shift_grid = torch.where(cell_valid > 0.05, -signed, nan)
        occluded_f = (occluded & inside).to(torch.float32)
        magnitude = torch.hypot(fx, fy)
        p99 = torch.quantile(magnitude[:, ::4, ::4].reshape(n, -1).to(torch.float64), 0.99, dim=1)
        values = {
            MOTION: magnitude.to(torch.float64).mean(dim=(1, 2)),
            MOTION_P99: p99,
            WARP_ERROR: masked.to(torch.float64).sum(dim=(1, 2)) / count,
            WARP_GRID: warp_grid.reshape(n, -1),
            ERROR_GRID: error_grid.reshape(n, -1),
            OCCLUDED: occluded_f.to(torch.float64).mean(dim=(1, 2)),
            OCCLUDED_GRID: _cell_means(occluded_f, p.grid).reshape(n, -1),
            BRIGHTNESS_SHIFT: -shift,
            SHIFT_GRID: shift_grid.reshape(n, -1),
        }
        host = {key: value.cpu().numpy() for key, value in values.items()}
        masks = [
            m.cpu().numpy()
            for m in (
                valid,
                occluded | ~inside,
                (occluded & inside) | (error > p.unexplained_level),
            )
        ]
    return [
        PairChecks(
            {key: _scalar(value[i]) for key, value in host.items()},
            masks[0][i],
            masks[1][i],
            masks[2][i],
        )
        for i in range(n)
    ]


def remap_position(position: Any) -> Any:
    """A float32 sampling position rounded as cv2.remap rounds it: to 1/32 px, half to even."""
    torch = require_torch()
    return torch.round(position * REMAP_STEPS) / REMAP_STEPS


def _gradient_sq(channel: Any) -> Any:
    """|grad|^2 by central differences, the border reflected as cv2.Sobel's (reflect-101)."""
    torch = require_torch()
    x = torch.nn.functional.pad(channel[:, None], (1, 1, 1, 1), mode="reflect")[:, 0]
    gx = 0.5 * (x[:, 1:-1, 2:] - x[:, 1:-1, :-2])
    gy = 0.5 * (x[:, 2:, 1:-1] - x[:, :-2, 1:-1])
    return gx * gx + gy * gy


def _cell_means(images: Any, grid: int) -> Any:
    """Mean of each cell of a ``grid`` x ``grid`` layout (analyzers.flow.cell_means)."""
    n, height, width = images.shape
    rows, cols = height // grid, width // grid
    cells = images[:, : rows * grid, : cols * grid].reshape(n, grid, rows, grid, cols)
    return cells.mean(dim=(2, 4))


def _per_pixel(cells: Any, shape: tuple[int, ...]) -> Any:
    """Each cell's value over its pixels (analyzers.flow.per_pixel)."""
    grid = cells.shape[1]
    rows, cols = shape[1] // grid, shape[2] // grid
    out = cells.new_zeros(shape)
    out[:, : rows * grid, : cols * grid] = cells.repeat_interleave(rows, 1).repeat_interleave(
        cols, 2
    )
    return out


def _scalar(value: np.ndarray) -> Any:
    return float(value) if value.ndim == 0 else value.astype(np.float64)
