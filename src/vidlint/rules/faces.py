"""FAC: faces that turn into someone else, morph, pop in or out, stay dead, lose their shape or
break down.

All rules read the face tracks of the faces analyzer's output
(:class:`~vidlint.analyzers.faces.FacesOutput`): per track, its sampled frames, boxes, detection
scores, landmark measures and dlib descriptors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from vidlint.analyzers.faces import EXPRESSION_KEYS, FacesOutput, FaceTrack
from vidlint.analyzers.quality import NOISE
from vidlint.report.model import Region
from vidlint.rules.base import Fix, Hit, RuleInput, family, rule, runs
from vidlint.rules.quality import NoiseParams, Shots, noisy_frames
from vidlint.rules.temporal import cut_frames, explained_frames
from vidlint.settings import param

family("FAC", "faces")

FACE_FIX = Fix(
    negative_prompt=("poorly drawn face", "distorted face", "face morphing"),
    prompt=("the same person throughout, face fully visible and consistent",),
    why="identity drift: dense identity description, calmer camera, then i2v from a reference "
    "(research, sec. 5)",
)
DLIB_SAME_PERSON = 0.6
"""dlib's published rule: descriptors closer than 0.6 are the same person (99.38% on LFW,
dlib.net face_recognition.py example)."""


def tracks_of(data: RuleInput) -> tuple[FaceTrack, ...]:
    return data.output(FacesOutput).tracks


def box_at(track: FaceTrack, frame: int) -> Region | None:
    """The track's box at its sampled frame nearest to ``frame``."""
    frames = np.asarray(track.frames)
    index = int(np.argmin(np.abs(frames - frame)))
    return Region.of_box(track.boxes[index])


SOFT_CHIP = 0.3
"""A chip whose detail (variance of the Laplacian) is under 30% of the track's median chip's is
blurred (QLT001's ratio): a generated face blurred with a sigma of 2.5-6 px keeps 14-17% and
its descriptor moves 0.67-0.70 from the same face sharp, past dlib's 0.6 (measured)."""


def noisy_frames_of(data: RuleInput) -> np.ndarray:
    """Per frame, whether its noise rose as QLT002 sees it (none without the quality signals)."""
    if NOISE not in data.signals:
        return np.zeros(data.signals.n, bool)
    p = NoiseParams()
    noise = np.asarray(data.signals[NOISE], np.float64)
    return noisy_frames(noise, Shots.of(data, p.early_s).reference(noise), p)


def unsure_descriptors(track: FaceTrack, noisy: np.ndarray) -> list[bool]:
    """Per descriptor, whether its chip was too degraded to tell who it shows: far softer than
    the track's own chips, or taken on a ``noisy`` frame (noise sigma 8-20 moves a generated
    face's descriptor 0.63 from its clean one, measured). The clip's blur or noise is QLT001's
    and QLT002's to report, not a change of person."""
    sharpness = np.asarray(track.descriptor_sharpness or [], np.float64)
    soft = (
        sharpness < SOFT_CHIP * float(np.median(sharpness))
        if len(sharpness)
        else np.zeros(len(track.descriptor_frames), bool)
    )
    noisy_chips = noisy[np.asarray(track.descriptor_frames, int)]
    return [bool(a or b) for a, b in zip(soft, noisy_chips, strict=True)]


def across_a_cut(cuts: list[int], earlier: int | None, later: int) -> bool:
    """Whether a cut lies after frame ``earlier`` and at or before ``later``."""
    return earlier is not None and any(earlier < cut <= later for cut in cuts)


def time_of(data: RuleInput, frame: int) -> float:
    times = data.signals.time_s
    return float(times[min(max(frame, 0), len(times) - 1)])


@dataclass(frozen=True)
class DimLightParams:
    """Dim light, for the identity rules FAC001 and FAC002."""

    dim_luma: float = param(
        50.0,
        "a descriptor's chip (or the anchor's) darker than this mean gray level (0-255) "
        "was taken in dim light. Measured on the descriptor chips of the evaluation set: "
        "a woman reading by a book's light 31-46, every other clip 54 "
        "(a spacesuit) or more, the real talking clips 64-134",
    )
    dim_margin: float = param(
        0.1,
        "in dim light the descriptor is noisier, so a sample must be this much further "
        "than the same-person distance (FAC001's same_person from the anchor, FAC002's "
        "jump_distance between samples) to count. Measured: darkening the real "
        "and generated chips to a gray level of 30-40 moves a frame's descriptor 0.12-0.23 from "
        "its own bright one and raises its distance to the anchor by up to 0.14; the woman "
        "reading turns her head in blue light to 0.58-0.65 from her first frame, the same "
        "woman to the eye; a different person stays at 0.83-0.85 when darkened (the "
        "astronaut-to-cameraman swap at a gray level of 37-43); a dim face with closed "
        "eyes is 0.61 from itself 1 s earlier",
    )


