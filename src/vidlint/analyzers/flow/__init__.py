"""Dense optical flow between consecutive frames and what it cannot explain.

DIS flow (OpenCV) forward and backward on the shared gray working copy; the occlusion and
motion-boundary masks of Ruder et al. 2016 as used by Lai et al. 2018 (forward-backward
consistency); the occlusion-masked warping error, per frame and on a coarse grid so findings
carry a region; the dominant camera motion (a RANSAC homography on sampled flow) and the
residual the background leaves; points carried along the flow, whose camera-compensated
acceleration exposes jerks; and, for each compact unexplained blob, a template search that
tells a teleport (the content reappears elsewhere) from a pop (it is gone). Two longer looks:
an anchor frame's pixels carried along the chained flow (Lai et al.'s long-term error), whose
growing difference per cell shows content changing gradually; and, where a spike of change
ends within three frames of where it began, the frame after it compared with the frame before
it (a picture that broke and came back). Everything in the per-pair hot path is a cv2 call.
Values are at the working copy's scale, in pixels of a 360-pixel short side, so thresholds do
not depend on the clip's resolution.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, Measured
from vidlint.analyzers.flow.keys import (
    BATCH_PAIRS,
    BRIGHTNESS_SHIFT,
    BROAD_START,
    CAMERA_RESIDUAL,
    DRIFT_GRID,
    ERROR_GRID,
    EXPLAINED,
    JERK_ACCEL,
    JERK_BOX,
    JERK_POINTS,
    LAYERS_RESIDUAL,
    MOTION,
    MOTION_P99,
    OCCLUDED,
    OCCLUDED_GRID,
    PRESETS,
    REFERENCE_SIDE,
    RESIDUAL_GRID,
    RETURN_FROM,
    RETURN_GRID,
    RETURN_REACH,
    SHIFT_GRID,
    SPIKE,
    STATIC_GRID,
    TRACKED,
    TWIST_GRID,
    WARP_ERROR,
    WARP_GRID,
    BlobEvent,
    FlowOutput,
    FlowParams,
    PairChecks,
)
from vidlint.decode import ClipInfo, Frame
from vidlint.errors import ConfigError


@dataclass(frozen=True)
class Consistency:
    """Forward-backward consistency of one pair at check size (Ruder et al. 2016): the forward
    flow's channels, where it takes each pixel, the backward flow sampled there, and the
    occlusion and inside-the-frame masks."""

    fx: np.ndarray
    fy: np.ndarray
    map_x: np.ndarray
    map_y: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    forward_sq: np.ndarray
    occluded: np.ndarray
    inside: np.ndarray

    @property
    def occluded_share(self) -> float:
        """The ``flow.occluded`` value: pixels occluded inside the frame."""
        return float(cv2.mean((self.occluded & self.inside).astype(np.float32))[0])


def check_size_of(shape: tuple[int, ...], check_side: int) -> tuple[int, int]:
    """(width, height) of the check copy of a gray frame of ``shape``."""
    height, width = shape[:2]
    factor = min(1.0, check_side / min(height, width))
    return max(8, round(width * factor)), max(8, round(height * factor))


def at_check_size(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if size == (gray.shape[1], gray.shape[0]):
        return gray
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def pair_flows(
    dis: Any, previous: np.ndarray, gray: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """DIS flow forward (previous to gray) and backward, brought to the check ``size``."""
    forward = dis.calc(previous, gray, None)
    backward = dis.calc(gray, previous, None)
    if size != (gray.shape[1], gray.shape[0]):  # flow vectors shrink with the picture
        factor = np.float32(size[0] / gray.shape[1])
        forward = cv2.resize(forward, size, interpolation=cv2.INTER_LINEAR) * factor
        backward = cv2.resize(backward, size, interpolation=cv2.INTER_LINEAR) * factor
    return forward, backward


def consistency(
    forward: np.ndarray, backward: np.ndarray, grid_xy: tuple[np.ndarray, np.ndarray], p: FlowParams
) -> Consistency:
    """A pixel is occluded when F(x) + B(x + F(x)) is far from 0 (Ruder et al. 2016)."""
    xs, ys = grid_xy
    fx, fy = cv2.split(forward)  # cv2 on channel views would copy them each time
    map_x, map_y = cv2.add(xs, fx), cv2.add(ys, fy)
    bx, by = cv2.split(
        cv2.remap(backward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    )
    forward_sq = _sq(fx, fy)
    mismatch = _sq(cv2.add(fx, bx), cv2.add(fy, by))
    occluded = (
        mismatch > p.consistency_ratio * cv2.add(forward_sq, _sq(bx, by)) + p.consistency_offset
    )
    height, width = fx.shape
    inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    return Consistency(fx, fy, map_x, map_y, bx, by, forward_sq, occluded, inside)


def pixel_grid(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's x and y, as float32 images (the identity map of cv2.remap)."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    return xs, ys


class FlowAnalyzer(Analyzer):
    name = "flow"
    signals = (
        MOTION,
        MOTION_P99,
        WARP_ERROR,
        WARP_GRID,
        ERROR_GRID,
        OCCLUDED,
        OCCLUDED_GRID,
        CAMERA_RESIDUAL,
        LAYERS_RESIDUAL,
        RESIDUAL_GRID,
        BRIGHTNESS_SHIFT,
        SHIFT_GRID,
        STATIC_GRID,
        JERK_POINTS,
        JERK_ACCEL,
        JERK_BOX,
        TRACKED,
        RETURN_GRID,
        RETURN_FROM,
        DRIFT_GRID,
        TWIST_GRID,
    )
    Params = FlowParams
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "fast": {"scale": 0.5, "preset": "ultrafast", "check_side": 180, "track_points": 80},
        "thorough": {
            "preset": "medium",
            "check_side": 360,
            "grid": 8,
            "sample_step": 8,
            "track_points": 300,
        },
    }
    uses_device = True

    output = FlowOutput

    def __init__(
        self, params: FlowParams, clip: ClipInfo, context: Any, device: Any = None
    ) -> None:
        super().__init__(params, clip, context, device)
        self.dis = cv2.DISOpticalFlow_create(PRESETS[params.preset])
        self.raft = self._load_raft() if params.model == "raft" else None
        self.previous: np.ndarray | None = None
        self.previous_check: np.ndarray | None = None
        self.check_size: tuple[int, int] | None = None
        self.rows: list[dict[str, Any]] = []
        self.events: list[BlobEvent] = []
        self.tracks: _Tracks | None = None
        self.grid_xy: tuple[np.ndarray, np.ndarray] | None = None
        self.kernel = np.ones((5, 5), np.uint8)
        self.unit = 1.0  # px of the flow image -> px at a 360-pixel short side
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]] = []
        """Frame pairs waiting for the batched dense checks of the torch path."""
        self.recent: dict[int, np.ndarray] = {}
        """The last check-size frames by index, to compare a spike's end with its start."""
        self.recent_grids: list[np.ndarray] = []
        self.spikes: dict[int, np.ndarray] = {}
        """Per recent frame, the cells whose error spiked into it."""
        self.chain: _Chain | None = None

    def update(self, frame: Frame) -> None:
        gray = frame.gray
        if self.params.scale != 1.0:
            gray = cv2.resize(
                gray, None, fx=self.params.scale, fy=self.params.scale, interpolation=cv2.INTER_AREA
            )
        if self.check_size is None:
            self.check_size = check_size_of(gray.shape, self.params.check_side)
        check = at_check_size(gray, self.check_size)
        if self.previous is None or self.previous_check is None:  # the first frame
            height, width = check.shape
            self.unit = REFERENCE_SIDE / min(height, width)
            self.grid_xy = pixel_grid(check.shape)
            self.tracks = _Tracks(
                self.params.track_points, (height, width), self.params.jerk_level / self.unit
            )
            self.tracks.seed(check)
            self.rows.append({})
        elif self.raft is not None:  # flow for the whole batch on the device, at check size
            self._queue((self.previous_check, check, None, None, frame.index))
        else:
            forward, backward = pair_flows(self.dis, self.previous, gray, self.check_size)
            pair = (self.previous_check, check, forward, backward)
            if self.device is None:
                self.rows.append(self._pair(*pair[:3], frame.index, self._dense(*pair)))
            else:
                self._queue((*pair, frame.index))
        self.previous, self.previous_check = gray, check

    def _load_raft(self) -> Any:
        if self.device is None:
            raise ConfigError(
                "analyzers.flow.model = 'raft' runs on the torch path: set device "
                "to cuda (or torch-cpu)"
            )
        from vidlint.analyzers.flow.batched import load_raft, models_dir

        model = load_raft(self.device)
        if model is None:
            raise ConfigError(
                "analyzers.flow.model = 'raft' needs raft_large.pth or "
                "raft_small.pth here (see models/README.md)",
                models_dir(),
            )
        return model

    def _queue(self, pair: tuple) -> None:
        self.pending.append(pair)
        if len(self.pending) == BATCH_PAIRS:
            self._flush()

    def _flush(self) -> None:
        """The torch path: flow (RAFT) and dense checks for the waiting pairs in one batch on
        the device, then the per-pair rest (camera fit, tracks, blobs) in order."""
        if not self.pending:
            return
        from vidlint.analyzers.flow.batched import dense_checks, raft_pairs

        prev, cur, forward, backward, indices = zip(*self.pending, strict=True)
        self.pending = []
        if self.raft is not None:
            forward, backward = raft_pairs(self.raft, prev, cur, self.device)
        for i, checks in enumerate(
            dense_checks(prev, cur, forward, backward, self.params, self.device)
        ):
            self.rows.append(self._pair(prev[i], cur[i], forward[i], indices[i], checks))

    def _dense(
        self, prev: np.ndarray, cur: np.ndarray, forward: np.ndarray, backward: np.ndarray
    ) -> PairChecks:
        """The per-pixel checks of one pair with cv2: forward-backward consistency, motion
        boundaries, the brightness-compensated warp error and its grids."""
        p = self.params
        assert self.grid_xy is not None  # set on the first frame, before any pair
        c = consistency(forward, backward, self.grid_xy, p)
        fx, fy, map_x, map_y, forward_sq, occluded = (
            c.fx,
            c.fy,
            c.map_x,
            c.map_y,
            c.forward_sq,
            c.occluded,
        )
        warped = cv2.remap(cur, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # Motion boundary (Lai et al.): |grad u|^2 + |grad v|^2 > 0.01 |F|^2 + 0.002.
        gradient = cv2.add(_sq(*_gradient(fx)), _sq(*_gradient(fy)))
        boundary = gradient > p.boundary_ratio * forward_sq + p.boundary_offset
        inside = c.inside
        valid = inside & ~occluded & ~boundary
        valid_f = valid.astype(np.float32)
        difference = cv2.subtract(prev, warped, dtype=cv2.CV_32F)
        count = max(1.0, float(cv2.countNonZero(valid_f)))
        shift = float(cv2.sumElems(cv2.multiply(difference, valid_f))[0]) / count
        error = cv2.absdiff(difference, shift)
        masked = cv2.multiply(error, valid_f)
        g = p.grid
        cell_valid = cell_means(valid_f, g)
        usable = np.maximum(cell_valid, 1e-6)
        signed = cell_means(cv2.multiply(difference, valid_f), g) / usable
        # each cell's own brightness step taken out (light on a wall is not content), then a
        # 5x5 minimum keeps errors that cover an area (content changing) and drops the thin
        # lines DIS leaves along edges and fine strokes
        content = cv2.multiply(
            cv2.absdiff(difference, per_pixel(signed, difference.shape)), valid_f
        )
        coherent = cv2.erode(content, self.kernel)
        warp_grid = np.where(cell_valid > 0.05, cell_means(coherent, g) / usable, np.nan)
        shift_grid = np.where(cell_valid > 0.05, -signed, np.nan)
        error_grid = np.where(cell_valid > 0.05, cell_means(masked, g) / usable, np.nan)
        occluded_f = (occluded & inside).astype(np.float32)
        magnitude = cv2.magnitude(fx, fy)
        values = {
            MOTION: float(cv2.mean(magnitude)[0]),
            MOTION_P99: float(np.percentile(magnitude[::4, ::4], 99)),
            WARP_ERROR: float(cv2.sumElems(masked)[0]) / count,
            WARP_GRID: warp_grid.ravel(),
            ERROR_GRID: error_grid.ravel(),
            OCCLUDED: float(cv2.mean(occluded_f)[0]),
            OCCLUDED_GRID: cell_means(occluded_f, g).ravel(),
            BRIGHTNESS_SHIFT: -shift,
            SHIFT_GRID: shift_grid.ravel(),
        }
        return PairChecks(
            values, valid, occluded | ~inside, (occluded & inside) | (error > p.unexplained_level)
        )

    def _pair(
        self, prev: np.ndarray, cur: np.ndarray, forward: np.ndarray, index: int, checks: PairChecks
    ) -> dict[str, Any]:
        """One pair's row: the dense checks' values, then the camera fit, the tracks and the
        search for unexplained blobs, which read the masks."""
        assert self.tracks is not None  # set on the first frame, before any pair
        camera, residual_grid, static_grid, residual_px, layers_px = self._camera(
            forward, checks.valid, self.params.grid
        )
        jerk = self.tracks.advance(forward, checks.lost, camera, cur, index)
        self._blobs(prev, cur, forward, camera, checks.unexplained, index)
        u = self.unit
        back = self._compare_back(prev, cur, index, checks.values[ERROR_GRID])
        drift, twist = self._drift(prev, cur, forward, checks.lost, index)
        return {
            **back,
            DRIFT_GRID: drift,
            TWIST_GRID: twist,
            **checks.values,
            MOTION: checks.values[MOTION] * u,
            MOTION_P99: checks.values[MOTION_P99] * u,
            CAMERA_RESIDUAL: residual_px * u,
            LAYERS_RESIDUAL: layers_px * u,
            RESIDUAL_GRID: residual_grid.ravel() * u,
            STATIC_GRID: static_grid.ravel(),
            JERK_POINTS: jerk[0],
            JERK_ACCEL: jerk[1] * u,
            JERK_BOX: jerk[2],
            TRACKED: float(self.tracks.live()),
        }

    def _compare_back(
        self, prev: np.ndarray, cur: np.ndarray, index: int, grid: np.ndarray
    ) -> dict[str, Any]:
        """When cells of this pair spike that also spiked at most ``RETURN_REACH`` frames ago,
        the warping error between this frame and the frame before that spike began (flow
        computed for the pair, at check size): a picture that broke and came back compares
        well. The spike must have begun from calm frames, or, on a busy clip where some cell
        spikes every frame, in ``BROAD_START`` of the cells at once. Rare on clean footage, so
        it costs little."""
        self.recent[index - 1], self.recent[index] = prev, cur
        for old in [i for i in self.recent if i < index - RETURN_REACH - 1]:
            del self.recent[old]
        history = self.recent_grids[-30:]
        self.recent_grids = [*history, grid]
        calm = np.zeros(grid.shape, bool)
        spiking = calm
        if len(history) >= 3:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                spiking = grid - np.nanmedian(history, axis=0) >= SPIKE
        kept = index - RETURN_REACH - 1  # the frame before the earliest start
        self.spikes = {i: cells for i, cells in self.spikes.items() if i >= kept}
        self.spikes[index] = spiking
        for began in range(index - RETURN_REACH, index):  # the earliest start first
            earlier = self.spikes.get(began - 1, calm)  # the first frames: nothing before
            starts = spiking & self.spikes.get(began, calm) & ~earlier
            from_calm = starts.any() and not earlier.any()
            if (from_calm or starts.mean() >= BROAD_START) and began - 1 in self.recent:
                break
        else:
            return {}
        before = self.recent[began - 1]
        forward, backward = self.dis.calc(before, cur, None), self.dis.calc(cur, before, None)
        values = self._dense(before, cur, forward, backward).values
        return {RETURN_GRID: values[ERROR_GRID], RETURN_FROM: float(began - 1)}

    def _drift(
        self, prev: np.ndarray, cur: np.ndarray, forward: np.ndarray, lost: np.ndarray, index: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Carry the anchor's pixels one frame further and return each cell's rise of the
        anchor-to-now error and of its twist (NaN on the first frame after an anchor)."""
        assert self.grid_xy is not None
        chain = self.chain
        if chain is None or index - chain.start > self.clip.fps * self.params.anchor_s:
            chain = self.chain = _Chain(prev, index - 1, self.grid_xy)
        g = self.params.grid
        error = chain.advance(cur, forward, lost, g, self.kernel)
        twist = chain.twist(g, self.params.twist_strain)
        if chain.error is None or chain.turned is None:
            rises = np.full_like(error, np.nan), np.full_like(twist, np.nan)
        else:
            rises = error - chain.error, twist - chain.turned
        chain.error, chain.turned = error, twist
        return rises[0].ravel(), rises[1].ravel()

    def _camera(
        self, forward: np.ndarray, valid: np.ndarray, g: int
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, float, float]:
        """Fit one homography to the sampled flow (RANSAC); return it with the median residual
        per cell and overall, which cells move only with the camera, and the overall median
        residual left by two rigid layers (``two_layer_residual``)."""
        step = self.params.sample_step
        height, width = valid.shape
        ys, xs = np.mgrid[step // 2 : height : step, step // 2 : width : step]
        flow = forward[ys, xs]
        keep = valid[ys, xs]
        src = np.stack([xs, ys], -1).astype(np.float32)
        dst = src + flow
        residual = np.full(xs.shape, np.nan, np.float32)
        homography = None
        layers = np.nan
        if keep.sum() >= 8:
            homography, _ = cv2.findHomography(src[keep], dst[keep], cv2.RANSAC, 1.0, maxIters=200)
        if homography is not None:
            residual = point_residual(src, dst, homography)
            residual[~keep] = np.nan
            layers = two_layer_residual(src[keep], dst[keep], residual[keep])
        cell_rows = np.minimum(ys * g // height, g - 1)
        cell_cols = np.minimum(xs * g // width, g - 1)
        cells = (cell_rows * g + cell_cols).ravel()
        flat = residual.ravel()
        finite = np.isfinite(flat)
        grid = grouped_median(flat[finite], cells[finite], g * g, least=3)
        static = (grid * self.unit < self.params.static_motion).astype(np.float64)
        static[~np.isfinite(grid)] = np.nan
        overall = float(np.nanmedian(flat)) if finite.any() else np.nan
        return homography, grid.reshape(g, g), static, overall, layers

    def _blobs(
        self,
        prev: np.ndarray,
        cur: np.ndarray,
        forward: np.ndarray,
        camera: np.ndarray | None,
        unexplained: np.ndarray,
        index: int,
    ) -> None:
        """Search for the content of each compact unexplained blob: found far from where the
        flow takes it is a teleport; not found anywhere, with no occluding motion, is a pop."""
        p = self.params
        height, width = prev.shape
        small = (
            cv2.resize(
                unexplained.astype(np.uint8) * 255,
                (width // 8, height // 8),
                interpolation=cv2.INTER_AREA,
            )
            > 100
        )
        count, _, stats, _ = cv2.connectedComponentsWithStats(small.astype(np.uint8), 4)
        area_min = p.min_blob * small.size
        detail: tuple[np.ndarray, np.ndarray] | None = None
        earlier: list[np.ndarray] | None = None
        for label in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[label])
            if area < area_min or area > 0.35 * small.size:
                continue
            x0, y0 = x * 8, y * 8
            x1, y1 = min(width, (x + w) * 8), min(height, (y + h) * 8)
            if x1 - x0 < 12 or y1 - y0 < 12 or (x1 - x0) * (y1 - y0) > 0.3 * width * height:
                continue
            # matched on detail: smooth shading correlates with anything
            if detail is None or earlier is None:
                detail = (_detail(prev), _detail(cur))
                reach = range(index - 2, index - RETURN_REACH - 2, -1)  # before a 1-3 frame gap
                earlier = [_detail(self.recent[i]) for i in reach if i in self.recent]
            box = (x0, y0, x1, y1)
            event = _blob_event(
                prev,
                cur,
                detail,
                earlier,
                forward,
                camera,
                box,
                index,
                self.unit,
                area / small.size,
            )
            if event.stay < EXPLAINED:
                self.events.append(event)

    def finish(self) -> Measured:
        self._flush()
        n = len(self.rows)
        g2 = self.params.grid**2
        out: dict[str, np.ndarray] = {}
        widths = {
            WARP_GRID: g2,
            ERROR_GRID: g2,
            OCCLUDED_GRID: g2,
            SHIFT_GRID: g2,
            RESIDUAL_GRID: g2,
            STATIC_GRID: g2,
            RETURN_GRID: g2,
            DRIFT_GRID: g2,
            TWIST_GRID: g2,
            JERK_BOX: 4,
        }
        for key in self.signals:
            if key in widths:
                array = np.full((n, widths[key]), np.nan)
                for i, row in enumerate(self.rows):
                    if key in row and row[key] is not None:
                        array[i] = row[key]
            else:
                array = np.array([row.get(key, np.nan) for row in self.rows], dtype=np.float64)
            out[key] = array
        output = FlowOutput(
            grid=self.params.grid,
            events=tuple(self.events),
            tracks=self.tracks.summary() if self.tracks else {},
        )
        return Measured(out, output)


def _sq(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x^2 + y^2, element-wise."""
    return cv2.add(cv2.multiply(x, x), cv2.multiply(y, y))


def _gradient(channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences along x and y."""
    return (
        cv2.Sobel(channel, cv2.CV_32F, 1, 0, ksize=1, scale=0.5),
        cv2.Sobel(channel, cv2.CV_32F, 0, 1, ksize=1, scale=0.5),
    )


def grouped_median(
    values: np.ndarray, groups: np.ndarray, count: int, least: int = 1
) -> np.ndarray:
    """Median of ``values`` per group 0..count-1 (NaN for groups with fewer than ``least``),
    by one sort instead of a Python loop over groups."""
    order = np.lexsort((values, groups))
    values, groups = values[order], groups[order]
    sizes = np.bincount(groups, minlength=count)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    out = np.full(count, np.nan)
    has = sizes >= max(1, least)
    low = starts[has] + (sizes[has] - 1) // 2
    high = starts[has] + sizes[has] // 2
    out[has] = (values[low] + values[high]) / 2.0
    return out


def cell_means(image: np.ndarray, grid: int) -> np.ndarray:
    """Mean of each cell of a ``grid`` x ``grid`` layout (the image cropped to whole cells):
    a reshape-sum, several times faster than an INTER_AREA resize to a non-integer ratio."""
    height, width = image.shape[:2]
    rows, cols = height // grid, width // grid
    cropped = image[: rows * grid, : cols * grid]
    return cropped.reshape(grid, rows, grid, cols).mean(axis=(1, 3), dtype=np.float32)


def per_pixel(cells: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Each cell's value over its pixels (the inverse of :func:`cell_means`; the pixels beyond
    the whole cells get 0)."""
    grid = cells.shape[0]
    rows, cols = shape[0] // grid, shape[1] // grid
    out = np.zeros(shape[:2], np.float32)
    out[: rows * grid, : cols * grid] = np.kron(cells, np.ones((rows, cols), np.float32))
    return out


def _detail(gray: np.ndarray) -> np.ndarray:
    """The picture minus its blur (sigma 2): edges and texture, without shading."""
    image = gray.astype(np.float32)
    return cv2.subtract(image, cv2.GaussianBlur(image, (0, 0), 2.0))


def _blob_event(
    prev: np.ndarray,
    cur: np.ndarray,
    detail: tuple[np.ndarray, np.ndarray],
    earlier: list[np.ndarray],
    forward: np.ndarray,
    camera: np.ndarray | None,
    box: tuple[int, int, int, int],
    index: int,
    unit: float,
    area: float,
) -> BlobEvent:
    """Where did the content of ``box`` (in the previous frame) go? (the fields of
    :class:`BlobEvent`)."""
    x0, y0, x1, y1 = box
    height, width = prev.shape
    patch = prev[y0:y1, x0:x1]
    before, after = detail
    fine = before[y0:y1, x0:x1]
    flow = forward[y0:y1, x0:x1].reshape(-1, 2)
    moved = np.median(flow, axis=0)
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2], np.float32)
    expected = centre + moved
    stay = _match_at(fine, after, expected)
    half = max(x1 - x0, y1 - y0) // 2
    near = _match_at(fine, after, expected, search=half)
    result = cv2.matchTemplate(after, fine, cv2.TM_CCOEFF_NORMED)
    _, best, _, location = cv2.minMaxLoc(result)
    found = np.array([location[0] + (x1 - x0) / 2, location[1] + (y1 - y0) / 2], np.float32)
    camera_motion = moved
    if camera is not None:
        camera_motion = cv2.perspectiveTransform(centre.reshape(1, 1, 2), camera).ravel() - centre
    own = float(np.linalg.norm(moved - camera_motion))
    # the content now at the box: was it in the previous frame near there?
    now = after[y0:y1, x0:x1]
    back = _match_at(now, before, centre - camera_motion)
    returned = max((_match_at(now, old, centre, search=half) for old in earlier), default=0.0)
    texture = float(cv2.meanStdDev(patch)[1][0, 0])
    return BlobEvent(
        frame=index,
        box=[x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height],
        area=round(area, 4),
        stay=round(stay, 3),
        back=round(back, 3),
        near=round(near, 3),
        best=round(float(best), 3),
        jump=round(float(np.linalg.norm(found - expected)) * unit, 1),
        found=[float(found[0]) / width, float(found[1]) / height],
        change=round(_change_at(patch, cur, expected), 1),
        own_motion=round(own * unit, 2),
        texture=round(texture, 1),
        returned=round(returned, 3),
    )


def _change_at(patch: np.ndarray, image: np.ndarray, centre: np.ndarray) -> float:
    """Mean absolute gray difference between ``patch`` and the same-size window of image
    centred at ``centre`` (how much the content there changed)."""
    ph, pw = patch.shape
    height, width = image.shape
    x0 = min(max(0, round(centre[0] - pw / 2)), width - pw)
    y0 = min(max(0, round(centre[1] - ph / 2)), height - ph)
    return float(cv2.mean(cv2.absdiff(patch, image[y0 : y0 + ph, x0 : x0 + pw]))[0])


def _match_at(patch: np.ndarray, image: np.ndarray, centre: np.ndarray, search: int = 4) -> float:
    """Best normalized correlation of ``patch`` within ``search`` px of ``centre`` in image."""
    ph, pw = patch.shape
    height, width = image.shape
    x0 = round(centre[0] - pw / 2) - search
    y0 = round(centre[1] - ph / 2) - search
    x0c, y0c = max(0, x0), max(0, y0)
    x1c, y1c = min(width, x0 + pw + 2 * search), min(height, y0 + ph + 2 * search)
    window = image[y0c:y1c, x0c:x1c]
    if window.shape[0] < ph or window.shape[1] < pw:
        return 0.0
    return float(cv2.minMaxLoc(cv2.matchTemplate(window, patch, cv2.TM_CCOEFF_NORMED))[1])


class _Chain:
    """An anchor frame's pixels carried along the forward flow (Lai et al. 2018's long-term
    warping error on chained flow): where each is now, and whether it is still seen (not
    occluded on the way, inside the frame)."""

    def __init__(self, anchor: np.ndarray, start: int, grid_xy: tuple[np.ndarray, np.ndarray]):
        self.anchor = anchor.astype(np.float32)
        self.start = start
        self.x, self.y = grid_xy[0].copy(), grid_xy[1].copy()
        self.alive = np.ones_like(self.x)
        self.error: np.ndarray | None = None
        """Each cell's anchor-to-now error at the previous frame."""
        self.turned: np.ndarray | None = None
        """Each cell's twist (:meth:`twist`) at the previous frame."""

    def advance(
        self, cur: np.ndarray, forward: np.ndarray, lost: np.ndarray, g: int, kernel: np.ndarray
    ) -> np.ndarray:
        """Move the pixels by this pair's flow; return each cell's anchor-to-now error: the
        absolute difference minus the cell's mean difference (a regional light change is not a
        change of content), after a 5x5 minimum like the warp grid, where at least 30% of the
        cell is still seen (NaN elsewhere)."""
        gone = cv2.remap(
            lost.astype(np.float32), self.x, self.y, cv2.INTER_NEAREST, borderValue=1.0
        )
        moved = cv2.remap(
            forward, self.x, self.y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        self.x, self.y = cv2.add(self.x, moved[..., 0]), cv2.add(self.y, moved[..., 1])
        height, width = cur.shape
        inside = (self.x >= 0) & (self.x <= width - 1) & (self.y >= 0) & (self.y <= height - 1)
        self.alive = cv2.multiply(self.alive, (1.0 - gone) * inside)
        warped = cv2.remap(
            cur.astype(np.float32),
            self.x,
            self.y,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        difference = cv2.multiply(cv2.subtract(self.anchor, warped), self.alive)
        seen = cell_means(self.alive, g)
        usable = np.maximum(seen, 1e-6)
        offset = per_pixel(cell_means(difference, g) / usable, difference.shape)
        error = cv2.erode(cv2.multiply(cv2.absdiff(difference, offset), self.alive), kernel)
        return np.where(seen >= 0.3, cell_means(error, g) / usable, np.nan)

    def twist(self, g: int, strain_ratio: float) -> np.ndarray:
        """Each cell's largest local rotation (radians) of the map from the anchor frame to now,
        away from the picture's median rotation: the chained flow's Jacobian at half size
        (differences 2 px apart), its rotation angle atan2(dy/dx - dx/dy, dx/dx + dy/dy), over
        pixels still seen whose map strains less than ``strain_ratio`` times it turns, then a
        3x3 minimum (a pixel alone does not count); 0 where the cell has none. A camera roll
        turns the whole picture alike; a swirl turns a region's centre by up to radians while
        its surroundings stay."""
        height, width = self.x.shape
        size = (max(8, width // 2), max(8, height // 2))
        x = cv2.resize(self.x, size, interpolation=cv2.INTER_LINEAR)  # 2x2 means at half size
        y = cv2.resize(self.y, size, interpolation=cv2.INTER_LINEAR)
        seen = self.alive[: 2 * size[1] : 2, : 2 * size[0] : 2] > 0.5
        seen = cv2.erode(seen.astype(np.uint8), _K3) > 0
        if not seen.any():
            return np.zeros((g, g))
        # d(now)/d(anchor) by central differences; the 2 px spacing cancels in the angle
        xx, xy = _gradient(x)
        yx, yy = _gradient(y)
        angle = cv2.phase(cv2.add(xx, yy), cv2.subtract(yx, xy))  # 0..2 pi
        angle[angle > np.pi] -= np.float32(2 * np.pi)  # -pi..pi: no turn is 0, not 0 or 2 pi
        sample = angle[::2, ::2][seen[::2, ::2]]
        reference = float(np.median(sample if len(sample) else angle[seen]))
        turn = cv2.absdiff(angle, reference)
        turn = np.minimum(turn, np.float32(2 * np.pi) - turn)  # the shorter way round
        # a turn, not a shear: a layer sliding past another (an edge of something moving) turns
        # the map by as much as it strains it; a turn of the content strains it far less
        rotation = cv2.absdiff(yx, xy)  # twice the turn part
        strain = cv2.magnitude(cv2.subtract(xx, yy), cv2.add(xy, yx))  # twice the strain
        turning = seen & (strain <= strain_ratio * rotation)
        turn = cv2.erode(np.where(turning, turn, np.float32(0.0)), _K3)
        rows, cols = turn.shape[0] // g, turn.shape[1] // g
        cells = turn[: rows * g, : cols * g].reshape(g, rows, g, cols)
        return cells.max(axis=(1, 3)).astype(np.float64)


_K3 = np.ones((3, 3), np.uint8)


class _Tracks:
    """Points carried along the forward flow. Each keeps its camera-compensated velocity; a
    point whose velocity changes abruptly (acceleration) while its neighbours agree is a jerk."""

    def __init__(self, wanted: int, shape: tuple[int, int], level: float) -> None:
        self.wanted = wanted
        self.level = level
        self.shape = shape
        self.points = np.zeros((0, 2), np.float32)
        self.velocity = np.full((0, 2), np.nan, np.float32)
        self.accelerations: list[float] = []

    def live(self) -> int:
        return len(self.points)

    def seed(self, gray: np.ndarray) -> None:
        missing = self.wanted - len(self.points)
        if missing < self.wanted // 3:
            return
        mask = np.full(gray.shape, 255, np.uint8)
        for x, y in self.points.astype(int):
            cv2.circle(mask, (int(x), int(y)), 6, 0, -1)
        found = cv2.goodFeaturesToTrack(gray, missing, 0.01, 7, mask=mask)
        if found is None:
            return
        found = found.reshape(-1, 2).astype(np.float32)
        self.points = np.vstack([self.points, found])
        self.velocity = np.vstack([self.velocity, np.full((len(found), 2), np.nan, np.float32)])

    def advance(
        self,
        forward: np.ndarray,
        lost: np.ndarray,
        camera: np.ndarray | None,
        cur: np.ndarray,
        index: int,
    ) -> tuple[float, float, list[float]]:
        """Move the points one frame; return (how many jerked, their median acceleration in px
        per frame^2, their box as x, y, w, h fractions)."""
        result: tuple[float, float, list[float]] = (0.0, 0.0, [np.nan] * 4)
        if len(self.points):
            height, width = self.shape
            xi = np.clip(np.round(self.points[:, 0]).astype(int), 0, width - 1)
            yi = np.clip(np.round(self.points[:, 1]).astype(int), 0, height - 1)
            flow = forward[yi, xi]
            camera_flow = np.zeros_like(flow)
            if camera is not None:
                camera_flow = (
                    cv2.perspectiveTransform(self.points.reshape(-1, 1, 2), camera).reshape(-1, 2)
                    - self.points
                )
            velocity = flow - camera_flow
            acceleration = np.linalg.norm(velocity - self.velocity, axis=1)
            gone = lost[yi, xi]
            known = np.isfinite(acceleration) & ~gone
            if known.any():
                self.accelerations.extend(acceleration[known].tolist())
            jerked = known & (acceleration >= self.level)
            if jerked.sum() >= 3:
                pts = self.points[jerked]
                # keep the biggest spatial cluster: points of one object
                centre = np.median(pts, axis=0)
                near = np.linalg.norm(pts - centre, axis=1) < 0.25 * min(height, width)
                if near.sum() >= 3:
                    pts = pts[near]
                    accel = float(np.median(acceleration[jerked][near]))
                    x0, y0 = pts.min(axis=0)
                    x1, y1 = pts.max(axis=0)
                    result = (
                        float(near.sum()),
                        accel,
                        [x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height],
                    )
            self.points = self.points + flow
            self.velocity = velocity
            keep = (
                (self.points[:, 0] >= 0)
                & (self.points[:, 0] < width - 1)
                & (self.points[:, 1] >= 0)
                & (self.points[:, 1] < height - 1)
            )
            keep &= ~gone
            self.points, self.velocity = self.points[keep], self.velocity[keep]
        self.seed(cur)
        return result

    def summary(self) -> dict[str, float]:
        values = np.asarray(self.accelerations)
        if len(values) == 0:
            return {}
        return {
            "accel_median": round(float(np.median(values)), 3),
            "accel_p99": round(float(np.percentile(values, 99)), 3),
        }


ANALYZER = FlowAnalyzer


def point_residual(src: np.ndarray, dst: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Distance from each point's flow target to where ``homography`` puts it."""
    predicted = cv2.perspectiveTransform(src.reshape(-1, 1, 2), homography).reshape(src.shape)
    return np.hypot(*np.moveaxis(dst - predicted, -1, 0)).astype(np.float32)


def two_layer_residual(src: np.ndarray, dst: np.ndarray, residual: np.ndarray) -> float:
    """Median residual after the better of two homographies per point: the camera's
    (``residual``) and one fitted to the points it leaves beyond 1 px, where those are 15% or
    more of them. A hand-held camera close to a rigid foreground (arms on a table, a face)
    sees two planes move by different amounts: each is rigid, and nothing bent."""
    outside = residual > 1.0
    if outside.sum() < max(8, 0.15 * len(residual)):
        return float(np.median(residual)) if len(residual) else np.nan
    second, _ = cv2.findHomography(src[outside], dst[outside], cv2.RANSAC, 1.0, maxIters=200)
    if second is None:
        return float(np.median(residual))
    return float(np.median(np.minimum(residual, point_residual(src, dst, second))))
