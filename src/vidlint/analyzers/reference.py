"""Reference fidelity for image-to-video: how much each frame still looks like the source image.

Per frame, at a small resolution (short side ``size``, so small camera moves and the generator's
own resampling barely count): SSIM of the gray pictures (structure) and the mean CIE76 colour
difference of an 8x8 grid of Lab means (colour and layout). Two measures that do not depend on
where things sit, so a camera move barely changes them while a decaying picture does: the
palette difference (CIE76 between the deciles of L*, a*, b*) and the frame's detail (Laplacian
variance at half the working copy's size) relative to the source's. The source is fitted to
the clip's frame the way generators do it, stretched or centre-cropped, whichever matches the
first frame better. The source's face descriptor (dlib, once) is part of the output for REF002,
which compares it with the ``faces`` analyzer's tracks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, FrameSeries, Measured, Needs
from vidlint.analyzers.faces import describe_image
from vidlint.decode import ClipInfo, Frame
from vidlint.errors import InputError
from vidlint.settings import param

SSIM = "reference.ssim"
COLOR = "reference.color_delta"
PALETTE = "reference.palette_delta"
DETAIL = "reference.detail"
PALETTE_QUANTILES = np.linspace(0.1, 0.9, 9)


@dataclass(frozen=True)
class ReferenceParams:
    size: int = param(
        64,
        "short side of the compared pictures: SSIM at 64 px tolerates the few-pixel shifts "
        "of generator resampling and camera drift while layout and shapes still count "
        "(SSIM costs 0.6 ms at 180p, research/stage-speeds.md)",
        bounds=(16, 1024),
    )
    grid: int = param(
        8, "colour is compared on a grid of grid x grid cell means (Lab)", bounds=(1, 64)
    )
    detail_size: int = param(
        180,
        "short side at which the picture's detail (Laplacian variance) is measured: half "
        "the working copy (an exact 2x reduction, 0.1 ms a frame at 720p), where a blur of a "
        "few pixels still shows",
        bounds=(32, 2048),
    )
    face: bool = param(True, "describe the source image's face (one dlib descriptor, 71 ms)")


@dataclass(frozen=True)
class ReferenceOutput:
    """The source image as the reference analyzer saw it."""

    path: str
    width: int
    height: int
    face_box: list[float] | None
    """The source's face (normalized x, y, w, h), when it has one."""
    face_descriptor: list[float] | None
    """Its dlib descriptor (128 values)."""
    fit: str | None
    """How the source was fitted to the frame: ``stretch`` or ``crop``."""


class ReferenceAnalyzer(Analyzer):
    name = "reference"
    signals = (SSIM, COLOR, PALETTE, DETAIL)
    Params = ReferenceParams
    needs = Needs(reference=True)

    output = ReferenceOutput

    def __init__(self, params: ReferenceParams, clip: ClipInfo, context: Any) -> None:
        super().__init__(params, clip, context)
        self.path = Path(str(context.get("reference", "")))
        self.source = load_image(self.path)
        self.series = FrameSeries(*self.signals)
        self.targets: dict[str, Prepared] = {}
        self.fit: str | None = None
        self.source_detail = 1.0
        self.source_face = describe_image(self.source) if params.face else None

    def update(self, frame: Frame) -> None:
        picture = prepare(frame.small, self.params.size, self.params.grid)
        if self.fit is None:
            self._choose_fit(frame.small, picture.gray)
        source = self.targets[self.fit]
        self.series.append(
            **{
                SSIM: ssim(picture.gray, source.gray),
                COLOR: float(np.linalg.norm(picture.cells - source.cells, axis=2).mean()),
                PALETTE: float(np.linalg.norm(picture.palette - source.palette, axis=1).mean()),
                DETAIL: detail(frame.gray, self.params.detail_size) / self.source_detail,
            }
        )

    def _choose_fit(self, first: np.ndarray, first_gray: np.ndarray) -> None:
        """Generators either stretch the source to the output size or crop its centre to the
        output's aspect ratio: keep whichever matches the first frame better."""
        height, width = first.shape[:2]
        images = {
            fit: fitted(self.source, width, height, crop=fit == "crop")
            for fit in ("stretch", "crop")
        }
        for fit, image in images.items():
            self.targets[fit] = prepare(image, self.params.size, self.params.grid)
        scores = {fit: ssim(first_gray, target.gray) for fit, target in self.targets.items()}
        self.fit = max(scores, key=scores.get)
        source_gray = cv2.cvtColor(images[self.fit], cv2.COLOR_RGB2GRAY)
        # floored: against a flat source any detail is more
        self.source_detail = max(detail(source_gray, self.params.detail_size), 1e-3)

    def finish(self) -> Measured:
        height, width = self.source.shape[:2]
        face = self.source_face
        output = ReferenceOutput(
            path=str(self.path),
            width=width,
            height=height,
            face_box=[round(v, 4) for v in face[1]] if face else None,
            face_descriptor=np.round(face[0], 4).tolist() if face else None,
            fit=self.fit,
        )
        return Measured(self.series.arrays(), output)


