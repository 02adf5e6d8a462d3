"""PRM: the prompt itself, linted before generating and on every regeneration request.

These rules read ``data.context`` (prompt, mode, requested duration), not frame signals, so they
declare ``requires=[]``; they report nothing when no prompt is given. The vocabulary lists are
data (``Params`` fields) so a team can extend them in config.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from vidlint.rules.base import Fix, Hit, RuleInput, family, rule
from vidlint.settings import param

family("PRM", "prompt")

CAMERA_TERMS = (
    "close-up",
    "closeup",
    "close up",
    "wide shot",
    "medium shot",
    "long shot",
    "establishing",
    "tracking",
    "dolly",
    "pan",
    "panning",
    "tilt",
    "zoom",
    "push-in",
    "push in",
    "pull back",
    "crane",
    "aerial",
    "drone",
    "handheld",
    "static camera",
    "locked-off",
    "camera",
    "pov",
    "over-the-shoulder",
    "low angle",
    "high angle",
    "eye level",
    "shallow depth of field",
    "depth of field",
    "bokeh",
    "lens",
    "35mm",
    "50mm",
    "85mm",
    "orbit",
    "arc shot",
    "shot",
    "mid-shot",
    "mid shot",
    "framing",
    "full shot",
    "half body",
    "full body",
    "wide angle",
    "wide-angle",
    "telephoto",
    "macro",
    "first-person",
)
LIGHTING_TERMS = (
    "light",
    "lighting",
    "lit",
    "sunlight",
    "sunset",
    "sunrise",
    "golden hour",
    "blue hour",
    "dusk",
    "dawn",
    "night",
    "neon",
    "backlit",
    "rim light",
    "shadow",
    "overcast",
    "candle",
    "studio",
    "soft light",
    "hard light",
    "daylight",
    "moonlight",
    "glow",
    "fog",
    "mist",
    "sunny",
    "sun",
    "bright",
    "brightly",
    "dark",
    "darkness",
    "lights",
    "shadows",
    "lamplight",
    "lamp",
    "overcast",
    "cloudy",
    "haze",
    "hazy",
    "twilight",
    "evening",
    "morning",
)
ENVIRONMENT_TERMS = (
    "in a",
    "in the",
    "on a",
    "on the",
    "at a",
    "at the",
    "inside",
    "outside",
    "outdoors",
    "indoors",
    "forest",
    "street",
    "city",
    "room",
    "kitchen",
    "beach",
    "desert",
    "field",
    "background",
    "park",
    "office",
    "studio",
    "mountain",
    "ocean",
    "sky",
    "garden",
    "stage",
    "backyard",
    "coastline",
    "coast",
    "moon",
    "space",
    "grassland",
    "meadow",
    "market",
    "lawn",
    "road",
    "river",
    "lake",
    "sea",
    "snow",
    "village",
    "cafe",
    "restaurant",
    "bar",
    "bedroom",
    "interior",
    "exterior",
    "landscape",
    "backdrop",
)
BIG_MOTION_TERMS = (
    "fast",
    "rapid",
    "quickly",
    "explodes",
    "explosion",
    "spin",
    "spinning",
    "whip pan",
    "whip-pan",
    "fly",
    "flies",
    "flying",
    "run",
    "runs",
    "running",
    "sprint",
    "sprints",
    "jump",
    "jumps",
    "dance",
    "dances",
    "dancing",
    "fight",
    "fighting",
    "chase",
    "crash",
    "360",
    "orbit",
    "orbits",
    "spins",
    "swoop",
    "transform",
    "morph",
    "turns around",
    "dramatic",
    "zooms out",
    "sweeping",
    "crowd",
)
MANY_SUBJECT_TERMS = (
    "crowd",
    "people",
    "group",
    "team",
    "everyone",
    "they",
    "together",
    "each other",
    "with a",
    "and a",
    "both",
    "two ",
    "three ",
    "several",
    "many",
)

WORD = re.compile(r"[\w'-]+")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def mentions(text: str, terms: tuple[str, ...]) -> list[str]:
    """The terms of ``terms`` that occur in ``text`` as whole words or phrases."""
    lowered = text.lower()
    return [
        term.strip()
        for term in terms
        if re.search(r"(?<![\w-])" + re.escape(term.strip()) + r"(?![\w-])", lowered)
    ]


def _input_span(data: RuleInput) -> tuple[int, int]:
    """A prompt finding is about the input, placed at frame 0 like the source-image rules (SRC);
    the pipeline gives input families no per-frame badness."""
    return 0, 0


def requested_duration(context: dict[str, Any], clip_duration: float | None) -> float | None:
    """The duration the generator was asked for: ``duration_s`` in the context (or its
    ``params``), else the clip's own duration."""
    params = context.get("params") or {}
    for value in (context.get("duration_s"), params.get("duration_s"), clip_duration):
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    return None