@dataclass(frozen=True)
class DriftParams(DimLightParams):
    same_person: float = param(
        DLIB_SAME_PERSON,
        "dlib's same-person distance (0.6, dlib.net). Calibrated here: one "
        "person's strongest expressions and head turns reach 0.59 from the anchor on the "
        "real expression clip; different people in the evaluation set are 0.46-0.98 "
        "apart (median 0.78)",
    )
    min_samples: int = param(
        2,
        "at least 2 descriptors beyond the threshold in a row: one bad chip (motion blur, "
        "a hand over the face) is not a new person",
    )


@rule(
    "FAC001",
    "identity-drift",
    severity="error",
    requires=["faces"],
    uses=["temporal", "quality"],  # a cut (TMP003) ends what the anchor can be compared with
    params=DriftParams,
    fix=FACE_FIX,
    thresholds={"faces.identity_distance": "same_person"},
)
def identity_drift(data: RuleInput, p: DriftParams) -> Iterator[Hit]:
    """A face stops being the person it was at the start of its track.

    What it detects:
        Per face track, the dlib descriptor distance from the track's anchor (its first usable
        frame) crosses dlib's same-person threshold and stays beyond it for ``min_samples``
        descriptors in a row. In dim light (the sample's chip or the anchor's darker than
        ``dim_luma``) a sample must be ``dim_margin`` further away, because darkness moves the
        descriptor by itself. The span runs from the first such sample to the last (to the end
        of the track when the face never comes back); samples after a scene cut (TMP003) are not
        compared with an anchor from the shot before, nor are descriptors of blurred or noisy
        chips (``unsure_descriptors``). The curve is ``faces.identity_distance``
        for the main face and ``anchor_distance`` per track in ``extra.faces``.
    Why it matters:
        Subjects that "subtly morph between frames" are the most recognised flaw of generated
        video; a face that becomes another person breaks the shot.
    Known false positives:
        A strong head turn or expression change against an anchor taken in another pose can
        approach 0.6 (a real expression clip reaches 0.56). Dim light adds to it:
        a generated woman reading by a book's light turns her head to 0.58-0.65 from her
        first frame, the same woman to the eye; her chips' gray level is 31-46, so the dim
        margin holds her. Profiles, occlusion and small or unsure detections get no descriptor.
        Missed: dlib separates East Asian faces less well (different people measured 0.46
        apart), and in dim light a change to a similar face (0.6-0.7) is not reported.
        In image-to-video the anchor is the first frame, not the source: REF002 compares with
        the source face.
    Example:
        A woman's face cross-fading into a man's over frames 24-35:
        ``FAC001 face 0 no longer the same person from frame 30 (distance 0.91 > 0.60 from
        frame 0)``.
    Thresholds:
        ``same_person`` = 0.6 (dlib), ``min_samples`` = 2; in dim light (chip gray level under
        ``dim_luma`` = 50) 0.6 + ``dim_margin`` = 0.7. Descriptors are sampled every
        ``analyzers.faces.describe_every_s`` and bisected where identity moves.
    Fix hint:
        Condition on a reference image of the character (stronger reference strength), repeat
        the same identity description, shorten the clip; regenerate with a new seed.
    """
    cuts, noisy = cut_frames(data), noisy_frames_of(data)
    for track in tracks_of(data):
        frames, distances = track.descriptor_frames, track.anchor_distance
        limits = drift_limits(track, p)
        unsure = unsure_descriptors(track, noisy)
        over = [
            d > limit and not bad and not across_a_cut(cuts, track.anchor_frame, frame)
            for d, limit, frame, bad in zip(distances, limits, frames, unsure, strict=True)
        ]
        for start, last in runs(over):
            count = last - start + 1
            if count < p.min_samples:
                continue
            end = track.end if last == len(frames) - 1 else frames[last]
            peak_i = start + int(np.argmax(distances[start : last + 1]))
            worst, limit = distances[peak_i], limits[peak_i]
            yield Hit(
                frames[start],
                end,
                f"face {track.id} no longer the same person from frame "
                f"{frames[start]} (distance {worst:.2f} > {limit:.2f} from "
                f"frame {track.anchor_frame})",
                peak=frames[peak_i],
                confidence=min(1.0, 0.5 + (worst - limit) / 0.3),
                evidence={
                    "track": track.id,
                    "anchor_frame": track.anchor_frame,
                    "distance": round(worst, 3),
                    "threshold": round(limit, 3),
                    "samples": count,
                },
                region=box_at(track, frames[peak_i]),
            )


