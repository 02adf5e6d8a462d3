"""REF: image-to-video output that stops looking like its source image.

Needs a reference (``--reference IMAGE`` or a ``<clip>_source.png|jpg`` sidecar); without one the
``reference`` analyzer does not run and these rules stay silent. The per-frame curves
``reference.ssim`` and ``reference.color_delta`` are in every i2v report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vidlint.analyzers.base import param
from vidlint.analyzers.reference import COLOR, SSIM
from vidlint.report.model import Region
from vidlint.rules.base import Hit, RuleInput, rule, runs
from vidlint.rules.faces import DLIB_SAME_PERSON, tracks_of

REFERENCE_FIX = {"params": {"reference_strength": "increase", "motion_strength": "decrease",
                            "duration_s": "shorter"},
                 "prompt_add": ["subtle motion"]}


@dataclass(frozen=True)
class FirstFrameParams:
    min_ssim: float = param(
        0.6, "SSIM at 64 px between the first frame and the fitted source. Generators that "
             "start from the source give 0.82-1.0 on the evaluation set; those that re-imagine "
             "it (VideoCrafter1, DynamiCrafter 256, AniPortrait reenactment) 0.25-0.43 "
             "(measured)")
    max_color_delta: float = param(
        10.0, "mean CIE76 colour difference of 8x8 Lab cell means. 2.3 is a just noticeable "
              "difference; 10 is a plainly different grade (the evaluation set's faithful "
              "starts measure 0.4-7.1)")


@rule("REF001", "first-frame-departs", severity="warning", requires=["reference"],
      params=FirstFrameParams, fix=REFERENCE_FIX)
def first_frame_departs(data: RuleInput, p: FirstFrameParams) -> Iterator[Hit]:
    """The first frame of an image-to-video clip does not reproduce the source image.

    What it detects:
        Structure (SSIM of small gray pictures) or colour (mean Lab difference over an 8x8
        grid) of frame 0 against the source image, fitted to the frame by stretching or
        centre-cropping (whichever matches better).
    Why it matters:
        Image-to-video must "preserve the visual identity of your source"; a clip that starts
        somewhere else has already lost it, and cannot be cut into the shot it should continue.
    Known false positives:
        Generators that only take the image as a loose condition (re-imagined framing by
        design), reenactment models that take the pose from a driving video, sources with a
        different aspect ratio that the generator letterboxed.
    Example:
        VideoCrafter1's horse clip: ``REF001 first frame departs from the source (SSIM 0.25 <
        0.6, colour difference 13.6)``.
    Thresholds:
        ``min_ssim`` = 0.6, ``max_color_delta`` = 10 (CIE76).
    Fix hint:
        Raise the image conditioning strength, lower the motion strength; check that the
        source has the output's aspect ratio.
    """
    s = data.signals
    ssim0, color0 = float(s[SSIM][0]), float(s[COLOR][0])
    reasons = []
    if ssim0 < p.min_ssim:
        reasons.append(f"SSIM {ssim0:.2f} < {p.min_ssim}")
    if color0 > p.max_color_delta:
        reasons.append(f"colour difference {color0:.1f} > {p.max_color_delta}")
    if reasons:
        badness = max((p.min_ssim - ssim0) / p.min_ssim, (color0 - p.max_color_delta) / 10)
        yield Hit(0, 0, "first frame departs from the source image (" + ", ".join(reasons) + ")",
                  confidence=min(1.0, 0.5 + badness),
                  evidence={"ssim": round(ssim0, 3), "min_ssim": p.min_ssim,
                            "color_delta": round(color0, 2),
                            "max_color_delta": p.max_color_delta,
                            "fit": s.meta.get("reference", {}).get("fit")})


@dataclass(frozen=True)
class SourceFaceParams:
    same_person: float = param(
        DLIB_SAME_PERSON, "dlib's same-person distance (0.6, dlib.net); faithful i2v faces "
        "measure 0.2-0.45 from their source on the evaluation set")
    min_samples: int = param(2, "descriptors beyond the threshold in a row before it counts")


@rule("REF002", "subject-identity-departs", severity="error", requires=["faces", "reference"],
      params=SourceFaceParams, fix=REFERENCE_FIX)
def subject_identity_departs(data: RuleInput, p: SourceFaceParams) -> Iterator[Hit]:
    """The subject's face is no longer the person in the source image.

    What it detects:
        The dlib descriptor of the source image's face against every descriptor of the clip's
        face tracks. The subject is the track closest to the source over its first descriptors;
        a run of ``min_samples`` descriptors beyond the same-person threshold is reported.
    Why it matters:
        "The subject looks like your subject" is the point of image-to-video; a different face
        fails the job even when the motion is perfect.
    Known false positives:
        Source faces smaller than 48 px (no descriptor, the rule stays silent), profile views,
        and stylised (cartoon) faces, where dlib's descriptor is less reliable.
    Example:
        PIA's guitar clip, whose painted face becomes a different photographic one:
        ``REF002 subject's face departs from the source image from frame 4 (distance 0.71 >
        0.6)``.
    Thresholds:
        ``same_person`` = 0.6 (dlib), ``min_samples`` = 2.
    Fix hint:
        Stronger reference conditioning, a sharper and larger face in the source, shorter
        duration, subtler motion prompt.
    """
    source = data.signals.meta.get("reference", {}).get("face_descriptor")
    if source is None:
        return
    source = np.asarray(source, np.float32)
    best = None
    for track in tracks_of(data):
        if not track["descriptors"]:
            continue
        distances = np.linalg.norm(np.asarray(track["descriptors"], np.float32) - source, axis=1)
        opening = float(np.mean(distances[:2]))
        if best is None or opening < best[0]:
            best = (opening, track, distances)
    if best is None:
        return
    _, track, distances = best
    frames = track["descriptor_frames"]
    over = distances > p.same_person
    index = 0
    while index < len(over):
        if not over[index]:
            index += 1
            continue
        stop = index
        while stop + 1 < len(over) and over[stop + 1]:
            stop += 1
        if stop - index + 1 >= p.min_samples:
            peak = index + int(np.argmax(distances[index:stop + 1]))
            end = track["end"] if stop == len(over) - 1 else frames[stop]
            worst = float(distances[peak])
            position = track["frames"].index(frames[peak])
            yield Hit(frames[index], end,
                      f"subject's face departs from the source image from frame "
                      f"{frames[index]} (distance {worst:.2f} > {p.same_person})",
                      peak=frames[peak],
                      confidence=min(1.0, 0.5 + (worst - p.same_person) / 0.3),
                      evidence={"track": track["id"], "distance": round(worst, 3),
                                "threshold": p.same_person, "samples": stop - index + 1},
                      region=Region.of_box(track["boxes"][position]))
        index = stop + 1


@dataclass(frozen=True)
class DecayParams:
    min_ssim: float = param(
        0.35, "SSIM at 64 px with the source below which the frame no longer shows the source's "
              "layout. Hair and petals blowing over a still subject end at 0.37; a camera "
              "orbiting away from the subject falls to 0.28 (evaluation set, measured: a thin "
              "gap, few decaying clips to calibrate on)")
    max_color_delta: float = param(
        15.0, "mean CIE76 difference of 8x8 Lab cells above which the colours have drifted "
              "away (fireworks bursting behind a face reach 15; a re-graded clip 17-27)")
    min_duration_s: float = param(
        0.5, "the fall must last this long: a flash or a hand passing is not decay")


@rule("REF003", "fidelity-decays", severity="warning", requires=["reference"],
      params=DecayParams, fix=REFERENCE_FIX)
def fidelity_decays(data: RuleInput, p: DecayParams) -> Iterator[Hit]:
    """The clip starts like the source image and drifts away from it.

    What it detects:
        The per-frame similarity curve (``reference.ssim``, ``reference.color_delta``) falling
        below its floor for at least ``min_duration_s`` after a first frame that was within
        limits. Reports the frame where it falls and the curve's values there and at the end.
    Why it matters:
        Long i2v clips lose the source gradually: the face, the palette, then the scene. The
        frame where fidelity is lost is where to trim, or how long to ask for next time.
    Known false positives:
        Large camera moves (orbits, pans away) and prompted scene changes (fireworks, a
        transition) lower the similarity by design: ignore REF003 for such jobs.
    Example:
        PIA's guitar clip, repainted from frame 3: ``REF003 fidelity to the source lost from
        frame 3 (SSIM 0.44, colour difference 16.0; at frame 15: 0.44, 17.5)``.
    Thresholds:
        ``min_ssim`` = 0.35, ``max_color_delta`` = 15, ``min_duration_s`` = 0.5.
    Fix hint:
        Shorter duration, subtler motion prompt, stronger reference conditioning; keep the
        frames before the reported one.
    """
    s = data.signals
    ssim, color = np.nan_to_num(s[SSIM], nan=1.0), np.nan_to_num(s[COLOR], nan=0.0)
    if ssim[0] < FirstFrameParams().min_ssim or color[0] > FirstFrameParams().max_color_delta:
        return  # REF001 already says the clip never matched its source
    lost = (ssim < p.min_ssim) | (color > p.max_color_delta)
    needed = s.frames(p.min_duration_s)
    for start, end in runs(lost):
        if end - start + 1 < needed and not (end == s.n - 1 and end > start):
            continue  # too short, unless it lasts to the end of a short clip
        worst = start + int(np.argmin(ssim[start:end + 1]))
        yield Hit(start, end, f"fidelity to the source lost from frame {start} (SSIM "
                  f"{ssim[start]:.2f}, colour difference {color[start]:.1f}; at frame {end}: "
                  f"{ssim[end]:.2f}, {color[end]:.1f})",
                  peak=worst, confidence=min(1.0, 0.5 + 0.5 * (end - start + 1) / s.n),
                  evidence={"ssim": round(float(ssim[start]), 3),
                            "color_delta": round(float(color[start]), 2),
                            "min_ssim": p.min_ssim, "max_color_delta": p.max_color_delta,
                            "first_frame_ssim": round(float(ssim[0]), 3)})
        return
