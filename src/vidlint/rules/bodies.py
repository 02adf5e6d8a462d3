"""BOD: limbs that stretch, knees that bend the wrong way, limbs that vanish and come back.

The rules read the bodies analyzer's output (:class:`~vidlint.analyzers.bodies.BodiesOutput`):
per person track its sampled frames, MediaPipe Pose's image landmarks, the joints the
picture itself carried from the previous sample, and each limb's share inside the person mask.
MediaPipe draws a whole skeleton wherever it believes a body is, so no rule trusts the landmarks
alone: each asks a second, independent measurement to agree (docs/bodies.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vidlint.analyzers.bodies import (
    CARRIED_JOINTS,
    L_EAR,
    L_HIP,
    L_SHOULDER,
    MASK_AREA,
    NOSE,
    R_EAR,
    R_HIP,
    R_SHOULDER,
    SEGMENTS,
    BodiesOutput,
    BodyTrack,
)
from vidlint.report.model import Region
from vidlint.rules.base import Fix, Hit, RuleInput, family, rule, runs
from vidlint.rules.temporal import cut_frames, explained_frames, tmp003_flashes
from vidlint.settings import param

family("BOD", "bodies")

BODY_FIX = Fix(
    negative_prompt=(
        "extra limbs",
        "three legs",
        "malformed limbs",
        "deformed body",
        "disfigured",
        "floating",
    ),
    prompt=("natural body proportions", "slow, simple movement"),
    params={"motion_strength": 0.6},
    why="bodies: Wan's default anatomy negatives (malformed limbs, three legs, disfigured); "
    "slower, simpler motion gives the model fewer poses to get wrong (research, sec. 5)",
)


def pixels(track: BodyTrack, sample: int, size: tuple[int, int]) -> np.ndarray:
    """The sample's 33 landmarks as pixel x, y and visibility."""
    points = np.asarray(track.landmarks[sample], np.float64)
    return points * np.array([size[0], size[1], 1.0])


def torso_length(points: np.ndarray) -> float:
    """Pixels from the shoulders' middle to the hips' middle."""
    top = points[[L_SHOULDER, R_SHOULDER], :2].mean(axis=0)
    bottom = points[[L_HIP, R_HIP], :2].mean(axis=0)
    return float(np.linalg.norm(top - bottom))


def torso_seen(points: np.ndarray, visibility: float) -> bool:
    return bool(points[[L_SHOULDER, R_SHOULDER, L_HIP, R_HIP], 2].min() >= visibility)


def neighbours(track: BodyTrack, stride: int) -> Iterator[int]:
    """Samples of ``track`` whose previous sample is the clip's previous sample."""
    for i in range(1, len(track.frames)):
        if track.frames[i] - track.frames[i - 1] <= stride:
            yield i


def left_alone(data: RuleInput) -> np.ndarray:
    """Per frame, whether it belongs to another rule: black, flat or garbage frames (TMP004,
    TMP005), the first frame of a new shot (TMP003) and flashed frames (FLK002's)."""
    mask = explained_frames(data.signals).copy()
    for cut in cut_frames(data):
        mask[cut] = True
    return mask | tmp003_flashes(data.signals, FLASH_CHANGE)  # from a smaller step


FLASH_CHANGE = 10 / 255
"""A flash for the BOD rules starts from a step of 10 gray levels (TMP003's from 25.5): the
person mask shrinks under even a small light (a forearm's share of it fell from 1.0 to 0.08 on
a flashed frame), which is not a limb gone."""


def limb_region(points: np.ndarray, a: int, b: int, size: tuple[int, int]) -> Region | None:
    """The box around a segment, padded by a third of its length."""
    ends = points[[a, b], :2]
    pad = 0.33 * float(np.linalg.norm(ends[0] - ends[1])) + 4
    lo, hi = ends.min(axis=0) - pad, ends.max(axis=0) + pad
    w, h = size
    return Region.of_box([lo[0] / w, lo[1] / h, (hi[0] - lo[0]) / w, (hi[1] - lo[1]) / h])


