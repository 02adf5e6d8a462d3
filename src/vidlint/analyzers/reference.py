"""Reference fidelity for image-to-video: how much each frame still looks like the source image.

Per frame, at a small resolution (short side ``size``, so small camera moves and the generator's
own resampling barely count): SSIM of the gray pictures (structure) and the mean CIE76 colour
difference of an 8x8 grid of Lab means (colour and layout). The source is fitted to the clip's
frame the way generators do it, stretched or centre-cropped, whichever matches the first frame
better. The source's face descriptor (dlib, once) is kept in ``meta`` for REF002, which compares
it with the ``faces`` analyzer's tracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, FrameSeries, Needs, param
from vidlint.decode import Frame
from vidlint.errors import InputError

SSIM = "reference.ssim"
COLOR = "reference.color_delta"


@dataclass(frozen=True)
class ReferenceParams:
    size: int = param(
        64, "short side of the compared pictures: SSIM at 64 px tolerates the few-pixel shifts "
            "of generator resampling and camera drift while layout and shapes still count "
            "(SSIM costs 0.6 ms at 180p, research/stage-speeds.md)")
    grid: int = param(8, "colour is compared on a grid of grid x grid cell means (Lab)")
    face: bool = param(True, "describe the source image's face (one dlib descriptor, 71 ms)")


class ReferenceAnalyzer(Analyzer):
    name = "reference"
    signals = (SSIM, COLOR)
    Params = ReferenceParams
    needs = Needs(reference=True)

    def __init__(self, params: ReferenceParams, clip, context) -> None:
        super().__init__(params, clip, context)
        self.path = Path(str(context.get("reference", "")))
        self.source = load_image(self.path)
        self.series = FrameSeries(*self.signals)
        self.targets: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.fit: str | None = None
        source_face = None
        if params.face:
            from vidlint.analyzers.faces import describe_image

            source_face = describe_image(self.source)
        height, width = self.source.shape[:2]
        self.meta = {
            "path": str(self.path), "width": width, "height": height,
            "face_box": [round(v, 4) for v in source_face[1]] if source_face else None,
            "face_descriptor": np.round(source_face[0], 4).tolist() if source_face else None,
        }

    def update(self, frame: Frame) -> None:
        gray, lab = prepare(frame.small, self.params.size, self.params.grid)
        if self.fit is None:
            self._choose_fit(frame.small.shape[1], frame.small.shape[0], gray)
        source_gray, source_lab = self.targets[self.fit]
        self.series.append(**{SSIM: ssim(gray, source_gray),
                              COLOR: float(np.linalg.norm(lab - source_lab, axis=2).mean())})

    def _choose_fit(self, width: int, height: int, first_gray: np.ndarray) -> None:
        """Generators either stretch the source to the output size or crop its centre to the
        output's aspect ratio: keep whichever matches the first frame better."""
        for fit in ("stretch", "crop"):
            image = fitted(self.source, width, height, crop=fit == "crop")
            self.targets[fit] = prepare(image, self.params.size, self.params.grid)
        scores = {fit: ssim(first_gray, target[0]) for fit, target in self.targets.items()}
        self.fit = max(scores, key=scores.get)
        self.meta["fit"] = self.fit

    def finish(self) -> dict[str, np.ndarray]:
        return self.series.arrays()


def load_image(path: Path, what: str = "reference image") -> np.ndarray:
    """An image file as RGB uint8, or an InputError naming the file and the cause."""
    from PIL import Image, UnidentifiedImageError

    if not str(path) or not path.is_file():
        raise InputError(f"{what} not found", path)
    try:
        with Image.open(path) as image:
            image.load()
            rgb = np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(f"cannot read the {what} ({exc})", path) from exc
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
            image = image[:, x0:x0 + keep]
        else:
            keep = round(iw / target)
            y0 = (ih - keep) // 2
            image = image[y0:y0 + keep]
    return cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=cv2.INTER_AREA)


def prepare(rgb: np.ndarray, size: int, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Gray picture with short side ``size`` (float32) and the grid of Lab cell means."""
    height, width = rgb.shape[:2]
    scale = size / min(height, width)
    small = cv2.resize(rgb, (max(8, round(width * scale)), max(8, round(height * scale))),
                       interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    cells = cv2.resize(lab, (grid, grid), interpolation=cv2.INTER_AREA)
    return gray, cells


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
        (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2))
    return float(cv2.mean(index)[0])
