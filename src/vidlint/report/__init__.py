"""The Report model, its JSON Schema and loading."""

from __future__ import annotations

import json
from pathlib import Path

from vidlint.errors import VidlintError
from vidlint.report.model import Finding, Region, Report, score_of, verdict_of
from vidlint.report.schema import SCHEMA_ID, report_schema, validate


def load_report(path: str | Path) -> Report:
    path = Path(path)
    try:
        return Report.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise VidlintError("no such report", path) from exc
    except json.JSONDecodeError as exc:
        raise VidlintError(f"not JSON ({exc.msg} at line {exc.lineno})", path) from exc
    except VidlintError as exc:
        raise VidlintError(exc.cause, path) from exc


__all__ = [
    "SCHEMA_ID",
    "Finding",
    "Region",
    "Report",
    "load_report",
    "report_schema",
    "score_of",
    "validate",
    "verdict_of",
]