# -- BOD001 -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StretchParams:
    min_visibility: float = param(
        0.7,
        "both ends of the segment and the body's reference (torso or shoulders) at MediaPipe "
        "visibility 0.7 or more on both samples: a wrist in plain view reads 0.70-0.85 on a "
        "generated dancer (measured), so 0.8 would leave most forearms out",
        bounds=(0.0, 1.0),
    )
    min_step: float = param(
        0.25,
        "the segment's length in the picture grows by 28% or more (log 0.25) from the "
        "previous sample; MediaPipe's clean neighbouring-sample jumps reach that often, so "
        "this only opens the case (docs/bodies.md)",
        bounds=(0.0, 5.0),
    )
    beyond_range: float = param(
        1.2,
        "and the segment over the body's reference is 1.2x longer than it usually is at its "
        "longest on the track (its 75th percentile): foreshortening only shortens a limb, so a "
        "limb longer than its own full length is not a limb turning towards the camera. "
        "Leaving the stretch itself out of the percentile found one more stretch and gave "
        "false ones on a child's swinging thighs and a dancer (measured)",
        bounds=(1.0, 5.0),
    )
    min_samples: int = param(
        6,
        "the track must show the segment on 6 samples or more, so that its usual length is known",
        bounds=(2, 1000),
    )
    body_still: float = param(
        0.2,
        "the rest of the skeleton holds meanwhile: the other segments' lengths and the "
        "reference length change by a median of 22% (log 0.2) or less. A pose model that "
        "loses the person redraws every limb at once (a figure turning into sand, measured: "
        "four limbs 'stretched' 1.8-2.8x in one step); a stretched limb changes alone",
        bounds=(0.0, 5.0),
    )
    picture_agree: float = param(
        0.5,
        "where the picture carried both joints from the previous sample (Lucas-Kanade), the "
        "carried segment must show at least half the growth too: landmarks that jump while "
        "the picture holds are the model's noise",
        bounds=(0.0, 1.0),
    )
    error_step: float = param(
        0.4,
        "a growth of 50% (log 0.4) that the picture confirms is an error; less, or with the "
        "picture's joints lost, a warning",
        bounds=(0.0, 5.0),
    )


@rule(
    "BOD001",
    "limb-length-jump",
    severity="error",
    requires=["bodies"],
    uses=["temporal", "quality"],
    params=StretchParams,
    fix=BODY_FIX,
)
def limb_length_jump(data: RuleInput, p: StretchParams) -> Iterator[Hit]:
    """A limb suddenly grows longer than it can be.

    What it detects:
        An upper arm, forearm, thigh or shin whose length in the picture jumps between two
        neighbouring pose samples to more than the person's own full length of that limb:
        over the longer of the torso and the shoulders' width (the shoulders' width alone
        where the hips are out of view), against
        its usual longest on the track. Foreshortening only ever shortens a limb, so a limb
        longer than its own full length did not turn towards the camera. Where the picture
        itself carried the limb's joints from the previous sample (optical flow), it must
        show the growth too: landmark noise moves the skeleton, not the picture. MediaPipe's
        3-D world landmarks are no help: the model keeps a limb's 3-D length even while the
        picture stretches it (measured).
    Why it matters:
        Generators stretch arms and legs like rubber between frames; viewers see it at once,
        and a publisher rejects the clip.
    Known false positives:
        A person coming quickly towards the camera (every limb grows; the torso reference
        grows with it, so only a fast approach of a limb alone, such as a punch at the lens,
        reads as a stretch). Limbs whose ends the pose model cannot see well are left out.
        A limb that shrinks is not judged: foreshortening shrinks limbs all the time.
    Example:
        ``BOD001 right forearm 1.4x longer from frame 14 to 16 (0.70 of the body's reference
        length; usually at most 0.54)``.
    Thresholds:
        ``min_step`` = 0.25 (log), ``beyond_range`` = 1.2, ``picture_agree`` = 0.5 of the
        growth, ``error_step`` = 0.4; docs/bodies.md has the clean clips' figures.
    Fix hint:
        Anatomy negatives, slower and simpler movement, a new seed.
    """
    bodies = data.output(BodiesOutput)
    size, stride = bodies.size, bodies.stride
    alone = left_alone(data)
    for track in bodies.tracks:
        samples = [pixels(track, i, size) for i in range(len(track.frames))]
        scale = _reference(samples, p.min_visibility)
        for name, (a, b) in SEGMENTS.items():
            ratio = [_ratio(points, a, b, p.min_visibility, scale) for points in samples]
            after = -1
            for i in neighbours(track, stride):
                if i <= after or math.isnan(ratio[i]) or math.isnan(ratio[i - 1]):
                    continue
                if alone[track.frames[i - 1] + 1 : track.frames[i] + 1].any():
                    continue
                evidence = _stretch(track, samples, i, a, b, ratio, size, p)
                if evidence is None:
                    continue
                after = _stretched_until(ratio, i, p.min_step / 2)
                yield _stretch_hit(track, name, (a, b), samples[i], i, after, evidence, size, p)