@dataclass(frozen=True)
class LengthParams:
    min_words: int = param(
        30,
        "the seed article: 'If your prompt is under 30 words, the answer is probably no' "
        "(under-prompting then over-regenerating is the most common text-to-video mistake)",
    )


@rule(
    "PRM001",
    "prompt-too-short",
    severity="warning",
    params=LengthParams,
    fix=Fix(why="short prompt: the constrain rung adds the missing layers"),
)
def prompt_too_short(data: RuleInput, p: LengthParams) -> Iterator[Hit]:
    """The prompt is too short to pin down the shot.

    What it detects:
        A prompt with fewer than ``min_words`` words.
    Why it matters:
        Vague prompts give generic results, and the usual reaction is to regenerate a dozen
        times with the same under-specified prompt. The fix is almost never more
        regenerations: it is a better prompt.
    Known false positives:
        Image-to-video motion prompts may be short on purpose ("slow zoom in"): the image
        carries the content. Ignore PRM001 for i2v clips if that is your practice.
    Example:
        ``a woman running`` (3 words): ``PRM001 prompt has 3 words (fewer than 30)``.
    Thresholds:
        ``min_words`` = 30, from the seed article's rule of thumb.
    Fix hint:
        Write a shot description, not a story summary: subject and action; environment and
        lighting; camera position and movement.
    """
    prompt = str(data.context.get("prompt") or "").strip()
    if not prompt:
        return
    count = len(words(prompt))
    if count < p.min_words:
        start, end = _input_span(data)
        yield Hit(
            start,
            end,
            f"prompt has {count} words (fewer than {p.min_words})",
            confidence=round(1.0 - count / p.min_words, 3) if count else 1.0,
            evidence={"words": count, "min_words": p.min_words},
        )


@dataclass(frozen=True)
class CameraParams:
    terms: tuple[str, ...] = param(
        CAMERA_TERMS,
        "cinematographic vocabulary from the seed article ('close-up shot', "
        "'tracking camera', 'shallow depth of field') and common shot names",
    )


@rule(
    "PRM002",
    "no-camera-direction",
    severity="info",
    params=CameraParams,
    fix=Fix(
        prompt=("Camera: medium shot, slow gentle push-in",),
        why="no camera layer: add one (seed article's third layer)",
    ),
)
def no_camera_direction(data: RuleInput, p: CameraParams) -> Iterator[Hit]:
    """The prompt says nothing about the camera.

    What it detects:
        A prompt that names no shot size, lens or camera movement (none of ``terms``).
    Why it matters:
        Text-to-video prompts benefit enormously from camera direction language; without it
        the model picks a camera at random, often a drifting or cutting one.
    Known false positives:
        Image-to-video prompts that only describe subject motion on purpose, with the camera
        implied to stay still.
    Example:
        ``a red sports car on a coastal road at sunset``: ``PRM002 no camera direction``.
    Thresholds:
        The ``terms`` list (shot sizes, movements, lenses); extend it in config.
    Fix hint:
        Add a camera layer: "medium tracking shot", "static close-up", "slow push-in".
    """
    prompt = str(data.context.get("prompt") or "").strip()
    if prompt and not mentions(prompt, p.terms):
        start, end = _input_span(data)
        yield Hit(
            start,
            end,
            "prompt gives no camera direction (shot size or movement)",
            confidence=0.8,
            evidence={"camera_terms": 0},
        )


@dataclass(frozen=True)
class SceneParams:
    lighting_terms: tuple[str, ...] = param(
        LIGHTING_TERMS,
        "lighting words ('golden hour lighting', 'dappled morning light' in the "
        "seed article's examples)",
    )
    environment_terms: tuple[str, ...] = param(
        ENVIRONMENT_TERMS, "places and spatial prepositions that set an environment"
    )


@rule(
    "PRM003",
    "no-lighting-or-environment",
    severity="info",
    params=SceneParams,
    fix=Fix(
        prompt=("Lighting: soft, even natural light",),
        why="no lighting layer: add one (seed article's second layer)",
    ),
)
def no_lighting_or_environment(data: RuleInput, p: SceneParams) -> Iterator[Hit]:
    """The prompt has no environment-and-lighting layer.

    What it detects:
        A prompt that names no lighting (``lighting_terms``) or no place (``environment_terms``).
    Why it matters:
        The seed article's three layers are subject, environment + lighting, and camera; kept
        distinct they stop the model from blending them incoherently. A missing layer is left
        to chance.
    Known false positives:
        Image-to-video motion prompts: the source image already fixes place and light.
    Example:
        ``medium shot of a man playing guitar``: ``PRM003 no lighting``.
    Thresholds:
        The two vocabulary lists; both layers must be present.
    Fix hint:
        Add where the scene takes place and what the light is: "in a dim wooden bar, warm
        lamplight".
    """
    prompt = str(data.context.get("prompt") or "").strip()
    if not prompt:
        return
    missing = [
        name
        for name, terms in (("lighting", p.lighting_terms), ("environment", p.environment_terms))
        if not mentions(prompt, terms)
    ]
    if missing:
        start, end = _input_span(data)
        yield Hit(
            start,
            end,
            f"prompt has no {' or '.join(missing)} layer",
            confidence=0.5 * len(missing),
            evidence={"missing": missing},
        )