def drift_limits(track: FaceTrack, p: DriftParams) -> list[float]:
    """Per descriptor, the anchor distance beyond which the face is someone else: dlib's
    same-person distance, plus ``dim_margin`` where this chip or the anchor's was dim."""
    dim = dim_chips(track, p.dim_luma)
    anchor_dim = bool(dim) and dim[0]  # the anchor is the first descriptor
    return [p.same_person + (p.dim_margin if anchor_dim or d else 0.0) for d in dim]


def dim_chips(track: FaceTrack, dim_luma: float) -> list[bool]:
    """Per descriptor, whether its chip was darker than ``dim_luma`` (unknown: not dim)."""
    lumas: Sequence[float | None] = track.descriptor_luma or [None] * len(track.descriptor_frames)
    return [luma is not None and luma < dim_luma for luma in lumas]


@dataclass(frozen=True)
class MorphParams(DimLightParams):
    jump_distance: float = param(
        DLIB_SAME_PERSON,
        "descriptors of one track this close in time must still be the same "
        "person (dlib's 0.6); same-person samples within 1 s stay under 0.45 on the "
        "real expression clip (measured)",
    )
    window_s: float = param(
        1.0,
        "what counts as nearby frames: a change of person within 1 s is a morph, a slower "
        "one is drift (FAC001)",
    )
    doubt_margin: float = param(
        0.1,
        "a change at most this far beyond the limit is a warning, not an error: one person "
        "between two samples reaches 0.60-0.66 where something sweeps over the face or it "
        "turns to profile (a textured patch jumping over a generated face 0.66, a frame cut in "
        "beside it 0.60, the woman reading in dim light 0.61), while different people are "
        "0.78 apart at the median and a real face cross-fading into another person's 0.83-0.89",
    )


@rule(
    "FAC002",
    "face-morph",
    severity="error",
    requires=["faces"],
    uses=["temporal", "quality"],  # a change across a cut is TMP003's
    params=MorphParams,
    fix=FACE_FIX,
)
def face_morph(data: RuleInput, p: MorphParams) -> Iterator[Hit]:
    """A face jumps to another identity between nearby frames of one track.

    What it detects:
        Two descriptors of the same face track at most ``window_s`` apart whose distance is
        beyond the same-person threshold, where the change lasts (the next descriptor is still
        beyond it from the earlier one: a single odd sample is not a morph). Where either chip
        was taken in dim light the pair must be ``dim_margin`` further apart, as in FAC001; a
        pair with a scene cut (TMP003) between them is the cut's, and blurred or noisy chips
        (``unsure_descriptors``) are not compared.
        Overlapping pairs are merged into one span, from the last frame still like the earlier
        face to the first frame like the later one. A change less than ``doubt_margin`` beyond
        the limit is a warning: one person turning or half covered reaches that far.
    Why it matters:
        A sudden face swap within one shot is the most visible identity failure; it also marks
        where to cut when the rest of the clip is usable.
    Known false positives:
        A second person stepping exactly into the first one's place (the tracker cannot tell),
        a hand or object sweeping over the face. A cut TMP003 does not find (a change of shot
        too small for it) that lands a new face on the old one's spot.
    Example:
        A woman's face cross-fading into a man's over frames 24-35:
        ``FAC002 face 0 changes identity between frames 25 and 30 (distance 0.89 > 0.6 within
        0.17 s)``.
    Thresholds:
        ``jump_distance`` = 0.6 (dlib), ``window_s`` = 1.0; with a chip under ``dim_luma`` = 50
        gray levels, 0.6 + ``dim_margin`` = 0.7. An error from 0.6 + ``doubt_margin`` = 0.7
        (0.8 in dim light); a warning between.
    Fix hint:
        Regenerate with a new seed and a stronger reference; shorten the clip or keep the part
        before the jump.
    """
    cuts, noisy = cut_frames(data), noisy_frames_of(data)
    for track in tracks_of(data):
        frames = track.descriptor_frames
        vectors = np.asarray(track.descriptors, np.float32)
        dim = dim_chips(track, p.dim_luma)
        unsure = unsure_descriptors(track, noisy)
        pairs = []
        for i in range(len(frames)):
            for j in range(i + 1, len(frames)):
                if time_of(data, frames[j]) - time_of(data, frames[i]) > p.window_s:
                    break
                if across_a_cut(cuts, frames[i], frames[j]) or unsure[i] or unsure[j]:
                    continue  # TMP003's, QLT001's or QLT002's
                limit = p.jump_distance + (p.dim_margin if dim[i] or dim[j] else 0.0)
                gap = float(np.linalg.norm(vectors[i] - vectors[j]))
                lasting = (
                    j + 1 == len(frames)
                    or float(np.linalg.norm(vectors[i] - vectors[j + 1])) > limit
                )
                if gap > limit and lasting:
                    pairs.append((frames[i], frames[j], gap))
        for lo, hi, worst in merge_pairs(pairs):
            ends_dim = dim[frames.index(lo)] or dim[frames.index(hi)]
            limit = round(p.jump_distance + (p.dim_margin if ends_dim else 0.0), 3)
            doubtful = worst <= limit + p.doubt_margin
            yield Hit(
                lo,
                hi,
                f"face {track.id} changes identity between frames {lo} and "
                f"{hi} (distance {worst:.2f} > {limit} within "
                f"{time_of(data, hi) - time_of(data, lo):.2f} s)",
                peak=hi,
                confidence=min(1.0, 0.5 + (worst - limit) / 0.3),
                evidence={"track": track.id, "distance": round(worst, 3), "threshold": limit},
                region=box_at(track, hi),
                severity="warning" if doubtful else None,
            )


