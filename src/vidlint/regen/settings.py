"""The regeneration loop's settings (``[tool.vidlint.regen]``) and the findings -> changes table.

Everything here is data with a documented default: the budget, the escalation ladder and what
each rule family or code changes in the next request. ``docs/regeneration.md`` renders the same
tables.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from vidlint.analyzers.base import param
from vidlint.errors import ConfigError

LADDER = ("reseed", "constrain", "shorten", "i2v")
"""The escalation ladder. Attempt k applies rungs 1..k (cumulatively): 1) a new seed and
targeted negative prompt terms; 2) a constrained prompt (the table's phrases, subtle
directional motion, the missing shot-description layers); 3) a shorter clip; 4) text-to-video
becomes image-to-video from the best clean frame of an earlier attempt. After the last rung
each attempt only changes the seed."""

BASE_NEGATIVE = ("worst quality", "low quality", "deformed", "disfigured")
"""From Wan2.1's default negative prompt (integrations research, section 5)."""

DEFAULT_CHANGES: dict[str, dict[str, Any]] = {
    # rung 1 adds "negative"; rung 2 adds "prompt" phrases and sets "params" (a numeric param
    # only ever goes down: min(current, value)). Looked up by code, then family, then "default".
    "TMP001": {
        "negative": ["static", "still frame", "frozen frame"],
        "prompt": ["continuous natural motion throughout"],
        "why": "freezes: Wan's default negatives name 'static, still frame'",
    },
    "TMP002": {
        "negative": ["stutter", "repeated frames"],
        "prompt": [],
        "why": "repeats come from frame interpolation or pull-down: reseed, then "
        "ask for smooth motion",
    },
    "TMP003": {
        "negative": ["scene cut", "transition", "multiple shots"],
        "prompt": ["single continuous shot, no cuts"],
        "why": "unwanted cuts: say 'single continuous shot', drop multi-shot wording "
        "(integrations research, section 5)",
    },
    "TMP004": {
        "negative": ["black frames", "fade to black"],
        "prompt": [],
        "why": "blank frames: a new seed; the constrain rung keeps the scene lit",
    },
    "TMP005": {
        "negative": ["glitch", "corrupted", "compression artifacts"],
        "prompt": [],
        "why": "garbage frames: new seed; generation length is the usual cause",
    },
    "TMP": {"negative": [], "prompt": [], "why": "other temporal defects: a new seed"},
    "FLK": {
        "negative": ["flicker", "flickering", "strobing"],
        "prompt": ["steady, even lighting"],
        "params": {"motion_strength": 0.7},
        "why": "flicker: new seed, pin lighting and style, lower motion (research, sec. 5)",
    },
    "MOT": {
        "negative": ["morphing", "warping", "objects passing through each other"],
        "prompt": ["slow, subtle motion in one direction", "one action in the shot"],
        "params": {"motion_strength": 0.6},
        "why": "physics: one action per shot, slower motion, shorter clip (research, sec. 5)",
    },
    "HND": {
        "negative": [
            "extra fingers",
            "fused fingers",
            "poorly drawn hands",
            "deformed hands",
            "malformed limbs",
        ],
        "prompt": ["hands relaxed and still"],
        "why": "hands: Wan's default negatives; rephrase so hands stay calm (research, sec. 5)",
    },
    "FAC": {
        "negative": ["poorly drawn face", "distorted face", "face morphing"],
        "prompt": ["the same person throughout, face fully visible and consistent"],
        "why": "identity drift: dense identity description, calmer camera, then i2v from "
        "a reference (research, sec. 5)",
    },
    "REF": {
        "negative": [],
        "prompt": ["stays faithful to the source image"],
        "params": {"motion_strength": 0.6},
        "why": "reference fidelity: less motion keeps the output near its source image",
    },
    "QLT": {
        "negative": ["blurry", "noisy", "jpeg artifacts"],
        "prompt": ["sharp focus, clean detail"],
        "why": "quality: Wan's default negatives ('blurry details', 'JPEG artifacts')",
    },
    "DRF": {
        "negative": [],
        "prompt": [],
        "why": "degradation with length: the shorten rung cuts the clip at the onset",
    },
    "PRM001": {
        "negative": [],
        "prompt": [],
        "why": "short prompt: the constrain rung adds the missing layers",
    },
    "PRM002": {
        "negative": [],
        "prompt": ["Camera: medium shot, slow gentle push-in"],
        "why": "no camera layer: add one (seed article's third layer)",
    },
    "PRM003": {
        "negative": [],
        "prompt": ["Lighting: soft, even natural light"],
        "why": "no lighting layer: add one (seed article's second layer)",
    },
    "PRM004": {
        "negative": [],
        "prompt": ["subtle, directional motion only"],
        "params": {"motion_strength": 0.6},
        "why": "ambitious i2v motion: constrain to subtle directional motion",
    },
    "PRM005": {"negative": [], "prompt": [], "why": "long request: the shorten rung handles it"},
    "default": {"negative": [], "prompt": [], "why": "anything else: a new seed"},
}
CHANGE_KEYS = {"negative", "prompt", "params", "why"}


