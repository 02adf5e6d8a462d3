"""The analyzer interface: ``update(frame)`` for every decoded frame, then ``finish()`` once.

Analyzers measure; they never decide pass/fail (rules do). Each declares what it produces: its
per-frame ``signals`` (``name.metric`` keys) and the type of its per-clip ``output`` (a frozen
dataclass: tracks, events, descriptors), and takes its settings as one frozen ``Params``
dataclass whose ``param()`` fields are the single place its defaults live.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from vidlint.decode import ClipInfo, Frame
from vidlint.settings import NoParams


@dataclass(frozen=True)
class Needs:
    """What an analyzer needs besides the frames."""

    reference: bool = False
    """It compares frames with the clip's source image (image-to-video)."""


@dataclass(frozen=True)
class Measured:
    """What ``finish()`` returns: one array per declared signal (first axis = frames seen) and
    the per-clip output, an instance of the analyzer's declared ``output`` type (or None for an
    analyzer that declares none)."""

    signals: Mapping[str, np.ndarray] = field(default_factory=dict)
    output: Any = None


class Analyzer(ABC):
    """Base class. Subclasses set ``name``, ``signals``, and optionally ``output`` (the type of
    their per-clip result), ``Params``, ``needs``, ``profiles`` (per-profile overrides of
    ``Params`` fields, e.g. ``{"fast": {"stride": 4}}``) and ``uses_device`` (it has a torch
    path: it is then given the pipeline's torch device, or None for its OpenCV/numpy path)."""

    name: ClassVar[str]
    signals: ClassVar[tuple[str, ...]]
    output: ClassVar[type | None] = None
    Params: ClassVar[type] = NoParams
    needs: ClassVar[Needs] = Needs()
    profiles: ClassVar[dict[str, dict[str, Any]]] = {}
    uses_device: ClassVar[bool] = False

    def __init__(
        self, params: Any, clip: ClipInfo, context: Mapping[str, Any], device: Any = None
    ) -> None:
        self.params = params
        self.device = device
        self.clip = clip
        self.context = context

    @abstractmethod
    def update(self, frame: Frame) -> None:
        """Take the next frame (frames arrive in order, each exactly once)."""

    @abstractmethod
    def finish(self) -> Measured:
        """The signals and the per-clip output, once all frames are in."""

    @classmethod
    def checked(cls, measured: Measured) -> Measured:
        """``measured`` if it holds exactly what the class declares (supervision's rule:
        validate a value where it is made, so a rule never reads a missing key)."""
        keys = set(measured.signals)
        if keys != set(cls.signals):
            missing, extra = set(cls.signals) - keys, keys - set(cls.signals)
            raise TypeError(
                f"analyzer {cls.name!r} returned signals that differ from its declaration "
                f"(missing {sorted(missing)}, undeclared {sorted(extra)})"
            )
        if cls.output is None:
            if measured.output is not None:
                raise TypeError(f"analyzer {cls.name!r} declares no output but returned one")
        elif not isinstance(measured.output, cls.output):
            raise TypeError(
                f"analyzer {cls.name!r} must return a {cls.output.__name__}, "
                f"not {type(measured.output).__name__}"
            )
        return measured


class FrameSeries:
    """Collects per-frame values in lists and returns them as float arrays (NaN = missing)."""

    def __init__(self, *keys: str) -> None:
        self.values: dict[str, list[float]] = {key: [] for key in keys}

    def append(self, **values: float) -> None:
        for key, series in self.values.items():
            series.append(values.get(key, np.nan))

    def arrays(self) -> dict[str, np.ndarray]:
        return {key: np.asarray(v, dtype=np.float64) for key, v in self.values.items()}
