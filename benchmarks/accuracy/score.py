"""Scoring: findings against labels.

A finding matches a label when its code is one the label's kind accepts and its frame span
overlaps the labelled span within ``TOLERANCE`` frames. A label is found when some finding matches
it; its span IoU is that of the union of its matching findings with the labelled span, its onset
error the first matching finding's start minus the label's. A finding that matches no label of its
case is false, unless the kind tolerates its code over the labelled span. Only warnings and errors
count, for and against: an info finding is a note no publisher acts on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

TOLERANCE = 2
COUNTED = ("error", "warning")


@dataclass(frozen=True)
class LabelResult:
    kind: str
    found: bool
    iou: float | None
    onset: int | None
    reported: tuple[str, ...]
    """Codes of the counted findings over the labelled span (±TOLERANCE), matching or not."""


@dataclass
class Tally:
    """Everything scored over a set of cases."""

    labels: list[LabelResult] = field(default_factory=list)
    true_findings: int = 0
    false_findings: list[tuple[str, str, str]] = field(default_factory=list)
    """(kind of the case, code, severity) of each false finding."""
    cases: Counter = field(default_factory=Counter)
    """Cases per kind."""
    failed_clean: int = 0
    missing: int = 0
    """Cases without a report: vidlint could not check them."""

    def add(self, other: Tally) -> None:
        self.labels += other.labels
        self.true_findings += other.true_findings
        self.false_findings += other.false_findings
        self.cases.update(other.cases)
        self.failed_clean += other.failed_clean
        self.missing += other.missing


def overlaps(finding: dict[str, Any], label: dict[str, Any], tolerance: int = TOLERANCE) -> bool:
    return (
        finding["start_frame"] <= label["end"] + tolerance
        and finding["end_frame"] >= label["start"] - tolerance
    )


def matches(finding: dict[str, Any], label: dict[str, Any], codes: list[str]) -> bool:
    return finding["code"] in codes and overlaps(finding, label)


def span_iou(spans: list[tuple[int, int]], label: dict[str, Any]) -> float:
    """IoU, in frames, of the union of inclusive ``spans`` with the labelled span."""
    found = set().union(*(range(start, end + 1) for start, end in spans))
    truth = set(range(label["start"], label["end"] + 1))
    return len(found & truth) / len(found | truth)


def score_case(case: dict[str, Any], report: dict[str, Any] | None) -> Tally:
    tally = Tally(cases=Counter([case["kind"]]))
    if report is None:
        tally.missing = 1
        tally.labels = [LabelResult(case["kind"], False, None, None, ()) for _ in case["labels"]]
        return tally
    findings = [f for f in report["findings"] if f["severity"] in COUNTED]
    codes = case["codes"]
    matched: set[int] = set()
    for label in case["labels"]:
        hits = [i for i, f in enumerate(findings) if matches(f, label, codes)]
        matched.update(hits)
        reported = tuple(sorted(f["code"] for f in findings if overlaps(f, label)))
        if not hits:
            tally.labels.append(LabelResult(case["kind"], False, None, None, reported))
            continue
        spans = [(findings[i]["start_frame"], findings[i]["end_frame"]) for i in hits]
        onset = min(start for start, _ in spans) - label["start"]
        tally.labels.append(
            LabelResult(case["kind"], True, span_iou(spans, label), onset, reported)
        )
    tolerated, known = case.get("tolerated", []), case.get("known", [])
    excused = {
        i
        for i, f in enumerate(findings)
        if (f["code"] in tolerated and any(overlaps(f, label) for label in case["labels"]))
        or f["code"] in known
    }
    tally.true_findings = len(matched)
    tally.false_findings = [
        (case["kind"], f["code"], f["severity"])
        for i, f in enumerate(findings)
        if i not in matched | excused
    ]
    known_errors = [f["code"] in known for f in findings if f["severity"] == "error"]
    rightly = bool(known_errors) and all(known_errors)  # failed for what the base carries
    if case["kind"] == "clean" and report.get("verdict") == "fail" and not rightly:
        tally.failed_clean = 1
    return tally


def score(cases: list[dict[str, Any]], reports: dict[str, dict[str, Any] | None]) -> Tally:
    total = Tally()
    for case in cases:
        total.add(score_case(case, reports.get(case["case"])))
    return total


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class KindSummary:
    cases: int
    labels: int
    found: int
    iou: float | None
    onset: float | None
    """Mean absolute onset error, frames."""
    false_per_case: float
    reported: Counter


def by_kind(tally: Tally) -> dict[str, KindSummary]:
    out = {}
    for kind, cases in sorted(tally.cases.items()):
        labels = [r for r in tally.labels if r.kind == kind]
        found = [r for r in labels if r.found]
        false = sum(1 for k, _, _ in tally.false_findings if k == kind)
        out[kind] = KindSummary(
            cases=cases,
            labels=len(labels),
            found=len(found),
            iou=mean([r.iou for r in found if r.iou is not None]),
            onset=mean([abs(r.onset) for r in found if r.onset is not None]),
            false_per_case=false / cases,
            reported=Counter(code for r in labels for code in r.reported),
        )
    return out


@dataclass(frozen=True)
class Overall:
    cases: int
    clean_cases: int
    labels: int
    found: int
    precision: float | None
    recall: float | None
    f1: float | None
    false_per_case: float | None
    false_per_clean: float | None
    errors_on_clean: int
    failed_clean: int
    missing: int


def overall(tally: Tally) -> Overall:
    cases = sum(tally.cases.values())
    clean = tally.cases.get("clean", 0)
    found = sum(r.found for r in tally.labels)
    false = len(tally.false_findings)
    on_clean = [
        (code, severity) for kind, code, severity in tally.false_findings if kind == "clean"
    ]
    flagged = tally.true_findings + false
    precision = tally.true_findings / flagged if flagged else None
    recall = found / len(tally.labels) if tally.labels else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall > 0
        else None
    )
    return Overall(
        cases=cases,
        clean_cases=clean,
        labels=len(tally.labels),
        found=found,
        precision=precision,
        recall=recall,
        f1=f1,
        false_per_case=false / cases if cases else None,
        false_per_clean=len(on_clean) / clean if clean else None,
        errors_on_clean=sum(severity == "error" for _, severity in on_clean),
        failed_clean=tally.failed_clean,
        missing=tally.missing,
    )


def false_by_rule(tally: Tally) -> dict[str, Counter]:
    """Per rule code: false errors, false warnings, and how many of them were on clean cases."""
    out: dict[str, Counter] = {}
    for kind, code, severity in tally.false_findings:
        counts = out.setdefault(code, Counter())
        counts[severity] += 1
        counts["clean"] += kind == "clean"
    return dict(sorted(out.items()))
