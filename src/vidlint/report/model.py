"""The one Report model (``vidlint.report/1``). Every output format is a writer over it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from vidlint._version import __version__
from vidlint.report.schema import SCHEMA_ID, upgrade

SEVERITIES = ("error", "warning", "info")
SEVERITY_WEIGHT = {"error": 1.0, "warning": 0.5, "info": 0.1}
"""How much one finding of each severity counts in the per-frame badness curve and the score."""


@dataclass(frozen=True, slots=True)
class Region:
    """A box in normalized image coordinates (0..1), so it holds at any resolution."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def of_box(cls, box: Any) -> Region | None:
        """The part of a normalized (x, y, w, h) box inside the picture; None when the box is
        not finite or lies wholly outside (detector boxes may overhang the frame edge)."""
        x, y, w, h = (float(v) for v in box)
        if not all(math.isfinite(v) for v in (x, y, w, h)):
            return None
        x0, y0 = min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)
        x1, y1 = min(max(x + w, 0.0), 1.0), min(max(y + h, 0.0), 1.0)
        if x1 <= x0 or y1 <= y0:
            return None
        return cls(x0, y0, x1 - x0, y1 - y0)

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    family: str
    name: str
    severity: str
    message: str
    start_frame: int
    end_frame: int
    peak_frame: int
    start_s: float
    end_s: float
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)
    region: Region | None = None
    fix: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "code": self.code,
            "family": self.family,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "peak_frame": self.peak_frame,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "confidence": round(float(self.confidence), 3),
            "evidence": _jsonable(self.evidence),
            "region": self.region.to_dict() if self.region else None,
            "fix": _jsonable(self.fix),
        }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        data = dict(data)
        region = data.pop("region", None)
        return cls(region=Region(**region) if region else None, **data)


@dataclass(frozen=True, slots=True)
class Waived:
    """A finding that a baseline accepts (``vidlint check --baseline``): kept in the report for
    review, left out of the verdict, the score and the exit code."""

    finding: Finding
    reason: str
    baseline: str = ""
    """The baseline file that waived it."""

    def to_dict(self) -> dict[str, Any]:
        return {"finding": self.finding.to_dict(), "reason": self.reason, "baseline": self.baseline}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Waived:
        return cls(Finding.from_dict(data["finding"]), data["reason"], data.get("baseline", ""))


@dataclass(slots=True)
class Report:
    clip: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    frame_index: list[int] = field(default_factory=list)
    frame_time_s: list[float] = field(default_factory=list)
    signals: dict[str, list[float | None]] = field(default_factory=dict)
    badness: dict[str, list[float]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    """Per-clip results that are not per-frame (face tracks, reference curves, regen history)."""
    waived: list[Waived] = field(default_factory=list)
    """Findings a baseline accepts: not in ``findings``, so not in the verdict or score."""

    @property
    def verdict(self) -> str:
        return verdict_of(self.findings, failed=self.failed_to_decode)

    @property
    def score(self) -> int:
        return score_of(self.findings) if not self.failed_to_decode else 0

    @property
    def failed_to_decode(self) -> bool:
        return any(e.get("fatal") for e in self.errors)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "schema": SCHEMA_ID,
            "tool": {"name": "vidlint", "version": __version__},
            "clip": _jsonable(self.clip),
            "context": _jsonable(self.context),
            "verdict": self.verdict,
            "score": self.score,
            "findings": [f.to_dict() for f in self.findings],
            "frames": {
                "index": list(self.frame_index),
                "time_s": [round(t, 6) for t in self.frame_time_s],
                "signals": {k: _jsonable(v) for k, v in self.signals.items()},
                "badness": {k: _jsonable(v) for k, v in self.badness.items()},
            },
            "config": _jsonable(self.config),
            "timings": _jsonable(self.timings),
            "errors": _jsonable(self.errors),
        }
        if self.extra:
            data["extra"] = _jsonable(self.extra)
        if self.waived:
            data["waived"] = [w.to_dict() for w in self.waived]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        data = upgrade(data)
        frames = data.get("frames", {})
        return cls(
            clip=data["clip"],
            context=data.get("context", {}),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            frame_index=frames.get("index", []),
            frame_time_s=frames.get("time_s", []),
            signals=frames.get("signals", {}),
            badness=frames.get("badness", {}),
            config=data.get("config", {}),
            timings=data.get("timings", {}),
            errors=data.get("errors", []),
            extra=data.get("extra", {}),
            waived=[Waived.from_dict(w) for w in data.get("waived", [])],
        )

    def counts(self) -> dict[str, int]:
        """Findings per severity."""
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}


def verdict_of(findings: list[Finding], failed: bool = False) -> str:
    if failed or any(f.severity == "error" for f in findings):
        return "fail"
    if any(f.severity == "warning" for f in findings):
        return "warn"
    return "pass"


def score_of(findings: list[Finding]) -> int:
    """0-100. Each finding removes a share of what is left, by severity and confidence, so one
    certain error costs 35 points, a warning 12, and many findings approach 0 without going
    under."""
    penalty = {"error": 0.35, "warning": 0.12, "info": 0.02}
    score = 100.0
    for finding in findings:
        score *= 1.0 - penalty[finding.severity] * min(1.0, max(0.0, finding.confidence))
    return round(score)


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays become Python numbers, NaN becomes null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
