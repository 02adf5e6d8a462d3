"""HND: hands that pop in or vanish, grow or lose fingers, flip handedness or jitter.

The rules read the hands analyzer's output (:class:`~vidlint.analyzers.hands.HandsOutput`): per
track its sampled frames, landmark boxes, handedness, finger-count evidence from the crop,
finger length ratios from the 3-D landmarks and pose jitter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidlint.analyzers.hands import MIDDLE_MCP, WRIST, HandsOutput, HandTrack
from vidlint.report.model import Region
from vidlint.rules.base import Fix, Hit, RuleInput, family, rule, runs
from vidlint.rules.temporal import explained_frames
from vidlint.settings import param

family("HND", "hands")

HAND_FIX = Fix(
    negative_prompt=(
        "extra fingers",
        "fused fingers",
        "poorly drawn hands",
        "deformed hands",
        "malformed limbs",
    ),
    prompt=("hands relaxed and still",),
    why="hands: Wan's default negatives; rephrase so hands stay calm (research, sec. 5)",
)


PER_SAMPLE = (
    "frames",
    "boxes",
    "handedness",
    "scores",
    "fingers_seen",
    "open_fingers",
    "chirality",
    "finger_ratios",
    "jitter",
    "picture_match",
    "rechecked",
    "small",
    "landmarks",
)


MAX_CUT = 0.1
"""Share of a hand's landmark box outside the picture above which the fit of a hand is left
out of HND002-004: MediaPipe guesses the hidden part, and its guesses flip and wobble (a
chopstick hand cut by the bottom edge of a generated clip, measured)."""


def measurable_samples(track: HandTrack) -> list[bool]:
    """Per sample, whether the hand is big enough for MediaPipe to be sure (the analyzer's
    ``min_hand_px``) and not cut by the frame edge (``MAX_CUT``)."""
    return [
        not small and outside_fraction(box) <= MAX_CUT
        for small, box in zip(track.small, track.boxes, strict=True)
    ]


def measurable(track: HandTrack) -> HandTrack:
    """The track without its samples that are not ``measurable_samples``."""
    keep = [i for i, ok in enumerate(measurable_samples(track)) if ok]
    samples: dict[str, Any] = {key: [getattr(track, key)[i] for i in keep] for key in PER_SAMPLE}
    return dataclasses.replace(track, **samples)


def held_still(track: HandTrack, still_match: float) -> np.ndarray:
    """Per sample, whether the previous sample's picture of the hand is found again on it at
    ``still_match`` or better: the hand did not change, whatever its landmarks did (unknown
    counts as changed)."""
    match = [np.nan if m is None else m for m in track.picture_match]
    return np.nan_to_num(np.asarray(match, np.float64), nan=0.0) >= still_match


def palm_seen(track: HandTrack, share: float) -> np.ndarray:
    """Per sample, whether its palm and both neighbours' (wrist to middle knuckle, in the
    picture) are at least ``share`` of the track's median palm length."""
    points = np.asarray(track.landmarks, np.float64)
    if not len(points):
        return np.zeros(0, bool)
    palm = np.linalg.norm(points[:, MIDDLE_MCP, :2] - points[:, WRIST, :2], axis=1)
    sure = palm >= share * float(np.median(palm))
    return sure & np.append(sure[1:], True) & np.insert(sure[:-1], 0, True)


def outside_fraction(box: list[float] | np.ndarray) -> float:
    """Share of a normalized box's area that lies outside the picture."""
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return 0.0
    inside_w = max(0.0, min(x + w, 1.0) - max(x, 0.0))
    inside_h = max(0.0, min(y + h, 1.0) - max(y, 0.0))
    return 1.0 - inside_w * inside_h / (w * h)


