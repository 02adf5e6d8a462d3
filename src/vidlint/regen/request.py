"""``vidlint.regen/1``: what to generate next, built from a report with the escalation ladder.

A request is derived from the previous one (or from the clip's context for the first), the
report of the last checked attempt and the change table in :mod:`vidlint.regen.settings`. Every
change it makes is recorded with the rung and the finding codes that caused it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from vidlint.pipeline import INPUT_FAMILIES, Checker
from vidlint.regen.settings import RegenSettings
from vidlint.report.model import Finding, Report

SCHEMA_ID = "vidlint.regen/1"
FRAMELESS_FAMILIES = INPUT_FAMILIES
"""Families about the inputs (prompt, source image): they never place a defect in time."""


@dataclass(frozen=True)
class RegenRequest:
    job: str
    attempt: int
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = 0
    mode: str = "t2v"
    reference: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    """Generator parameters: ``duration_s``, ``motion_strength``, ``width``, ``height``,
    ``fps`` and anything the clip's context carried."""
    generator: str | None = None
    reasons: tuple[str, ...] = ()
    changes: tuple[dict[str, Any], ...] = ()
    """Each change: ``{"rung", "field", "old", "new", "because": [codes]}``."""
    parent_report: str | None = None
    idempotency_key: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = {"schema": SCHEMA_ID, **asdict(self)}
        data["reasons"] = list(self.reasons)
        data["changes"] = [dict(c) for c in self.changes]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegenRequest:
        data = {k: v for k, v in data.items() if k != "schema"}
        data["reasons"] = tuple(data.get("reasons", ()))
        data["changes"] = tuple(data.get("changes", ()))
        return cls(**data)

    def keyed(self) -> RegenRequest:
        """This request with its idempotency key: a hash of everything else in it, so the same
        attempt of the same job always has the same key and any other request another."""
        body = {k: v for k, v in self.to_dict().items() if k != "idempotency_key"}
        text = json.dumps(body, sort_keys=True, default=str)
        return replace(self, idempotency_key=hashlib.sha256(text.encode()).hexdigest())

    @property
    def duration_s(self) -> float | None:
        value = self.params.get("duration_s")
        return float(value) if value is not None else None

    def context(self) -> dict[str, Any]:
        """The check context of the clip this request produces."""
        context = {
            "prompt": self.prompt or None,
            "negative_prompt": self.negative_prompt or None,
            "seed": self.seed,
            "mode": self.mode,
            "reference": self.reference,
            "generator": self.generator,
            "duration_s": self.duration_s,
        }
        return {k: v for k, v in context.items() if v is not None}


def initial_request(
    job: str, context: dict[str, Any], report: Report, settings: RegenSettings
) -> RegenRequest:
    """Attempt 0: what produced the clip we were given, as far as the context says."""
    clip = report.clip
    params = dict(context.get("params") or {})
    params.setdefault(
        "duration_s", round(float(context.get("duration_s") or clip.get("duration_s") or 0.0), 3)
    )
    params.setdefault("motion_strength", settings.motion_strength)
    for key in ("width", "height", "fps"):
        if clip.get(key):
            params.setdefault(key, clip[key])
    return RegenRequest(
        job=job,
        attempt=0,
        prompt=str(context.get("prompt") or ""),
        negative_prompt=str(context.get("negative_prompt") or ""),
        seed=int(context.get("seed") or 0),
        mode=str(context.get("mode") or "t2v"),
        reference=context.get("reference"),
        params=params,
        generator=context.get("generator"),
    )


def blocking_findings(report: Report, settings: RegenSettings) -> list[Finding]:
    """The findings that stop the clip from passing (errors; warnings too unless warn is an
    accepted verdict)."""
    severities = {"error"} if "warn" in settings.pass_verdicts else {"error", "warning"}
    return [f for f in report.findings if f.severity in severities]


def passes(report: Report, settings: RegenSettings) -> bool:
    return report.verdict in settings.pass_verdicts


