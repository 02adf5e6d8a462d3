"""Artifacts the generator can inject, each at chosen frames, each labelled with the rule codes
that must find it. An injection may change *what is filmed* (``before``: the time, the scene,
hidden or shifted objects) and/or *the picture* (``after``: pixels), or drop frames from the
timeline. New artifact kinds register here with :func:`injection`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidlint.synth.scene import Scene


@dataclass(frozen=True)
class Artifact:
    """``kind`` injected over frames ``start`` .. ``start + length - 1`` (output indices)."""

    kind: str
    start: int
    length: int = 1
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def end(self) -> int:
        return self.start + self.length - 1

    def covers(self, index: int) -> bool:
        return self.start <= index <= self.end

    def clipped(self, frames: int) -> Artifact:
        """This artifact with its real extent in a clip of ``frames`` frames."""
        length = frames - self.start if INJECTIONS[self.kind].to_end else self.length
        return Artifact(
            self.kind, self.start, max(1, min(length, frames - self.start)), self.params
        )

    @classmethod
    def parse(cls, text: str) -> Artifact:
        """``kind@start[:length][,key=value...]``, e.g. ``freeze@40:12`` or ``cadence@0:48,k=3``."""
        head, *options = text.split(",")
        kind, _, where = head.partition("@")
        start, _, length = where.partition(":")
        params: dict[str, Any] = {}
        for option in options:
            key, _, value = option.partition("=")
            try:
                params[key.strip()] = float(value) if "." in value else int(value)
            except ValueError:
                params[key.strip()] = value
        if kind not in INJECTIONS:
            raise ValueError(f"unknown artifact {kind!r} (known: {', '.join(sorted(INJECTIONS))})")
        return cls(kind, int(start or 0), int(length or 1), params)


@dataclass
class FrameState:
    """What the frame at output ``index`` films; ``before`` hooks edit it."""

    index: int
    t: float
    scene: Scene
    hidden: set[int] = field(default_factory=set)
    offsets: dict[int, np.ndarray] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


Before = Callable[[FrameState, Artifact, "Context"], None]
After = Callable[[np.ndarray, FrameState, Artifact, "Context"], np.ndarray]


@dataclass
class Context:
    """Per-render state shared by the injections (the other scene for a cut, held frames)."""

    fps: float
    frames: int
    scene: Scene
    memory: dict[str | tuple[str, int], Any] = field(default_factory=dict)
    """Keyed by name, or by (name, artifact start) where one clip may hold several."""


@dataclass(frozen=True)
class Injection:
    name: str
    expect: tuple[str, ...]
    doc: str
    before: Before | None = None
    after: After | None = None
    drops_frames: bool = False
    to_end: bool = False
    """The artifact lasts from its start to the end of the clip (a cut does not cut back)."""
    stalls: bool = False
    """The world stops during the artifact and resumes where it stopped (a stall, no jump)."""
    span: Callable[[Artifact], tuple[int, int]] | None = None
    """Frames where a finding is expected, when they differ from the injected frames (a cut is
    found at its first frame, a dropped stretch between the frames around the gap)."""

    def expected_span(self, art: Artifact) -> tuple[int, int]:
        return self.span(art) if self.span else (art.start, art.end)


INJECTIONS: dict[str, Injection] = {}


def injection(
    name: str,
    expect: tuple[str, ...],
    doc: str,
    before: Before | None = None,
    after: After | None = None,
    drops_frames: bool = False,
    to_end: bool = False,
    stalls: bool = False,
    span: Callable[[Artifact], tuple[int, int]] | None = None,
) -> Injection:
    if name in INJECTIONS:
        raise ValueError(f"injection {name!r} is registered twice")
    INJECTIONS[name] = Injection(
        name, expect, doc, before, after, drops_frames, to_end, stalls, span
    )
    return INJECTIONS[name]


# -- temporal integrity (TMP) -------------------------------------------------------------------


def _freeze(state: FrameState, art: Artifact, ctx: Context) -> None:
    state.t = art.start / ctx.fps


def _cadence(state: FrameState, art: Artifact, ctx: Context) -> None:
    k = int(art.params.get("k", 3))
    state.t = (art.start + (state.index - art.start) // k * k) / ctx.fps


def _repeat(state: FrameState, art: Artifact, ctx: Context) -> None:
    state.t = (art.start - 1) / ctx.fps


def _cut(state: FrameState, art: Artifact, ctx: Context) -> None:
    other = ctx.memory.get("cut_scene")
    if other is None:
        base = ctx.scene
        other = Scene(
            base.width,
            base.height,
            seed=base.seed + 7919,
            camera=base.camera,
            motion=base.motion,
            objects=base.objects,
        )
        ctx.memory["cut_scene"] = other
    state.scene = other


def _black(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    value = int(art.params.get("value", 0))
    return np.full_like(frame, value)


def _corrupt(frame: np.ndarray, state: FrameState, art: Artifact, ctx: Context) -> np.ndarray:
    """What a decoder shows after losing data: the rows below a macroblock row stretched down
    into vertical streaks, a few blocks displaced, then the same broken picture held until the
    next key frame (the rest of the span)."""
    held = ctx.memory.get(("corrupt", art.start))
    if held is not None:
        return held.copy()
    broken = frame.copy()
    height, width = broken.shape[:2]
    row = (int(height * art.params.get("from", 0.45)) // 16) * 16
    broken[row:] = broken[row : row + 1]
    rng = np.random.default_rng(art.start)
    for _ in range(12):
        y, x = int(rng.integers(0, max(1, row // 16))) * 16, int(rng.integers(0, width // 16)) * 16
        dy, dx = int(rng.integers(-2, 3)) * 16, int(rng.integers(-2, 3)) * 16
        src = frame[max(0, y + dy) : max(0, y + dy) + 16, max(0, x + dx) : max(0, x + dx) + 16]
        block = broken[y : y + 16, x : x + 16]
        if src.shape == block.shape:
            broken[y : y + 16, x : x + 16] = src
    ctx.memory[("corrupt", art.start)] = broken
    return broken


injection(
    "freeze",
    ("TMP001",),
    "frames start..end all show frame start, then the world resumes where it stopped",
    before=_freeze,
    stalls=True,
)
injection("cadence", ("TMP002",), "every frame shown k times (param k, default 3)", before=_cadence)
injection("repeat", ("TMP002",), "frame start repeats the frame before it", before=_repeat)
injection(
    "cut",
    ("TMP003",),
    "from frame start on, a different scene",
    before=_cut,
    to_end=True,
    span=lambda art: (art.start, art.start),
)
injection("black", ("TMP004",), "black frames (param value=255 makes them white)", after=_black)
injection(
    "corrupt", ("TMP005",), "decoder garbage at start, held to the end of the span", after=_corrupt
)
injection(
    "drop",
    ("TMP006",),
    "'length' frames removed from the timeline: a timestamp gap before output frame start",
    drops_frames=True,
    span=lambda art: (art.start - 1, art.start),
)
