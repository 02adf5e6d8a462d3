"""Faces: detection, tracking, identity descriptors and landmark dynamics, for the FAC rules.

- **Detection**: MediaPipe FaceDetection, full-range model (the short-range model misses faces
  under about 150 px in 720p: research/stage-speeds.md), on the shared small copy, at
  ``sample_fps`` frames per second.
- **Tracking**: greedy matching of each detection to the open track whose last box it overlaps
  most (IoU), so several faces each keep their own track.
- **Identity**: dlib's 128-d face descriptor (71 ms per face here, so never per frame): once when
  a track starts, then every ``describe_every_s``, at the track's end, and more densely where the
  identity moved: when two descriptors differ by more than ``refine_distance`` the frames kept
  between them are described by bisection, so a morph is located to the sampled frame.
- **Landmarks**: FaceMesh on the face crop (its own detector is short-range): expression measures
  (mouth opening, mouth width, eye aperture, brow raise) and face proportions, all divided by the
  distance between the outer eye corners so they do not depend on face size.
- **Palette**: the share of the face's inner pixels whose colour (Lab a*, b*) it did not show in
  its first samples, and how far the mean colour of the frame around the face moved meanwhile: a
  face that melts into a blob of new colour departs from its own palette while its surroundings
  keep theirs (a light change or a grade moves both).

Per-frame signals follow the clip's main face (the longest track); every track is in
``meta["tracks"]``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, Measured
from vidlint.decode import ClipInfo, Frame
from vidlint.errors import ConfigError
from vidlint.settings import param

COUNT = "faces.count"
SCORE = "faces.score"
IDENTITY = "faces.identity_distance"
MOUTH_OPEN = "faces.mouth_open"
EYE_OPEN = "faces.eye_open"
BROW_RAISE = "faces.brow_raise"
MOUTH_WIDTH = "faces.mouth_width"
PALETTE_NOVELTY = "faces.palette_novelty"
"""Share of the main face's inner pixels in colours its first samples did not show (0 = nothing
new)."""

EXPRESSION_KEYS = ("mouth_open", "mouth_width", "eye_open", "brow_raise")
GEOMETRY_KEYS = ("face_height", "eye_width_ratio", "mouth_to_eyes", "nose_offset")

# FaceMesh landmark indices (the canonical 468-point mesh).
OUTER_EYE = (33, 263)
INNER_EYE = (133, 362)
UPPER_LID = (159, 386)
LOWER_LID = (145, 374)
BROW_MID = (105, 334)
INNER_LIPS = (13, 14)
MOUTH_CORNERS = (61, 291)
FOREHEAD, CHIN, NOSE_TIP = 10, 152, 1


@dataclass(frozen=True)
class FacesParams:
    sample_fps: float = param(
        6.0,
        "detection and landmarks run on this many frames per second (0 = every frame): "
        "expressions and faces entering change over 1/6 s or more, and 6 fps keeps faces "
        "plus reference near 0.5 s for a 5 s 720p clip (benchmarks/bench_faces.py)",
        bounds=(0.1, 240.0),
    )
    min_confidence: float = param(
        0.5, "MediaPipe FaceDetection's default min_detection_confidence", bounds=(0.0, 1.0)
    )
    match_iou: float = param(
        0.3,
        "a detection continues a track when its box overlaps the track's last box by this "
        "IoU (the usual tracking-by-detection gate)",
        bounds=(0.0, 1.0),
    )
    max_jump: float = param(
        0.75,
        "a detection not overlapping enough still continues a track when its centre moved "
        "less than this many face sizes since the track's last sample (fast turns in a "
        "dance at 8-10 fps, measured on a generated dance)",
        bounds=(0.0, 10.0),
    )
    max_gap_s: float = param(
        0.5,
        "a track survives this long without a detection (blinks of the detector, a hand "
        "passing); longer, and a face found there starts a new track",
        bounds=(0.0, 60.0),
    )
    describe_every_s: float = param(
        2.5,
        "a dlib descriptor at least this often per track (and at its end); the bisection "
        "between samples adds more where identity moves. 71 ms each "
        "(research/stage-speeds.md): 3 per 5 s track",
        bounds=(0.04, 3600.0),
    )
    refine_distance: float = param(
        0.45,
        "two descriptors further apart than this are bisected over the frames between "
        "them; same-person samples 0.7 s apart stay under 0.45 on a real "
        "expression clip (measured)",
        bounds=(0.0, 2.0),
    )
    refine_depth: int = param(
        4,
        "bisection steps per refined interval: 4 locate a change within one sampled frame "
        "over 2.5 s at 6 fps (at most 15 extra descriptors, only where identity moves)",
        bounds=(0, 32),
    )
    min_describe_score: float = param(
        0.7,
        "descriptors only on confidently detected faces: a hand over half the face (real "
        "footage, a brush) or a face in profile scores 0.6-0.68 and gives descriptors up to "
        "0.72 from the same person; unoccluded faces score 0.75-0.95 (measured)",
        bounds=(0.0, 1.0),
    )
    max_describe_turn: float = param(
        0.75,
        "no descriptor on a face in near profile: nose tip further than 0.75 eye distances "
        "off the eyes' midpoint (dlib's model is trained on near-frontal faces; a woman "
        "turning to profile in a generated clip measured 0.75 from herself)",
        bounds=(0.0, 10.0),
    )
    min_face_px: int = param(
        48,
        "no descriptor for faces smaller than this (short side, full-resolution pixels): "
        "dlib's chip is 150 px and the model was trained on faces of about 80-150 px",
        bounds=(8, 4096),
    )
    landmarks: bool = param(True, "run FaceMesh on each sampled face crop")
    crop_size: int = param(
        256,
        "side of the square face crop given to FaceMesh (its input is 192 px)",
        bounds=(64, 1024),
    )
    palette_anchor_s: float = param(
        0.5,
        "a track's palette anchor is the colours of its samples in its first 0.5 s (3 at "
        "6 fps): enough for the face's own shading and a few words' mouth movements, early "
        "enough to come before a breakdown (a generated boy's face starts melting 1.5 s "
        "in). Sampling every frame, 3 frames (0.125 s) let a talking profile (a "
        "generated couple) reach 0.23 new colours; 0.5 s keeps it at 0.06",
        bounds=(0.0, 60.0),
    )
    palette_radius: int = param(
        3,
        "a colour is new when its a*, b* lie more than this many Lab units from every colour "
        "of the anchor. Measured over the evaluation clips (highest new share of an honest "
        "face / food at a man's mouth / a melting boy's face at frames 24, 28, 30): "
        "radius 2: 0.085 / 0.29 / 0.24, 0.47, 0.54; 3: 0.057 / 0.26 / 0.13, 0.34, 0.41; "
        "4: 0.057 / 0.25 / 0.06, 0.22, 0.35; 6: 0.052 / 0.22 / 0.03, 0.08, 0.23. 3 keeps "
        "honest faces far under FAC006's 0.3 and still sees the melt at 28",
        bounds=(1, 40),
    )


@dataclass
class Track:
    """One face followed over frames. Lists are parallel per sampled frame."""

    id: int
    frames: list[int] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    features: list[dict[str, float]] = field(default_factory=list)
    described: dict[int, np.ndarray] = field(default_factory=dict)
    luma: dict[int, float] = field(default_factory=dict)
    """Mean gray level (0-255) of each described chip: how much light the descriptor saw."""
    sharpness: dict[int, float] = field(default_factory=dict)
    """Variance of the Laplacian of each described chip: how much detail the descriptor saw."""
    novelty: list[float] = field(default_factory=list)
    """Per sample, the share of the face's inner pixels in colours new to its palette anchor."""
    frame_shift: list[float] = field(default_factory=list)
    """Per sample, how far (Lab a*, b* units) the mean colour of the frame around the face is from
    its mean over the anchor samples."""
    anchor_start_t: float = 0.0
    anchor_colours: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    """(face colours, mean a*, b* around the face) of the samples that make the palette
    anchor."""
    palette: np.ndarray | None = None
    """The face's anchor palette once the anchor samples are in."""
    frame_colour: np.ndarray | None = None
    """The mean a*, b* around the face over the anchor samples."""
    pending: list[tuple[int, np.ndarray]] = field(default_factory=list)
    """(frame, aligned 150 px chip) of sampled frames since the last descriptor."""
    last_described_t: float = -np.inf
    last_t: float = 0.0

    @property
    def last_box(self) -> tuple[float, float, float, float]:
        return self.boxes[-1]