def _stretched_until(ratio: list[float], onset: int, margin: float) -> int:
    """The last sample from ``onset`` on where the segment is still longer than before it by
    ``margin`` (log)."""
    floor = ratio[onset - 1] * math.exp(margin)
    last = onset
    while last + 1 < len(ratio) and not math.isnan(ratio[last + 1]) and ratio[last + 1] >= floor:
        last += 1
    return last


def _reference(samples: list[np.ndarray], visibility: float) -> tuple[int, ...]:
    """The landmarks that measure the body on this track: the torso (shoulders' middle to
    hips' middle) or the shoulders' width, whichever is longer, where the hips are in view on
    half the samples or more; else the shoulders' width alone (a person seen from the waist
    up). A person who crouches or bends towards the camera shortens the torso, one who turns
    sideways the shoulders."""
    hips = sum(bool(q[[L_HIP, R_HIP], 2].min() >= visibility) for q in samples)
    return TORSO if hips >= len(samples) / 2 else SHOULDERS


TORSO = (L_SHOULDER, R_SHOULDER, L_HIP, R_HIP)
SHOULDERS = (L_SHOULDER, R_SHOULDER)


def _ratio(points: np.ndarray, a: int, b: int, visibility: float, scale: tuple[int, ...]) -> float:
    """Segment over the body's reference length in the picture; NaN where an end or the
    reference is unsure."""
    if min(points[a, 2], points[b, 2]) < visibility or points[list(scale), 2].min() < visibility:
        return math.nan
    reference = float(np.linalg.norm(points[L_SHOULDER, :2] - points[R_SHOULDER, :2]))
    if scale == TORSO:  # the longer of the two: each foreshortens in poses the other does not
        reference = max(reference, torso_length(points))
    if reference < 8.0:
        return math.nan
    return float(np.linalg.norm(points[a, :2] - points[b, :2])) / reference


def _stretch(
    track: BodyTrack,
    samples: list[np.ndarray],
    i: int,
    a: int,
    b: int,
    ratio: list[float],
    size: tuple[int, int],
    p: StretchParams,
) -> dict | None:
    """The evidence that segment (a, b) stretched from sample i-1 to sample i, or None."""
    step = math.log(ratio[i] / ratio[i - 1])
    if step < p.min_step:
        return None
    known = [r for r in ratio if not math.isnan(r)]
    if len(known) < p.min_samples:
        return None
    full = float(np.percentile(known, 75))
    if ratio[i] < p.beyond_range * full:
        return None
    if _skeleton_change(samples[i - 1], samples[i], (a, b), p.min_visibility) > p.body_still:
        return None
    picture_step = _carried_step(track, samples, i, a, b, size)
    if picture_step is not None and picture_step < p.picture_agree * step:
        return None
    return {
        "step": round(step, 3),
        "ratio": round(ratio[i], 3),
        "ratio_usual": round(full, 3),
        "picture_step": None if picture_step is None else round(picture_step, 3),
    }