def edge_explains(
    boxes: list[list[float]], frames: list[int], step: int, cut: float, beyond: float
) -> tuple[bool, float]:
    """Whether the hand can have crossed the frame edge between the event and the sample on its
    other side (``step`` frames away). ``boxes``/``frames`` start at the event and go away from
    it. The hand's own motion, carried ``step`` frames past the event, must take it out of the
    picture: half of it, or, for a hand already cut by the edge (``cut``), further out than it is
    (a hand cut by the edge but moving along it did not come through it)."""
    first = np.asarray(boxes[0], np.float64)
    cut_now = outside_fraction(first)
    if len(boxes) < 2:
        return cut_now >= cut, cut_now
    second = np.asarray(boxes[1], np.float64)
    centre = first[:2] + first[2:] / 2  # boxes grow as a hand comes in: follow the centre
    velocity = (centre - second[:2] - second[2:] / 2) / max(1, abs(frames[1] - frames[0]))
    carried = first.copy()
    carried[:2] += velocity * abs(step)
    out = outside_fraction(carried)
    return out >= beyond or (cut_now >= cut and out > cut_now + 0.05), cut_now


@dataclass(frozen=True)
class AppearParams:
    edge_cut: float = param(
        0.15,
        "a hand whose landmark box is at least 15% outside the picture is cut by the "
        "frame edge: it can have come in or gone out through it when its own motion "
        "points out through that edge",
    )
    edge_beyond: float = param(
        0.5, "or its own motion, carried one sample further, takes half of it out of the picture"
    )
    min_samples: int = param(
        2,
        "a hand must be seen on 2 frames (sampled, or re-dated by the sensitive detector): "
        "a single detection is as likely to be a detector false positive as a hand",
    )
    still_there: float = param(
        0.8,
        "if the hand's picture is found again in the frame without the detection "
        "(normalized cross-correlation >= 0.8, within half a hand), the detector missed a "
        "hand that is still there; hands that really pop in or vanish score 0.56-0.73 "
        "(synthetic and evaluation clips), missed ones 0.88-1.0",
    )
    min_scene_match: float = param(
        0.5,
        "when the whole picture changes (frame correlation under 0.5: a cut or decoded "
        "garbage, reported by TMP003/TMP005) a hand appearing with it is no hand artifact; "
        "within one shot frames correlate above 0.69 (evaluation clips, measured)",
    )
    min_open_fingers: int = param(
        3,
        "and show at least 3 stretched fingers on one of them: MediaPipe also finds 'fists' "
        "in faces (a real close-up of strong expressions, frames 276-305, score 0.99, "
        "never more than 2 fingers open)",
    )


