"""Salvage a clip without regenerating it: keep its clean prefix when only the tail is bad, and
pick the best clean frame of an attempt to animate with image-to-video."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from vidlint import crashpoints
from vidlint.decode import open_clip
from vidlint.errors import InputError
from vidlint.regen.request import FRAMELESS_FAMILIES, blocking_findings
from vidlint.regen.settings import RegenSettings
from vidlint.report.model import Report


def salvage_cut(report: Report, settings: RegenSettings) -> int | None:
    """The number of leading frames to keep, or None when trimming cannot save the clip.

    The cut is the onset of degradation (DRF001's start frame) or, without one, the first frame
    of the earliest blocking finding; every blocking finding must lie at or after it, and the
    prefix must be at least ``min_salvage_s`` long and ``min_salvage_fraction`` of the clip.
    """
    blocking = [
        f for f in blocking_findings(report, settings) if f.family not in FRAMELESS_FAMILIES
    ]
    if not blocking:
        return None
    onsets = [f.start_frame for f in report.findings if f.code == "DRF001"]
    cut = min(onsets) if onsets else min(f.start_frame for f in blocking)
    if any(f.start_frame < cut for f in blocking):
        return None
    total = len(report.frame_index) or int(report.clip.get("frame_count") or 0)
    fps = float(report.clip.get("fps") or 0.0)
    if total <= 0 or fps <= 0 or cut >= total:
        return None
    if cut / fps < settings.min_salvage_s or cut < settings.min_salvage_fraction * total:
        return None
    return cut


def trim_clip(source: Path, frames: int, target: Path) -> Path:
    """Write the first ``frames`` frames of ``source`` to ``target`` (H.264, near-lossless, at
    the source's frame times)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.part.mp4")
    written = 0
    with open_clip(source) as clip, av.open(str(temp), "w", format="mp4") as container:
        rate = Fraction(clip.info.fps or 24).limit_denominator(1001)
        stream = container.add_stream("libx264", rate=rate)
        stream.width = clip.info.width - clip.info.width % 2
        stream.height = clip.info.height - clip.info.height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "16", "preset": "veryfast"}
        for frame in clip.frames():
            if frame.index >= frames:
                break
            rgb = np.ascontiguousarray(frame.rgb[: stream.height, : stream.width])
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            picture.pts = round(frame.time_s * rate)
            container.mux(stream.encode(picture))
            written += 1
        container.mux(stream.encode())
    if written < 2:
        temp.unlink(missing_ok=True)
        raise InputError(f"cannot trim to {frames} frames: only {written} decoded", source)
    crashpoints.reached("salvage.trimmed")
    temp.replace(target)
    return target


def best_clean_frame(source: Path, report: Report, target: Path) -> Path | None:
    """Save the middle frame of the longest run of frames no finding touches (frameless families
    aside) as a PNG; None when every frame has a finding."""
    n = len(report.frame_index)
    if n == 0:
        return None
    bad = np.zeros(n, bool)
    for finding in report.findings:
        if finding.family in FRAMELESS_FAMILIES:
            continue
        bad[max(0, finding.start_frame) : min(n, finding.end_frame + 1)] = True
    best, start = (0, -1), None
    for index in range(n + 1):
        clean = index < n and not bad[index]
        if clean and start is None:
            start = index
        elif not clean and start is not None:
            if index - start > best[0]:
                best = (index - start, start)
            start = None
    length, first = best
    if length == 0:
        return None
    wanted = first + length // 2
    with open_clip(source) as clip:
        for frame in clip.frames():
            if frame.index == wanted:
                target.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(frame.rgb).save(target)
                return target
    return None