def _skeleton_change(
    before: np.ndarray, now: np.ndarray, segment: tuple[int, int], visibility: float
) -> float:
    """Median |log| change in length of every other segment seen on both samples, and of the
    torso and the shoulders' width; infinite where fewer than three are seen."""
    pairs = [ends for ends in SEGMENTS.values() if ends != segment]
    pairs += [(L_SHOULDER, R_SHOULDER), (L_SHOULDER, L_HIP), (R_SHOULDER, R_HIP)]
    changes = []
    for a, b in pairs:
        if min(before[[a, b], 2].min(), now[[a, b], 2].min()) < visibility:
            continue
        first = float(np.linalg.norm(before[a, :2] - before[b, :2]))
        second = float(np.linalg.norm(now[a, :2] - now[b, :2]))
        if min(first, second) >= 4.0:
            changes.append(abs(math.log(second / first)))
    return float(np.median(changes)) if len(changes) >= 3 else math.inf


def _carried_step(
    track: BodyTrack, samples: list[np.ndarray], i: int, a: int, b: int, size: tuple[int, int]
) -> float | None:
    """Log growth of segment (a, b) from sample i-1 to where the picture carried its joints at
    sample i; None where either joint was lost."""
    carried = track.carried[i]
    if carried is None:
        return None
    ca, cb = carried[CARRIED_JOINTS.index(a)], carried[CARRIED_JOINTS.index(b)]
    if ca is None or cb is None:
        return None
    before = samples[i - 1]
    length_before = float(np.linalg.norm(before[a, :2] - before[b, :2]))
    length_carried = float(np.linalg.norm((np.asarray(ca) - np.asarray(cb)) * np.asarray(size)))
    if length_before < 1.0 or length_carried < 1.0:
        return None
    return math.log(length_carried / length_before)


def _stretch_hit(
    track: BodyTrack,
    name: str,
    ends: tuple[int, int],
    points: np.ndarray,
    onset: int,
    last: int,
    evidence: dict,
    size: tuple[int, int],
    p: StretchParams,
) -> Hit:
    confirmed = evidence["picture_step"] is not None
    severity = "error" if confirmed and evidence["step"] >= p.error_step else "warning"
    start, end = track.frames[onset], track.frames[last]
    return Hit(
        start,
        end,
        f"{name} {math.exp(evidence['step']):.1f}x longer from frame {start} to {end} "
        f"({evidence['ratio']:.2f} of the body's reference length; usually at most "
        f"{evidence['ratio_usual']:.2f})",
        peak=start,
        confidence=min(1.0, evidence["step"] / (2 * p.min_step)),
        region=limb_region(points, *ends, size),
        evidence={
            **evidence,
            "segment": name,
            "track": track.id,
            "confirmed_by_picture": confirmed,
        },
        severity=severity,
    )


# -- BOD002 -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KneeParams:
    min_visibility: float = param(
        0.7, "hip, knee and ankle at MediaPipe visibility 0.7 or more", bounds=(0.0, 1.0)
    )
    min_bend: float = param(
        25.0,
        "the knee is bent by 25 degrees or more in the picture (a straight leg has no "
        "direction to bend in; the landmarks' own wobble bends a straight leg by up to "
        "10-15 degrees)",
        bounds=(0.0, 180.0),
    )
    min_offset: float = param(
        0.15,
        "the knee stands off the hip-ankle line by 15% of the thigh or more, on the side "
        "the person does not face",
        bounds=(0.0, 5.0),
    )
    min_profile: float = param(
        0.6,
        "the person is seen from the side: the nose is off the ears' middle by 60% of the "
        "ears' distance or more (seen from the front, which way the knee points is depth, "
        "which one picture does not show)",
        bounds=(0.0, 10.0),
    )
    min_samples: int = param(
        2,
        "held for 2 samples or more (the issue's range-of-motion rule): one sample is as "
        "likely a landmark that swapped legs",
        bounds=(1, 100),
    )