@rule(
    "HND001",
    "hand-pops-in-or-vanishes",
    severity="error",
    requires=["hands"],
    uses=["temporal", "quality"],  # black, flat and garbage frames are TMP004's and TMP005's
    params=AppearParams,
    fix=HAND_FIX,
)
def hand_pops_in_or_vanishes(data: RuleInput, p: AppearParams) -> Iterator[Hit]:
    """A hand appears from nowhere or vanishes without crossing the frame edge.

    What it detects:
        A hand track that starts after the first frame or ends before the last, when (1) a
        second, more sensitive detector does not find the hand on the frames around the event
        either (so it is not a detector miss), and (2) the frame edge cannot explain it: the hand
        is not cut by the edge and its own motion would not take it out of the picture within
        one sample. The event frame is exact: skipped frames around it are examined too.
    Why it matters:
        Generators lose track of hands: one pops into existence or melts away in a single frame,
        which viewers notice at once.
    Known false positives:
        A hand that goes behind an object or the body (occlusion is not modelled beyond the
        detector re-check); a hand that closes into a fist so fast the detector loses it. A
        hand lost in black, flat or garbage frames, or found again after them, is left to
        TMP004 and TMP005.
    Example:
        A raised open hand is there at frame 1, not at frame 0, its box against the left edge
        though no arm comes in: ``HND001 hand appears at frame 1 at the left edge of the
        picture, without moving in from outside``.
    Thresholds:
        ``edge_cut`` = 0.15 of the hand's box outside the picture, ``edge_beyond`` = 0.5 after
        one sample of its own motion, ``min_samples`` = 2 (measured on the evaluation set).
    Fix hint:
        Ask for hands that stay in frame (or out of it) and a simpler hand action; add hand
        negatives; new seed.
    """
    hands = data.output(HandsOutput)
    stride = hands.stride
    last = data.signals.n - 1
    explained = explained_frames(data.signals)
    for track in hands.tracks:
        frames, scores = track.frames, track.scores
        start, end = int(track.start), track.end
        last_frame = track.last_frame or frames[-1]
        seen = len(frames) + (frames[0] - start) + (last_frame - frames[-1])
        if seen < p.min_samples or max(track.open_fingers) < p.min_open_fingers:
            continue
        events = []
        if start > 0 and not track.before_start_seen:
            events.append(("appears", start, 0, track.start_match, track.start_scene))
        if end is not None and int(end) <= last:
            events.append(("vanishes", int(end), -1, track.end_match, track.end_scene))
        for event, frame, side, match, scene in events:
            box = _from_event(track, side)[0][0]
            if track.small[side]:
                continue  # too small for MediaPipe to be sure (hands.min_hand_px)
            if match is not None and match >= p.still_there:
                continue  # the detector lost a hand that is still in the picture
            if scene is not None and scene < p.min_scene_match:
                continue  # the whole picture changed: a cut or garbage, not a hand
            if explained[frame] or explained[frame - 1]:
                continue  # into or out of black or garbage: TMP004's or TMP005's
            edge, cut = edge_explains(*_from_event(track, side), stride, p.edge_cut, p.edge_beyond)
            if edge:
                continue
            where = event_place(box, event, frame)
            yield Hit(
                frame,
                frame,
                f"hand {event} at frame {frame} {where}",
                confidence=float(scores[side]) * (1.0 - max(0.0, match or 0.0) / 2),
                region=Region.of_box(box),
                evidence={
                    "event": event,
                    "hands_before": 0 if side == 0 else 1,
                    "hands": 1 if side == 0 else 0,
                    "score": scores[side],
                    "picture_match": match,
                    "threshold_still_there": p.still_there,
                    "scene_match": scene,
                    "edge_cut": round(max(cut, 0.0), 3),
                    "threshold_edge_cut": p.edge_cut,
                    "track": track.id,
                },
            )


EDGE_TOUCH = 0.01
"""A box within 1% of the picture's side touches that edge."""


def touched_edges(box: list[float]) -> list[str]:
    """The picture edges a normalized (x, y, w, h) box touches or crosses."""
    x, y, w, h = box
    edges = {
        "left": x <= EDGE_TOUCH,
        "right": x + w >= 1 - EDGE_TOUCH,
        "top": y <= EDGE_TOUCH,
        "bottom": y + h >= 1 - EDGE_TOUCH,
    }
    return [edge for edge, touches in edges.items() if touches]


def event_place(box: list[float], event: str, frame: int) -> str:
    """Where a hand appears or vanishes, as its box shows it: at an edge it touches (its own
    motion does not carry it through that edge, or there would be no finding), else in the
    middle of the picture."""
    edges = touched_edges(box)
    if edges:
        side = " and ".join(edges)
        place = f"at the {side} edge of the picture"
        if event == "appears":
            return f"{place}, without moving in from outside"
        return f"{place}, without moving out (last seen at frame {frame - 1})"
    if event == "appears":
        return "in the middle of the picture (not from the frame edge)"
    return f"in the middle of the picture (last seen at frame {frame - 1})"


