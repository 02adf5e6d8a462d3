"""Frames in batches as tensors on a device: decoded on the GPU (NVDEC through torchcodec)
when a CUDA device and torchcodec are there, else decoded by PyAV through
:func:`vidlint.decode.open_clip` and moved to the device. Memory stays bounded by the batch."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidlint.decode import open_clip
from vidlint.errors import ConfigError, DecodeError
from vidlint.gpu import require_torch

log = logging.getLogger(__name__)

FULL_SIZE = 1 << 30
"""A working-copy short side no clip reaches: the CPU fallback then makes no resized copy."""


@dataclass
class FrameBatch:
    indices: list[int]
    times: list[float]
    rgb: Any
    """uint8 tensor (N, H, W, 3) on the device."""


def torchcodec_available() -> bool:
    try:
        import torchcodec.decoders  # noqa: F401
    except Exception:
        return False
    return True


def frame_batches(
    path: str | Path, device: Any, batch_size: int = 32, decoder: str = "auto"
) -> Iterator[FrameBatch]:
    """Stream ``path`` as batches of at most ``batch_size`` frames. ``decoder``: ``auto``
    (torchcodec on CUDA when present, else PyAV), ``torchcodec`` or ``pyav``."""
    if decoder not in ("auto", "torchcodec", "pyav"):
        raise ConfigError(f"unknown GPU decoder {decoder!r} (auto, torchcodec or pyav)")
    on_cuda = getattr(device, "type", str(device)) == "cuda"
    if decoder == "torchcodec" or (decoder == "auto" and on_cuda and torchcodec_available()):
        if not torchcodec_available():
            raise ConfigError("decoder 'torchcodec' is not installed (pip install torchcodec)")
        yield from _torchcodec_batches(Path(path), device, batch_size)
    else:
        yield from _pyav_batches(Path(path), device, batch_size)


def _pyav_batches(path: Path, device: Any, batch_size: int) -> Iterator[FrameBatch]:
    torch = require_torch()
    with open_clip(path, short_side=FULL_SIZE) as clip:
        indices: list[int] = []
        times: list[float] = []
        frames: list[np.ndarray] = []
        for frame in clip.frames():
            indices.append(frame.index)
            times.append(frame.time_s)
            frames.append(frame.rgb)
            if len(frames) == batch_size:
                yield FrameBatch(indices, times, torch.from_numpy(np.stack(frames)).to(device))
                indices, times, frames = [], [], []
        if frames:
            yield FrameBatch(indices, times, torch.from_numpy(np.stack(frames)).to(device))


def _torchcodec_batches(path: Path, device: Any, batch_size: int) -> Iterator[FrameBatch]:
    from torchcodec.decoders import VideoDecoder

    try:
        reader = VideoDecoder(str(path), device=str(device), dimension_order="NHWC")
    except Exception as exc:  # torchcodec raises RuntimeError/ValueError with FFmpeg's cause
        raise DecodeError(f"torchcodec cannot open the clip ({exc})", path) from exc
    count = int(reader.metadata.num_frames or 0)
    for start in range(0, count, batch_size):
        stop = min(count, start + batch_size)
        try:
            batch = reader.get_frames_in_range(start, stop)
        except Exception as exc:
            raise DecodeError(
                f"torchcodec failed on frames {start}-{stop - 1} ({exc})", path
            ) from exc
        yield FrameBatch(
            list(range(start, stop)), [float(t) for t in batch.pts_seconds], batch.data
        )
