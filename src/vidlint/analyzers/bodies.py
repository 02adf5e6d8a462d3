"""Bodies: MediaPipe Pose on sampled frames, person tracks, the person mask, and where the
picture itself carries each joint between samples.

MediaPipe's pose model draws a whole skeleton wherever it believes a body is, even over a limb
that is not in the picture, and its 2-D limb lengths jump by 26-135% between clean samples of
generated clips (docs/bodies.md). So beside the landmarks this analyzer records two lines of
evidence that do not come from the landmark model: each joint of one sample followed through
every frame to the next sample by pyramidal Lucas-Kanade on the picture (``carried``: where the
picture says the joint went), and how much of each limb's line lies inside the person mask of
MediaPipe's separate selfie-segmentation model (``limb_mask``). The BOD rules judge them
together.

Pose runs at ``sample_fps`` (denser on short clips, up to ``min_samples`` per clip), the person
mask only on samples where the pose model found someone. One pose call follows one person; where
the mask shows other people, each is looked at again in a crop of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, Measured
from vidlint.decode import ClipInfo, Frame
from vidlint.settings import param

COUNT = "bodies.count"
MASK_AREA = "bodies.mask_area"
MASK_PARTS = "bodies.mask_parts"

L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
L_HEEL, R_HEEL, L_TOE, R_TOE, NOSE, L_EAR, R_EAR = 29, 30, 31, 32, 0, 7, 8
SEGMENTS: dict[str, tuple[int, int]] = {
    "left upper arm": (L_SHOULDER, L_ELBOW),
    "left forearm": (L_ELBOW, L_WRIST),
    "right upper arm": (R_SHOULDER, R_ELBOW),
    "right forearm": (R_ELBOW, R_WRIST),
    "left thigh": (L_HIP, L_KNEE),
    "left shin": (L_KNEE, L_ANKLE),
    "right thigh": (R_HIP, R_KNEE),
    "right shin": (R_KNEE, R_ANKLE),
}
"""The limb segments the rules measure, by MediaPipe Pose landmark index (proximal, distal)."""
MASK_LINES: dict[str, tuple[int, int]] = {
    **SEGMENTS,
    "left flank": (L_SHOULDER, L_HIP),
    "right flank": (R_SHOULDER, R_HIP),
}
"""The lines whose share inside the person mask is measured: the limbs, and the flanks, which
say whether the mask found the person at all."""
CARRIED_JOINTS = (
    L_SHOULDER,
    R_SHOULDER,
    L_ELBOW,
    R_ELBOW,
    L_WRIST,
    R_WRIST,
    L_HIP,
    R_HIP,
    L_KNEE,
    R_KNEE,
    L_ANKLE,
    R_ANKLE,
)


@dataclass(frozen=True)
class BodiesParams:
    sample_fps: float = param(
        3.0,
        "pose costs about 20 ms a call on two cores (docs/bodies.md); 3 samples a second keep "
        "a 5 s clip at 15 calls, about 0.3 s, inside the 15% the family may add per clip "
        "(4 a second cost 14% in a batch, measured)",
        bounds=(0.1, 240.0),
    )
    min_samples: int = param(
        12,
        "a short clip is sampled more densely, up to every frame, so that it still has 12 "
        "samples: a 16-frame generated GIF is looked at on every frame",
        bounds=(1, 10000),
    )
    min_detection_confidence: float = param(0.5, "MediaPipe's default", bounds=(0.0, 1.0))
    min_tracking_confidence: float = param(0.5, "MediaPipe's default", bounds=(0.0, 1.0))
    max_people: int = param(
        3,
        "besides the person the pose model follows, up to 2 more people (person-mask parts "
        "of their own) get a pose call in their own crop; each costs one more call",
        bounds=(1, 10),
    )
    min_person_area: float = param(
        0.02,
        "a person-mask part must cover 2% of the picture to be looked at as a person: "
        "smaller parts are hands, stray pixels or people too small for the pose model",
        bounds=(0.0, 1.0),
    )
    limb_slack: float = param(
        0.12,
        "a point of a limb's line counts as inside the person mask within 12% of the "
        "limb's length of it: landmarks sit off the limb by that much, and a shin's line fell "
        "in the gap between two legs that nearly touch (a generated dancer, measured)",
        bounds=(0.0, 1.0),
    )
    lost_px: float = param(
        1.5,
        "a joint carried by Lucas-Kanade is lost when following it back to the frame before "
        "misses its start by more than 1.5 px (the forward-backward check of Kalal et al. "
        "2010)",
        bounds=(0.0, 100.0),
    )


@dataclass(frozen=True)
class BodyTrack:
    """One person followed over the sampled frames; the lists are parallel, one item per sample.
    ``landmarks`` are MediaPipe's 33 image landmarks as normalized (x, y, visibility)
    (its 3-D world landmarks are left out: they keep a limb's length while the picture
    stretches it, docs/bodies.md), ``carried`` the previous sample's joints
    (``CARRIED_JOINTS``) followed through the picture to this sample (normalized x, y; None
    where lost, and on the track's first sample), ``limb_mask`` the share of each of
    ``MASK_LINES`` inside the person mask (None where an end is off the picture)."""

    id: int
    frames: list[int]
    boxes: list[list[float]]
    landmarks: list[list[list[float]]]
    carried: list[list[list[float] | None] | None]
    limb_mask: list[dict[str, float | None]]
    cropped: list[bool]
    """The person was found in a crop of their own person-mask part."""


@dataclass(frozen=True)
class BodiesOutput:
    """The bodies analyzer's per-clip result."""

    stride: int
    """Frames between samples."""
    size: tuple[int, int]
    """Width and height (pixels) of the picture the landmarks were found in."""
    tracks: tuple[BodyTrack, ...] = ()
    parts: dict[int, list[list[float]]] = field(default_factory=dict)
    """Per sampled frame with someone in it, the boxes (normalized x, y, w, h) of the person
    mask's parts of at least ``min_person_area``."""


class BodiesAnalyzer(Analyzer):
    name = "bodies"
    signals = (COUNT, MASK_AREA, MASK_PARTS)
    Params = BodiesParams
    output = BodiesOutput
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "fast": {"sample_fps": 1.5, "min_samples": 8, "max_people": 1},
        "thorough": {"sample_fps": 1000.0},
    }

    def __init__(self, params: BodiesParams, clip: ClipInfo, context: Any) -> None:
        super().__init__(params, clip, context)
        import mediapipe as mp

        self.video = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=1,
            min_detection_confidence=params.min_detection_confidence,
            min_tracking_confidence=params.min_tracking_confidence,
        )
        self.still: Any = None
        """A static-mode pose model for people in crops of their own, made when first needed."""
        self.masker = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)
        self.stride = sampling_stride(clip, params)
        self.size = (0, 0)
        self.tracks: list[Track] = []
        self.counts: dict[int, int] = {}
        self.areas: dict[int, float] = {}
        self.part_boxes: dict[int, list[list[float]]] = {}
        self.carry: Carry | None = None
        self.n = 0

    def update(self, frame: Frame) -> None:
        self.n = frame.index + 1
        if self.carry is not None:
            self.carry.step(frame.gray)
        if frame.index % self.stride and frame.index != self.clip.frame_count - 1:
            return
        rgb = frame.small
        self.size = (rgb.shape[1], rgb.shape[0])
        bodies = self._find(rgb, frame.index)
        self.counts[frame.index] = len(bodies)
        carried = self.carry.points() if self.carry is not None else {}
        self._advance(frame.index, bodies, carried)
        self.carry = Carry(frame.gray, self._joints(), self.params.lost_px) if bodies else None

    def _find(self, rgb: np.ndarray, index: int) -> list[Body]:
        """The people on one sampled frame: the one the pose model follows, then one per
        person-mask part it does not cover, each with its limbs' share inside the mask."""
        found = pose(self.video, rgb)
        bodies = [found] if found is not None else []
        if not bodies:
            return bodies
        mask = self.masker.process(rgb).segmentation_mask > 0.5
        self.areas[index] = float(mask.mean())
        parts = mask_parts(mask, self.params.min_person_area)
        self.part_boxes[index] = [normalized(box, rgb) for box in parts]
        for box in parts:
            if len(bodies) >= self.params.max_people:
                break
            if any(inside(b.centre, box) for b in bodies):
                continue
            other = self._in_crop(rgb, box)
            if other is not None and not any(other.same_person(b) for b in bodies):
                bodies.append(other)
        away = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
        for body in bodies:
            body.limb_mask = limb_mask(away, body.points, self.params.limb_slack)
        return bodies

    def _in_crop(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> Body | None:
        if self.still is None:
            import mediapipe as mp

            self.still = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
        height, width = rgb.shape[:2]
        x, y, w, h = box
        pad = int(0.2 * max(w, h))
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
        found = pose(self.still, np.ascontiguousarray(rgb[y0:y1, x0:x1]))
        if found is None:
            return None
        found.points[:, :2] += (x0, y0)
        found.cropped = True
        return found

    def _advance(self, index: int, bodies: list[Body], carried: dict[int, np.ndarray]) -> None:
        """Continue each track with the nearest body (within one torso length), start new
        tracks for the rest; a track not continued on this sample ends."""
        active = [t for t in self.tracks if t.frames[-1] == self._previous_sample(index)]
        unmatched = list(bodies)
        for track in active:
            best = min(unmatched, key=track.last.distance, default=None)
            if best is not None and track.last.distance(best) <= 1.0:
                unmatched.remove(best)
                track.add(index, best, carried.get(track.number))
        for body in unmatched:
            track = Track(len(self.tracks))
            track.add(index, body, None)
            self.tracks.append(track)

    def _previous_sample(self, index: int) -> int:
        earlier = [i for i in self.counts if i < index]
        return max(earlier, default=-1)

    def _joints(self) -> dict[int, np.ndarray]:
        """Per track seen on the newest sample, its joints' pixel positions (``CARRIED_JOINTS``),
        to carry to the next sample."""
        newest = max(self.counts)
        return {
            t.number: t.last.points[CARRIED_JOINTS, :2]
            for t in self.tracks
            if t.frames[-1] == newest
        }

    def finish(self) -> Measured:
        self.video.close()
        self.masker.close()
        if self.still is not None:
            self.still.close()
        n = self.n
        count, area, parts = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        for index, value in self.counts.items():
            count[index] = value
            area[index] = self.areas.get(index, 0.0)
            parts[index] = len(self.part_boxes.get(index, []))
        size = self.size
        tracks = tuple(t.record(size) for t in self.tracks)
        output = BodiesOutput(self.stride, size, tracks, dict(self.part_boxes))
        return Measured({COUNT: count, MASK_AREA: area, MASK_PARTS: parts}, output)


def sampling_stride(clip: ClipInfo, params: BodiesParams) -> int:
    """Frames between pose samples: ``sample_fps``, or denser so the clip has ``min_samples``."""
    by_rate = max(1, round((clip.fps or 24.0) / params.sample_fps))
    if clip.frame_count <= 0:
        return by_rate
    return max(1, min(by_rate, clip.frame_count // params.min_samples))


# -- one person ---------------------------------------------------------------------------------
@dataclass(eq=False)
class Body:
    """One pose: image landmarks (pixels x, y and visibility)."""

    points: np.ndarray
    limb_mask: dict[str, float | None] = field(default_factory=dict)
    cropped: bool = False

    @property
    def centre(self) -> np.ndarray:
        """Middle of the shoulders and hips (the torso)."""
        return self.points[[L_SHOULDER, R_SHOULDER, L_HIP, R_HIP], :2].mean(axis=0)

    @property
    def torso(self) -> float:
        """Pixels from the shoulders' middle to the hips' middle (at least 1)."""
        top = self.points[[L_SHOULDER, R_SHOULDER], :2].mean(axis=0)
        bottom = self.points[[L_HIP, R_HIP], :2].mean(axis=0)
        return max(1.0, float(np.linalg.norm(top - bottom)))

    def distance(self, other: Body) -> float:
        """Torso centres apart, in torso lengths."""
        return float(np.linalg.norm(self.centre - other.centre)) / self.torso

    def same_person(self, other: Body) -> bool:
        return self.distance(other) < 0.5

    def box(self, size: tuple[int, int]) -> list[float]:
        seen = self.points[self.points[:, 2] >= 0.5, :2]
        seen = seen if len(seen) else self.points[:, :2]
        lo, hi = seen.min(axis=0), seen.max(axis=0)
        w, h = size
        return [
            round(float(lo[0] / w), 4),
            round(float(lo[1] / h), 4),
            round(float((hi[0] - lo[0]) / w), 4),
            round(float((hi[1] - lo[1]) / h), 4),
        ]


def pose(model: Any, rgb: np.ndarray) -> Body | None:
    """One person's pose on ``rgb``, or None."""
    result = model.process(rgb)
    if result.pose_landmarks is None:
        return None
    height, width = rgb.shape[:2]
    points = np.array(
        [[p.x * width, p.y * height, p.visibility] for p in result.pose_landmarks.landmark],
        np.float64,
    )
    return Body(points)


def mask_parts(mask: np.ndarray, min_area: float) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h pixels) of the mask's connected parts of at least ``min_area``, the
    largest first."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    floor = min_area * mask.size
    boxes = [
        (int(s[0]), int(s[1]), int(s[2]), int(s[3]), int(s[4]))
        for s in stats[1:count]
        if s[cv2.CC_STAT_AREA] >= floor
    ]
    return [b[:4] for b in sorted(boxes, key=lambda b: -b[4])]


def inside(point: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    return bool(x <= point[0] <= x + w and y <= point[1] <= y + h)


def normalized(box: tuple[int, int, int, int], rgb: np.ndarray) -> list[float]:
    height, width = rgb.shape[:2]
    x, y, w, h = box
    return [round(x / width, 4), round(y / height, 4), round(w / width, 4), round(h / height, 4)]


LINE_POINTS = 12
"""Points sampled along a limb's line to measure how much of it lies inside the person mask."""


def limb_mask(away: np.ndarray, points: np.ndarray, slack: float) -> dict[str, float | None]:
    """Per line of ``MASK_LINES``, the share of points along it (ends excluded) within
    ``slack`` of its length from the person mask (``away``: each pixel's distance to the
    mask); None where an end is off the picture."""
    height, width = away.shape
    shares: dict[str, float | None] = {}
    t = np.linspace(0.0, 1.0, LINE_POINTS + 2)[1:-1, None]
    for name, (a, b) in MASK_LINES.items():
        line = points[a, :2] + t * (points[b, :2] - points[a, :2])
        xs, ys = np.round(line[:, 0]).astype(int), np.round(line[:, 1]).astype(int)
        if xs.min() < 0 or ys.min() < 0 or xs.max() >= width or ys.max() >= height:
            shares[name] = None
            continue
        reach = max(2.0, slack * float(np.linalg.norm(points[a, :2] - points[b, :2])))
        shares[name] = round(float((away[ys, xs] <= reach).mean()), 3)
    return shares


# -- joints carried by the picture --------------------------------------------------------------
class Carry:
    """Joints of every person of one sample, followed frame by frame through the picture
    (pyramidal Lucas-Kanade, forward-backward checked) up to the next sample."""

    def __init__(self, gray: np.ndarray, joints: dict[int, np.ndarray], lost_px: float) -> None:
        self.gray = gray
        self.owners = [track for track, points in joints.items() for _ in points]
        self.now = np.concatenate(list(joints.values())).astype(np.float32).reshape(-1, 1, 2)
        self.alive = np.ones(len(self.owners), bool)
        self.lost_px = lost_px

    def step(self, gray: np.ndarray) -> None:
        if not self.alive.any() or gray.shape != self.gray.shape:
            self.alive[:] = False
            return
        ahead, ok, _ = cv2.calcOpticalFlowPyrLK(self.gray, gray, self.now, None, **LK)
        back, ok_back, _ = cv2.calcOpticalFlowPyrLK(gray, self.gray, ahead, None, **LK)
        error = np.linalg.norm((back - self.now).reshape(-1, 2), axis=1)
        self.alive &= ok.ravel().astype(bool) & ok_back.ravel().astype(bool)
        self.alive &= error <= self.lost_px
        self.now, self.gray = ahead, gray

    def points(self) -> dict[int, np.ndarray]:
        """Per track, where the picture carried its joints (NaN where lost)."""
        now = self.now.reshape(-1, 2).astype(np.float64)
        now[~self.alive] = np.nan
        owners = np.asarray(self.owners)
        return {owner: now[owners == owner] for owner in set(self.owners)}


LK = {
    "winSize": (21, 21),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
}


# -- tracks -------------------------------------------------------------------------------------
class Track:
    """One person's samples as they come in."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.frames: list[int] = []
        self.bodies: list[Body] = []
        self.carried: list[np.ndarray | None] = []

    @property
    def last(self) -> Body:
        return self.bodies[-1]

    def add(self, index: int, body: Body, carried: np.ndarray | None) -> None:
        self.frames.append(index)
        self.bodies.append(body)
        self.carried.append(carried)

    def record(self, size: tuple[int, int]) -> BodyTrack:
        w, h = size
        scale = np.array([w, h, 1.0]) if w and h else np.ones(3)

        def carried_of(points: np.ndarray | None) -> list[list[float] | None] | None:
            if points is None:
                return None
            return [
                None if math.isnan(p[0]) else [round(p[0] / w, 4), round(p[1] / h, 4)]
                for p in points
            ]

        return BodyTrack(
            id=self.number,
            frames=self.frames,
            boxes=[b.box(size) for b in self.bodies],
            landmarks=[np.round(b.points / scale, 4).tolist() for b in self.bodies],
            carried=[carried_of(c) for c in self.carried],
            limb_mask=[b.limb_mask for b in self.bodies],
            cropped=[b.cropped for b in self.bodies],
        )


ANALYZER = BodiesAnalyzer