def _from_event(track: HandTrack, side: int) -> tuple[list[list[float]], list[int]]:
    """The track's boxes and frames from its first (``side`` 0) or last (-1) frame with the
    hand, going away from the event; the exact event-side box leads when it was re-dated to a
    skipped frame."""
    boxes, frames = list(track.boxes), list(track.frames)
    if side == -1:
        boxes, frames = boxes[::-1], frames[::-1]
        exact = (track.last_box, track.last_frame)
    else:
        exact = (track.start_box, track.start)
    if exact[0] is not None and exact[1] is not None and exact[1] != frames[0]:
        boxes, frames = [exact[0], *boxes], [int(exact[1]), *frames]
    return boxes, frames


@dataclass(frozen=True)
class FingerParams:
    expected: int = param(5, "fingers on a human hand, thumb included")
    min_samples: int = param(
        2,
        "the crop count must exceed five on 2 sampled frames in a row: one odd count is a "
        "segmentation accident (a skin-coloured blob next to a finger)",
    )
    agreement: float = param(
        0.6, "and at least 60% of those frames must agree on the same wrong count"
    )
    min_open_fingers: int = param(
        4,
        "finger lengths are compared only on samples where the landmarks show at least 4 "
        "fingers stretched out (a hand with a finger gone shows 4)",
    )
    ratio_change: float = param(
        0.2,
        "a finger whose 3-D length (over the palm) departs by 20% from the same hand's "
        "median length on 2 samples in a row: bones do not change length, a finger that "
        "melts or vanishes does; clean synthetic hands stay under 0.1, the synthetic hand "
        "that loses a finger reaches 0.23-0.32 (measured)",
    )


@rule(
    "HND002",
    "implausible-finger-count",
    severity="error",
    requires=["hands"],
    params=FingerParams,
    fix=HAND_FIX,
)
def implausible_finger_count(data: RuleInput, p: FingerParams) -> Iterator[Hit]:
    """A hand shows more or fewer than five fingers, or a finger changes length.

    What it detects:
        (1) The fingers counted in the hand crop (colour segmentation, circle crossings around
        the palm; only on open hands, where the landmarks show all five stretched out) exceed
        five on consecutive sampled frames, mostly with the same count (fewer than five is
        reported per frame but not flagged on its own: fingers pressed together merge in the
        crop, e.g. on the five-fingered hand of a generated waving boy); (2) on one hand
        track, a finger's length over the palm (3-D landmarks) departs from that hand's median
        on consecutive samples: MediaPipe bends its five-finger skeleton to fit a hand with a
        missing or extra finger. (2) alone is a warning: a grip that hides fingers also makes
        the 3-D lengths wander (a fork-holding hand in a generated clip).
    Why it matters:
        Six-fingered or four-fingered hands are the best-known failure of generated video and
        the first thing viewers point at.
    Known false positives:
        Fingers pressed together with no visible crease between them (counted as fewer),
        skin-coloured objects touching the fingers (counted as more); a hand seen edge-on.
    Example:
        A synthetic hand that grows a sixth finger at frame 20: ``HND002 hand shows 6 fingers
        at frames 20-29``.
    Thresholds:
        ``expected`` = 5, ``min_samples`` = 2, ``agreement`` = 0.6, ``ratio_change`` = 0.2 on
        samples with ``min_open_fingers`` = 4 (measured on the synthetic and evaluation clips;
        docs/hands.md).
    Fix hint:
        Add hand negatives (extra fingers, missing fingers, fused fingers, deformed hands),
        ask for relaxed, still hands or fewer visible hands; new seed.
    """
    for track in map(measurable, data.output(HandsOutput).tracks):
        frames, boxes = track.frames, track.boxes
        counts = [np.nan if c is None else float(c) for c in track.fingers_seen]
        yield from _count_hits(track, frames, boxes, counts, p)
        yield from _ratio_hits(track, frames, boxes, p)


