"""DaVinci Resolve marker EDL: Timelines > Import > Timeline Markers from EDL puts one marker per
finding on an existing timeline (the clip placed at the timeline's start, 01:00:00:00).

This is Resolve's own marker format (what its *Export > Timeline Markers to EDL* writes): each
marker is a one-frame CMX 3600 event followed by a line ``<note> |C:ResolveColor<colour> |M:<name>
|D:<frames>``. It is written here rather than through otio-cmx3600-adapter because that adapter
writes markers only as Avid ``* LOC:`` comment lines, which Resolve does not read as markers. The
file still reads back with the adapter (each marker an event whose comment holds the marker line),
and the tests check it that way.

Times follow the ``.otio`` writer: a timeline rate (the clip's rate when a timeline can have it,
else 24 fps), non-drop-frame timecode.
"""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

from vidlint.fileio import write_text_atomic
from vidlint.report.model import SEVERITIES, Finding, Report
from vidlint.writers.otio import TIMELINE_START_S, marker_frames, timeline_rate

SUFFIX = ".markers.edl"

RESOLVE_COLORS = {
    "error": "ResolveColorRed",
    "warning": "ResolveColorYellow",
    "info": "ResolveColorBlue",
}


def timecode(frame: int, rate: float) -> str:
    start = round(TIMELINE_START_S * rate)
    return otio.opentime.to_timecode(
        otio.opentime.RationalTime(start + frame, rate), rate, drop_frame=False
    )


def plain(text: str) -> str:
    """One EDL line: no line breaks, and no ``|`` (it separates Resolve's marker fields)."""
    return " ".join(text.replace("|", "/").split())


def marker_event(
    number: int, start: int, findings: list[Finding], report: Report, rate: float
) -> str:
    """One marker for the findings that start on timeline frame ``start`` (Resolve keeps one
    marker per frame, so findings starting together share one, coloured by the worst)."""
    tc_in, tc_out = timecode(start, rate), timecode(start + 1, rate)
    notes, names = [], []
    for finding in findings:
        span = (
            f"frame {finding.start_frame}"
            if finding.start_frame == finding.end_frame
            else f"frames {finding.start_frame}-{finding.end_frame}"
        )
        # The note starts with the code: a note starting with a digit would read as an event.
        notes.append(f"{finding.code}: {finding.message} ({finding.severity}, {span})")
        names.append(f"{finding.code} {finding.name}")
    worst = min(findings, key=lambda f: SEVERITIES.index(f.severity)).severity
    count = max(marker_frames(report, f, rate)[1] for f in findings)
    return (
        f"{number:03d}  001      V     C        {tc_in} {tc_out} {tc_in} {tc_out}\n"
        f"{plain('; '.join(notes))} |C:{RESOLVE_COLORS[worst]} |M:{plain(' + '.join(names))}"
        f" |D:{count}\n"
    )


def render(report: Report) -> str:
    rate = timeline_rate(float(report.clip.get("fps") or 0.0))
    title = plain(f"vidlint {Path(report.clip['path']).name}")
    by_start: dict[int, list[Finding]] = {}
    for finding in report.findings:
        by_start.setdefault(marker_frames(report, finding, rate)[0], []).append(finding)
    events = [
        marker_event(number, start, by_start[start], report, rate)
        for number, start in enumerate(sorted(by_start), start=1)
    ]
    return f"TITLE: {title}\nFCM: NON-DROP FRAME\n\n" + "\n".join(events)


def write(report: Report, path: Path) -> Path:
    return write_text_atomic(path, render(report))