def merge_pairs(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Merge overlapping (lo, hi) spans; report the tightest span: the latest ``lo`` and the
    earliest ``hi`` among the pairs of each group, so it brackets the change."""
    groups: list[list[tuple[int, int, float]]] = []
    for pair in sorted(pairs):
        if groups and pair[0] <= max(q[1] for q in groups[-1]):
            groups[-1].append(pair)
        else:
            groups.append([pair])
    merged = []
    for group in groups:
        lo = max(q[0] for q in group)
        hi = min(q[1] for q in group if q[1] > lo) if any(q[1] > lo for q in group) else lo
        merged.append((min(lo, hi), max(lo, hi), max(q[2] for q in group)))
    return merged


@dataclass(frozen=True)
class PopParams:
    min_track_s: float = param(
        0.5,
        "the face must be seen for this long after appearing (or before vanishing): a "
        "detector flicker on a background pattern is not a face",
    )
    min_score: float = param(
        0.75,
        "median detection confidence of the track; genuine faces score 0.8-0.95 on "
        "the evaluation clips (measured)",
    )
    min_size: float = param(
        0.08,
        "the face's height as a share of the frame's; smaller faces drop in and out of "
        "detection on their own",
    )
    turned: float = param(
        0.35,
        "a face whose nose tip is this far (in eye distances) off the eyes' midpoint, or "
        "whose landmarks fail, in its last (first) 3 samples is turning away (towards "
        "the camera): a dancer spinning, not a face dissolving (generated dance)",
    )
    edge_margin: float = param(
        0.03, "a box this close to a border entered or left through it: that is motion, not a pop"
    )


@rule(
    "FAC003",
    "face-pops",
    severity="warning",
    requires=["faces"],
    uses=["temporal", "quality"],  # black, flat and garbage frames are TMP004's and TMP005's
    params=PopParams,
    fix=FACE_FIX,
)
def face_pops(data: RuleInput, p: PopParams) -> Iterator[Hit]:
    """A face appears or vanishes in the middle of the frame.

    What it detects:
        A confident, reasonably large face track that starts after the clip's first sampled
        frame, or ends before its last, while its box is away from the frame borders: the face
        did not walk in or out, it materialised or dissolved.
    Why it matters:
        Faces that pop in or out are a typical generation failure (a person dissolving into the
        background, a second face growing out of a pattern).
    Known false positives:
        A hand or object covering a face for longer than ``analyzers.faces.max_gap_s``, a fast
        zoom. A face that turns away (strong head turn or no landmarks in its last samples), a
        track handed over to a new one at the same place, a face lost in black, flat or
        garbage frames or found again after them (TMP004's and TMP005's), and a face that comes
        or goes at a scene cut (TMP003's) are not reported.
    Example:
        A face that is gone from frame 24 on, mid-frame: ``FAC003 face 0 vanishes at frame 24
        in mid-frame``.
    Thresholds:
        ``min_track_s`` = 0.5, ``min_score`` = 0.75, ``min_size`` = 0.08 of the frame height,
        ``edge_margin`` = 0.03, ``turned`` = 0.35.
    Fix hint:
        Regenerate with a new seed; name every person in the prompt so none is invented.
    """
    stride = data.output(FacesOutput).stride
    first_sampled = 0
    last_sampled = (data.signals.n - 1) // stride * stride
    explained = explained_frames(data.signals)
    for cut in cut_frames(data):
        explained[cut] = True  # a face that comes or goes with the shot is TMP003's
    for track in tracks_of(data):
        if len(track.frames) < 2 or np.median(track.scores) < p.min_score:
            continue
        if time_of(data, track.end) - time_of(data, track.start) < p.min_track_s:
            continue
        for event, frame, box in (
            ("appears", track.start, track.boxes[0]),
            ("vanishes", track.end, track.boxes[-1]),
        ):
            at_edge = (frame == first_sampled) if event == "appears" else (frame == last_sampled)
            if at_edge or box[3] < p.min_size or touches_border(box, p.edge_margin):
                continue
            if handed_over(track, event, tracks_of(data), stride):
                continue
            if turned_away(track, event, p.turned):
                continue
            where = frame if event == "appears" else min(frame + stride, data.signals.n - 1)
            if explained[max(0, where - stride) : where + 1].any():
                continue  # lost in (or found after) black or garbage frames: TMP's
            yield Hit(
                where,
                where,
                f"face {track.id} {event} at frame {where} in mid-frame",
                confidence=min(1.0, float(np.median(track.scores))),
                evidence={
                    "track": track.id,
                    "event": event,
                    "box": [round(v, 3) for v in box],
                    "score": round(float(np.median(track.scores)), 3),
                },
                region=Region.of_box(box),
            )


def handed_over(track: FaceTrack, event: str, tracks: tuple[FaceTrack, ...], stride: int) -> bool:
    """True when another track takes over (or hands over) this face where and when it
    vanishes (appears): the tracker lost a fast-moving face, the face did not pop."""
    box = track.boxes[-1] if event == "vanishes" else track.boxes[0]
    frame = track.end if event == "vanishes" else track.start
    for other in tracks:
        if other.id == track.id:
            continue
        if event == "vanishes":
            other_frame, other_box = other.start, other.boxes[0]
            close_in_time = 0 < other_frame - frame <= 4 * stride
        else:
            other_frame, other_box = other.end, other.boxes[-1]
            close_in_time = 0 < frame - other_frame <= 4 * stride
        centre = np.array([box[0] + box[2] / 2, box[1] + box[3] / 2])
        other_centre = np.array([other_box[0] + other_box[2] / 2, other_box[1] + other_box[3] / 2])
        if close_in_time and np.linalg.norm(centre - other_centre) <= 1.5 * max(box[2], box[3]):
            return True
    return False


def turned_away(track: FaceTrack, event: str, limit: float) -> bool:
    """True when the face turns away before vanishing (or turns towards the camera after
    appearing): a strongly turned head, or FaceMesh no longer finding a face on the box."""
    turns = track.features["nose_offset"]
    if all(v is None for v in turns):
        return False  # landmarks were not measured (analyzers.faces.landmarks = false)
    edge = turns[-3:] if event == "vanishes" else turns[:3]
    return any(v is None or abs(v) >= limit for v in edge)


def touches_border(box: list[float], margin: float) -> bool:
    x, y, w, h = box
    return x <= margin or y <= margin or x + w >= 1 - margin or y + h >= 1 - margin


@dataclass(frozen=True)
class FlatParams:
    min_duration_s: float = param(
        1.5,
        "judge only tracks followed this long: a shorter glimpse says nothing about "
        "expression (a sentence takes about 1.5 s)",
    )
    min_samples: int = param(12, "and with at least this many landmark samples")
    min_activity: float = param(
        0.07,
        "sum over mouth opening, mouth width, eye aperture and brow raise of each one's "
        "10-90% range, in eye-distance units. Talking and acting faces on the evaluation "
        "set score 0.10-0.39 (real 0.37 and 0.39, audio-driven 0.105); still faces "
        "0.055-0.064; a still photo moved around scores about 0.02 (measured)",
    )


@rule(
    "FAC004",
    "flat-expression",
    severity="info",
    requires=["faces"],
    params=FlatParams,
    fix=FACE_FIX,
)
def flat_expression(data: RuleInput, p: FlatParams) -> Iterator[Hit]:
    """A face that barely moves: emotionally flat where it should act.

    What it detects:
        Over a face track long enough to judge (``min_duration_s``, ``min_samples``), the
        spread (10-90% range) of mouth opening, mouth width, eye aperture and brow raise from
        FaceMesh, summed. Below ``min_activity`` the face is a mask: it neither talks nor
        emotes.
    Why it matters:
        "Faces in emotionally charged moments often look technically correct but feel
        emotionally flat" (the seed article). A talking or acting shot with a dead face fails.
    Known false positives:
        Many shots legitimately show a calm face (listening, sleeping, a portrait). The rule
        cannot know the prompt's intent, so it is ``info`` by default: raise it to ``warning``
        for talking-head or acting jobs. Faces followed for less than 1.5 s are never judged.
    Example:
        A generated waving boy, whose face stays still while his hand waves: ``FAC004 face 0 barely
        moves over 1.9 s (activity 0.046 < 0.07)``.
    Thresholds:
        ``min_activity`` = 0.07, ``min_duration_s`` = 1.5, ``min_samples`` = 12.
    Fix hint:
        Describe the emotion and the action explicitly ("laughs, eyebrows raised"); avoid
        over-strong reference conditioning that freezes the face.
    """
    for track in tracks_of(data):
        duration = time_of(data, track.end) - time_of(data, track.start)
        activity, ranges, samples = expression_activity(track)
        if duration < p.min_duration_s or samples < p.min_samples:
            continue
        if activity < p.min_activity:
            yield Hit(
                track.start,
                track.end,
                f"face {track.id} barely moves over {duration:.1f} s (activity "
                f"{activity:.3f} < {p.min_activity})",
                peak=track.start,
                confidence=min(1.0, 1.0 - activity / p.min_activity + 0.5),
                evidence={
                    "track": track.id,
                    "activity": round(activity, 4),
                    "threshold": p.min_activity,
                    "samples": samples,
                    **{k: round(v, 4) for k, v in ranges.items()},
                },
                region=box_at(track, track.start),
            )


def expression_activity(track: FaceTrack) -> tuple[float, dict[str, float], int]:
    """Sum of the 10-90% ranges of the expression measures, the ranges, the sample count."""
    ranges = {}
    samples = 0
    for key in EXPRESSION_KEYS:
        values = np.array([v for v in track.features.get(key, []) if v is not None])
        samples = max(samples, len(values))
        if len(values) >= 2:
            low, high = np.percentile(values, [10, 90])
            ranges[key] = float(high - low)
    return float(sum(ranges.values())), ranges, samples


@dataclass(frozen=True)
class GeometryParams:
    face_height: tuple = param(
        (1.3, 2.5),
        "forehead-to-chin over outer eye-corner distance; near-frontal real and "
        "generated faces on the evaluation set measure 1.6-2.0 (measured)",
    )
    mouth_to_eyes: tuple = param(
        (0.45, 1.2), "mouth centre to eye centre over eye distance; 0.59-0.87 measured"
    )
    eye_width_ratio: float = param(
        0.6,
        "the narrower eye at least this share of the wider one; near-frontal faces "
        "measure 0.85-1.0",
    )
    max_turn: float = param(
        0.15,
        "only near-frontal samples are judged: the nose tip within 0.15 eye distances of "
        "the eyes' midpoint along the eye line (a head turn of roughly 10 degrees); turned "
        "heads foreshorten every proportion",
    )
    min_fraction: float = param(
        0.3,
        "at least this share of a track's landmark samples out of range, and 3 samples: "
        "one odd frame is landmark noise",
    )


@rule(
    "FAC005",
    "face-geometry",
    severity="warning",
    requires=["faces"],
    params=GeometryParams,
    fix=FACE_FIX,
)
def face_geometry(data: RuleInput, p: GeometryParams) -> Iterator[Hit]:
    """Face proportions far outside human ranges.

    What it detects:
        From FaceMesh landmarks on each sampled near-frontal face: face height, mouth-to-eyes
        distance (both in eye-distance units) and the ratio of the two eye widths. A track where
        at least ``min_fraction`` of those samples fall outside the ranges is reported over them.
    Why it matters:
        Stretched, squashed or lopsided faces are a classic generation failure that viewers
        notice at once.
    Known false positives:
        FaceMesh fits a human face model, so it understates distortions: the rule catches gross
        stretching and lopsided eyes, not subtle ones. Stylised characters (cartoon, anime) have
        non-human proportions by design: ignore FAC005 for them.
    Example:
        A track whose near-frontal samples measure a face 2.9 eye distances tall (human faces
        1.6-2.0): ``FAC005 face 0 proportions out of human range in 10 of 12 samples
        (face_height 2.90)``.
    Thresholds:
        ``face_height`` 1.3-2.5, ``mouth_to_eyes`` 0.45-1.2, ``eye_width_ratio`` >= 0.6, on
        samples turned less than ``max_turn`` = 0.15; ``min_fraction`` = 0.3.
    Fix hint:
        Add face-deformation negatives; regenerate with a new seed.
    """
    for track in tracks_of(data):
        features = track.features
        bad_frames, worst, measured = [], {}, 0
        for i, frame in enumerate(track.frames):
            height = features["face_height"][i]
            mouth = features["mouth_to_eyes"][i]
            eyes = features["eye_width_ratio"][i]
            turn = features["nose_offset"][i]
            if height is None or mouth is None or eyes is None or turn is None:
                continue
            if abs(turn) > p.max_turn:
                continue
            measured += 1
            problems = {}
            if not p.face_height[0] <= height <= p.face_height[1]:
                problems["face_height"] = height
            if not p.mouth_to_eyes[0] <= mouth <= p.mouth_to_eyes[1]:
                problems["mouth_to_eyes"] = mouth
            if eyes < p.eye_width_ratio:
                problems["eye_width_ratio"] = eyes
            if problems:
                bad_frames.append(frame)
                worst.update(problems)
        if measured and len(bad_frames) >= 3 and len(bad_frames) >= p.min_fraction * measured:
            detail = ", ".join(f"{k} {v:.2f}" for k, v in worst.items())
            yield Hit(
                bad_frames[0],
                bad_frames[-1],
                f"face {track.id} proportions out of human range in "
                f"{len(bad_frames)} of {measured} samples ({detail})",
                peak=bad_frames[0],
                confidence=min(1.0, len(bad_frames) / measured + 0.3),
                evidence={
                    "track": track.id,
                    "samples": len(bad_frames),
                    "measured": measured,
                    **{k: round(v, 3) for k, v in worst.items()},
                },
                region=box_at(track, bad_frames[0]),
            )


@dataclass(frozen=True)
class BreakdownParams:
    min_novelty: float = param(
        0.3,
        "share of the face's inner pixels in colours new to its first 0.5 s "
        "(analyzers.faces.palette_radius = 3). Measured on the evaluation clips in the "
        "default profile: honest faces at most 0.057 (a talking profile, a woman "
        "reading lifted into blue light; strong expressions and head turns 0.042), food "
        "held to a man's mouth 0.26; a generated boy's melting face 0.13 at frame 24, "
        "0.34 at 28, 0.41-0.73 from 30 (every frame sampled: 0.34 at 28, honest 0.062)",
    )
    min_samples: int = param(
        3,
        "at least 3 sampled frames in a row beyond it (0.3-0.5 s): one odd crop (a hand "
        "passing, a codec glitch) is not a breakdown",
    )
    max_frame_shift: float = param(
        8.0,
        "the frame around the face keeps its mean colour (Lab a*, b*) within this of its "
        "mean over the face's first 0.5 s, or the new colours are the light's: a 40% orange "
        "grade over a whole synthetic clip moves it 20-28 (15%: 6-9, with 0.2-0.27 new face "
        "colours). Measured: a melting boy's park 2.4 while his face melts, a synthetic "
        "melt among moving sprites 5.9, coloured fireworks 6.9, the evaluation clips' other "
        "faces 0.1-10.6 (10.6 is the thin border left around a real woman's "
        "large face)",
    )
    score_drop: float = param(
        0.15,
        "and the detector's confidence in the face falls this far below its first "
        "samples' (median) somewhere in that run, or FaceMesh no longer finds a face on "
        "it: a face lit or partly covered by something new is still a face. Measured: the "
        "melting boy 0.90 -> 0.61 (FaceMesh lost at 34-36); a man with food at his "
        "mouth 0.92 -> 0.85; a 40% orange grade 0.91 -> 0.78",
    )


@rule(
    "FAC006",
    "face-breaks-down",
    severity="error",
    requires=["faces"],
    uses=["temporal", "quality"],  # a face that changes at a cut changed with the shot
    params=BreakdownParams,
    fix=FACE_FIX,
)
def face_breaks_down(data: RuleInput, p: BreakdownParams) -> Iterator[Hit]:
    """A face dissolves into a blob: its colours leave its own palette and it stops being a face.

    What it detects:
        Per face track, the share of the inner face's pixels (cheeks, eyes, nose, mouth) whose
        colour (Lab a*, b*) is new against the face's first samples (``faces.palette_novelty``
        for the main face). A run of ``min_samples`` sampled frames beyond ``min_novelty``,
        while the frame around the face keeps its mean colour (``max_frame_shift``: a light
        change or a grade moves both), is reported when within it the detector's confidence
        falls ``score_drop`` below the face's first samples or FaceMesh no longer finds a face
        there: the colour locates the breakdown, the detector confirms that what is left is no
        longer a face. The span runs to the end of the track when the face never recovers.
    Why it matters:
        A face that melts into a garbled blob mid-shot is one of the most visible failures of
        generated video, and the identity rules miss it: the descriptor of a blob is no one in
        particular, and low detection confidence stops descriptors being taken at all.
    Known false positives:
        Something of a new colour held in front of the face while the face also turns away or is
        half hidden (food, a coloured mask, paint or make-up applied on camera); coloured light
        on the face alone while the head turns to profile. Food held to a mouth measures 0.26
        on a detection score that falls only 0.07 and is not reported. Missed: a face that
        breaks down in its own colours (a smear or blur that keeps the palette), a face broken
        from its first samples (the anchor is already broken), a breakdown while the whole
        frame's colour moves (a pan into differently coloured surroundings).
    Example:
        A generated boy on a bench, whose face turns into an orange garbled blob:
        ``FAC006 face 0 breaks down from frame 28 (73% new colours > 30%; detection score 0.90
        -> 0.61)``.
    Thresholds:
        ``min_novelty`` = 0.3 with ``analyzers.faces.palette_radius`` = 3 Lab units and the
        samples of the track's first ``analyzers.faces.palette_anchor_s`` = 0.5 s as the anchor;
        ``min_samples`` = 3; ``max_frame_shift`` = 8; ``score_drop`` = 0.15.
    Fix hint:
        Regenerate with a new seed and face-deformation negatives; shorten the clip or keep the
        part before the breakdown.
    """
    anchor_s = data.output(FacesOutput).palette_anchor_s
    cuts = cut_frames(data)
    for track in tracks_of(data):
        novelty, shift = track.palette_novelty, track.frame_colour_shift
        if not novelty:
            continue  # not followed past its palette anchor
        start_s = time_of(data, track.start)
        anchor_score = float(
            np.median(
                [
                    score
                    for frame, score in zip(track.frames, track.scores, strict=True)
                    if time_of(data, frame) - start_s < anchor_s or frame == track.start
                ]
            )
        )
        lost = [v is None for v in track.features["nose_offset"]]
        landmarks_measured = not all(lost)
        departed = [
            new > p.min_novelty
            and moved <= p.max_frame_shift
            and not across_a_cut(cuts, track.start, frame)
            for new, moved, frame in zip(novelty, shift, track.frames, strict=True)
        ]
        for first, last in runs(departed):
            if last - first + 1 < p.min_samples:
                continue
            lowest = min(track.scores[first : last + 1])
            mesh_lost = landmarks_measured and any(lost[first : last + 1])
            if anchor_score - lowest < p.score_drop and not mesh_lost:
                continue
            frames = track.frames
            peak_i = first + int(np.argmax(novelty[first : last + 1]))
            end = track.end if last == len(frames) - 1 else frames[last]
            worst = novelty[peak_i]
            yield Hit(
                frames[first],
                end,
                f"face {track.id} breaks down from frame {frames[first]} "
                f"({worst:.0%} new colours > {p.min_novelty:.0%}; detection score "
                f"{anchor_score:.2f} -> {lowest:.2f})",
                peak=frames[peak_i],
                confidence=min(1.0, 0.5 + (worst - p.min_novelty)),
                evidence={
                    "track": track.id,
                    "novelty": round(worst, 3),
                    "threshold": p.min_novelty,
                    "samples": last - first + 1,
                    "frame_colour_shift": round(max(shift[first : last + 1]), 2),
                    "anchor_score": round(anchor_score, 3),
                    "lowest_score": round(lowest, 3),
                    "landmarks_lost": mesh_lost,
                },
                region=box_at(track, frames[peak_i]),
            )
