"""The regeneration loop's settings (``[tool.vidlint.regen]``) and the findings -> changes table.

Everything here is data with a documented default: the budget and the escalation ladder here,
and what a finding changes in the next request on its rule (:class:`~vidlint.rules.base.Fix`),
which ``[regen.changes]`` overrides by code, family or ``default``. ``docs/regeneration.md``
renders the same tables.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from vidlint.config import Config
from vidlint.errors import ConfigError
from vidlint.rules import load_rules
from vidlint.rules.base import Fix
from vidlint.settings import param, read_settings

LADDER = ("reseed", "constrain", "shorten", "i2v")
"""The escalation ladder. Attempt k applies rungs 1..k (cumulatively): 1) a new seed and
targeted negative prompt terms; 2) a constrained prompt (the table's phrases, subtle
directional motion, the missing shot-description layers); 3) a shorter clip; 4) text-to-video
becomes image-to-video from the best clean frame of an earlier attempt. After the last rung
each attempt only changes the seed."""

BASE_NEGATIVE = ("worst quality", "low quality", "deformed", "disfigured")
"""From Wan2.1's default negative prompt (integrations research, section 5)."""


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
    ladder: tuple[str, ...] = param(LADDER, "the rungs, in order (see LADDER)", choices=LADDER)
    pass_verdicts: tuple[str, ...] = param(
        ("pass", "warn"),
        "a clip with only warnings is accepted: warnings are for review, not for regeneration",
        choices=("pass", "warn"),
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
    changes: dict[str, Fix] = param(
        {},
        "overrides of the rules' own fixes: a table per code, family or 'default' with the keys "
        "of a Fix (negative_prompt, prompt, params, why)",
    )

    def change_for(self, code: str) -> Fix:
        """What a finding of ``code`` changes: the override for the code, else for its family,
        else the rule's own fix, else the ``default`` override."""
        rule = load_rules().get(code)
        for found in (
            self.changes.get(code),
            self.changes.get(code[:3]),
            rule.fix if rule else None,
            self.changes.get("default"),
        ):
            if found is not None:
                return found
        return Fix()


def regen_settings(config: Config | None, **overrides: Any) -> RegenSettings:
    """Read and validate ``[regen]`` (and keyword overrides from the CLI)."""
    table = config.section("regen") if config is not None else {}
    table.update({k: v for k, v in overrides.items() if v is not None})
    origin = ", ".join(config.sources) if config is not None and config.sources else "config"
    changes = table.pop("changes", {})
    if not isinstance(changes, dict):
        raise ConfigError(f"'regen.changes' = {changes!r}: expected a table", origin)
    settings = read_settings(RegenSettings, table, "regen", origin, positive=True)
    return dataclasses.replace(
        settings,
        changes={
            key if key == "default" else key.upper(): read_settings(
                Fix, entry, f"regen.changes.{key}", origin
            )
            for key, entry in changes.items()
        },
    )