def _count_hits(
    track: HandTrack, frames: list[int], boxes: list, counts: list[float], p: FingerParams
) -> Iterator[Hit]:
    run: list[int] = []
    for i in range(len(counts) + 1):
        odd = i < len(counts) and not np.isnan(counts[i]) and counts[i] > p.expected
        if odd:
            run.append(i)
            continue
        if i < len(counts) and np.isnan(counts[i]) and run:
            continue  # an unreadable crop does not break a run
        if len(run) >= p.min_samples:
            values = [int(counts[j]) for j in run]
            common = max(set(values), key=values.count)
            share = values.count(common) / len(values)
            if share >= p.agreement:
                first, last = frames[run[0]], frames[run[-1]]
                peak = run[values.index(common)]
                yield Hit(
                    first,
                    last,
                    f"hand shows {common} fingers at frames {first}-{last} "
                    f"(landmarks assume {p.expected})",
                    peak=frames[peak],
                    confidence=min(1.0, 0.4 + 0.15 * len(run)) * share,
                    region=Region.of_box(boxes[peak]),
                    evidence={
                        "fingers_seen": {str(frames[j]): int(counts[j]) for j in run},
                        "expected": p.expected,
                        "agreement": round(share, 2),
                        "track": track.id,
                    },
                )
        run = []


def _ratio_hits(track: HandTrack, frames: list[int], boxes: list, p: FingerParams) -> Iterator[Hit]:
    ratios = np.array(
        [[np.nan if v is None else v for v in r] for r in track.finger_ratios], np.float64
    ).reshape(-1, 5)
    # Only open hands: on a grip or a fist the fingers hide each other and MediaPipe's 3-D
    # lengths wander (a fork-holding hand in a generated clip: 30-50%, measured).
    ratios[np.asarray(track.open_fingers) < p.min_open_fingers] = np.nan
    if np.sum(~np.isnan(ratios[:, 0])) < 4:
        return
    median = np.nanmedian(ratios, axis=0)
    departure = np.nan_to_num(np.abs(ratios / median - 1.0), nan=0.0)
    change, finger = departure.max(axis=1), departure.argmax(axis=1)
    names = ("thumb", "index", "middle", "ring", "little")
    odd = change >= p.ratio_change
    for i, j in runs(odd):
        if j - i + 1 >= p.min_samples:
            peak = i + int(np.argmax(change[i : j + 1]))
            yield Hit(
                frames[i],
                frames[j],
                f"{names[finger[peak]]} finger changes length by "
                f"{change[peak]:.0%} at frames {frames[i]}-{frames[j]} (a finger "
                "missing, extra or melting)",
                peak=frames[peak],
                severity="warning",
                confidence=min(1.0, float(change[peak]) / (2 * p.ratio_change)),
                region=Region.of_box(boxes[peak]),
                evidence={
                    "length_change": round(float(change[peak]), 3),
                    "threshold": p.ratio_change,
                    "finger": names[finger[peak]],
                    "track": track.id,
                },
            )


@dataclass(frozen=True)
class FlipParams:
    min_score: float = param(
        0.8,
        "only handedness MediaPipe is sure of counts; ambiguous views (edge-on, drawn "
        "hands) score 0.5-0.7",
    )
    min_chirality: float = param(
        0.3,
        "the thumb side in the picture counts when the palm triangle's signed area is at "
        "least 0.3 palm lengths squared: open hands seen face-on measure 0.4-0.9 (synthetic "
        "and evaluation clips), a hand turning edge-on passes near 0",
    )
    min_samples: int = param(2, "each side of the flip must hold for 2 sampled frames")
    still_match: float = param(
        0.9,
        "a flip where the hand's picture from the sample before is found again at 0.9 or "
        "better is the fit flipping, not the hand: a generated fretting hand, the same to "
        "the eye, matches at 0.98 across its handedness flip (measured; as HND004's)",
    )


