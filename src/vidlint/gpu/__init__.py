"""The optional torch path (``pip install 'vidlint[gpu]'``): device selection with a clean CPU
fallback, batched per-frame math for the temporal and flow analyzers, GPU decode where
torchcodec and CUDA exist, and RAFT optical flow when its weights are placed in ``models/``
(never downloaded).

Every function runs on the CPU device too, and the tests check its results against the
numpy/OpenCV code the analyzers use by default; ``benchmarks/gpu_check.py`` does the same on a
GPU and prints timings.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from vidlint.errors import ConfigError

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "torch-cpu", "cuda", "cuda:N")
"""What ``device`` may say: ``cpu`` runs the OpenCV/numpy analyzers, ``auto`` the torch path
on a CUDA GPU when there is one and ``cpu`` otherwise, ``cuda``/``cuda:N`` the torch path on
that GPU (an error without one), ``torch-cpu`` the torch path on the CPU (slower than ``cpu``;
it is how CI checks the GPU code)."""


def require_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ConfigError("the torch path needs torch: pip install 'vidlint[gpu]'") from exc
    return torch


def nvidia_driver_present() -> bool:
    """Whether an NVIDIA driver is loaded, checked without importing torch (about 1 s of
    start-up that a machine without a GPU should not pay)."""
    return Path("/proc/driver/nvidia/gpus").is_dir() or Path("/dev/nvidiactl").exists()


def select_device(prefer: str = "auto") -> Any:
    """The torch device for ``prefer``: ``auto`` is the first CUDA device when there is one,
    else the CPU. ``cuda`` when no CUDA device exists is an error naming the cause, never a
    silent CPU run; ``cuda:N`` picks one."""
    check_device_name(prefer)
    torch = require_torch()
    if prefer == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if prefer in ("cpu", "torch-cpu"):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(
            f"device {prefer!r} requested but CUDA is not available "
            f"(torch {torch.__version__}, built for CUDA "
            f"{torch.version.cuda or 'none'})"
        )
    index = _cuda_index(prefer)
    if index >= torch.cuda.device_count():
        raise ConfigError(f"device {prefer!r}: only {torch.cuda.device_count()} CUDA device(s)")
    return torch.device("cuda", index)


def pipeline_device(name: str) -> Any | None:
    """The torch device the analyzers run their batched math on, or None for the OpenCV/numpy
    path. ``auto`` falls back to None (quietly: it is the default) when torch is not installed,
    no NVIDIA driver is loaded or torch sees no CUDA device."""
    check_device_name(name)
    if name == "cpu":
        return None
    if name == "auto":
        if importlib.util.find_spec("torch") is None or not nvidia_driver_present():
            return None
        device = select_device("auto")
        if device.type != "cuda":
            log.info("device auto: torch sees no CUDA device; using the CPU path")
            return None
        return device
    return select_device(name)


def check_device_name(name: str) -> None:
    """A clear error for a ``device`` setting that is none of :data:`DEVICES`."""
    if name in DEVICES[:-1]:
        return
    if name.startswith("cuda:"):
        _cuda_index(name)
        return
    raise ConfigError(
        f"unknown device {name!r} (choose {', '.join(DEVICES[:-1])} or {DEVICES[-1]})"
    )


def device_label(device: Any | None) -> str:
    """How a report names the device its analyzers ran on."""
    return "cpu" if device is None else f"torch-{device}"


def _cuda_index(name: str) -> int:
    index = name.partition(":")[2] or "0"
    if not index.isdigit():
        raise ConfigError(f"device {name!r}: the CUDA index must be a number (cuda:0)")
    return int(index)


__all__ = [
    "DEVICES",
    "check_device_name",
    "device_label",
    "pipeline_device",
    "require_torch",
    "select_device",
]
