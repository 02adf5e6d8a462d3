"""Synthetic clips with known, injected artifacts: what the tests, the samples and the benchmark
are made of.

>>> from vidlint.synth import SynthSpec, Artifact, write_clip
>>> spec = SynthSpec(width=320, height=240, frames=48, artifacts=[Artifact("freeze", 20, 8)])
>>> labels = write_clip(spec, "frozen.mp4")      # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np
from PIL import Image

from vidlint.fileio import write_json_atomic
from vidlint.synth.injections import INJECTIONS, Artifact, Context, FrameState
from vidlint.synth.scene import Scene

INJECTION_MODULES = (
    "vidlint.synth.injections",
    "vidlint.synth.motion",
    "vidlint.synth.hands",
    "vidlint.synth.faces",
)
"""Modules that register artifact kinds with ``injection()``; one per family of artifacts."""
for _module in INJECTION_MODULES:
    importlib.import_module(_module)

LABELS_SCHEMA = "vidlint.synth/1"
VideoCodec = Literal["libx264", "libvpx-vp9", "mpeg4"]
ENCODERS: dict[str, tuple[VideoCodec, str]] = {
    ".mp4": ("libx264", "yuv420p"),
    ".mov": ("libx264", "yuv420p"),
    ".mkv": ("libx264", "yuv420p"),
    ".webm": ("libvpx-vp9", "yuv420p"),
    ".avi": ("mpeg4", "yuv420p"),
}


@dataclass
class SynthSpec:
    width: int = 320
    height: int = 240
    fps: float = 24.0
    frames: int = 48
    seed: int = 0
    camera: str = "pan"
    motion: float = 1.0
    objects: int = 3
    artifacts: list[Artifact] = field(default_factory=list)
    quality: int = 18
    """x264 CRF (lower is better); near-lossless so injected artifacts survive encoding."""

    def placed(self) -> list[Artifact]:
        """The artifacts with their real extent in this clip."""
        return [a.clipped(self.frames) for a in self.artifacts]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["artifacts"] = [asdict(a) for a in self.artifacts]
        return data


def render(spec: SynthSpec) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(presentation time, RGB frame)`` for each output frame, artifacts applied."""
    scene = Scene(
        spec.width,
        spec.height,
        seed=spec.seed,
        camera=spec.camera,
        motion=spec.motion,
        objects=spec.objects,
    )
    ctx = Context(spec.fps, spec.frames, scene)
    for art in spec.artifacts:
        if art.kind not in INJECTIONS:
            raise ValueError(f"unknown artifact {art.kind!r}")
    artifacts = spec.placed()
    for index in range(spec.frames):
        skipped = sum(
            a.length for a in artifacts if INJECTIONS[a.kind].drops_frames and index >= a.start
        )
        stalled = sum(
            a.length - 1 for a in artifacts if INJECTIONS[a.kind].stalls and index > a.end
        )
        t = (index + skipped) / spec.fps
        state = FrameState(index, t - stalled / spec.fps, scene)
        active = [a for a in artifacts if a.covers(index)]
        for art in active:
            hook = INJECTIONS[art.kind].before
            if hook:
                hook(state, art, ctx)
        frame = state.scene.render(state.t, frozenset(state.hidden), state.offsets)
        for art in active:
            after = INJECTIONS[art.kind].after
            if after:
                frame = after(frame, state, art, ctx)
        yield t, frame  # presentation time; the world's time may differ (state.t)


def labels(spec: SynthSpec) -> dict[str, Any]:
    return {
        "schema": LABELS_SCHEMA,
        "spec": spec.to_dict(),
        "artifacts": [
            {
                "kind": a.kind,
                "start": a.start,
                "end": a.end,
                "params": a.params,
                "expect": list(INJECTIONS[a.kind].expect),
                "span": list(INJECTIONS[a.kind].expected_span(a)),
            }
            for a in spec.placed()
        ],
    }


