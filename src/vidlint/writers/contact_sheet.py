"""Contact sheet (``--format contact-sheet``): one PNG per failing clip with the peak frame of
each finding in a grid, its region boxed and a label with code, frame and time, so a reviewer
sees at a glance what failed. Clips that pass or only warn get none; findings about the prompt
(not the frames) get no tile."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vidlint.decode.grab import FrameStore
from vidlint.fileio import write_bytes_atomic
from vidlint.report.model import SEVERITIES, Finding, Report
from vidlint.writers.frames import frame_findings

SUFFIX = ".contact.png"

TILE_WIDTH = 300
COLUMNS = 4
MAX_TILES = 16
"""The most severe findings only, so a sheet stays a glance (4 x 4 tiles, about 1 MB of PNG for
photographic frames); the HTML report lists every finding."""
LABEL_HEIGHT = 40
HEADER_HEIGHT = 44
SEVERITY_RGB = {"error": (220, 38, 38), "warning": (217, 119, 6), "info": (37, 99, 235)}
BACKGROUND = (24, 24, 27)


def chosen(report: Report) -> list[Finding]:
    """Up to :data:`MAX_TILES` findings, the most severe and confident first, shown in time
    order."""
    ranked = sorted(
        frame_findings(report),
        key=lambda f: (SEVERITIES.index(f.severity), -f.confidence, f.start_frame),
    )
    return sorted(ranked[:MAX_TILES], key=lambda f: (f.peak_frame, f.code))


def tile_height(report: Report) -> int:
    width, height = int(report.clip.get("width") or 16), int(report.clip.get("height") or 9)
    return max(1, round(TILE_WIDTH * height / width))


def wanted_frames(report: Report) -> tuple[set[int], int]:
    """The peak frames of the tiles (none for a clip that gets no sheet) and the size they are
    grabbed at."""
    findings = chosen(report) if shows_sheet(report) else []
    return {f.peak_frame for f in findings}, max(TILE_WIDTH, tile_height(report))


def render(report: Report, store: FrameStore | None = None) -> Image.Image:
    """The sheet; its frames come from ``store`` when given (see :func:`write`)."""
    findings = chosen(report)
    tile_h = tile_height(report)
    frames = (store or FrameStore.of_report(report)).get(
        {f.peak_frame for f in findings}, max(TILE_WIDTH, tile_h)
    )
    columns = min(COLUMNS, len(findings))
    rows = math.ceil(len(findings) / columns)
    sheet = Image.new(
        "RGB", (columns * TILE_WIDTH, HEADER_HEIGHT + rows * (tile_h + LABEL_HEIGHT)), BACKGROUND
    )
    draw = ImageDraw.Draw(sheet)
    big, small = ImageFont.load_default(size=18), ImageFont.load_default(size=13)
    title = (
        f"{Path(report.clip['path']).name}   {report.verdict.upper()}   score "
        f"{report.score}   {len(report.findings)} finding(s)"
    )
    draw.text((10, 12), title, fill=(244, 244, 245), font=big)
    for n, finding in enumerate(findings):
        x = (n % columns) * TILE_WIDTH
        y = HEADER_HEIGHT + (n // columns) * (tile_h + LABEL_HEIGHT)
        color = SEVERITY_RGB[finding.severity]
        rgb = frames.get(finding.peak_frame)
        if rgb is not None:
            tile = Image.fromarray(np.ascontiguousarray(rgb)).resize((TILE_WIDTH, tile_h))
            sheet.paste(tile, (x, y))
        else:
            draw.text((x + 10, y + tile_h // 2), "frame not decodable", fill=color, font=small)
        if finding.region is not None:
            r = finding.region
            draw.rectangle(
                (
                    x + r.x * TILE_WIDTH,
                    y + r.y * tile_h,
                    x + (r.x + r.w) * TILE_WIDTH,
                    y + (r.y + r.h) * tile_h,
                ),
                outline=color,
                width=3,
            )
        draw.rectangle((x, y, x + TILE_WIDTH - 1, y + tile_h - 1), outline=color, width=2)
        label_y = y + tile_h
        draw.rectangle((x, label_y, x + TILE_WIDTH - 1, label_y + LABEL_HEIGHT - 1), fill=color)
        draw.text(
            (x + 6, label_y + 3),
            f"{finding.code}  frame {finding.peak_frame}  {peak_time(report, finding):.2f} s",
            fill=(255, 255, 255),
            font=small,
        )
        draw.text(
            (x + 6, label_y + 20),
            _fit(draw, finding.message, small, TILE_WIDTH - 12),
            fill=(255, 255, 255),
            font=small,
        )
    return sheet


def peak_time(report: Report, finding: Finding) -> float:
    times = report.frame_time_s
    return times[finding.peak_frame] if 0 <= finding.peak_frame < len(times) else finding.start_s


def shows_sheet(report: Report) -> bool:
    """Only a failing clip with findings about its frames gets a sheet."""
    return report.verdict == "fail" and bool(frame_findings(report))


def write(report: Report, path: Path, frames: FrameStore | None = None) -> Path | None:
    """The sheet of a failing clip; ``None`` (nothing written) for a clip that does not fail.
    ``frames`` is a store shared with other writers of the same clip (one decode for all), else
    the clip is decoded here."""
    if not shows_sheet(report):
        return None
    buffer = io.BytesIO()
    render(report, frames).save(buffer, format="PNG", optimize=True)
    return write_bytes_atomic(path, buffer.getvalue())


def _fit(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    width: int,
) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
