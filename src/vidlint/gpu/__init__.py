"""The optional torch path (``pip install 'vidlint[gpu]'``): device selection with a clean CPU
fallback, batched per-frame math, GPU decode where torchcodec and CUDA exist, and RAFT optical
flow when its weights are placed in ``models/`` (never downloaded).

Every function runs on the CPU device too, and the tests check its results against the
numpy/OpenCV code the analyzers use; ``benchmarks/gpu_check.py`` does the same on a GPU and
prints timings.
"""

from __future__ import annotations

from typing import Any

from vidlint.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def require_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ConfigError("the torch path needs torch: pip install 'vidlint[gpu]'") from exc
    return torch


def select_device(prefer: str = "auto") -> Any:
    """``auto``: the first CUDA device when there is one, else the CPU. ``cuda`` when no CUDA
    device exists is an error naming the cause, never a silent CPU run; ``cuda:N`` picks one."""
    torch = require_torch()
    if prefer == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if prefer == "cpu":
        return torch.device("cpu")
    if prefer == "cuda" or prefer.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device {prefer!r} requested but CUDA is not available "
                              f"(torch {torch.__version__}, built for CUDA "
                              f"{torch.version.cuda or 'none'})")
        index = int(prefer.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise ConfigError(f"device {prefer!r}: only {torch.cuda.device_count()} CUDA "
                              "device(s)")
        return torch.device("cuda", index)
    raise ConfigError(f"unknown device {prefer!r} (choose auto, cpu, cuda or cuda:N)")


__all__ = ["DEVICES", "require_torch", "select_device", "torch_available"]
