"""Batches: expand inputs into clips, check each one, write its reports and a ``summary.json``.

The per-clip unit of work is :func:`vidlint.engine.work.check_clip`: it never raises for a bad
clip (the outcome carries the error), so a batch always goes on, whichever engine runs it.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidlint._version import __version__
from vidlint.config import Config
from vidlint.decode import IMAGE_SUFFIXES, is_video_path
from vidlint.engine import run_clips
from vidlint.engine.cache import ResultCache
from vidlint.engine.work import ClipOutcome
from vidlint.fileio import write_json_atomic
from vidlint.report.baseline import Baseline
from vidlint.report.model import Report
from vidlint.writers import WRITERS

log = logging.getLogger(__name__)

SUMMARY_SCHEMA = "vidlint.summary/1"
SUMMARY_NAME = "summary.json"


@dataclass
class BatchResult:
    outcomes: list[ClipOutcome]
    out_dir: Path | None
    reports: dict[str, Report] = field(default_factory=dict)
    """Reports by clip path, kept only when asked (the API); the CLI streams them to disk."""

    @property
    def exit_code(self) -> int:
        """Linter convention: 2 if any input could not be checked, else 1 if any clip fails."""
        if any(o.error for o in self.outcomes):
            return 2
        return 1 if any(o.failed for o in self.outcomes) else 0


def expand_inputs(
    inputs: Iterable[str | Path], skip: Path | None = None
) -> tuple[list[Path], list[ClipOutcome]]:
    """Files, folders (searched recursively for videos; a folder of images is one clip) and
    globs, in a stable order without duplicates. Inputs that match nothing become error rows."""
    clips: list[Path] = []
    errors: list[ClipOutcome] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and is_video_path(p) and not _inside(p, skip)
            )
            if found:
                clips += found
            elif any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
                clips.append(path)
            else:
                errors.append(ClipOutcome(str(path), error=f"{path}: folder holds no videos"))
        elif path.exists():
            clips.append(path)
        else:
            matches = sorted(Path(m) for m in glob.glob(str(item), recursive=True))
            matched = [m for m in matches if m.is_file()]
            if matched:
                clips += matched
            else:
                errors.append(ClipOutcome(str(path), error=f"{path}: no such file or directory"))
    unique = list(dict.fromkeys(clips))
    return unique, errors


def report_stem(path: Path, taken: set[str]) -> str:
    """A report file name for ``path`` that does not collide with another clip's."""
    stem = path.stem if path.is_file() else path.name
    candidate = stem
    if candidate in taken:
        candidate = f"{path.parent.name}_{stem}"
    number = 2
    while candidate in taken:
        candidate = f"{stem}_{number}"
        number += 1
    taken.add(candidate)
    return candidate


def run_batch(
    inputs: Iterable[str | Path],
    config: Config,
    out_dir: Path | None,
    context: dict[str, Any] | None = None,
    keep_reports: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[ClipOutcome], None] | None = None,
    engine: str | Any | None = None,
    jobs: int | None = None,
    force: bool = False,
    baseline: Baseline | None = None,
) -> BatchResult:
    """Check every clip of ``inputs``; write reports and ``summary.json`` into ``out_dir``.

    ``engine`` (serial, pool, ray; default: the config's ``[batch]`` table, else pool) and
    ``jobs`` choose how clips run (vidlint.engine); with an
    ``out_dir``, clips already checked with the same bytes and config are skipped unless ``force``.
    Findings ``baseline`` accepts are reported as waived and do not count.
    """
    clips, outcomes = expand_inputs(inputs, skip=out_dir)
    for outcome in outcomes:
        if on_result:
            on_result(outcome)
    if on_start:
        on_start(len(clips))
    for name in config.formats:
        WRITERS.get(name)  # an unknown format fails before any clip is checked
    kept: dict[str, Report] | None = {} if keep_reports else None
    taken: set[str] = set()
    named = [(path, report_stem(path, taken)) for path in clips]
    outcomes += run_clips(
        named,
        config,
        out_dir,
        context,
        kept,
        engine=engine,
        jobs=jobs,
        force=force,
        on_result=on_result,
        baseline=baseline,
    )
    result = BatchResult(outcomes, out_dir, kept or {})
    if out_dir is not None:
        # The batch files list every clip whose reports are in the folder: this run's, then
        # those earlier runs left there (from their cache entries).
        earlier = ResultCache(out_dir).earlier({stem for _, stem in named})
        listed = BatchResult(outcomes + earlier, out_dir)
        write_summary(listed, config, last_run=result)
        for name in config.formats:
            writer = WRITERS.get(name)
            if hasattr(writer, "write_batch"):
                writer.write_batch(listed, out_dir)
    return result


def write_summary(result: BatchResult, config: Config, last_run: BatchResult | None = None) -> Path:
    """``summary.json``: totals and a row per clip of ``result``, and the clip count and exit
    code of ``last_run`` (the run that wrote it, when ``result`` lists earlier clips too)."""
    assert result.out_dir is not None
    last_run = last_run or result
    verdicts = [o.verdict for o in result.outcomes]
    summary = {
        "schema": SUMMARY_SCHEMA,
        "tool": {"name": "vidlint", "version": __version__},
        "config": config.effective(),
        "totals": {
            "clips": len(result.outcomes),
            "pass": verdicts.count("pass"),
            "warn": verdicts.count("warn"),
            "fail": verdicts.count("fail"),
            "error": sum(1 for o in result.outcomes if o.error),
        },
        "exit_code": result.exit_code,
        "last_run": {"clips": len(last_run.outcomes), "exit_code": last_run.exit_code},
        "clips": [o.to_dict() for o in result.outcomes],
    }
    return write_json_atomic(result.out_dir / SUMMARY_NAME, summary)


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


__all__ = [
    "BatchResult",
    "expand_inputs",
    "report_stem",
    "run_batch",
    "write_summary",
]