def _flips(
    frames: list[int], labels: list[Any], min_samples: int, across_unsure: bool = True
) -> Iterator[tuple[int, Any, Any]]:
    """(frame, before, after) where a stable label (``min_samples`` in a row) turns into
    another stable one. ``labels`` holds None where the label is not sure; unless
    ``across_unsure``, a change with an unsure sample between is no flip (a hand that turns
    over passes edge-on, where the thumb's side is not sure)."""
    sure = [(i, label) for i, label in enumerate(labels) if label is not None]
    for k in range(min_samples, len(sure) - min_samples + 1):
        before = {label for _, label in sure[k - min_samples : k]}
        after = {label for _, label in sure[k : k + min_samples]}
        adjacent = sure[k][0] == sure[k - 1][0] + 1
        changed = len(before) == 1 and len(after) == 1 and before != after
        if changed and (across_unsure or adjacent):
            yield frames[sure[k][0]], before.pop(), after.pop()


@rule(
    "HND003",
    "handedness-flip",
    severity="warning",
    requires=["hands"],
    params=FlipParams,
    fix=HAND_FIX,
)
def handedness_flip(data: RuleInput, p: FlipParams) -> Iterator[Hit]:
    """One tracked hand turns from a left hand into a right hand (or back).

    What it detects:
        On one hand track, (1) MediaPipe's confident handedness (score >= ``min_score``)
        changes from one stable label to the other, or (2) the thumb jumps to the other side of
        the palm in the picture (the sign of the wrist / index knuckle / little knuckle
        triangle's area flips) from one sample to the next, without the hand passing edge-on,
        out of the picture's edge or under the size MediaPipe is sure at in between.
    Why it matters:
        A hand that mirrors itself mid-motion (thumb jumping to the other side) is a typical
        generator failure that viewers read as a deformed hand.
    Known false positives:
        A hand that turns from palm to back faster than the sampling rate; two hands crossing
        so the tracker swaps them. A flip across which the hand's picture holds still (found
        again at ``still_match``) is MediaPipe's fit flipping and is not reported.
    Example:
        A synthetic hand drawn mirrored over frames 16-27: ``HND003 hand thumb side flips from
        thumb right to thumb left at frame 16`` (and back at frame 28).
    Thresholds:
        ``min_score`` = 0.8, ``min_chirality`` = 0.3 palm lengths squared, ``min_samples`` = 2
        on each side, ``still_match`` = 0.9.
    Fix hint:
        Ask for a simpler hand action and fewer visible hands; new seed.
    """
    for track in data.output(HandsOutput).tracks:
        frames = track.frames
        seen_well = measurable_samples(track)  # unsure where small or cut, not left out:
        labels = [  # a hand that turns over may pass through the edge or get small
            label if score >= p.min_score and ok else None
            for label, score, ok in zip(track.handedness, track.scores, seen_well, strict=True)
        ]
        sides = [
            None
            if abs(c) < p.min_chirality or not ok
            else ("thumb left" if c > 0 else "thumb right")
            for c, ok in zip(track.chirality, seen_well, strict=True)
        ]
        held = held_still(track, p.still_match)
        seen: set[int] = set()
        for how, series in (("handedness", labels), ("thumb side", sides)):
            turning_over = how == "thumb side"  # passing edge-on is the hand turning over
            for frame, before, after in _flips(frames, series, p.min_samples, not turning_over):
                if frame in seen:
                    continue
                seen.add(frame)
                index = frames.index(frame)
                if held[index]:
                    continue  # the picture held still: the fit flipped
                yield Hit(
                    frame,
                    frame,
                    f"hand {how} flips from {before} to {after} at frame {frame}",
                    confidence=0.9 if how == "handedness" else 0.7,
                    region=Region.of_box(track.boxes[index]),
                    evidence={
                        "by": how,
                        "before": before,
                        "after": after,
                        "score": track.scores[index],
                        "chirality": track.chirality[index],
                        "track": track.id,
                    },
                )


