"""Pre-flight lint of an image-to-video source image (the SRC rules).

The seed calls the source image "the single most important variable" of image-to-video, and
"expecting image-to-video to fix a bad source image" a common mistake: motion amplifies blur,
noise and clutter. This analyzer measures a still image once (sharpness, size against the target
resolution, noise, JPEG blockiness, how concentrated its saliency is) for the SRC rules, through
the same linter as the frame rules:

- ``vidlint check-source IMAGE...`` (``Linter.check_source``) runs it on the image alone and
  gets a report whose findings all sit on frame 0;
- ``vidlint check CLIP --reference IMAGE`` (or a ``_source`` sidecar) runs it beside the frame
  analyzers: it measures the reference when the clip opens, so the clip's report carries the
  SRC findings next to the REF ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, Measured, Needs
from vidlint.analyzers.reference import load_image
from vidlint.decode import ClipInfo, Frame
from vidlint.settings import param

DEFAULT_TARGET = (1280, 720)
"""The output resolution ``check-source`` judges against unless told (720p, the resolution most
hosted image-to-video models produce)."""


@dataclass(frozen=True)
class SourceParams:
    sharpness_side: int = param(
        512,
        "sharpness is measured with the short side brought down to 512 px (never up): "
        "blur that a generator's own downscale removes does not count",
        bounds=(64, 8192),
    )
    tiles: int = param(
        8,
        "the image is judged on a tiles x tiles grid, so a sharp subject on a "
        "defocused background counts as sharp",
        bounds=(1, 64),
    )


@dataclass(frozen=True)
class SourceMeasures:
    """Everything the SRC rules read about one source image."""

    path: str
    width: int
    height: int
    target: list[int]
    """The output resolution it is judged against (width, height)."""
    upscale: float
    """How much it must be enlarged to fill the target."""
    sharpness: float
    noise: float
    blockiness: float
    block_excess: float
    saliency_concentration: float
    salient_regions: int


class SourceImageAnalyzer(Analyzer):
    """Measures the reference image once, when the clip opens; no per-frame work. The target
    resolution is the clip's own, or the context's ``target`` (``check-source``)."""

    name = "source"
    signals = ()
    output = SourceMeasures
    Params = SourceParams
    needs = Needs(reference=True)

    def __init__(self, params: SourceParams, clip: ClipInfo, context: Any) -> None:
        super().__init__(params, clip, context)
        path = Path(str(context.get("reference", "")))
        target = context.get("target") or (clip.width, clip.height)
        self.measures = measure_image(load_image(path, "source image"), target, params, path)

    def update(self, frame: Frame) -> None:
        """Nothing per frame: the source is one still image."""

    def finish(self) -> Measured:
        return Measured({}, self.measures)


def measure_image(
    rgb: np.ndarray,
    target: tuple[int, int],
    params: SourceParams | None = None,
    path: str | Path = "",
) -> SourceMeasures:
    """Measure one image for a clip of ``target`` (width, height) pixels."""
    params = params or SourceParams()
    height, width = rgb.shape[:2]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = min(1.0, params.sharpness_side / min(height, width))
    small = (
        gray
        if scale >= 1.0
        else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    laplacian = cv2.Laplacian(small, cv2.CV_32F)
    blockiness, block_excess = blockiness_of(gray)
    concentration, regions = saliency_concentration(rgb)
    return SourceMeasures(
        path=str(path),
        width=width,
        height=height,
        target=[int(target[0]), int(target[1])],
        upscale=round(max(target[0] / width, target[1] / height), 3),
        sharpness=round(tile_percentile(laplacian, params.tiles, 90, np.var), 2),
        noise=round(noise_sigma(gray, params.tiles), 3),
        blockiness=round(blockiness, 3),
        block_excess=round(block_excess, 3),
        saliency_concentration=round(concentration, 3),
        salient_regions=regions,
    )


def tile_percentile(image: np.ndarray, tiles: int, q: float, stat: Any) -> float:
    """The q-th percentile over a tiles x tiles grid of ``stat`` per tile."""
    height, width = image.shape[:2]
    th, tw = max(1, height // tiles), max(1, width // tiles)
    values = [
        float(stat(image[y : y + th, x : x + tw]))
        for y in range(0, height - th + 1, th)
        for x in range(0, width - tw + 1, tw)
    ]
    return float(np.percentile(values, q))


def noise_sigma(gray: np.ndarray, tiles: int) -> float:
    """Immerkaer's fast noise estimate (1996: sigma = sqrt(pi/2) / 6 * mean |I * M|), taken per
    tile at native resolution; the lower quartile over tiles, because texture inflates it
    and the flattest quarter of a picture shows the noise alone."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    response = np.abs(cv2.filter2D(gray.astype(np.float32), -1, kernel))[1:-1, 1:-1]
    return tile_percentile(response, tiles, 25, np.mean) * float(np.sqrt(np.pi / 2) / 6)


def blockiness_of(gray: np.ndarray) -> tuple[float, float]:
    """JPEG 8x8 blocking: the mean step across block boundaries against the mean step inside
    blocks (ratio), and the boundary steps' excess in gray levels (a smooth sky makes the ratio
    large while the blocks stay invisible; the excess says how strong they are)."""
    g = gray.astype(np.float32)
    across = np.abs(np.diff(g, axis=1))
    down = np.abs(np.diff(g, axis=0))
    cols = np.arange(across.shape[1]) % 8 == 7
    rows = np.arange(down.shape[0]) % 8 == 7
    if not cols.any() or not rows.any():
        return 1.0, 0.0
    boundary = (across[:, cols].mean() + down[rows].mean()) / 2
    inside = (across[:, ~cols].mean() + down[~rows].mean()) / 2
    return float(boundary / max(inside, 1e-6)), float(boundary - inside)


def saliency_concentration(rgb: np.ndarray) -> tuple[float, int]:
    """How much of the picture's saliency (spectral residual, Hou & Zhang 2007, at 256 px)
    falls in its single strongest region: near 1 for one clear subject, low when attention is
    spread over many competing regions. Also the number of salient regions."""
    height, width = rgb.shape[:2]
    scale = 256 / max(height, width)
    small = cv2.resize(
        rgb,
        (max(8, round(width * scale)), max(8, round(height * scale))),
        interpolation=cv2.INTER_AREA,
    )
    detector = cv2.saliency.StaticSaliencySpectralResidual_create()
    ok, saliency = detector.computeSaliency(cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    if not ok:
        return 1.0, 1
    saliency = cv2.GaussianBlur(saliency.astype(np.float32), (0, 0), 3)
    mask = (saliency >= np.percentile(saliency, 75)).astype(np.uint8)
    count, labels = cv2.connectedComponents(mask)
    masses = np.bincount(labels.ravel(), weights=saliency.ravel(), minlength=count)[1:]
    if masses.sum() <= 0:
        return 1.0, 0
    return float(masses.max() / masses.sum()), int(count - 1)


ANALYZER = SourceImageAnalyzer
