"""Rules are pure functions ``(RuleInput, params) -> Iterable[Hit]``, registered with ``@rule``.

The decorator holds everything about a rule that is data: code, kebab-case name, default
severity, the analyzers whose signals it reads, its fix hint and its parameter dataclass. The
rule's docstring is its documentation, under fixed headings (``vidlint explain CODE``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidlint.analyzers.base import NoParams
from vidlint.decode import ClipInfo, DecodeIssue
from vidlint.report.model import SEVERITIES, Finding, Region
from vidlint.signals import Signals

DOC_HEADINGS = (
    "What it detects",
    "Why it matters",
    "Known false positives",
    "Example",
    "Thresholds",
    "Fix hint",
)
CODE_PATTERN = re.compile(r"^[A-Z]{3}\d{3}$")


@dataclass(frozen=True)
class Hit:
    """What a rule found, in frames; the pipeline turns it into a :class:`Finding`."""

    start: int
    end: int
    message: str
    peak: int | None = None
    confidence: float = 1.0
    evidence: dict[str, Any] = field(default_factory=dict)
    region: Region | None = None
    severity: str | None = None
    """Overrides the rule's severity for this hit (e.g. a black frame at the very start)."""


@dataclass(frozen=True)
class RuleInput:
    """Everything a rule may read. ``findings`` and ``badness`` are filled only for rules of the
    ``aggregate`` stage, which run after all others (e.g. degradation onset)."""

    signals: Signals
    clip: ClipInfo
    context: dict[str, Any]
    issues: tuple[DecodeIssue, ...] = ()
    findings: tuple[Finding, ...] = ()
    badness: dict[str, Any] = field(default_factory=dict)


RuleFunc = Callable[[RuleInput, Any], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    requires: tuple[str, ...]
    func: RuleFunc
    params: type = NoParams
    fix: dict[str, Any] = field(default_factory=dict)
    stage: str = "signals"
    thresholds: dict[str, str] = field(default_factory=dict)
    """Per-frame signals the rule compares with one of its parameters (signal key: parameter
    name): the HTML report draws that parameter as a line on the signal's plot."""

    @property
    def family(self) -> str:
        return self.code[:3]

    @property
    def doc(self) -> str:
        return _dedent(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    def sections(self) -> dict[str, str]:
        """The docstring split by its fixed headings."""
        parts: dict[str, str] = {}
        current = None
        for line in self.doc.splitlines():
            stripped = line.strip().rstrip(":")
            if stripped in DOC_HEADINGS:
                current = stripped
                parts[current] = ""
            elif current:
                parts[current] += line + "\n"
        return {k: v.strip() for k, v in parts.items()}

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in dataclasses.fields(self.params)}

    def param_reasons(self) -> dict[str, str]:
        return {f.name: f.metadata.get("why", "") for f in dataclasses.fields(self.params)}

    def run(self, data: RuleInput, params: Any, severity: str | None = None) -> list[Finding]:
        severity = severity or self.severity
        times = data.signals.time_s
        findings = []
        for hit in self.func(data, params):
            start, end = int(hit.start), int(hit.end)
            peak = int(hit.peak) if hit.peak is not None else start
            findings.append(
                Finding(
                    code=self.code,
                    family=self.family,
                    name=self.name,
                    severity=hit.severity or severity,
                    message=hit.message,
                    start_frame=start,
                    end_frame=end,
                    peak_frame=peak,
                    start_s=_time_at(times, start),
                    end_s=_time_at(times, end),
                    confidence=max(0.0, min(1.0, float(hit.confidence))),
                    evidence=hit.evidence,
                    region=hit.region,
                    fix=self.fix,
                )
            )
        return findings


def runs(mask: np.ndarray) -> Iterator[tuple[int, int]]:
    """Inclusive (start, end) of each run of True in ``mask``."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        yield int(start), int(stop) - 1


RULES: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    *,
    severity: str,
    requires: Iterable[str] = (),
    params: type = NoParams,
    fix: dict[str, Any] | None = None,
    stage: str = "signals",
    thresholds: dict[str, str] | None = None,
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function under ``code``."""
    if not CODE_PATTERN.match(code):
        raise ValueError(f"rule code {code!r} must be three capitals and three digits")
    if severity not in SEVERITIES:
        raise ValueError(f"{code}: severity {severity!r} is not one of {SEVERITIES}")
    fields = {f.name for f in dataclasses.fields(params)}
    for signal, parameter in (thresholds or {}).items():
        if parameter not in fields:
            raise ValueError(f"{code}: threshold on {signal} names no parameter {parameter!r}")

    def register(func: RuleFunc) -> RuleFunc:
        if code in RULES and RULES[code].func.__qualname__ != func.__qualname__:
            raise ValueError(f"rule code {code} is registered twice")
        RULES[code] = Rule(
            code,
            name,
            severity,
            tuple(requires),
            func,
            params,
            fix or {},
            stage,
            dict(thresholds or {}),
        )
        return func

    return register


def _time_at(times: Any, index: int) -> float:
    if len(times) == 0:
        return 0.0
    return float(times[min(max(index, 0), len(times) - 1)])


def _dedent(text: str) -> str:
    import inspect

    return inspect.cleandoc(text)
