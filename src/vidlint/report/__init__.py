"""The Report model, its JSON Schema and loading."""

from __future__ import annotations

from pathlib import Path

from vidlint.errors import VidlintError
from vidlint.fileio import read_json
from vidlint.report.model import Finding, Region, Report, Waived, score_of, verdict_of
from vidlint.report.schema import SCHEMA_ID, report_schema, validate


def load_report(path: str | Path) -> Report:
    """A ``vidlint.report/1`` JSON file; :class:`VidlintError` naming the file otherwise."""
    path = Path(path)
    document = read_json(path)
    if not isinstance(document, dict):
        raise VidlintError("not a vidlint report (not a JSON object)", path)
    try:
        return Report.from_dict(document)
    except VidlintError as exc:
        raise VidlintError(exc.cause, path) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise VidlintError(
            f"not a valid vidlint report ({type(exc).__name__}: {exc})", path
        ) from exc


REPORT_SUFFIX = ".vidlint.json"


def report_files(path: str | Path) -> list[Path]:
    """The report ``path`` names, or the reports (``*.vidlint.json``) in the folder ``path``."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.glob(f"*{REPORT_SUFFIX}") if p.is_file())
        if not found:
            raise VidlintError(f"folder holds no reports (*{REPORT_SUFFIX})", path)
        return found
    if not path.exists():
        raise VidlintError("no such file or directory", path)
    return [path]


__all__ = [
    "SCHEMA_ID",
    "Finding",
    "Region",
    "Report",
    "Waived",
    "load_report",
    "report_files",
    "report_schema",
    "score_of",
    "validate",
    "verdict_of",
]
