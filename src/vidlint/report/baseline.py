"""Baselines: findings a team has looked at and accepted, as linters keep them.

A baseline is a JSON file (``vidlint.baseline/1``) of waivers::

    {"schema": "vidlint.baseline/1",
     "waivers": [{"code": "HND001", "clip": "boy_waving.gif", "sha256": "9f2c...",
                  "frames": [1, 1], "reason": "the raised hand is wanted"}]}

``code`` is a rule code or a family (``HND``); ``clip`` a file name, ``sha256`` the clip's bytes
(at least one of the two); ``frames`` the first and last frame (optional: the whole clip); and
``reason`` why it is accepted. A finding is waived when its code matches, its clip matches every
one of ``clip`` and ``sha256`` that the waiver gives, and its frames overlap ``frames``.
``vidlint baseline REPORTS`` writes one from reports, naming each clip by both, so a regenerated
clip (new bytes) is checked afresh. ``vidlint check --baseline FILE`` then reports only what is
new: waived findings move to the report's ``waived`` list, out of the verdict, the score and the
exit code, and the HTML page shows them as waived.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from vidlint.errors import InputError
from vidlint.fileio import read_json, write_json_atomic
from vidlint.report.model import Finding, Report, Waived

BASELINE_SCHEMA = "vidlint.baseline/1"
CODE = re.compile(r"^[A-Z]{3}(\d{3})?$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_REASON = "accepted when the baseline was written"


@dataclass(frozen=True)
class Waiver:
    code: str
    reason: str
    clip: str | None = None
    sha256: str | None = None
    frames: tuple[int, int] | None = None

    def covers_clip(self, name: str, sha256: str | None) -> bool:
        return (self.clip is None or self.clip == name) and (
            self.sha256 is None or self.sha256 == sha256
        )

    def covers(self, finding: Finding) -> bool:
        if finding.code != self.code and finding.family != self.code:
            return False
        if self.frames is None:
            return True
        first, last = self.frames
        return finding.start_frame <= last and finding.end_frame >= first

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        if self.frames is not None:
            data["frames"] = list(self.frames)
        return data


@dataclass(frozen=True)
class Baseline:
    path: str
    waivers: tuple[Waiver, ...]

    def for_clip(self, name: str, sha256: str | None) -> list[Waiver]:
        """The waivers that may apply to the clip named ``name`` with these bytes."""
        return [w for w in self.waivers if w.covers_clip(name, sha256)]

    def apply(self, report: Report) -> Report:
        """``report`` with the findings this baseline waives moved to ``waived``."""
        clip = report.clip
        waivers = self.for_clip(Path(str(clip.get("path", ""))).name, clip.get("sha256"))
        if not waivers:
            return report
        kept, waived = [], list(report.waived)
        for finding in report.findings:
            waiver = next((w for w in waivers if w.covers(finding)), None)
            if waiver is None:
                kept.append(finding)
            else:
                waived.append(Waived(finding, waiver.reason, self.path))
        return replace(report, findings=kept, waived=waived)


def load_baseline(path: str | Path) -> Baseline:
    """Read and check a baseline; an :class:`InputError` naming the file and the waiver."""
    path = Path(path)
    document = read_json(path)
    if not isinstance(document, dict) or document.get("schema") != BASELINE_SCHEMA:
        raise InputError(f"not a baseline (expected schema {BASELINE_SCHEMA!r})", path)
    entries = document.get("waivers")
    if not isinstance(entries, list):
        raise InputError("'waivers' must be a list", path)
    return Baseline(str(path), tuple(_waiver(e, n, path) for n, e in enumerate(entries, 1)))


def _waiver(entry: Any, number: int, path: Path) -> Waiver:
    def bad(cause: str) -> InputError:
        return InputError(f"waiver {number}: {cause}", path)

    if not isinstance(entry, dict):
        raise bad("not a JSON object")
    unknown = set(entry) - {"code", "reason", "clip", "sha256", "frames"}
    if unknown:
        raise bad(f"unknown key {min(unknown)!r}")
    code = entry.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        raise bad(f"code {code!r} is not a rule code (TMP001) or family (TMP)")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise bad("needs a reason")
    clip, sha256 = entry.get("clip"), entry.get("sha256")
    if clip is None and sha256 is None:
        raise bad("needs the clip (file name) or its sha256")
    if clip is not None and (not isinstance(clip, str) or not clip or "/" in clip):
        raise bad(f"clip {clip!r} must be a file name")
    if sha256 is not None and (not isinstance(sha256, str) or not SHA256.match(sha256)):
        raise bad("sha256 must be 64 lowercase hex digits")
    frames = entry.get("frames")
    if frames is not None:
        if (
            not isinstance(frames, list)
            or len(frames) != 2
            or not all(isinstance(f, int) and not isinstance(f, bool) and f >= 0 for f in frames)
            or frames[0] > frames[1]
        ):
            raise bad(f"frames {frames!r} must be [first, last], whole frames, first <= last")
        frames = (frames[0], frames[1])
    return Waiver(code, reason.strip(), clip, sha256, frames)


def waivers_of(reports: Iterable[Report], reason: str = DEFAULT_REASON) -> list[Waiver]:
    """A waiver for every finding of ``reports`` (and every one they already waive, with its
    reason), naming the clip by file name and sha256."""
    waivers: list[Waiver] = []
    for report in reports:
        name = Path(str(report.clip.get("path", ""))).name
        sha256 = report.clip.get("sha256") or None
        entries = [(f, reason) for f in report.findings]
        entries += [(w.finding, w.reason) for w in report.waived]
        for finding, why in sorted(entries, key=lambda e: (e[0].start_frame, e[0].code)):
            frames = (finding.start_frame, finding.end_frame)
            waiver = Waiver(finding.code, why, name, sha256, frames)
            if waiver not in waivers:
                waivers.append(waiver)
    return waivers


def write_baseline(path: str | Path, waivers: Iterable[Waiver]) -> Path:
    document = {"schema": BASELINE_SCHEMA, "waivers": [w.to_dict() for w in waivers]}
    return write_json_atomic(Path(path), document)