@rule(
    "BOD002",
    "knee-bends-backwards",
    severity="error",
    requires=["bodies"],
    uses=["temporal", "quality"],
    params=KneeParams,
    fix=BODY_FIX,
)
def knee_bends_backwards(data: RuleInput, p: KneeParams) -> Iterator[Hit]:
    """A knee bends the wrong way.

    What it detects:
        A person seen from the side, upright, whose knee is clearly bent with the knee on
        the side of the hip-ankle line the person does not face (the face's direction: nose
        against ears), for ``min_samples`` pose samples or more. Knee flexion always brings
        the knee forward of the hip-ankle line; hyperextension beyond a few degrees is not a
        human range of motion (Winter's joint ranges).
    Why it matters:
        Backward knees are one of the anatomy errors generators make on walking and dancing
        people; a viewer sees a broken leg.
    Known false positives:
        A person who looks back over the shoulder while stepping (the face then points
        backwards): the other foot's toes must agree with the face where they are seen.
        Elbows are not judged: which way an elbow may bend depends on how the upper arm is
        turned, which the landmarks do not show.
    Example:
        ``BOD002 left knee bends backwards (38 degrees) from frame 12 to 20``.
    Thresholds:
        ``min_bend`` = 25 degrees, ``min_offset`` = 0.15 thigh, ``min_profile`` = 0.6,
        ``min_samples`` = 2.
    Fix hint:
        Anatomy negatives, slower and simpler movement, a new seed.
    """
    bodies = data.output(BodiesOutput)
    size = bodies.size
    alone = left_alone(data)
    for track in bodies.tracks:
        samples = [pixels(track, i, size) for i in range(len(track.frames))]
        for side, (hip, knee, ankle, other_heel, other_toe) in LEGS.items():
            bends = [
                None
                if alone[track.frames[i]]
                else _backward_bend(points, hip, knee, ankle, other_heel, other_toe, p)
                for i, points in enumerate(samples)
            ]
            for first, last in runs([b is not None for b in bends]):
                if last - first + 1 < p.min_samples:
                    continue
                peak = max(range(first, last + 1), key=lambda k: bends[k] or 0.0)
                start, end = track.frames[first], track.frames[last]
                yield Hit(
                    start,
                    end,
                    f"{side} knee bends backwards ({bends[peak]:.0f} degrees) "
                    f"from frame {start} to {end}",
                    peak=track.frames[peak],
                    region=limb_region(samples[peak], hip, ankle, size),
                    evidence={
                        "bend_degrees": round(float(bends[peak] or 0.0), 1),
                        "samples": last - first + 1,
                        "track": track.id,
                    },
                )


LEGS = {
    "left": (23, 25, 27, 30, 32),
    "right": (24, 26, 28, 29, 31),
}
"""Per leg: hip, knee, ankle, then the other foot's heel and toe (its direction confirms the
face's)."""