@contextlib.contextmanager
def opened_image(path: Path, what: str) -> Iterator[Any]:
    """The image file opened with Pillow (lazily: its header is read, not its pixels); a
    missing or unreadable file is an InputError naming it and the cause."""
    from PIL import Image, UnidentifiedImageError

    if not str(path) or not path.is_file():
        raise InputError(f"{what} not found", path)
    try:
        with Image.open(path) as image:
            yield image
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(f"cannot read the {what} ({exc})", path) from exc


def image_size(path: Path, what: str = "reference image") -> tuple[int, int]:
    """(width, height) of an image file, from its header."""
    with opened_image(path, what) as image:
        return int(image.width), int(image.height)


def load_image(path: Path, what: str = "reference image") -> np.ndarray:
    """An image file as RGB uint8, or an InputError naming the file and the cause."""
    with opened_image(path, what) as image:
        image.load()
        rgb = np.asarray(image.convert("RGB"))
    if rgb.shape[0] < 8 or rgb.shape[1] < 8:
        raise InputError(f"{what} is only {rgb.shape[1]}x{rgb.shape[0]} pixels", path)
    return np.ascontiguousarray(rgb)


def fitted(image: np.ndarray, width: int, height: int, crop: bool) -> np.ndarray:
    """``image`` brought to width x height: stretched, or its centre cropped to the target's
    aspect ratio first."""
    if crop:
        ih, iw = image.shape[:2]
        target = width / height
        if iw / ih > target:
            keep = round(ih * target)
            x0 = (iw - keep) // 2
            image = image[:, x0 : x0 + keep]
        else:
            keep = round(iw / target)
            y0 = (ih - keep) // 2
            image = image[y0 : y0 + keep]
    return cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=cv2.INTER_AREA)


class Prepared(NamedTuple):
    gray: np.ndarray
    """Gray picture with short side ``size`` (float32)."""
    cells: np.ndarray
    """grid x grid Lab cell means: colour where it sits."""
    palette: np.ndarray
    """Deciles of L*, a*, b* (9 x 3): the colours, wherever they sit."""


def prepare(rgb: np.ndarray, size: int, grid: int) -> Prepared:
    """The small gray picture, Lab cell means and Lab palette that frames and source are
    compared by."""
    small = to_short_side(rgb, size)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    cells = cv2.resize(lab, (grid, grid), interpolation=cv2.INTER_AREA)
    pixels = np.sort(lab.reshape(-1, 3), axis=0)  # nearest-rank deciles, 4x faster than quantile
    palette = pixels[np.round(PALETTE_QUANTILES * (len(pixels) - 1)).astype(int)]
    return Prepared(gray, cells, palette)


def to_short_side(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` resized (area) so its short side is ``size``, neither side under 8 px."""
    height, width = image.shape[:2]
    scale = size / min(height, width)
    return cv2.resize(
        image,
        (max(8, round(width * scale)), max(8, round(height * scale))),
        interpolation=cv2.INTER_AREA,
    )


def detail(gray: np.ndarray, size: int) -> float:
    """Laplacian variance of a uint8 gray picture brought to short side ``size``: its detail
    and sharpness."""
    if size < min(gray.shape[:2]):
        gray = to_short_side(gray, size)
    _, std = cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_16S))
    return float(std[0, 0]) ** 2


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004: Gaussian window 11 / sigma 1.5, K1 0.01, K2 0.03) of two
    float32 gray pictures of one size."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a * mu_a
    var_b = blur(b * b) - mu_b * mu_b
    cov = blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    )
    return float(cv2.mean(index)[0])


ANALYZER = ReferenceAnalyzer
