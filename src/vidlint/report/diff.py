"""What changed between two checks of a clip (two attempts of a regeneration, two versions of a
config): findings gained, lost and moved, and the score.

Findings are matched by code: the same span is unchanged; otherwise the nearest finding of the
same code within :data:`MOVE_S` seconds is the same artifact moved (its span shifted or grew);
what is left is lost (in A only) or gained (in B only). ``vidlint diff A B`` compares two reports,
or two folders of reports clip by clip (matched by clip file name); the regeneration history page
shows the same comparison between consecutive attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidlint.report.model import Finding, Report

MOVE_S = 1.0
"""Farthest apart (between span middles) two findings of one code are still one artifact that
moved: a regenerated clip puts the same kind of fault somewhere else, often within a second."""
DEFAULT_FPS = 24.0


@dataclass(frozen=True)
class Mark:
    """What a comparison needs of a finding (a :class:`Finding` or a history's finding dict)."""

    code: str
    severity: str
    start: int
    end: int
    message: str

    @classmethod
    def of(cls, finding: Finding | dict[str, Any]) -> Mark:
        if isinstance(finding, Finding):
            return cls(
                finding.code,
                finding.severity,
                finding.start_frame,
                finding.end_frame,
                finding.message,
            )
        return cls(
            str(finding["code"]),
            str(finding.get("severity", "")),
            int(finding["start_frame"]),
            int(finding["end_frame"]),
            str(finding.get("message", "")),
        )

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2

    def span(self) -> str:
        return (
            f"frame {self.start}" if self.start == self.end else f"frames {self.start}-{self.end}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "start_frame": self.start,
            "end_frame": self.end,
            "message": self.message,
        }


@dataclass
class FindingsDiff:
    gained: list[Mark] = field(default_factory=list)
    lost: list[Mark] = field(default_factory=list)
    moved: list[tuple[Mark, Mark]] = field(default_factory=list)
    unchanged: list[Mark] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.gained or self.lost or self.moved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gained": [m.to_dict() for m in self.gained],
            "lost": [m.to_dict() for m in self.lost],
            "moved": [{"from": a.to_dict(), "to": b.to_dict()} for a, b in self.moved],
            "unchanged": len(self.unchanged),
        }


def diff_findings(
    before: Sequence[Finding | dict[str, Any]],
    after: Sequence[Finding | dict[str, Any]],
    move_frames: float = MOVE_S * DEFAULT_FPS,
) -> FindingsDiff:
    """Match ``after`` against ``before`` (see the module docstring)."""
    left = [Mark.of(f) for f in before]
    right = [Mark.of(f) for f in after]
    result = FindingsDiff()
    for mark in list(left):
        twin = next(
            (m for m in right if (m.code, m.start, m.end) == (mark.code, mark.start, mark.end)),
            None,
        )
        if twin is not None:
            result.unchanged.append(twin)
            left.remove(mark)
            right.remove(twin)
    pairs = sorted(
        (abs(a.middle - b.middle), i, j)
        for i, a in enumerate(left)
        for j, b in enumerate(right)
        if a.code == b.code and abs(a.middle - b.middle) <= move_frames
    )
    used_left: set[int] = set()
    used_right: set[int] = set()
    for _, i, j in pairs:
        if i not in used_left and j not in used_right:
            used_left.add(i)
            used_right.add(j)
            result.moved.append((left[i], right[j]))
    result.moved.sort(key=lambda pair: pair[1].start)
    result.lost = [m for i, m in enumerate(left) if i not in used_left]
    result.gained = [m for j, m in enumerate(right) if j not in used_right]
    return result


@dataclass
class ClipDiff:
    """One clip in A and in B (either may be missing when folders are compared)."""

    clip: str
    before: Report | None
    after: Report | None
    findings: FindingsDiff

    @property
    def regressed(self) -> bool:
        """B has an error finding A did not have (or B's clip is new and fails)."""
        return any(m.severity == "error" for m in self.findings.gained)

    def to_dict(self) -> dict[str, Any]:
        def side(report: Report | None) -> dict[str, Any] | None:
            if report is None:
                return None
            return {
                "path": report.clip.get("path"),
                "verdict": report.verdict,
                "score": report.score,
            }

        change = (
            self.after.score - self.before.score
            if self.before is not None and self.after is not None
            else None
        )
        return {
            "clip": self.clip,
            "a": side(self.before),
            "b": side(self.after),
            "score_change": change,
            **self.findings.to_dict(),
        }


def diff_reports(before: Report | None, after: Report | None, clip: str = "") -> ClipDiff:
    fps = next(
        (float(r.clip.get("fps") or 0) for r in (after, before) if r and r.clip.get("fps")),
        DEFAULT_FPS,
    )
    findings = diff_findings(
        before.findings if before else [], after.findings if after else [], MOVE_S * fps
    )
    name = clip or Path(str((after or before).clip.get("path", ""))).name  # type: ignore[union-attr]
    return ClipDiff(name, before, after, findings)


def clip_name(report: Report) -> str:
    return Path(str(report.clip.get("path", ""))).name


def diff_sets(before: Sequence[Report], after: Sequence[Report]) -> list[ClipDiff]:
    """Reports of A and B paired by clip file name; a single report on each side is compared
    whatever its clip is called (two attempts of one clip have different names)."""
    if len(before) == 1 and len(after) == 1:
        return [diff_reports(before[0], after[0])]
    by_name_a = {clip_name(r): r for r in before}
    by_name_b = {clip_name(r): r for r in after}
    names = sorted(set(by_name_a) | set(by_name_b))
    return [diff_reports(by_name_a.get(n), by_name_b.get(n), n) for n in names]