@dataclass(frozen=True)
class MotionParams:
    big_motion_terms: tuple[str, ...] = param(
        BIG_MOTION_TERMS,
        "large camera moves, dramatic repositioning and fast action: what the "
        "seed article says pushes image-to-video past what one still can show",
    )
    many_subject_terms: tuple[str, ...] = param(
        MANY_SUBJECT_TERMS, "words that bring several interacting subjects into the shot"
    )
    max_big_motion: int = param(
        0,
        "the sweet spot for image-to-video is subtle, believable motion: any large move is flagged",
        bounds=(0, 100),
    )
    max_many_subjects: int = param(
        1,
        "one plural word is common ('hair and a scarf'); two or more mean several interacting "
        "subjects",
    )


@rule(
    "PRM004",
    "ambitious-i2v-motion",
    severity="warning",
    params=MotionParams,
    fix=Fix(
        prompt=("subtle, directional motion only",),
        params={"motion_strength": 0.6},
        why="ambitious i2v motion: constrain to subtle directional motion",
    ),
)
def ambitious_i2v_motion(data: RuleInput, p: MotionParams) -> Iterator[Hit]:
    """An image-to-video motion prompt asks for more than one still can support.

    What it detects:
        In image-to-video mode (a reference image is given), a prompt asking for large camera
        moves or fast action (``big_motion_terms``) or several interacting subjects
        (``many_subject_terms``).
    Why it matters:
        Large camera movements, dramatic repositioning and interactions between objects push
        the model beyond what it can infer from a single frame: objects pass through each
        other, gravity fails, subjects morph.
    Known false positives:
        Models trained for dance or motion transfer (driven by a pose video, not the prompt).
    Example:
        ``the camera orbits 360 degrees as two dancers spin``: ``PRM004 ambitious motion``.
    Thresholds:
        Any big-motion term (``max_big_motion`` = 0); more than one many-subjects term.
    Fix hint:
        Describe a small transformation: what moves, in which direction, how fast ("slow zoom
        in", "subject turns head slightly to the right").
    """
    prompt = str(data.context.get("prompt") or "").strip()
    if not prompt or data.context.get("mode") != "i2v":
        return
    big = mentions(prompt, p.big_motion_terms)
    many = mentions(prompt, p.many_subject_terms)
    if len(big) > p.max_big_motion or len(many) > p.max_many_subjects:
        start, end = _input_span(data)
        yield Hit(
            start,
            end,
            "image-to-video prompt asks for ambitious motion (" + ", ".join(big + many) + ")",
            confidence=min(1.0, 0.5 + 0.25 * len(big + many)),
            evidence={"big_motion": big, "many_subjects": many},
        )


@dataclass(frozen=True)
class DurationParams:
    max_duration_s: float = param(
        5.0,
        "the seed article: artifacts accumulate over time, 'a 4-second clip will almost "
        "always be cleaner than an 8-second one'; hosted models default to about 5 s",
    )


@rule(
    "PRM005",
    "longer-than-needed",
    severity="info",
    params=DurationParams,
    fix=Fix(why="long request: the shorten rung handles it"),
)
def longer_than_needed(data: RuleInput, p: DurationParams) -> Iterator[Hit]:
    """The requested clip is longer than it needs to be.

    What it detects:
        A prompt whose requested duration (context ``duration_s``, else the clip's own length)
        is over ``max_duration_s``.
    Why it matters:
        Artifacts accumulate with length; a short clip is cleaner, and two short clips cut
        together usually beat one long one.
    Known false positives:
        Shots that must be long (a slow establishing shot); raise ``max_duration_s`` for them.
    Example:
        An 8 s request: ``PRM005 8.0 s requested (over 5.0 s)``.
    Thresholds:
        ``max_duration_s`` = 5.0 s.
    Fix hint:
        Ask for 4-5 s and cut shots together in the edit.
    """
    prompt = str(data.context.get("prompt") or "").strip()
    if not prompt:
        return
    clip_duration = getattr(data.clip, "duration_s", None)
    duration = requested_duration(data.context, clip_duration)
    if duration is not None and duration > p.max_duration_s + 1e-6:
        start, end = _input_span(data)
        yield Hit(
            start,
            end,
            f"{duration:.1f} s requested (over {p.max_duration_s:.1f} s)",
            confidence=min(1.0, duration / p.max_duration_s - 1.0 + 0.5),
            evidence={"duration_s": round(duration, 3), "max_duration_s": p.max_duration_s},
        )
