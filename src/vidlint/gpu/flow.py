"""RAFT optical flow from torchvision, only when its weights are placed in ``models/``.

Nothing is ever downloaded: the network is built with ``weights=None`` and loaded from
``models/raft_large.pth`` or ``models/raft_small.pth`` (torchvision state dicts, e.g. saved from
``Raft_Large_Weights.DEFAULT`` on a machine with network access). Without a weights file the
callers keep the CPU flow (OpenCV DIS).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vidlint.errors import ConfigError
from vidlint.gpu import require_torch

RAFT_FILES = {"raft_large": "raft_large.pth", "raft_small": "raft_small.pth"}
MODELS_ENV = "VIDLINT_MODELS"


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
        raise ConfigError(f"RAFT weights found but torchvision cannot be loaded ({exc}); "
                          "install the torchvision that matches torch", path) from exc
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