@dataclass(frozen=True)
class RegenSettings:
    max_attempts: int = param(
        4,
        "one attempt per rung of the ladder; research (section 5) suggests about 3 then a "
        "human; the fourth is the image-to-video switch",
    )
    max_wall_s: float = param(
        1800.0,
        "a wall-clock budget per clip and per run, so a stuck backend cannot hold a batch forever",
    )
    ladder: tuple[str, ...] = param(LADDER, "the rungs, in order (see LADDER)")
    pass_verdicts: tuple[str, ...] = param(
        ("pass", "warn"),
        "a clip with only warnings is accepted: warnings are for review, not for regeneration",
    )
    base_negative: tuple[str, ...] = param(BASE_NEGATIVE, "terms added at the reseed rung")
    shorten_factor: float = param(
        0.6, "the seed article: a 4 s clip is cleaner than an 8 s one; about 0.6x per step"
    )
    min_duration_s: float = param(1.0, "never ask for less than a second")
    motion_strength: float = param(
        1.0, "the starting motion strength (1 = the generator's default); the table lowers it"
    )
    salvage: bool = param(
        True, "trim a clean prefix instead of regenerating when only the tail is bad"
    )
    min_salvage_s: float = param(1.0, "a trimmed clip shorter than this is not worth keeping")
    min_salvage_fraction: float = param(0.5, "and it must keep at least this share of the clip")
    submit_tries: int = param(4, "tries per backend call before the attempt is marked failed")
    retry_base_s: float = param(
        1.0,
        "exponential backoff base with full jitter: sleep = random(0, min(cap, "
        "base * 2**n)) (AWS architecture blog; tenacity's wait_random_exponential)",
    )
    retry_cap_s: float = param(30.0, "longest backoff sleep between tries")
    max_retry_after_s: float = param(
        120.0, "a server's Retry-After is honoured up to this; longer fails the call"
    )
    poll_interval_s: float = param(2.0, "first wait between status polls")
    max_poll_interval_s: float = param(15.0, "polls back off (x1.5) up to this")
    job_timeout_s: float = param(
        900.0, "a job still not finished after this is cancelled and its attempt fails"
    )
    changes: dict[str, dict[str, Any]] = field(
        default_factory=dict, metadata={"why": "overrides of DEFAULT_CHANGES by code or family"}
    )

    def change_for(self, code: str) -> dict[str, Any]:
        """The change table entry for ``code``: code, then family, then ``default``."""
        table = {**DEFAULT_CHANGES, **self.changes}
        for key in (code, code[:3], "default"):
            if key in table:
                return table[key]
        return {}


def regen_settings(config: Any, **overrides: Any) -> RegenSettings:
    """Read and validate ``[regen]`` (and keyword overrides from the CLI)."""
    table = dict(config.section("regen")) if config is not None else {}
    table.update({k: v for k, v in overrides.items() if v is not None})
    origin = ", ".join(getattr(config, "sources", ())) or "config"
    fields = {f.name: f for f in dataclasses.fields(RegenSettings)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(f"unknown key 'regen.{key}' (known: {', '.join(fields)})", origin)
        default = fields[key].default
        try:
            values[key] = _coerce(key, value, default)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"'regen.{key}' = {value!r}: {exc}", origin) from exc
        number = values[key]
        if isinstance(number, (int, float)) and not isinstance(number, bool) and number <= 0:
            raise ConfigError(
                f"'regen.{key}' = {value!r}: must be above 0 (every setting here "
                "is a count, a duration or a factor)",
                origin,
            )
    settings = RegenSettings(**values)
    for rung in settings.ladder:
        if rung not in LADDER:
            raise ConfigError(
                f"'regen.ladder' has unknown rung {rung!r} (known: {', '.join(LADDER)})", origin
            )
    for verdict in settings.pass_verdicts:
        if verdict not in ("pass", "warn"):
            raise ConfigError(
                f"'regen.pass_verdicts' has {verdict!r}: use pass and/or warn", origin
            )
    for key, entry in settings.changes.items():
        if not isinstance(entry, dict) or set(entry) - CHANGE_KEYS:
            raise ConfigError(
                f"'regen.changes.{key}' must be a table with keys {', '.join(sorted(CHANGE_KEYS))}",
                origin,
            )
    return settings


def _coerce(key: str, value: Any, default: Any) -> Any:
    if key == "changes":
        if not isinstance(value, dict):
            raise TypeError("expected a table of code -> change")
        return {str(k).upper() if k != "default" else k: dict(v) for k, v in value.items()}
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError("expected true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not float(value).is_integer():
            raise TypeError("expected an integer")
        return int(value)
    if isinstance(default, float):
        if isinstance(value, bool):
            raise TypeError("expected a number")
        return float(value)
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return tuple(value)
    return value
