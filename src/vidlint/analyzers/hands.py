"""Hands: MediaPipe Hands in video mode on sampled frames, hand tracks, and finger-count evidence
from the hand crop that does not come from the landmarks.

MediaPipe's landmark model always returns a 21-point, five-finger skeleton, even on a six-finger
hand. So each hand crop is also segmented on its own: a colour model of the hand (sampled along
the landmark skeleton) against one of the background (the crop's border), and the fingers are
counted where a circle around the palm crosses the hand mask (see docs/hands.md). That count, the
bone-length ratios of the 3-D landmarks, the handedness scores and the pose jitter are recorded
per frame and per track; the HND rules judge them.

Frames are sampled at ``sample_fps`` (every 3rd frame at 24 fps). When a track starts or ends,
a second, more sensitive detector (static mode) looks again at the frames around it: at the
skipped frames, to date the event to the exact frame, and at the frames on the other side, so a
detector miss is not mistaken for a hand that pops in or vanishes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import cv2
import numpy as np

from vidlint.analyzers.base import Analyzer, Measured
from vidlint.decode import ClipInfo, Frame
from vidlint.settings import param

COUNT = "hands.count"
SCORE = "hands.handedness_score"
FINGERS = "hands.fingers_seen"
FINGERS_MAX = "hands.fingers_seen_max"
BONE_ERROR = "hands.bone_error"
JITTER = "hands.jitter"

WRIST, THUMB_TIP, INDEX_MCP, MIDDLE_MCP, RING_MCP, PINKY_MCP = 0, 4, 5, 9, 13, 17
FINGER_CHAINS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
"""Landmark indices of each finger from its base to its tip: thumb, index, middle, ring, pinky."""
REFERENCE_FINGER_RATIOS = np.array([1.35, 0.85, 0.97, 0.90, 0.74])
"""Each finger's length (thumb from the wrist) over the wrist to middle-knuckle distance, on
MediaPipe's 3-D world landmarks: medians measured on the open five-finger hand of a
generated waving boy (docs/hands.md). They agree with hand anthropometry: the middle
finger about as long as the palm, the little finger about three quarters of it."""


@dataclass(frozen=True)
class HandsParams:
    sample_fps: float = param(
        6.0,
        "hands are tracked on about 6 frames per second (every 4th frame at 24 fps, every "
        "frame of an 8 fps GIF): MediaPipe Hands costs 8-10 ms per 720p frame with hands "
        "(research/stage-speeds.md; 10.5 ms measured here), so the 30 samples of a 5 s clip "
        "stay near the 0.4 s budget; skipped frames are looked at again only around a hand "
        "that appears or vanishes",
        bounds=(0.1, 240.0),
    )
    max_num_hands: int = param(
        2, "two hands per person in the usual one-person shot", bounds=(1, 8)
    )
    model_complexity: int = param(
        0,
        "the light landmark model: 8.3 ms against 12.6 ms per 720p frame "
        "(research/stage-speeds.md), and it finds the small hands of the 256 px "
        "DynamiCrafter clips where the full one (1) finds none",
        choices=(0, 1),
    )
    min_detection_confidence: float = param(
        0.3,
        "MediaPipe's default 0.5 misses a partly visible hand at the frame edge of a "
        "256 px generated talking clip on every frame; 0.3 finds it (measured)",
        bounds=(0.0, 1.0),
    )
    min_tracking_confidence: float = param(0.5, "MediaPipe's default", bounds=(0.0, 1.0))
    recheck_confidence: float = param(
        0.1,
        "the static detector that re-examines frames around an appearing or vanishing hand "
        "is told to report even weak palms: a miss there would turn a detector flicker "
        "into a finding",
        bounds=(0.0, 1.0),
    )
    match_distance: float = param(
        1.5,
        "a hand on the next sampled frame continues a track when its centre moved less "
        "than 1.5 hand sizes",
        bounds=(0.0, 10.0),
    )
    min_hand_px: int = param(
        48,
        "hands whose landmark box is under 48 px on its long side are marked small and left "
        "out by the rules: MediaPipe's landmarks on them come and go and wobble from frame "
        "to frame (the 22-47 px swinging fists of a generated jogger, "
        "measured)",
        bounds=(8, 4096),
    )
    crop_palm_px: int = param(
        40,
        "hand crops are scaled so the wrist to middle-knuckle distance is 40 px: fingers "
        "are then 6-10 px wide, enough to count, and the crop costs well under 1 ms",
        bounds=(8, 1024),
    )


@dataclass(frozen=True)
class HandTrack:
    """One hand followed over the sampled frames. The lists are parallel, one item per sample:
    box (normalized x, y, w, h), MediaPipe handedness and score, fingers seen in the crop,
    fingers the landmarks call open, chirality, bone-ratio error, finger length ratios, pose
    jitter, how well the hand's picture matches the previous sample's, whether the sample was
    re-checked, whether the hand was under ``min_hand_px``, and the 21 landmarks."""

    id: int
    start: int
    end: int | None
    """First frame without the hand after the track (None: it lasts to the clip's end)."""
    before_start_seen: bool
    """The sensitive detector saw the hand on the sampled frame before the track starts."""
    start_match: float | None
    """How well the first hand's picture matches the frame before the track starts."""
    end_match: float | None
    """How well the last hand's picture matches the first frame without it."""
    start_box: list[float] | None
    last_box: list[float] | None
    last_frame: int | None
    """The hand's last frame before ``end`` (its box there is ``last_box``)."""
    start_scene: float | None
    """How well the whole picture matches across the track's start (and end)."""
    end_scene: float | None
    frames: list[int]
    boxes: list[list[float]]
    handedness: list[str]
    scores: list[float]
    fingers_seen: list[int | None]
    open_fingers: list[int]
    chirality: list[float]
    bone_error: list[float | None]
    finger_ratios: list[list[float | None]]
    jitter: list[float | None]
    picture_match: list[float | None]
    """How well the previous sample's picture of the hand is found again on this sample
    (normalized cross-correlation; None on the first sample or a flat picture)."""
    rechecked: list[bool]
    small: list[bool]
    landmarks: list[list[list[float]]]


@dataclass(frozen=True)
class HandsOutput:
    """The hands analyzer's per-clip result."""

    stride: int
    """Frames between samples."""
    tracks: tuple[HandTrack, ...] = ()


class HandsAnalyzer(Analyzer):
    name = "hands"
    signals = (COUNT, SCORE, FINGERS, FINGERS_MAX, BONE_ERROR, JITTER)
    Params = HandsParams
    profiles: ClassVar[dict[str, dict[str, Any]]] = {
        "fast": {"sample_fps": 3.0},
        "thorough": {"sample_fps": 1000.0},
    }
    """``thorough`` looks at every frame but keeps the light landmark model: the full one finds
    no hand at all in the 256 px DynamiCrafter clips and puts a waving hand's landmarks outside
    the picture (measured)."""

    output = HandsOutput

    def __init__(self, params: HandsParams, clip: ClipInfo, context: Any) -> None:
        super().__init__(params, clip, context)
        import mediapipe as mp

        solution = mp.solutions.hands
        self.video = solution.Hands(
            static_image_mode=False,
            max_num_hands=params.max_num_hands,
            model_complexity=params.model_complexity,
            min_detection_confidence=params.min_detection_confidence,
            min_tracking_confidence=params.min_tracking_confidence,
        )
        self.still = solution.Hands(
            static_image_mode=True,
            max_num_hands=params.max_num_hands,
            model_complexity=0,
            min_detection_confidence=params.recheck_confidence,
        )
        self.stride = max(1, round((clip.fps or 24.0) / params.sample_fps))
        self.tracks: list[Track] = []
        self.active: list[Track] = []
        self.counts: dict[int, int] = {}
        self.skipped: list[Frame] = []
        """Frames since the last sampled one, kept to date appear/vanish events exactly."""
        self.last_sampled: Frame | None = None
        self.n = 0

    # -- streaming ------------------------------------------------------------------------------
    def update(self, frame: Frame) -> None:
        self.n = frame.index + 1
        if frame.index % self.stride and frame.index != self.clip.frame_count - 1:
            self.skipped.append(frame)
            return
        hands = detect(self.video, frame.rgb)
        self.counts[frame.index] = len(hands)
        self._advance(frame, hands)
        self.last_sampled = frame
        self.skipped = []

    def _advance(self, frame: Frame, hands: list[Hand]) -> None:
        unmatched = list(hands)
        still_active = []
        for track in self.active:
            best = min(unmatched, key=track.distance, default=None)
            if best is not None and track.distance(best) <= self.params.match_distance:
                unmatched.remove(best)
                if best.extent < SHRUNK * track.typical_size():
                    # Video-mode tracking lags behind a fast hand and crops it: fit it afresh.
                    again = self._recheck(frame, best)
                    if again is not None and again.extent > best.extent:
                        track.add(frame, again, rechecked=True)
                        still_active.append(track)
                        continue
                track.add(frame, best)
                still_active.append(track)
                continue
            again = self._recheck(frame, track.last)
            if again is not None:  # a detector miss: the sensitive detector still sees it
                track.add(frame, again, rechecked=True)
                still_active.append(track)
                continue
            self._end(track, frame)
        for hand in unmatched:
            still_active.append(self._start(frame, hand))
        self.active = still_active

    def _start(self, frame: Frame, hand: Hand) -> Track:
        """A new track: was the hand there before (a detector miss) and since which frame?"""
        track = Track(len(self.tracks), self.params.min_hand_px)
        self.tracks.append(track)
        track.add(frame, hand)
        track.start = frame.index
        if self.last_sampled is None:
            return track
        if self._recheck(self.last_sampled, hand) is not None:
            track.before_start_seen = True
            return track
        first, first_hand = frame, hand
        before: Frame = self.last_sampled
        for position in range(len(self.skipped) - 1, -1, -1):
            found = self._recheck(self.skipped[position], first_hand)
            if found is None:
                before = self.skipped[position]
                break
            first, first_hand = self.skipped[position], found
        track.start = first.index
        track.start_box = first_hand.box()
        track.start_match = content_match(first, first_hand, before)
        track.start_scene = scene_match(first, before)
        return track

    def _end(self, track: Track, frame: Frame) -> None:
        """A track lost at ``frame``: date the first frame without the hand, and measure
        whether its picture is still there."""
        with_hand, last, gone = self.last_sampled, track.last, frame
        for skipped in self.skipped:
            found = self._recheck(skipped, last)
            if found is None:
                gone = skipped
                break
            with_hand, last = skipped, found
        track.end = gone.index
        track.last_box = last.box()
        track.last_frame = with_hand.index if with_hand is not None else gone.index - 1
        if with_hand is not None:
            track.end_match = content_match(with_hand, last, gone)
            track.end_scene = scene_match(with_hand, gone)

    def _recheck(self, frame: Frame, near: Hand) -> Hand | None:
        """A hand within one hand size of ``near`` found by the sensitive static detector."""
        found = [h for h in detect(self.still, frame.rgb) if near.distance(h) <= 1.0]
        if not found:  # look closer: a square crop around the hand, as the palm detector likes
            found = [
                h for h in detect_in_crop(self.still, frame.rgb, near) if near.distance(h) <= 1.0
            ]
        return min(found, key=near.distance, default=None)

    def finish(self) -> Measured:
        n = self.n
        self.video.close()
        self.still.close()
        count = np.full(n, np.nan)
        for index, value in self.counts.items():
            count[index] = value
        score = np.full(n, np.nan)
        fingers = np.full(n, np.nan)
        fingers_max = np.full(n, np.nan)
        bone = np.full(n, np.nan)
        jitter = np.full(n, np.nan)
        for track in self.tracks:
            track.finalize(n)
            for i, index in enumerate(track.frames):
                score[index] = np.fmin(score[index], track.scores[i])
                if not math.isnan(track.fingers[i]):
                    fingers[index] = np.fmin(fingers[index], track.fingers[i])
                    fingers_max[index] = np.fmax(fingers_max[index], track.fingers[i])
                bone[index] = np.fmax(bone[index], track.bone_error[i])
                jitter[index] = np.fmax(jitter[index], track.jitter[i])
        signals = {
            COUNT: count,
            SCORE: score,
            FINGERS: fingers,
            FINGERS_MAX: fingers_max,
            BONE_ERROR: bone,
            JITTER: jitter,
        }
        return Measured(signals, HandsOutput(self.stride, tuple(t.record() for t in self.tracks)))


SHRUNK = 0.8
"""A hand fit whose extent is under 80% of the track's recent extent is fitted again by the
static detector (a fast synthetic hand's tracked fit shrank to half its width, measured)."""


# -- one detection ------------------------------------------------------------------------------
@dataclass(eq=False)
class Hand:
    """One detected hand: image landmarks (pixels), world landmarks (metres), handedness."""

    points: np.ndarray
    world: np.ndarray
    label: str
    score: float
    width: int
    height: int
    fingers: float = math.nan
    """Fingers counted in the crop (NaN when the crop cannot be read: see ``finger_count``)."""
    open_fingers: int = 0
    """Fingers the landmarks show stretched out."""

    @property
    def centre(self) -> np.ndarray:
        return self.points.mean(axis=0)

    @property
    def size(self) -> float:
        span = self.points.max(axis=0) - self.points.min(axis=0)
        return float(max(span.max(), 1.0))

    def distance(self, other: Hand) -> float:
        return float(np.linalg.norm(self.centre - other.centre)) / self.size

    @property
    def extent(self) -> float:
        """Square root of the landmark box's area in pixels: shrinks when fingers collapse
        in either direction."""
        w, h = self.points.max(axis=0) - self.points.min(axis=0)
        return float(np.sqrt(max(w, 1.0) * max(h, 1.0)))

    @property
    def long_side(self) -> float:
        """Long side of the landmark box in pixels."""
        return float((self.points.max(axis=0) - self.points.min(axis=0)).max())

    def box(self) -> list[float]:
        """Normalized (x, y, w, h) of the landmarks."""
        lo, hi = self.points.min(axis=0), self.points.max(axis=0)
        return [
            round(float(lo[0] / self.width), 4),
            round(float(lo[1] / self.height), 4),
            round(float((hi[0] - lo[0]) / self.width), 4),
            round(float((hi[1] - lo[1]) / self.height), 4),
        ]


def detect(model: Any, rgb: np.ndarray) -> list[Hand]:
    """Run a MediaPipe Hands model on a frame; measure each hand's crop."""
    height, width = rgb.shape[:2]
    result = model.process(rgb)
    hands: list[Hand] = []
    if not result.multi_hand_landmarks:
        return hands
    worlds = result.multi_hand_world_landmarks or [None] * len(result.multi_hand_landmarks)
    for marks, world, handed in zip(
        result.multi_hand_landmarks, worlds, result.multi_handedness, strict=True
    ):
        points = np.array([[p.x * width, p.y * height] for p in marks.landmark], np.float32)
        metres = (
            np.array([[p.x, p.y, p.z] for p in world.landmark], np.float32)
            if world is not None
            else np.zeros((21, 3), np.float32)
        )
        category = handed.classification[0]
        hand = Hand(points, metres, category.label, float(category.score), width, height)
        hand.open_fingers = open_fingers(points)
        hand.fingers = finger_count(rgb, points) if countable(hand) else math.nan
        hands.append(hand)
    return distinct(hands)


def distinct(hands: list[Hand]) -> list[Hand]:
    """The hands without duplicates: in video mode MediaPipe sometimes reports one hand twice,
    from its tracked region and from a fresh palm detection. When the hand moves fast the
    tracked region lags behind, crops the hand and the fit shrinks (fingers collapse); so of
    hands whose centres are within half a hand of each other, the largest fit is kept."""
    kept: list[Hand] = []
    for hand in sorted(hands, key=lambda h: -h.extent):
        if all(
            np.linalg.norm(hand.centre - other.centre) > 0.5 * max(hand.size, other.size)
            for other in kept
        ):
            kept.append(hand)
    return kept


def detect_in_crop(model: Any, rgb: np.ndarray, near: Hand) -> list[Hand]:
    """Hands found in a square crop twice the size of ``near``'s box around its centre, with
    their landmarks brought back to frame coordinates."""
    height, width = rgb.shape[:2]
    half = int(near.size)
    cx, cy = (int(v) for v in near.centre)
    x0, y0 = max(0, cx - half), max(0, cy - half)
    x1, y1 = min(width, cx + half), min(height, cy + half)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return []
    hands = detect(model, np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    for hand in hands:
        hand.points = hand.points + np.array([x0, y0], np.float32)
        hand.width, hand.height = width, height
    return hands


def content_match(frame: Frame, hand: Hand, other: Frame) -> float:
    """How well the hand's picture in ``frame`` is found again near it in ``other``: the best
    normalized cross-correlation (gray working copy) of the hand's box within a window half a
    hand larger on each side. A hand that really appeared or vanished leaves nothing like it;
    one the detector merely missed is still there."""
    gray, other_gray = frame.gray, other.gray
    scale = gray.shape[1] / hand.width
    height, width = gray.shape
    lo = (hand.points.min(axis=0) * scale).astype(int)
    hi = (hand.points.max(axis=0) * scale).astype(int)
    margin = int(0.5 * hand.size * scale)
    x0, y0 = max(0, lo[0]), max(0, lo[1])
    x1, y1 = min(width, hi[0]), min(height, hi[1])
    if x1 - x0 < 6 or y1 - y0 < 6 or other_gray.shape != gray.shape:
        return math.nan
    template = gray[y0:y1, x0:x1]
    window = other_gray[
        max(0, y0 - margin) : min(height, y1 + margin),
        max(0, x0 - margin) : min(width, x1 + margin),
    ]
    if float(template.std()) < 2.0:
        return math.nan  # a flat template matches anything
    return float(cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED).max())


def scene_match(frame: Frame, other: Frame) -> float:
    """Correlation of two whole frames (gray, 64 px wide): near 1 for the same shot even under
    a global brightness or colour change, low across a cut or decoded garbage."""
    if frame.gray.shape != other.gray.shape:
        return math.nan
    height, width = frame.gray.shape
    size = (64, max(2, round(64 * height / width)))
    a = cv2.resize(frame.gray, size, interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    b = cv2.resize(other.gray, size, interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    if a.std() < 1e-3 or b.std() < 1e-3:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def countable(hand: Hand) -> bool:
    """Whether the crop can show how many fingers the hand has: an open hand (all five
    stretched out by the landmarks), wholly inside the picture, big enough to segment."""
    lo, hi = hand.points.min(axis=0), hand.points.max(axis=0)
    inside = lo.min() >= 0 and hi[0] < hand.width and hi[1] < hand.height
    palm = float(np.linalg.norm(hand.points[MIDDLE_MCP] - hand.points[WRIST]))
    return hand.open_fingers == 5 and bool(inside) and palm >= MIN_PALM_PX


MIN_PALM_PX = 24
"""Below 24 px from wrist to middle knuckle, fingers are 3-4 px wide and a count is guesswork
(the 256 px DynamiCrafter clips give 14-23 'fingers' on such hands)."""


def open_fingers(points: np.ndarray) -> int:
    """Fingers whose tip is well beyond their middle joint, seen from the wrist (thumb: from the
    little finger's knuckle)."""
    count = 0
    for number, chain in enumerate(FINGER_CHAINS):
        origin = points[PINKY_MCP] if number == 0 else points[WRIST]
        tip, middle = points[chain[3]], points[chain[1]]
        if np.linalg.norm(tip - origin) > 1.15 * np.linalg.norm(middle - origin):
            count += 1
    return count


def finger_ratios(world: np.ndarray) -> np.ndarray:
    """Length of each finger (sum of its bones; the thumb from the wrist) over the wrist to
    middle-knuckle distance, on the 3-D world landmarks: no foreshortening, and a curled finger
    keeps its length."""
    palm = float(np.linalg.norm(world[MIDDLE_MCP] - world[WRIST]))
    if palm <= 1e-6 or not world.any():
        return np.full(5, np.nan)
    lengths = []
    for number, chain in enumerate(FINGER_CHAINS):
        joints = ((WRIST, *chain)) if number == 0 else chain
        lengths.append(
            sum(float(np.linalg.norm(world[b] - world[a])) for a, b in itertools.pairwise(joints))
        )
    return np.array(lengths) / palm


def finger_count(rgb: np.ndarray, points: np.ndarray, palm_px: int = 40) -> float:
    """Fingers that stick out of the hand, counted without the landmarks' five-finger prior.

    The crop is segmented by colour (hand model sampled along the landmark skeleton, background
    model from the crop's border) and the fingers are counted as crossings of the hand mask with
    circles around the palm centre, the wrist side left out. NaN when the hand cannot be told
    from its background (the colour models overlap)."""
    crop, local, scale = hand_crop(rgb, points, palm_px)
    if crop is None:
        return math.nan
    mask = hand_mask(crop, local)
    if mask is None:
        return math.nan
    count = count_crossings(mask, local, scale)
    return float(count) if 0 < count <= MAX_FINGERS else math.nan


def hand_crop(
    rgb: np.ndarray, points: np.ndarray, palm_px: int
) -> tuple[np.ndarray | None, np.ndarray, float]:
    palm = float(np.linalg.norm(points[MIDDLE_MCP] - points[WRIST]))
    if palm < 8:
        return None, points, 1.0
    height, width = rgb.shape[:2]
    lo = np.floor(points.min(axis=0) - 0.6 * palm).astype(int)
    hi = np.ceil(points.max(axis=0) + 0.6 * palm).astype(int)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [width, height])
    if (hi - lo).min() < 8:
        return None, points, 1.0
    scale = palm_px / palm
    crop = cv2.resize(
        rgb[lo[1] : hi[1], lo[0] : hi[0]],
        None,
        fx=scale,
        fy=scale,
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
    )
    return crop, (points - lo) * scale, palm_px


def hand_mask(crop: np.ndarray, local: np.ndarray) -> np.ndarray | None:
    """Pixels whose colour (Lab) is close to the hand's own, sampled along the landmark bones
    (Mahalanobis distance), kept where connected to the palm. None when the background has the
    hand's colours too (more than ``MAX_BORDER_SKIN`` of the crop's border would be hand)."""
    lab = cv2.cvtColor(cv2.GaussianBlur(crop, (3, 3), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    height, width = lab.shape[:2]
    samples = []
    for chain in FINGER_CHAINS[1:]:
        for a, b in zip((WRIST, *chain[:-1]), chain, strict=True):
            for f in (0.25, 0.5, 0.75):
                x, y = (local[a] * (1 - f) + local[b] * f).astype(int)
                if 0 <= x < width and 0 <= y < height:
                    samples.append(lab[y, x])
    if len(samples) < 10:
        return None
    mean, inverse = _gaussian(np.array(samples))
    close = _mahalanobis(lab.reshape(-1, 3), mean, inverse) < SKIN_DISTANCE
    mask = close.reshape(height, width).astype(np.uint8)
    # Fingers lie near the landmark fan, background blobs need not: keep the landmarks' hull
    # pushed out by 0.3 palm lengths.
    hull = cv2.convexHull(local.astype(np.float32)).reshape(-1, 2)
    outward = hull - hull.mean(axis=0)
    outward /= np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), 1e-6)
    reach = 0.3 * float(np.linalg.norm(local[MIDDLE_MCP] - local[WRIST]))
    near = np.zeros_like(mask)
    cv2.fillConvexPoly(near, np.round(hull + reach * outward).astype(np.int32), 1)
    mask &= near
    # Touching fingers are split by the dark crease between them (a thin valley in the gray).
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    valley = cv2.morphologyEx(
        gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    )
    mask[valley > VALLEY_DEPTH] = 0
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    if border.mean() > MAX_BORDER_SKIN:
        return None
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels = cv2.connectedComponents(mask)
    palm = ((local[WRIST] + local[MIDDLE_MCP]) / 2).astype(int)
    px, py = int(np.clip(palm[0], 0, width - 1)), int(np.clip(palm[1], 0, height - 1))
    if count < 2 or labels[py, px] == 0:
        return None
    return (labels == labels[py, px]).astype(np.uint8)


SKIN_DISTANCE = 16.0
"""Squared Mahalanobis distance (3 Lab channels) under which a pixel has the hand's colour:
about the 99.9% quantile of a chi-square with 3 degrees of freedom."""
MAX_FINGERS = 8
"""More crossings than this are background blobs, not fingers: the count is unreadable."""
VALLEY_DEPTH = 14
"""Gray levels a pixel lies below its 7x7 closing: the crease between two touching fingers."""
MAX_BORDER_SKIN = 0.3
"""The crop's border is mostly background; the forearm crosses it, but when more than 30% of it
has the hand's colour the background cannot be told from the hand."""


def _gaussian(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = values.astype(np.float64)
    mean = values.mean(axis=0)
    cov = np.cov(values.T) + np.eye(3) * 4.0  # floor: flat drawn colours have no spread
    return mean, np.linalg.inv(cov)


def _mahalanobis(values: np.ndarray, mean: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    delta = values.astype(np.float32) - mean.astype(np.float32)
    return ((delta @ inverse.astype(np.float32)) * delta).sum(axis=1)


def count_crossings(mask: np.ndarray, local: np.ndarray, palm: float) -> int:
    """Median over three radii of the finger crossings on a circle around the palm centre,
    within the fan the fingertips span (plus ``FAN_MARGIN_DEG`` on each side, room for a sixth
    finger), so the palm's sides and the wrist are not counted."""
    centre = (local[WRIST] + local[MIDDLE_MCP]) / 2
    axis = math.atan2(*(local[MIDDLE_MCP] - centre)[::-1])

    def relative(angles: np.ndarray) -> np.ndarray:
        return (angles - axis + math.pi) % (2 * math.pi) - math.pi

    tips = local[[3, 4, 8, 12, 16, 20]] - centre
    fan = relative(np.arctan2(tips[:, 1], tips[:, 0]))
    margin = math.radians(FAN_MARGIN_DEG)
    finger_width = float(np.linalg.norm(local[INDEX_MCP] - local[PINKY_MCP])) / 3.5
    height, width = mask.shape
    angles = np.linspace(-math.pi, math.pi, 720, endpoint=False)
    rel = relative(angles)
    in_fan = (rel >= fan.min() - margin) & (rel <= fan.max() + margin)
    counts = []
    for radius in (0.8, 0.95, 1.1):
        r = radius * palm
        xs = np.round(centre[0] + r * np.cos(angles)).astype(int)
        ys = np.round(centre[1] + r * np.sin(angles)).astype(int)
        inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
        on = np.zeros(len(angles), bool)
        on[inside] = mask[ys[inside], xs[inside]] > 0
        counts.append(_runs_as_fingers(on & in_fan, r * (2 * math.pi / len(angles)), finger_width))
    return int(np.median(counts))


FAN_MARGIN_DEG = 25.0
"""Degrees beyond the outermost fingertips (seen from the palm centre) still searched for
fingers: a sixth finger beside the little finger or the thumb lies within it."""


def _runs_as_fingers(on: np.ndarray, step: float, finger_width: float) -> int:
    """Runs of ``on`` around the circle at least ``MIN_RUN`` finger widths wide, one finger
    each. A wide run is not split into several fingers by its width: a skin-coloured blob
    beside a finger is as wide as two touching fingers, and only a too-high count is flagged."""
    if on.all() or not on.any():
        return 0
    rolled = np.roll(on, -int(np.argmin(on)))  # start on a gap so no run wraps around
    edges = np.flatnonzero(np.diff(np.concatenate(([0], rolled.view(np.int8), [0]))))
    arcs = (edges[1::2] - edges[::2]) * step
    return int(np.sum(arcs >= MIN_RUN * finger_width))


MIN_RUN = 0.4
"""A crossing narrower than 0.4 finger widths is mask noise, not a finger."""


# -- tracks -------------------------------------------------------------------------------------
@dataclass
class Track:
    """One hand followed over the sampled frames."""

    number: int
    min_hand_px: int
    frames: list[int] = field(default_factory=list)
    hands: list[Hand] = field(default_factory=list)
    rechecked: list[bool] = field(default_factory=list)
    start: int = 0
    end: int | None = None
    """First frame without the hand after the track (None: it lasts to the clip's end)."""
    before_start_seen: bool = False
    """The sensitive detector saw the hand on the sampled frame before the track starts."""
    start_match: float = math.nan
    """``content_match`` of the first hand in the frame before the track starts."""
    end_match: float = math.nan
    """``content_match`` of the last hand in the first frame without it."""
    start_box: list[float] | None = None
    """Landmark box of the hand on the track's first frame (a skipped frame when re-dated)."""
    last_box: list[float] | None = None
    last_frame: int | None = None
    """The hand's last frame before ``end`` and its box there."""
    start_scene: float = math.nan
    """``scene_match`` of the first frame with the hand and the frame before it."""
    end_scene: float = math.nan
    """``scene_match`` of the last frame with the hand and the first without it."""
    scores: list[float] = field(default_factory=list)
    fingers: list[float] = field(default_factory=list)
    bone_error: list[float] = field(default_factory=list)
    ratios: list[np.ndarray] = field(default_factory=list)
    jitter: list[float] = field(default_factory=list)
    picture_match: list[float] = field(default_factory=list)
    """Per sample, ``content_match`` of the previous sample's hand picture in this frame."""
    seen_on: Frame | None = None
    """The frame of the last sample (to match its hand picture on the next one)."""

    @property
    def last(self) -> Hand:
        return self.hands[-1]

    def distance(self, hand: Hand) -> float:
        return self.last.distance(hand)

    def typical_size(self) -> float:
        """Median extent (pixels) of the hand over the last 5 samples."""
        return float(np.median([h.extent for h in self.hands[-5:]]))

    def add(self, frame: Frame, hand: Hand, rechecked: bool = False) -> None:
        before = self.seen_on
        match = content_match(before, self.last, frame) if before is not None else math.nan
        self.picture_match.append(match)
        self.frames.append(frame.index)
        self.hands.append(hand)
        self.rechecked.append(rechecked)
        self.seen_on = frame

    def finalize(self, n: int) -> None:
        self.scores = [h.score for h in self.hands]
        self.fingers = [h.fingers for h in self.hands]
        self.ratios = [finger_ratios(h.world) for h in self.hands]
        self.bone_error = [
            float(np.max(np.abs(r / REFERENCE_FINGER_RATIOS - 1.0))) for r in self.ratios
        ]
        self.jitter = pose_jitter([h.points for h in self.hands])

    def record(self) -> HandTrack:
        """The track as the rules and the report see it."""
        return HandTrack(
            id=self.number,
            start=self.start,
            end=self.end,
            before_start_seen=self.before_start_seen,
            start_match=None if math.isnan(self.start_match) else round(self.start_match, 3),
            end_match=None if math.isnan(self.end_match) else round(self.end_match, 3),
            start_box=self.start_box,
            last_box=self.last_box,
            last_frame=self.last_frame,
            start_scene=None if math.isnan(self.start_scene) else round(self.start_scene, 3),
            end_scene=None if math.isnan(self.end_scene) else round(self.end_scene, 3),
            frames=self.frames,
            boxes=[h.box() for h in self.hands],
            handedness=[h.label for h in self.hands],
            scores=[round(s, 3) for s in self.scores],
            fingers_seen=[None if math.isnan(f) else int(f) for f in self.fingers],
            open_fingers=[h.open_fingers for h in self.hands],
            chirality=[round(chirality(h.points), 3) for h in self.hands],
            bone_error=[None if math.isnan(b) else round(b, 3) for b in self.bone_error],
            finger_ratios=[
                [None if math.isnan(v) else round(float(v), 3) for v in r] for r in self.ratios
            ],
            jitter=[None if math.isnan(j) else round(j, 4) for j in self.jitter],
            picture_match=[None if math.isnan(m) else round(m, 3) for m in self.picture_match],
            rechecked=self.rechecked,
            small=[h.long_side < self.min_hand_px for h in self.hands],
            landmarks=[np.round(h.points / [h.width, h.height], 4).tolist() for h in self.hands],
        )


def chirality(points: np.ndarray) -> float:
    """Signed area of the wrist / index knuckle / little knuckle triangle over the squared palm
    length: its sign says which side the thumb is on in the picture. A real hand turning from
    palm to back passes through zero (edge-on); a mirrored hand jumps from one sign to the
    other."""
    a = points[INDEX_MCP] - points[WRIST]
    b = points[PINKY_MCP] - points[WRIST]
    palm = float(np.linalg.norm(points[MIDDLE_MCP] - points[WRIST]))
    if palm < 1e-6:
        return 0.0
    return float(a[0] * b[1] - a[1] * b[0]) / (palm * palm)


def canonical_pose(points: np.ndarray) -> np.ndarray:
    """Landmarks with the hand's own motion removed: wrist at the origin, wrist to middle
    knuckle pointing up with length 1."""
    axis = points[MIDDLE_MCP] - points[WRIST]
    length = float(np.linalg.norm(axis))
    if length < 1e-6:
        return np.zeros_like(points)
    c, s = axis / length
    rotation = np.array([[-s, c], [-c, -s]], np.float32)  # maps the axis to (0, -1)
    return ((points - points[WRIST]) @ rotation.T) / length


MIN_PALM_SHARE = 0.25
"""The wrist to middle-knuckle distance must be a quarter of the hand's extent for the pose to be
normalized by it: seen end-on the palm shrinks towards zero and divides noise into 'jitter' of
10+ palm lengths (measured on a generated fork-holding hand)."""


def foreshortening(points: np.ndarray) -> float:
    """Palm length over the hand's extent in the picture."""
    extent = float((points.max(axis=0) - points.min(axis=0)).max())
    return float(np.linalg.norm(points[MIDDLE_MCP] - points[WRIST])) / max(extent, 1e-6)


def pose_jitter(poses: list[np.ndarray]) -> list[float]:
    """Per sample: mean distance (in palm lengths) of each canonical landmark from the midpoint
    of its neighbours in time. Smooth articulation stays near the midpoint; jitter does not."""
    canon = [canonical_pose(p) for p in poses]
    jitter = [math.nan] * len(canon)
    for i in range(1, len(canon) - 1):
        if not all(foreshortening(poses[j]) >= MIN_PALM_SHARE for j in (i - 1, i, i + 1)):
            continue  # palm seen end-on: its axis cannot anchor the pose
        middle = (canon[i - 1] + canon[i + 1]) / 2
        jitter[i] = float(np.linalg.norm(canon[i] - middle, axis=1).mean())
    return jitter


ANALYZER = HandsAnalyzer