def _backward_bend(
    points: np.ndarray,
    hip: int,
    knee: int,
    ankle: int,
    other_heel: int,
    other_toe: int,
    p: KneeParams,
) -> float | None:
    """The knee's bend in degrees if it bends backwards on this sample, else None."""
    if points[[hip, knee, ankle], 2].min() < p.min_visibility:
        return None
    if points[[NOSE, L_EAR, R_EAR], 2].min() < 0.5:
        return None
    ears_mid = (points[L_EAR, 0] + points[R_EAR, 0]) / 2
    facing = points[NOSE, 0] - ears_mid
    ears_apart = abs(points[L_EAR, 0] - points[R_EAR, 0])
    if abs(facing) < p.min_profile * max(ears_apart, 1.0):
        return None
    forward = math.copysign(1.0, facing)
    if points[[other_heel, other_toe], 2].min() >= 0.5:
        toes = points[other_toe, 0] - points[other_heel, 0]
        if abs(toes) > 2.0 and math.copysign(1.0, toes) != forward:
            return None  # the face and the other foot disagree on which way is forward
    shoulders_y = points[[L_SHOULDER, R_SHOULDER], 1].mean()
    if not shoulders_y < points[hip, 1] < points[ankle, 1]:
        return None  # not upright
    thigh = points[hip, :2] - points[knee, :2]
    shin = points[ankle, :2] - points[knee, :2]
    cos = float(thigh @ shin / max(np.linalg.norm(thigh) * np.linalg.norm(shin), 1e-9))
    bend = 180.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos))))
    if bend < p.min_bend:
        return None
    line = points[ankle, :2] - points[hip, :2]
    t = float((points[knee, :2] - points[hip, :2]) @ line / max(line @ line, 1e-9))
    offset = points[knee, 0] - (points[hip, 0] + t * line[0])
    if offset * forward >= 0 or abs(offset) < p.min_offset * float(np.linalg.norm(thigh)):
        return None
    return bend


# -- BOD003 -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VanishParams:
    min_visibility: float = param(
        0.7,
        "the limb's ends at MediaPipe visibility 0.7 or more on the samples around the gap",
        bounds=(0.0, 1.0),
    )
    present: float = param(
        0.75,
        "before and after the gap, 75% or more of the limb's line lies inside the person "
        "mask (clean limbs in view read 0.67-1.0 on a generated dancer, measured)",
        bounds=(0.0, 1.0),
    )
    gone: float = param(
        0.2,
        "during the gap, 20% or less of where the landmarks put the limb is person: the "
        "pose model still draws the limb, the separate segmentation model finds none",
        bounds=(0.0, 1.0),
    )
    max_gap_s: float = param(
        0.75,
        "the limb is back within 0.75 s: a limb that stays away was more likely covered "
        "or left the picture",
        bounds=(0.0, 10.0),
    )
    max_drift: float = param(
        0.35,
        "during the gap the pose model keeps the limb within 0.35 torso lengths of its path "
        "from the sample before to the sample after: a landmark that jumps off the limb "
        "(it swapped legs in a spin of a generated dancer, measured) leaves the mask "
        "because it is wrong, not because the limb is gone",
        bounds=(0.0, 10.0),
    )
    error_samples: int = param(
        2,
        "an error where the limb is gone on 2 samples or more; gone on one sample it is a "
        "warning: the segmentation of one frame is doubt (a dancer's shin left the mask for "
        "one sample of a grainy copy while the picture shows it, measured)",
        bounds=(1, 1000),
    )
    min_area_kept: float = param(
        0.75,
        "the person mask keeps 75% of its area during the gap: a forearm is 3-8% of a "
        "person, and a mask that loses more has lost the person, not the limb (a figure "
        "turning into sand, measured)",
        bounds=(0.0, 1.0),
    )