@dataclass(frozen=True)
class JitterParams:
    max_jitter: float = param(
        0.15,
        "mean landmark distance (in palm lengths) from the midpoint of its neighbours in "
        "time, after removing the hand's own motion: the synthetic hands stay under "
        "0.02, a real hand holding a brush peaks at 0.086, shaking "
        "synthetic fingers reach 0.17-0.69 (measured)",
    )
    min_samples: int = param(
        3, "on 3 sampled frames in a row: one or two jumps are a fit error or a fast real gesture"
    )
    min_palm: float = param(
        0.5,
        "a sample counts only where its palm (wrist to middle knuckle) and its neighbours' "
        "are at least half the track's median palm length: jitter is measured in palm "
        "lengths, and a palm that shrinks to a third in 4 frames is the model losing a fist "
        "gripping chopsticks (measured: 0.05 against 0.14-0.17, jitter 1.7-2.3 there and "
        "0.4-1.2 on its neighbours), or a palm turned edge-on, where the hand's own frame "
        "means nothing",
        bounds=(0.0, 1.0),
    )
    still_match: float = param(
        0.9,
        "a sample whose hand picture is found again on the samples before and after at 0.9 "
        "or better (normalized cross-correlation) did not change: its landmarks jumped on "
        "their own, a fit error. A generated hand fretting a guitar neck matches at "
        "0.97-0.99 while its landmarks jump 0.3-0.7 palm lengths; shaking synthetic "
        "fingers match at 0.55-0.60 (measured)",
    )


@rule(
    "HND004",
    "hand-landmark-jitter",
    severity="warning",
    requires=["hands"],
    params=JitterParams,
    fix=HAND_FIX,
)
def hand_landmark_jitter(data: RuleInput, p: JitterParams) -> Iterator[Hit]:
    """The hand's fingers shake from frame to frame.

    What it detects:
        Landmarks, in the hand's own frame (wrist at the origin, palm axis up, palm length 1),
        that jump away from the midpoint of their positions on the samples before and after,
        on several samples of one track, where the hand's picture changed too (a hand whose
        picture holds still while its landmarks jump is a fit error: fingers wrapped round an
        object, half hidden).
    Why it matters:
        Boiling, trembling fingers are a common temporal artifact of generated hands.
    Known false positives:
        Very fast real finger motion (typing, playing an instrument) seen at a low frame rate.
    Example:
        ``HND004 hand landmarks jitter at frames 18-27 (0.11 palm lengths)``.
        A sample whose palm, or a neighbour's, is under half the track's usual palm length
        (the model lost the hand, or the palm is edge-on) is not judged.
    Thresholds:
        ``max_jitter`` = 0.15 palm lengths, ``min_samples`` = 3, ``still_match`` = 0.9,
        ``min_palm`` = 0.5.
    Fix hint:
        Ask for a simpler, slower hand action; new seed.
    """
    for track in map(measurable, data.output(HandsOutput).tracks):
        jitter = np.array([np.nan if j is None else j for j in track.jitter], np.float64)
        jitter[~palm_seen(track, p.min_palm)] = np.nan
        held = held_still(track, p.still_match)
        changed = ~(held & np.append(held[1:], False))  # since the sample before, or until after
        high = (np.nan_to_num(jitter, nan=0.0) > p.max_jitter) & changed
        frames = track.frames
        for i, j in runs(high):
            if j - i + 1 >= p.min_samples:
                peak = i + int(np.nanargmax(jitter[i : j + 1]))
                yield Hit(
                    frames[i],
                    frames[j],
                    f"hand landmarks jitter at frames "
                    f"{frames[i]}-{frames[j]} ({jitter[peak]:.2f} palm lengths)",
                    peak=frames[peak],
                    confidence=min(1.0, float(jitter[peak]) / (2 * p.max_jitter)),
                    region=Region.of_box(track.boxes[peak]),
                    evidence={
                        "jitter": round(float(jitter[peak]), 4),
                        "threshold": p.max_jitter,
                        "track": track.id,
                    },
                )
