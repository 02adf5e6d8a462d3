"""Rules are pure functions ``(RuleInput, params) -> Iterable[Hit]``, registered with ``@rule``.

The decorator holds everything about a rule that is data: code, kebab-case name, default
severity, the analyzers it ``requires`` (it runs only when they ran) and the ones it ``uses``
when present (selecting the rule runs them too, so its result never depends on ``--select``),
its :class:`Fix` and its parameter dataclass. The rule's docstring is its documentation, under
fixed headings (``vidlint explain CODE``). A rule reads per-frame signals from
``data.signals`` and an analyzer's per-clip result with ``data.output(TheOutputType)``.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from vidlint.decode import ClipInfo, DecodeIssue
from vidlint.report.model import SEVERITIES, Finding, Region
from vidlint.settings import NoParams, defaults, reasons
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
T = TypeVar("T")


@dataclass(frozen=True)
class Fix:
    """What the next generation request changes for a finding of this rule. The regeneration
    loop applies exactly this (overridden by ``[regen.changes]``), and the report shows it as the
    finding's fix hint."""

    negative_prompt: tuple[str, ...] = ()
    """Terms added to the negative prompt, from the reseed rung on."""
    prompt: tuple[str, ...] = ()
    """Phrases added to the prompt at the constrain rung."""
    params: Mapping[str, float] = field(default_factory=dict)
    """Numeric generation parameters lowered to at most these values at the constrain rung
    (e.g. ``motion_strength``)."""
    why: str = ""
    """The reason for the change, with its source."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "negative_prompt": list(self.negative_prompt),
            "prompt": list(self.prompt),
            "params": dict(self.params),
            "why": self.why,
        }


FAMILIES: dict[str, str] = {}
"""Family prefix -> title, declared by each rule module with :func:`family`."""


def family(prefix: str, title: str) -> None:
    """Declare a rule family (its three-letter prefix and the title ``vidlint rules`` shows)."""
    if not re.fullmatch(r"[A-Z]{3}", prefix):
        raise ValueError(f"rule family {prefix!r} must be three capitals")
    FAMILIES[prefix] = title


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
    """Everything a rule may read. ``outputs`` holds the per-clip results of the analyzers that
    ran (read them with :meth:`output`); ``clip`` is None when a prompt is linted on its own;
    ``findings`` and ``badness`` are filled only for rules of the ``aggregate`` stage, which run
    after all others (e.g. degradation onset)."""

    signals: Signals
    clip: ClipInfo | None
    context: Mapping[str, Any]
    issues: tuple[DecodeIssue, ...] = ()
    outputs: Mapping[str, Any] = field(default_factory=dict)
    declared_frames: int = 0
    """How many frames the container declared (0: it did not say)."""
    findings: tuple[Finding, ...] = ()
    badness: Mapping[str, Any] = field(default_factory=dict)

    def output(self, kind: type[T]) -> T:
        """The per-clip output of type ``kind`` (the declared ``output`` of an analyzer the rule
        requires)."""
        found = self.optional_output(kind)
        if found is None:
            raise LookupError(f"no {kind.__name__}: the rule must require its analyzer")
        return found

    def optional_output(self, kind: type[T]) -> T | None:
        """The output of type ``kind``, or None when its analyzer did not run (an analyzer the
        rule ``uses`` but does not require)."""
        for value in self.outputs.values():
            if isinstance(value, kind):
                return value
        return None


RuleFunc = Callable[[RuleInput, Any], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    requires: tuple[str, ...]
    func: RuleFunc
    params: type = NoParams
    fix: Fix = Fix()
    stage: str = "signals"
    uses: tuple[str, ...] = ()
    thresholds: dict[str, str] = field(default_factory=dict)
    """Per-frame signals the rule compares with one of its parameters (signal key: parameter
    name): the HTML report draws that parameter as a line on the signal's plot."""

    @property
    def analyzers(self) -> tuple[str, ...]:
        """Every analyzer selecting this rule runs."""
        return tuple(dict.fromkeys((*self.requires, *self.uses)))

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
        return defaults(self.params)

    def param_reasons(self) -> dict[str, str]:
        return reasons(self.params)

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
                    fix=self.fix.to_dict(),
                )
            )
        return findings


def runs(mask: np.ndarray | Sequence[bool]) -> Iterator[tuple[int, int]]:
    """Inclusive (start, end) of each run of True in ``mask``."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        yield int(start), int(stop) - 1


def swings(series: np.ndarray, min_swing: float) -> list[int]:
    """The turning points of ``series``: each high or low that it then leaves by at least
    ``min_swing`` (a zigzag with hysteresis, so noise smaller than ``min_swing`` never turns)."""
    turns: list[int] = []
    low = high = 0
    direction = 0  # +1 rising from the last low, -1 falling from the last high
    for i in range(1, len(series)):
        v = series[i]
        high = i if v > series[high] else high
        low = i if v < series[low] else low
        if direction >= 0 and series[high] - v >= min_swing:
            if direction == 0 and low < high:
                turns.append(low)
            turns.append(high)
            direction, low = -1, i
        elif direction <= 0 and v - series[low] >= min_swing:
            if direction == 0 and high < low:
                turns.append(high)
            turns.append(low)
            direction, high = 1, i
    return turns


def oscillations(
    series: np.ndarray, min_swing: float, max_leg: int, min_legs: int = 3
) -> list[list[int]]:
    """Runs of ``min_legs`` or more swings of ``series`` in a row, each of at least ``min_swing``
    and at most ``max_leg`` samples long (up-down-up, faster than a slow drift): their
    turning points."""
    found: list[list[int]] = []
    run: list[int] = []
    for turn in swings(series, min_swing):
        if run and turn - run[-1] > max_leg:
            found.append(run)
            run = []
        run.append(turn)
    found.append(run)
    return [r for r in found if len(r) - 1 >= min_legs]


RULES: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    *,
    severity: str,
    requires: Iterable[str] = (),
    uses: Iterable[str] = (),
    params: type = NoParams,
    fix: Fix | None = None,
    stage: str = "signals",
    thresholds: dict[str, str] | None = None,
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function under ``code``."""
    if not CODE_PATTERN.match(code):
        raise ValueError(f"rule code {code!r} must be three capitals and three digits")
    if severity not in SEVERITIES:
        raise ValueError(f"{code}: severity {severity!r} is not one of {SEVERITIES}")
    if fix is not None and not isinstance(fix, Fix):
        raise TypeError(f"{code}: fix must be a Fix")
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
            fix or Fix(),
            stage,
            tuple(uses),
            dict(thresholds or {}),
        )
        return func

    return register


def _time_at(times: Any, index: int) -> float:
    if len(times) == 0:
        return 0.0
    return float(times[min(max(index, 0), len(times) - 1)])


def _dedent(text: str) -> str:
    return inspect.cleandoc(text)
