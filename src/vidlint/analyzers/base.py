"""The analyzer interface: ``update(frame)`` for every decoded frame, then ``finish()`` once.

Analyzers measure; they never decide pass/fail (rules do). Each declares the signal keys it
produces and takes its settings as one frozen dataclass (``Params``), the single place its
defaults live: config validation, ``vidlint rules`` and the docs read them from there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from vidlint.decode import ClipInfo, Frame


def param(
    default: Any, why: str, choices: tuple[Any, ...] = (), bounds: tuple[float, float] | None = None
) -> Any:
    """A parameter default with the reason for it (shown by ``vidlint rules`` and the docs).
    ``choices`` (the only meaningful values) or ``bounds`` (lowest, highest) are checked when
    the config loads, so a value the code cannot work with is a config error naming its file,
    not a crash in the middle of a batch."""
    return field(default=default, metadata={"why": why, "choices": choices, "bounds": bounds})


@dataclass(frozen=True)
class NoParams:
    """For analyzers and rules without settings."""


@dataclass(frozen=True)
class Needs:
    """What an analyzer needs besides the frames."""

    reference: bool = False
    """It compares frames with the clip's source image (image-to-video)."""


class Analyzer(ABC):
    """Base class. Subclasses set ``name``, ``signals``, optionally ``Params``, ``needs``,
    ``profiles`` (per-profile overrides of ``Params`` fields, e.g. ``{"fast": {"stride": 4}}``)
    and ``uses_device`` (it has a torch path: it is then given the pipeline's torch device, or
    None for its OpenCV/numpy path)."""

    name: ClassVar[str]
    signals: ClassVar[tuple[str, ...]]
    Params: ClassVar[type] = NoParams
    needs: ClassVar[Needs] = Needs()
    profiles: ClassVar[dict[str, dict[str, Any]]] = {}
    uses_device: ClassVar[bool] = False

    def __init__(
        self, params: Any, clip: ClipInfo, context: dict[str, Any], device: Any | None = None
    ) -> None:
        self.params = params
        self.device = device
        self.clip = clip
        self.context = context
        self.meta: dict[str, Any] = {}
        """Per-clip results that are not per frame (tracks, anchors); rules read them from
        ``signals.meta[analyzer name]``."""

    @abstractmethod
    def update(self, frame: Frame) -> None:
        """Take the next frame (frames arrive in order, each exactly once)."""

    @abstractmethod
    def finish(self) -> dict[str, np.ndarray]:
        """Return one array per declared signal, first axis = frames seen."""


class FrameSeries:
    """Collects per-frame values in lists and returns them as float arrays (NaN = missing)."""

    def __init__(self, *keys: str) -> None:
        self.values: dict[str, list[float]] = {key: [] for key in keys}

    def append(self, **values: float) -> None:
        for key, series in self.values.items():
            series.append(values.get(key, np.nan))

    def arrays(self) -> dict[str, np.ndarray]:
        return {key: np.asarray(v, dtype=np.float64) for key, v in self.values.items()}
