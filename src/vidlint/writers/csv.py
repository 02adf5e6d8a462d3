"""CSV: the findings of a clip (``--format csv``; a batch also gets one ``findings.csv`` for all
clips) and the per-frame signals of a report (``vidlint frames REPORT --csv``), for spreadsheets
and pandas."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidlint.fileio import write_text_atomic
from vidlint.report.model import Report

SUFFIX = ".findings.csv"
BATCH_NAME = "findings.csv"

FINDING_COLUMNS = (
    "clip",
    "code",
    "name",
    "family",
    "severity",
    "message",
    "start_frame",
    "end_frame",
    "peak_frame",
    "start_s",
    "end_s",
    "confidence",
    "region_x",
    "region_y",
    "region_w",
    "region_h",
    "evidence",
    "fix",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with these runs as a formula in a spreadsheet (OWASP CSV injection)."""


def safe_cell(value: Any) -> Any:
    """Numbers as they are; text that a spreadsheet would run as a formula quoted with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def finding_rows(report: Report) -> list[list[Any]]:
    rows = []
    for f in report.findings:
        region = f.region
        rows.append(
            [
                report.clip["path"],
                f.code,
                f.name,
                f.family,
                f.severity,
                f.message,
                f.start_frame,
                f.end_frame,
                f.peak_frame,
                round(f.start_s, 4),
                round(f.end_s, 4),
                round(f.confidence, 3),
                *(
                    ("", "", "", "")
                    if region is None
                    else (
                        round(region.x, 4),
                        round(region.y, 4),
                        round(region.w, 4),
                        round(region.h, 4),
                    )
                ),
                json.dumps(f.to_dict()["evidence"], sort_keys=True, ensure_ascii=False),
                json.dumps(f.to_dict()["fix"], sort_keys=True, ensure_ascii=False),
            ]
        )
    return rows


def findings_csv(report: Report) -> str:
    return to_csv(FINDING_COLUMNS, finding_rows(report))


def write(report: Report, path: Path) -> Path:
    return write_text_atomic(path, findings_csv(report))


def write_batch(result: Any, out_dir: Path) -> Path:
    """``findings.csv``: every clip's findings, joined from the per-clip files the batch wrote."""
    rows: list[list[str]] = []
    for outcome in result.outcomes:
        written = outcome.reports.get("csv")
        if not written or not Path(written).is_file():
            continue
        with open(written, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            rows.extend(reader)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FINDING_COLUMNS)
    writer.writerows(rows)  # already made safe when each clip's file was written
    return write_text_atomic(Path(out_dir) / BATCH_NAME, buffer.getvalue())


def frame_columns(report: Report, signals: Sequence[str] | None = None) -> list[str]:
    """``frame, time_s``, the signals (all, or those named), ``badness.FAMILY`` and ``codes``."""
    names = list(report.signals) if signals is None else list(signals)
    unknown = [n for n in names if n not in report.signals]
    if unknown:
        raise KeyError(", ".join(unknown))
    return ["frame", "time_s", *names, *(f"badness.{k}" for k in report.badness), "codes"]


def frame_rows(report: Report, signals: Sequence[str] | None = None) -> list[list[Any]]:
    """One row per frame: its signals, each family's badness and the codes of the findings whose
    span covers it."""
    names = list(report.signals) if signals is None else list(signals)
    covering: list[list[str]] = [[] for _ in report.frame_index]
    for finding in report.findings:
        for i in range(max(0, finding.start_frame), min(len(covering), finding.end_frame + 1)):
            if finding.code not in covering[i]:
                covering[i].append(finding.code)
    rows = []
    for i, index in enumerate(report.frame_index):
        time_s = report.frame_time_s[i] if i < len(report.frame_time_s) else None
        values = [_value(report.signals[name], i) for name in names]
        badness = [_value(curve, i) for curve in report.badness.values()]
        rows.append([index, time_s, *values, *badness, " ".join(covering[i])])
    return rows


def frames_csv(report: Report, signals: Sequence[str] | None = None) -> str:
    return to_csv(frame_columns(report, signals), frame_rows(report, signals))


def _value(values: Sequence[Any] | np.ndarray, i: int) -> Any:
    """A cell: empty for not measured (None in a loaded report, NaN in a fresh one)."""
    value = values[i] if i < len(values) else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value.item() if hasattr(value, "item") else value