def next_seed(job: str, attempt: int, seed: int) -> int:
    digest = hashlib.sha256(f"{job}:{attempt}:{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1)


def build_request(
    previous: RegenRequest,
    report: Report,
    attempt: int,
    settings: RegenSettings,
    rung: int,
    parent_report: str | None = None,
    clean_frame: str | None = None,
    checker: Checker | None = None,
) -> RegenRequest:
    """The request for ``attempt``: ``previous`` changed by rungs ``0..rung`` of the ladder
    (reseed and constrain accumulate; shorten and i2v apply once, at their own rung). The
    ``checker`` lints the prompt (the PRM rules) with its configuration."""
    ladder = settings.ladder
    active = set(ladder[: rung + 1]) if rung < len(ladder) else set(ladder)
    first_time = ladder[rung] if rung < len(ladder) else None
    blocking = blocking_findings(report, settings)
    reasons = tuple(sorted({f.code for f in blocking}))
    changes: list[dict[str, Any]] = []
    request = replace(
        previous,
        attempt=attempt,
        reasons=reasons,
        changes=(),
        parent_report=parent_report,
        idempotency_key="",
    )

    def change(rung_name: str, name: str, old: Any, new: Any, because: list[str]) -> None:
        changes.append(
            {
                "rung": rung_name,
                "field": name,
                "old": old,
                "new": new,
                "because": sorted(set(because)),
            }
        )

    # rung 1, every attempt: a new seed, never a blind one: negatives for what was found
    seed = next_seed(previous.job, attempt, previous.seed)
    change("reseed", "seed", previous.seed, seed, list(reasons) or ["budget"])
    request = replace(request, seed=seed)
    terms = [t for t in settings.base_negative]
    causes: dict[str, list[str]] = {}
    for finding in blocking:
        for term in settings.change_for(finding.code).negative_prompt:
            causes.setdefault(term, []).append(finding.code)
    negatives = _split_terms(request.negative_prompt)
    added = [t for t in [*terms, *causes] if t.lower() not in {n.lower() for n in negatives}]
    if added and "reseed" in active:
        new = ", ".join([*negatives, *added])
        change(
            "reseed",
            "negative_prompt",
            request.negative_prompt,
            new,
            sorted({c for t in added for c in causes.get(t, [])}) or list(reasons),
        )
        request = replace(request, negative_prompt=new)

    if "constrain" in active:
        request = _constrain(request, blocking, settings, change, checker or Checker())
    if first_time == "shorten":
        request = _shorten(request, report, blocking, settings, change)
    if first_time == "i2v" and request.mode == "t2v" and clean_frame:
        change("i2v", "mode", "t2v", "i2v", list(reasons))
        change("i2v", "reference", request.reference, clean_frame, list(reasons))
        request = replace(request, mode="i2v", reference=clean_frame)
    return replace(request, changes=tuple(changes)).keyed()


def _constrain(
    request: RegenRequest,
    blocking: list[Finding],
    settings: RegenSettings,
    change: Any,
    checker: Checker,
) -> RegenRequest:
    """Rung 2: the table's prompt phrases for what was found, the missing shot-description
    layers PRM reports, and lower motion."""
    phrases: dict[str, list[str]] = {}
    lint = checker.check_prompt(request.context()) if request.prompt else []
    for finding in [*blocking, *lint]:
        for phrase in settings.change_for(finding.code).prompt:
            phrases.setdefault(phrase, []).append(finding.code)
    present = request.prompt.lower()
    for phrase in [p for p in phrases if p.lower() not in present]:
        sentence = phrase[:1].upper() + phrase[1:]
        base = request.prompt.strip().rstrip(".")
        prompt = f"{base}. {sentence}." if base else f"{sentence}."
        change("constrain", "prompt", request.prompt, prompt, phrases[phrase])
        request = replace(request, prompt=prompt)
    params = dict(request.params)
    for finding in [*blocking, *lint]:
        for key, value in settings.change_for(finding.code).params.items():
            current = params.get(key)
            if isinstance(value, (int, float)) and isinstance(current, (int, float)):
                value = min(current, value)
            if current != value:
                change("constrain", f"params.{key}", current, value, [finding.code])
                params[key] = value
    return replace(request, params=params)


def _shorten(
    request: RegenRequest,
    report: Report,
    blocking: list[Finding],
    settings: RegenSettings,
    change: Any,
) -> RegenRequest:
    """Rung 3: a shorter clip; where a degradation onset (DRF) or a late defect shows where the
    clip goes bad, no longer than that."""
    current = request.duration_s or float(report.clip.get("duration_s") or 0.0)
    if current <= settings.min_duration_s:
        return request
    target = current * settings.shorten_factor
    because = [f.code for f in blocking] or ["PRM005"]
    onsets = [f for f in report.findings if f.family == "DRF"]  # any severity: it is a hint
    if onsets:
        target = min(target, min(f.start_s for f in onsets))
        because = [f.code for f in onsets]
    target = round(max(settings.min_duration_s, target), 3)
    if target >= current:
        return request
    change("shorten", "params.duration_s", current, target, because)
    return replace(request, params={**request.params, "duration_s": target})


def _split_terms(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]