def write_clip(spec: SynthSpec, path: str | Path, write_labels: bool = True) -> dict[str, Any]:
    """Render ``spec`` to ``path`` (mp4/mov/mkv/webm/avi/gif, or a folder for PNG frames) and
    write ``<path>.labels.json`` beside it. Returns the labels."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = render(spec)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        _write_gif(frames, path, spec)
    elif suffix in ENCODERS:
        _write_video(frames, path, spec, *ENCODERS[suffix])
    elif suffix == "":
        _write_images(frames, path)
    else:
        raise ValueError(f"cannot write {suffix!r} clips (use {', '.join(ENCODERS)}, .gif)")
    data = labels(spec)
    if write_labels:
        write_json_atomic(path.with_name(path.name + ".labels.json"), data)
    return data


def _write_video(
    frames: Iterator[tuple[float, np.ndarray]],
    path: Path,
    spec: SynthSpec,
    codec: VideoCodec,
    pixel_format: str,
) -> None:
    rate = Fraction(spec.fps).limit_denominator(1001)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = spec.width, spec.height
        stream.pix_fmt = pixel_format
        if codec == "libx264":
            stream.options = {"crf": str(spec.quality), "preset": "veryfast"}
        elif codec == "libvpx-vp9":
            stream.options = {"crf": "20", "b": "0", "deadline": "realtime", "cpu-used": "8"}
        else:
            stream.bit_rate = 20_000_000
            stream.options = {"qmax": "3"}  # near-lossless, like the x264 CRF above
        for t, rgb in frames:
            frame = av.VideoFrame.from_ndarray(yuv420_bt601(rgb), format="yuv420p")
            frame.pts = round(t * rate)  # in 1/rate units: a dropped frame leaves a real gap
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


LUMA_RANGE = np.round(16 + np.arange(256) * 219 / 255).astype(np.uint8)
CHROMA_RANGE = np.round(128 + (np.arange(256) - 128) * 224 / 255).astype(np.uint8)


def yuv420_bt601(rgb: np.ndarray) -> np.ndarray:
    """Planar 4:2:0 BT.601 limited range, the way yuv420p is tagged, as one (3h/2, w) array.
    Converted here with cv2 because swscale's rgb24 -> yuv420p gave different bytes from run to
    run in one process, which made the same spec encode to different clips."""
    height, width = rgb.shape[:2]
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    luma = cv2.LUT(ycrcb[:, :, 0], LUMA_RANGE)
    chroma = cv2.LUT(
        cv2.resize(ycrcb[:, :, 1:], (width // 2, height // 2), interpolation=cv2.INTER_AREA),
        CHROMA_RANGE,
    )
    planes = (luma.ravel(), chroma[:, :, 1].ravel(), chroma[:, :, 0].ravel())  # Y, Cb, Cr
    return np.concatenate(planes).reshape(height * 3 // 2, width)


def _write_gif(frames: Iterator[tuple[float, np.ndarray]], path: Path, spec: SynthSpec) -> None:
    """GIF with per-frame delays in 1/100 s, as generators write them. Encoded with ffmpeg's GIF
    encoder (Pillow would merge identical frames, hiding injected repeats)."""
    with av.open(str(path), "w", format="gif") as container:
        stream = container.add_stream("gif", rate=round(spec.fps))
        stream.width, stream.height = spec.width, spec.height
        stream.pix_fmt = "pal8"
        for t, rgb in frames:
            image = Image.fromarray(rgb).quantize(
                colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
            )
            rows = image.getpalette()
            assert rows is not None  # quantize() returns a "P" image, which has a palette
            colours = np.asarray(rows[:768], np.uint8).reshape(-1, 3)
            palette = np.zeros((256, 4), np.uint8)
            palette[:, 0] = 255  # PyAV's pal8 palette rows are A, R, G, B
            palette[: len(colours), 1:] = colours
            # PyAV takes an (image, palette) pair for pal8 (VideoFrame.from_ndarray's docstring);
            # its stub admits a single array only.
            pair = (np.asarray(image), palette)
            frame = av.VideoFrame.from_ndarray(pair, format="pal8")  # type: ignore[arg-type]
            frame.pts = round(t * 100)
            frame.time_base = Fraction(1, 100)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def _write_images(frames: Iterator[tuple[float, np.ndarray]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, (_, rgb) in enumerate(frames):
        Image.fromarray(rgb).save(folder / f"frame_{index:05d}.png")


__all__ = ["INJECTIONS", "Artifact", "SynthSpec", "labels", "render", "write_clip"]