@rule(
    "BOD003",
    "limb-vanishes",
    severity="error",
    requires=["bodies"],
    uses=["temporal", "quality"],
    params=VanishParams,
    fix=BODY_FIX,
)
def limb_vanishes(data: RuleInput, p: VanishParams) -> Iterator[Hit]:
    """A limb vanishes from the picture for a moment and comes back.

    What it detects:
        A forearm or shin that lies inside the person mask on the samples before and after a
        gap of at most ``max_gap_s``, and outside it during the gap, while the person's flanks
        stay inside the mask (the mask still finds the person) and the limb stays inside the
        picture. The person mask comes from a segmentation model separate from the pose
        model, which keeps drawing the limb where a body would have it.
    Why it matters:
        Generators drop a limb for a few frames and bring it back; the clip flickers between
        an intact and a maimed body.
    Known false positives:
        A limb passing behind an object or another body part for a moment (the mask then
        loses it too); a limb blurred by fast motion, which the segmentation can miss.
    Example:
        ``BOD003 left forearm gone from frame 9 to 11 (mask 0.05; 0.92 before, 1.00 after)``.
    Thresholds:
        ``present`` = 0.75 and ``gone`` = 0.2 of the limb's line in the person mask,
        ``max_gap_s`` = 0.75; an error on ``error_samples`` = 2 samples or more, a warning on
        one. Flashed frames (10 gray levels off their neighbours) are not judged.
    Fix hint:
        Anatomy negatives, slower and simpler movement, a new seed.
    """
    bodies = data.output(BodiesOutput)
    size = bodies.size
    fps = data.clip.fps if data.clip is not None and data.clip.fps else 24.0
    area = data.signals[MASK_AREA]
    alone = left_alone(data)
    for track in bodies.tracks:
        samples = [pixels(track, i, size) for i in range(len(track.frames))]
        frames = track.frames
        for name in ("left forearm", "right forearm", "left shin", "right shin"):
            a, b = SEGMENTS[name]
            share = [m.get(name) for m in track.limb_mask]
            gone = [
                s is not None and s <= p.gone and _person_found(m, p.present)
                for s, m in zip(share, track.limb_mask, strict=True)
            ]
            for first, last in runs(gone):
                before, after = first - 1, last + 1
                if before < 0 or after >= len(share):
                    continue
                if any((share[k] or 0.0) < p.present for k in (before, after)):
                    continue
                if any(samples[k][[a, b], 2].min() < p.min_visibility for k in (before, after)):
                    continue
                if (frames[after] - frames[before]) / fps > p.max_gap_s + 1e-9:
                    continue
                if alone[frames[before] : frames[after] + 1].any():
                    continue
                gap = range(first, last + 1)
                kept = min(area[frames[before]], area[frames[after]]) * p.min_area_kept
                if any(area[frames[k]] < kept for k in gap):
                    continue  # the mask lost the person, not the limb
                if any(
                    _drift(samples, frames, before, after, k, (a, b)) > p.max_drift for k in gap
                ):
                    continue  # the landmarks left the limb: they are wrong, not the limb gone
                low = min(share[k] or 0.0 for k in gap)
                start, end = frames[first], frames[last]
                yield Hit(
                    start,
                    end,
                    f"{name} gone from frame {start} to {end} (mask {low:.2f}; "
                    f"{share[before]:.2f} before, {share[after]:.2f} after)",
                    peak=start,
                    region=limb_region(samples[first], a, b, size),
                    evidence={
                        "limb": name,
                        "mask_share_gone": round(low, 3),
                        "mask_share_before": share[before],
                        "mask_share_after": share[after],
                        "track": track.id,
                    },
                    severity=None if len(gap) >= p.error_samples else "warning",
                )


def _person_found(shares: dict[str, float | None], present: float) -> bool:
    """The person mask holds both flanks: it found the person on this sample."""
    return min(shares.get("left flank") or 0.0, shares.get("right flank") or 0.0) >= present


def _drift(
    samples: list[np.ndarray],
    frames: list[int],
    before: int,
    after: int,
    k: int,
    joints: tuple[int, int],
) -> float:
    """How far (in torso lengths) sample k's joints are from the straight path between the
    samples ``before`` and ``after``."""
    t = (frames[k] - frames[before]) / max(1, frames[after] - frames[before])
    path = (1 - t) * samples[before][list(joints), :2] + t * samples[after][list(joints), :2]
    off = float(np.linalg.norm(samples[k][list(joints), :2] - path, axis=1).max())
    torso = max(torso_length(samples[before]), torso_length(samples[after]), 8.0)
    return off / torso
