"""Frame export (``--save-frames``): the peak frame of each finding as a PNG at full resolution,
in a folder per clip (``<clip>.frames/TMP001_f000020.png``), for bug reports, datasets of
failures, or a regeneration step that wants to see what went wrong."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2

from vidlint.decode.grab import FrameStore, grab_frames
from vidlint.errors import VidlintError
from vidlint.fileio import write_bytes_atomic
from vidlint.pipeline import INPUT_FAMILIES
from vidlint.report.model import Finding, Report
from vidlint.rules import rules_for_reports

log = logging.getLogger(__name__)

SUFFIX = ".frames"


def about_context(finding: Finding) -> bool:
    """True for findings about the inputs rather than frames: the prompt and source image
    families (PRM, SRC) and rules that read no analyzer and run before the aggregate stage. An
    aggregate rule (DRF001, which reads the other families' findings) is about frames."""
    if finding.family in INPUT_FAMILIES:
        return True
    rule = rules_for_reports().get(finding.code)
    return rule is not None and not rule.requires and rule.stage != "aggregate"


def frame_findings(report: Report) -> list[Finding]:
    """The findings about frames, in report order."""
    return [f for f in report.findings if not about_context(f)]


def frame_file(code: str, index: int) -> str:
    return f"{code}_f{index:06d}.png"


SHARED_BYTES_MAX = 256 << 20
"""Full-resolution frames a decode shared with other writers may hold for the export (97 frames
at 720p, 10 at 4K); past that, the export decodes the clip again on its own, holding one frame
at a time, so memory stays bounded however many findings a clip has."""


def peak_frames(report: Report) -> set[int]:
    return {f.peak_frame for f in frame_findings(report)}


def shares_decode(report: Report) -> bool:
    """Whether the export's full frames fit :data:`SHARED_BYTES_MAX` in a shared decode."""
    width, height = int(report.clip.get("width") or 0), int(report.clip.get("height") or 0)
    return len(peak_frames(report)) * width * height * 3 <= SHARED_BYTES_MAX


def wanted_frames(report: Report) -> tuple[set[int], None]:
    """The peak frames exported, at full resolution (none from a shared decode when they would
    not fit :data:`SHARED_BYTES_MAX`)."""
    return (peak_frames(report) if shares_decode(report) else set()), None


def write(report: Report, path: Path, frames: FrameStore | None = None) -> Path | None:
    """Write the PNGs into the folder ``path``; ``None`` (no folder) when no finding is about
    frames. ``frames`` is a store shared with other writers of the same clip (one decode for
    all); without one, or past :data:`SHARED_BYTES_MAX`, the clip is decoded here, one frame held
    at a time."""
    findings = frame_findings(report)
    if not findings:
        return None
    codes: dict[int, list[str]] = {}
    for finding in findings:
        codes.setdefault(finding.peak_frame, [])
        if finding.code not in codes[finding.peak_frame]:
            codes[finding.peak_frame].append(finding.code)
    path = Path(path)
    if frames is None or not shares_decode(report):
        pictures = grab_frames(
            report.clip["path"],
            codes,
            decoder=report.config.get("decoder", "pyav"),
            expect_sha256=report.clip.get("sha256"),
        )
    else:
        pictures = iter(frames.get(codes).items())
    for index, rgb in pictures:
        ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise VidlintError(f"could not encode frame {index} as PNG", path)
        for code in codes[index]:
            write_bytes_atomic(path / frame_file(code, index), png.tobytes())
    return path
