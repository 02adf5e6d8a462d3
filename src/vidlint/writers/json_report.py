"""``vidlint.report/1`` JSON, one file per clip."""

from __future__ import annotations

from pathlib import Path

from vidlint.fileio import write_json_atomic
from vidlint.report.model import Report

SUFFIX = ".vidlint.json"


def write(report: Report, path: Path) -> Path:
    return write_json_atomic(path, report.to_dict())