@dataclass(frozen=True)
class FaceTrack:
    """One face followed over the sampled frames. ``frames``, ``boxes`` (normalized x, y, w, h),
    ``scores`` and each list of ``features`` (expression and geometry measures from FaceMesh,
    None where it lost the face) are parallel per sample; ``descriptors`` (dlib, 128 values),
    their chips' gray level and their distance to the track's anchor are parallel to
    ``descriptor_frames``; ``palette_novelty`` and ``frame_colour_shift`` are per sample."""

    id: int
    start: int
    end: int
    start_s: float
    end_s: float
    frames: list[int]
    boxes: list[list[float]]
    scores: list[float]
    features: dict[str, list[float | None]]
    anchor_frame: int | None
    descriptor_frames: list[int]
    descriptors: list[list[float]]
    descriptor_luma: list[float]
    descriptor_sharpness: list[float]
    """Per descriptor, the variance of the Laplacian of its chip (blur leaves little)."""
    palette_novelty: list[float]
    frame_colour_shift: list[float]
    anchor_distance: list[float]


@dataclass(frozen=True)
class FacesOutput:
    """The faces analyzer's per-clip result."""

    stride: int
    """Frames between samples."""
    palette_anchor_s: float
    """The first seconds of a track that make its palette anchor (FAC006)."""
    sampled_frames: int
    main_track: int | None
    """The id of the longest track."""
    tracks: tuple[FaceTrack, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FacesOutput:
        """The output as a report's ``extra.faces`` holds it, typed again."""
        tracks = tuple(FaceTrack(**track) for track in data.get("tracks", ()))
        return cls(**{**data, "tracks": tracks})


class FacesAnalyzer(Analyzer):
    name = "faces"
    signals = (
        COUNT,
        SCORE,
        IDENTITY,
        MOUTH_OPEN,
        MOUTH_WIDTH,
        EYE_OPEN,
        BROW_RAISE,
        PALETTE_NOVELTY,
    )
    Params = FacesParams
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "fast": {"sample_fps": 4.0, "describe_every_s": 4.0, "refine_depth": 2},
        "thorough": {
            "sample_fps": 0.0,
            "describe_every_s": 0.5,
            "refine_distance": 0.35,
            "refine_depth": 5,
        },
    }

    output = FacesOutput

    def __init__(self, params: FacesParams, clip: ClipInfo, context: Any) -> None:
        super().__init__(params, clip, context)
        import mediapipe as mp

        self.detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=params.min_confidence
        )
        self.mesh = (
            mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1)
            if params.landmarks
            else None
        )
        self.models = dlib_models()
        fps = clip.fps or 24.0
        self.stride = 1 if params.sample_fps <= 0 else max(1, round(fps / params.sample_fps))
        self.open: list[Track] = []
        self.closed: list[Track] = []
        self.counts: dict[int, int] = {}
        self.frame_scores: dict[int, float] = {}
        self.next_id = 0
        self.last_index = -1
        self.times: dict[int, float] = {}

    # -- per frame ------------------------------------------------------------------------------
    def update(self, frame: Frame) -> None:
        self.last_index = frame.index
        self.times[frame.index] = frame.time_s
        if frame.index % self.stride:
            return
        detections = self._detect(frame.small)
        frame_lab = small_lab(frame.small) if detections else None
        self.counts[frame.index] = len(detections)
        self.frame_scores[frame.index] = max((d[4] for d in detections), default=np.nan)
        self._close_stale(frame.time_s)
        if frame_lab is None:
            return  # no face in this frame: nothing to match
        unmatched = list(range(len(detections)))
        aspect = frame.small.shape[1] / frame.small.shape[0]
        pairs = sorted(
            (
                (self._affinity(t.last_box, d, aspect), ti, di)
                for ti, t in enumerate(self.open)
                for di, d in enumerate(detections)
            ),
            reverse=True,
        )
        used_tracks: set[int] = set()
        for affinity, ti, di in pairs:
            if affinity <= 0 or ti in used_tracks or di not in unmatched:
                continue
            used_tracks.add(ti)
            unmatched.remove(di)
            self._extend(self.open[ti], frame, detections[di], frame_lab)
        for di in unmatched:
            track = Track(self.next_id)
            self.next_id += 1
            self.open.append(track)
            self._extend(track, frame, detections[di], frame_lab)

    def _affinity(self, last: tuple, detection: tuple, aspect: float) -> float:
        """How well a detection continues a track: its IoU with the track's last box, or, for a
        face that moved fast (a spin, a quick turn), a small positive value when its centre is
        within ``max_jump`` box sizes of the last one; 0 when it does not continue it."""
        overlap = iou(last, detection[:4])
        if overlap >= self.params.match_iou:
            return overlap
        dx = (last[0] + last[2] / 2 - detection[0] - detection[2] / 2) * aspect
        dy = last[1] + last[3] / 2 - detection[1] - detection[3] / 2
        size = max(last[2] * aspect, last[3])
        return 0.01 if np.hypot(dx, dy) <= self.params.max_jump * size else 0.0

    def _detect(self, small: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        result = self.detector.process(np.ascontiguousarray(small))
        found = []
        for detection in result.detections or ():
            box = detection.location_data.relative_bounding_box
            x0, y0 = max(0.0, box.xmin), max(0.0, box.ymin)
            x1, y1 = min(1.0, box.xmin + box.width), min(1.0, box.ymin + box.height)
            if x1 > x0 and y1 > y0:
                found.append((x0, y0, x1 - x0, y1 - y0, float(detection.score[0])))
        return found

    def _extend(self, track: Track, frame: Frame, detection: tuple, frame_lab: np.ndarray) -> None:
        x, y, w, h = (float(v) for v in detection[:4])
        box, score = (x, y, w, h), float(detection[4])
        track.frames.append(frame.index)
        track.boxes.append(box)
        track.scores.append(score)
        track.last_t = frame.time_s
        self._palette_sample(
            track,
            frame.time_s,
            face_palette_colours(frame.small, box),
            colour_around(frame_lab, box),
        )
        image = face_image(frame, box)
        features = self._landmark_features(image, box) if self.mesh else {}
        track.features.append(features)
        if self.mesh and not features:
            return  # FaceMesh sees no face there (the back of a head): no identity sample
        if score < self.params.min_describe_score:
            return  # occluded or turned away: its descriptor would not be the person's
        if abs(features.get("nose_offset", 0.0)) > self.params.max_describe_turn:
            return  # near profile: same
        chip = self._chip(image, (self.clip.height, self.clip.width), box)
        if chip is None:
            return
        track.pending.append((frame.index, chip))
        if frame.time_s - track.last_described_t >= self.params.describe_every_s:
            self._describe_pending(track, frame.time_s)

    def _close_stale(self, now: float) -> None:
        still = []
        for track in self.open:
            if now - track.last_t > self.params.max_gap_s:
                self._close(track)
            else:
                still.append(track)
        self.open = still

    def _close(self, track: Track) -> None:
        """A last descriptor at the track's end, unless one was taken recently."""
        recent = track.last_t - track.last_described_t < self.params.describe_every_s / 2
        if track.pending and not recent:
            self._describe_pending(track, track.last_t)
        track.pending = []
        self.closed.append(track)

    # -- palette --------------------------------------------------------------------------------
    def _palette_sample(
        self, track: Track, t: float, face: np.ndarray, frame_colour: np.ndarray
    ) -> None:
        """Novelty of this sample's colours and the frame's colour shift. The samples of the
        track's first ``palette_anchor_s`` make its anchor; they are measured against it once a
        later sample completes it (a track that ends first is not measured)."""
        if track.palette is None:
            if not track.anchor_colours:
                track.anchor_start_t = t
            if t - track.anchor_start_t < self.params.palette_anchor_s or not track.anchor_colours:
                track.anchor_colours.append((face, frame_colour))
                return
            track.palette = palette(
                [c[0] for c in track.anchor_colours], self.params.palette_radius
            )
            track.frame_colour = np.mean([c[1] for c in track.anchor_colours], axis=0)
            pending, track.anchor_colours = track.anchor_colours, []
            for old_face, old_colour in pending:
                self._measure_palette(track, old_face, old_colour)
        self._measure_palette(track, face, frame_colour)

    def _measure_palette(self, track: Track, face: np.ndarray, frame_colour: np.ndarray) -> None:
        assert track.palette is not None  # measured only once the anchor samples are in
        track.novelty.append(novelty(face, track.palette))
        track.frame_shift.append(float(np.linalg.norm(frame_colour - track.frame_colour)))

    # -- identity -------------------------------------------------------------------------------
    def _chip(
        self, rgb: np.ndarray, full_size: tuple[int, int], box: tuple[float, float, float, float]
    ) -> np.ndarray | None:
        """The face aligned by dlib's 5-point model, 150 px, as the descriptor network wants
        (``min_face_px`` is judged at the clip's full resolution)."""
        import dlib

        x, y, w, h = box
        if min(w * full_size[1], h * full_size[0]) < self.params.min_face_px:
            return None
        height, width = rgb.shape[:2]
        rect = dlib.rectangle(
            int(x * width), int(y * height), int((x + w) * width), int((y + h) * height)
        )
        shape = self.models.shape(rgb, rect)
        return dlib.get_face_chip(rgb, shape, size=150, padding=0.25)

    def _describe_pending(self, track: Track, now: float) -> None:
        """Describe the newest kept chip; bisect back to the previous descriptor if identity
        moved by more than ``refine_distance`` in between."""
        frame, chip = track.pending[-1]
        previous = max(track.described) if track.described else None
        self._describe(track, frame, chip)
        track.last_described_t = now
        if previous is not None:
            between = [p for p in track.pending[:-1] if previous < p[0] < frame]
            self._bisect(track, previous, frame, between, self.params.refine_depth)
        track.pending = []

    def _describe(self, track: Track, frame: int, chip: np.ndarray) -> None:
        track.described[frame] = self.models.describe(chip)
        gray = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
        track.luma[frame] = float(cv2.mean(gray)[0])
        track.sharpness[frame] = float(cv2.Laplacian(gray, cv2.CV_64F).var())

    def _bisect(self, track: Track, lo: int, hi: int, between: list, depth: int) -> None:
        if depth <= 0 or not between:
            return
        if distance(track.described[lo], track.described[hi]) <= self.params.refine_distance:
            return
        middle = len(between) // 2
        frame, chip = between[middle]
        self._describe(track, frame, chip)
        self._bisect(track, lo, frame, between[:middle], depth - 1)
        self._bisect(track, frame, hi, between[middle + 1 :], depth - 1)

    def _landmark_features(self, rgb: np.ndarray, box: tuple) -> dict[str, float]:
        assert self.mesh is not None  # called only when FaceMesh runs
        crop = square_crop(rgb, box, 1.6, self.params.crop_size)
        result = self.mesh.process(crop)
        if not result.multi_face_landmarks:
            return {}
        points = (
            np.array([(p.x, p.y) for p in result.multi_face_landmarks[0].landmark], np.float32)
            * self.params.crop_size
        )
        return face_measures(points)

    # -- end ------------------------------------------------------------------------------------
    def finish(self) -> Measured:
        for track in self.open:
            self._close(track)
        self.open = []
        self.detector.close()
        if self.mesh:
            self.mesh.close()
        n = self.last_index + 1
        tracks = sorted(self.closed, key=lambda t: t.id)
        out = {key: np.full(n, np.nan) for key in self.signals}
        for index, count in self.counts.items():
            out[COUNT][index] = count
            out[SCORE][index] = self.frame_scores[index]
        main = max(tracks, key=lambda t: len(t.frames), default=None)
        if main is not None:
            anchor = anchor_of(main)
            for frame, descriptor in main.described.items():
                if anchor is not None:
                    out[IDENTITY][frame] = distance(descriptor, anchor[1])
            for frame, features in zip(main.frames, main.features, strict=True):
                for key, name in (
                    (MOUTH_OPEN, "mouth_open"),
                    (MOUTH_WIDTH, "mouth_width"),
                    (EYE_OPEN, "eye_open"),
                    (BROW_RAISE, "brow_raise"),
                ):
                    out[key][frame] = features.get(name, np.nan)
            if main.novelty:
                out[PALETTE_NOVELTY][main.frames] = main.novelty
        output = FacesOutput(
            stride=self.stride,
            palette_anchor_s=self.params.palette_anchor_s,
            sampled_frames=len(self.counts),
            main_track=main.id if main is not None else None,
            tracks=tuple(track_record(t, self.times) for t in tracks),
        )
        return Measured(out, output)


SMALL_FACE_PX = 112
"""A face at least this large in the shared small copy is described from it (dlib's chip is 150
px; its model was trained on faces of about 80-150 px); smaller ones from the full-resolution
frame, decoded to RGB only then."""


def face_image(frame: Frame, box: tuple[float, float, float, float]) -> np.ndarray:
    """The picture to crop the face from: the small copy or the full-resolution frame."""
    height, width = frame.small.shape[:2]
    large = min(box[2] * width, box[3] * height) >= SMALL_FACE_PX
    image = frame.small if large else frame.rgb
    return np.ascontiguousarray(image)


def track_record(track: Track, times: dict[int, float]) -> FaceTrack:
    """A track as the rules and the report see it."""
    anchor = anchor_of(track)
    described = sorted(track.described)
    return FaceTrack(
        id=track.id,
        start=track.frames[0],
        end=track.frames[-1],
        start_s=times.get(track.frames[0], 0.0),
        end_s=times.get(track.frames[-1], 0.0),
        frames=list(track.frames),
        boxes=[[round(v, 4) for v in box] for box in track.boxes],
        scores=[round(s, 3) for s in track.scores],
        features={
            key: [round(f[key], 4) if key in f else None for f in track.features]
            for key in EXPRESSION_KEYS + GEOMETRY_KEYS
        },
        anchor_frame=anchor[0] if anchor else None,
        descriptor_frames=described,
        descriptors=[np.round(track.described[f], 4).tolist() for f in described],
        descriptor_luma=[round(track.luma[f], 1) for f in described],
        descriptor_sharpness=[round(track.sharpness[f], 1) for f in described],
        palette_novelty=[round(v, 3) for v in track.novelty],
        frame_colour_shift=[round(v, 2) for v in track.frame_shift],
        anchor_distance=[round(distance(track.described[f], anchor[1]), 4) for f in described]
        if anchor
        else [],
    )


INNER_FACE = (0.2, 0.2, 0.8, 0.85)
"""x0, y0, x1, y1 of the face's inner part (cheeks, eyes, nose, mouth) as shares of the detector's
box: its edges hold hair and background, which a head turn or a bright backdrop bring in."""
PALETTE_PIXELS = 24
"""The inner face and the frame are measured at 24x24 and 64 px on the short side: the palette
is a colour statistic, so few pixels keep it cheap (about 0.3 ms per sample)."""


def face_palette_colours(small: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The colours of the face's inner box in the small copy (see :func:`colour_keys`)."""
    height, width = small.shape[:2]
    x, y, w, h = box
    x0 = min(width - 1, max(0, int((x + INNER_FACE[0] * w) * width)))
    y0 = min(height - 1, max(0, int((y + INNER_FACE[1] * h) * height)))
    x1 = max(x0 + 1, min(width, int((x + INNER_FACE[2] * w) * width)))
    y1 = max(y0 + 1, min(height, int((y + INNER_FACE[3] * h) * height)))
    inner = cv2.resize(
        small[y0:y1, x0:x1], (PALETTE_PIXELS, PALETTE_PIXELS), interpolation=cv2.INTER_AREA
    )
    return colour_keys(inner)


def small_lab(small: np.ndarray) -> np.ndarray:
    """The frame in 8-bit Lab at 64 px on the short side, for its mean colours."""
    height, width = small.shape[:2]
    scale = 64 / min(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.cvtColor(cv2.resize(small, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2LAB)


def colour_around(lab: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Mean a*, b* of the frame outside the face box (grown by half its size each way, so the
    face's own colour, hair and neck do not count): what a light change or a grade moves too."""
    height, width = lab.shape[:2]
    x, y, w, h = box
    mask = np.full((height, width), 255, np.uint8)
    x0, y0 = max(0, int((x - w / 2) * width)), max(0, int((y - h / 2) * height))
    x1, y1 = int(np.ceil((x + 1.5 * w) * width)), int(np.ceil((y + 1.5 * h) * height))
    mask[y0:y1, x0:x1] = 0
    if not mask.any():
        mask[:] = 255  # the face fills the frame: the frame is all there is to compare
    return np.asarray(cv2.mean(lab, mask=mask)[1:3], np.float32)


def colour_keys(rgb: np.ndarray) -> np.ndarray:
    """Each pixel's Lab a*, b* as an index into a 256x256 table (8-bit Lab: a* + 128, b* + 128;
    lightness is left out, so shading and brightness do not make a colour new)."""
    lab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)
    return lab[..., 1].astype(np.int32).ravel() * 256 + lab[..., 2].ravel()


def palette(samples: list[np.ndarray], radius: int) -> np.ndarray:
    """The a*, b* table of the colours within ``radius`` of any colour in ``samples``."""
    table = np.zeros(256 * 256, np.uint8)
    for keys in samples:
        table[keys] = 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(table.reshape(256, 256), kernel).ravel().astype(bool)


def novelty(keys: np.ndarray, known: np.ndarray) -> float:
    """Share of the pixels whose colour is not in the ``known`` palette."""
    return float(1.0 - np.count_nonzero(known[keys]) / max(1, keys.size))


def anchor_of(track: Track) -> tuple[int, np.ndarray] | None:
    """The track's identity anchor: its first descriptor (taken on its first usable frame)."""
    if not track.described:
        return None
    first = min(track.described)
    return first, track.described[first]


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between dlib descriptors; < 0.6 means the same person (dlib)."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def iou(a: tuple, b: tuple) -> float:
    ax, ay, aw, ah = a[:4]
    bx, by, bw, bh = b[:4]
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def square_crop(rgb: np.ndarray, box: tuple, scale: float, size: int) -> np.ndarray:
    """A square crop ``scale`` times the box's long side around its centre, padded at the frame
    edge, resized to ``size``."""
    height, width = rgb.shape[:2]
    x, y, w, h = box
    cx, cy = (x + w / 2) * width, (y + h / 2) * height
    side = max(w * width, h * height) * scale
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    x1, y1 = round(cx + side / 2), round(cy + side / 2)
    crop = rgb[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    crop = cv2.copyMakeBorder(
        crop,
        max(0, -y0),
        max(0, y1 - height),
        max(0, -x0),
        max(0, x1 - width),
        cv2.BORDER_CONSTANT,
        value=(0, 0, 0),
    )
    return np.ascontiguousarray(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))


def face_measures(points: np.ndarray) -> dict[str, float]:
    """Expression and proportion measures from FaceMesh points (pixels), in units of the
    distance between the outer eye corners."""

    def d(a: int, b: int) -> float:
        return float(np.linalg.norm(points[a] - points[b]))

    eyes = d(*OUTER_EYE)
    if eyes < 1e-3:
        return {}
    eye_centre = (points[OUTER_EYE[0]] + points[OUTER_EYE[1]]) / 2
    mouth_centre = (points[MOUTH_CORNERS[0]] + points[MOUTH_CORNERS[1]]) / 2
    left, right = d(OUTER_EYE[0], INNER_EYE[0]), d(OUTER_EYE[1], INNER_EYE[1])
    axis = (points[OUTER_EYE[1]] - points[OUTER_EYE[0]]) / eyes
    return {
        "mouth_open": d(*INNER_LIPS) / eyes,
        "mouth_width": d(*MOUTH_CORNERS) / eyes,
        "eye_open": (d(UPPER_LID[0], LOWER_LID[0]) + d(UPPER_LID[1], LOWER_LID[1])) / 2 / eyes,
        "brow_raise": (d(BROW_MID[0], UPPER_LID[0]) + d(BROW_MID[1], UPPER_LID[1])) / 2 / eyes,
        "face_height": d(FOREHEAD, CHIN) / eyes,
        "eye_width_ratio": min(left, right) / max(left, right, 1e-6),
        "mouth_to_eyes": float(np.linalg.norm(mouth_centre - eye_centre)) / eyes,
        "nose_offset": float(np.dot(points[NOSE_TIP] - eye_centre, axis)) / eyes,
    }


@dataclass(frozen=True)
class DlibModels:
    shape: Any
    network: Any

    def describe(self, chip: np.ndarray) -> np.ndarray:
        return np.asarray(self.network.compute_face_descriptor(chip), np.float32)


@lru_cache(maxsize=1)
def dlib_models() -> DlibModels:
    """dlib's 5-point shape predictor and face descriptor network, from the files that
    face-recognition-models ships (found without importing it: its __init__ needs
    pkg_resources, which recent setuptools no longer provides)."""
    import dlib

    folder = models_folder()
    try:
        return DlibModels(
            dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat")),
            dlib.face_recognition_model_v1(
                str(folder / "dlib_face_recognition_resnet_model_v1.dat")
            ),
        )
    except RuntimeError as exc:
        raise ConfigError(f"cannot load dlib face models ({exc})", folder) from exc


def models_folder() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the face-recognition-models package is not installed "
            "(pip install face-recognition-models==0.3.0)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def describe_image(rgb: np.ndarray, min_face_px: int = 48) -> tuple[np.ndarray, tuple] | None:
    """Descriptor and box of the most confident face in a still image (e.g. an i2v source),
    or None when there is no usable face."""
    import dlib
    import mediapipe as mp

    with mp.solutions.face_detection.FaceDetection(model_selection=1) as detector:
        result = detector.process(np.ascontiguousarray(rgb))
    if not result.detections:
        return None
    best = max(result.detections, key=lambda d: d.score[0])
    box = best.location_data.relative_bounding_box
    height, width = rgb.shape[:2]
    x0, y0 = max(0.0, box.xmin), max(0.0, box.ymin)
    w, h = min(1.0, box.xmin + box.width) - x0, min(1.0, box.ymin + box.height) - y0
    if min(w * width, h * height) < min_face_px:
        return None
    models = dlib_models()
    rect = dlib.rectangle(
        int(x0 * width), int(y0 * height), int((x0 + w) * width), int((y0 + h) * height)
    )
    chip = dlib.get_face_chip(rgb, models.shape(rgb, rect), size=150, padding=0.25)
    return models.describe(chip), (x0, y0, w, h)


ANALYZER = FacesAnalyzer
