"""FCP7 XML (``xmeml``) through OpenTimelineIO's ``fcp_xml`` adapter (otio-fcp-adapter): a
sequence holding the clip, with a marker per finding both on the sequence (Premiere keeps
sequence markers on import) and on the clip item (they travel with the clip when it is cut).
Premiere Pro (File > Import), DaVinci Resolve (File > Import > Timeline) and Final Cut Pro X
(through a converter) read it. FCP7 markers carry a name, an in/out and a comment, no colour:
the severity is in the comment."""

from __future__ import annotations

from pathlib import Path

from vidlint.report.model import Report
from vidlint.writers.otio import build_timeline, write_timeline

SUFFIX = ".fcp.xml"


def write(report: Report, path: Path) -> Path:
    return write_timeline(build_timeline(report, sequence_markers=True), Path(path), "fcp_xml")
