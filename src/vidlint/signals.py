"""Columnar per-frame signals: one array per ``analyzer.metric`` key, aligned with frame indices."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(slots=True)
class Signals(Mapping[str, np.ndarray]):
    """Per-frame arrays (first axis = frame) plus the clip's frame times and fps.

    Missing values are NaN. Arrays with more axes (e.g. a per-frame spatial grid) are allowed for
    rules to use; only 1-D arrays go into the report. Per-clip results (tracks, anchors) are not
    signals: they are the analyzers' declared outputs.
    """

    time_s: np.ndarray
    fps: float
    width: int = 0
    height: int = 0
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.time_s = np.asarray(self.time_s, dtype=np.float64)
        for key, value in list(self.arrays.items()):
            self.add(key, value)

    @property
    def n(self) -> int:
        return len(self.time_s)

    def add(self, key: str, values: Any) -> None:
        array = np.asarray(values)
        if array.dtype.kind in "iub":
            array = array.astype(np.float64)
        if array.shape[:1] != (self.n,):
            raise ValueError(f"signal {key!r} has {array.shape[:1]} values, clip has {self.n}")
        self.arrays[key] = array

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)

    def per_frame(self) -> dict[str, np.ndarray]:
        """The 1-D signals, as they go into the report."""
        return {k: v for k, v in sorted(self.arrays.items()) if v.ndim == 1}

    def seconds(self, frames: float) -> float:
        """Frame count to seconds at the clip's rate."""
        return frames / self.fps if self.fps else 0.0

    def frames(self, seconds: float) -> int:
        """Seconds to a whole number of frames (at least 1) at the clip's rate."""
        return max(1, round(seconds * self.fps))
