"""OpenTimelineIO timeline (``.otio``): the clip on one video track, one marker per finding.

Each marker is named ``CODE message``, coloured by severity, and its marked range is the
finding's span. The same timeline feeds the FCP7 XML writer (``writers/fcpxml.py``), so both
formats place markers identically.

Marker times are at a *timeline rate*: the clip's own rate when it is one an NLE timeline can
have, else 24 fps. Generators emit rates like 7.692 or 8 fps that no NLE timeline uses; a clip at
such a rate, dropped on a 24 fps timeline, plays by time, so its findings are placed by their
presentation time, and the source frame numbers stay in each marker's ``metadata["vidlint"]``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import opentimelineio as otio

from vidlint.errors import VidlintError
from vidlint.fileio import write_text_atomic
from vidlint.report.model import Finding, Report

SUFFIX = ".otio"

TIMELINE_RATES = (
    16.0,
    18.0,
    24000 / 1001,
    24.0,
    25.0,
    30000 / 1001,
    30.0,
    48000 / 1001,
    48.0,
    50.0,
    60000 / 1001,
    60.0,
    72.0,
    96.0,
    100.0,
    120000 / 1001,
    120.0,
)
"""Timeline frame rates DaVinci Resolve offers in its project settings (a superset of Premiere's
common sequence presets)."""
DEFAULT_TIMELINE_RATE = 24.0
"""For clips at a rate no NLE timeline has (e.g. 8 or 7.692 fps GIFs): film rate, the most common
rate of generated video."""
TIMELINE_START_S = 3600.0
"""Timelines start at 01:00:00:00, the default start timecode of Resolve and Premiere sequences."""

MARKER_COLORS = {
    "error": otio.schema.MarkerColor.RED,
    "warning": otio.schema.MarkerColor.YELLOW,
    "info": otio.schema.MarkerColor.BLUE,
}


def timeline_rate(fps: float) -> float:
    """The NLE timeline rate for a clip at ``fps``: the clip's rate if a timeline can have it
    (reports round fps to 4 decimals, so 23.976 is 24000/1001), else
    :data:`DEFAULT_TIMELINE_RATE`."""
    for rate in TIMELINE_RATES:
        if fps and abs(fps - rate) < 0.005:
            return rate
    return DEFAULT_TIMELINE_RATE


def frame_end_s(report: Report, index: int) -> float:
    """When frame ``index`` stops showing: the next frame's presentation time, or for the last
    frame one frame interval after its own (generators' uneven GIF delays included)."""
    times = report.frame_time_s
    index = min(max(index, 0), len(times) - 1)
    if index + 1 < len(times):
        return float(times[index + 1])
    fps = float(report.clip.get("fps") or 0.0)
    step = 1.0 / fps if fps > 0 else (float(times[-1] - times[-2]) if len(times) > 1 else 0.0)
    return float(times[index]) + step


def marker_frames(report: Report, finding: Finding, rate: float) -> tuple[int, int]:
    """(first frame, frame count) of ``finding`` on a timeline at ``rate`` that starts with the
    clip's first frame: from the first frame's start to the last frame's end, so a frame of an
    8 fps clip covers 3 frames of a 24 fps timeline."""
    if not report.frame_time_s:
        return finding.start_frame, finding.end_frame - finding.start_frame + 1
    origin = report.frame_time_s[0]
    start = max(0, round((finding.start_s - origin) * rate))
    end = round((frame_end_s(report, finding.end_frame) - origin) * rate)
    return start, max(1, end - start)


def clip_frames(report: Report, rate: float) -> int:
    """The clip's length in timeline frames (covering every marker), up to the end of its last
    frame: not from ``duration_s``, which is rounded (121 frames at 24 fps would make 122)."""
    if report.frame_time_s:
        origin = report.frame_time_s[0]
        frames = round((frame_end_s(report, len(report.frame_time_s) - 1) - origin) * rate)
    else:
        duration = float(report.clip.get("duration_s") or 0.0)
        frames = math.ceil(duration * rate - 1e-6) if duration else len(report.frame_index)
    ends = [sum(marker_frames(report, f, rate)) for f in report.findings]
    return max([frames, 1, *ends])


def marker_name(finding: Finding) -> str:
    return f"{finding.code} {finding.message}"


def marker_comment(finding: Finding) -> str:
    span = (
        f"frame {finding.start_frame}"
        if finding.start_frame == finding.end_frame
        else f"frames {finding.start_frame}-{finding.end_frame}"
    )
    return (
        f"{finding.name} ({finding.severity}, confidence {finding.confidence:.2f}); "
        f"{span}, peak {finding.peak_frame}"
    )


def make_marker(report: Report, finding: Finding, rate: float) -> otio.schema.Marker:
    start, count = marker_frames(report, finding, rate)
    marked = otio.opentime.TimeRange(
        otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(count, rate)
    )
    comment = marker_comment(finding)
    return otio.schema.Marker(
        name=marker_name(finding),
        marked_range=marked,
        color=MARKER_COLORS[finding.severity],
        comment=comment,
        metadata={
            "vidlint": {
                "code": finding.code,
                "name": finding.name,
                "severity": finding.severity,
                "start_frame": finding.start_frame,
                "end_frame": finding.end_frame,
                "peak_frame": finding.peak_frame,
                "confidence": finding.confidence,
            },
            "fcp_xml": {"comment": comment},
        },
    )


def build_timeline(report: Report, sequence_markers: bool = False) -> otio.schema.Timeline:
    """A timeline holding the clip with a marker per finding. ``sequence_markers`` also puts each
    marker on the timeline itself (what Premiere keeps from an FCP7 XML import)."""
    path = Path(report.clip["path"])
    rate = timeline_rate(float(report.clip.get("fps") or 0.0))
    length = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, rate),
        otio.opentime.RationalTime(clip_frames(report, rate), rate),
    )
    reference = otio.schema.ExternalReference(
        target_url=path.resolve().as_uri(), available_range=length
    )
    clip = otio.schema.Clip(
        name=path.name,
        media_reference=reference,
        source_range=length,
        metadata={
            "vidlint": {
                "verdict": report.verdict,
                "score": report.score,
                "fps": report.clip.get("fps"),
                "sha256": report.clip.get("sha256"),
            }
        },
    )
    for finding in report.findings:
        clip.markers.append(make_marker(report, finding, rate))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    track.append(clip)
    timeline = otio.schema.Timeline(
        name=f"vidlint {path.name}",
        global_start_time=otio.opentime.RationalTime(round(TIMELINE_START_S * rate), rate),
    )
    timeline.tracks.append(track)
    if sequence_markers:
        for finding in report.findings:
            timeline.tracks.markers.append(make_marker(report, finding, rate))
    return timeline


def write_timeline(
    timeline: otio.schema.Timeline, path: Path, adapter: str, **options: Any
) -> Path:
    """Serialize with an OTIO adapter, then write atomically."""
    try:
        text = otio.adapters.write_to_string(timeline, adapter_name=adapter, **options)
    except otio.exceptions.OTIOError as exc:
        raise VidlintError(f"OpenTimelineIO adapter {adapter!r} failed: {exc}", path) from exc
    return write_text_atomic(path, text)


def write(report: Report, path: Path) -> Path:
    return write_timeline(build_timeline(report), Path(path), "otio_json")
