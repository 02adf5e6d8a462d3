"""GitHub Actions annotations: workflow commands (``::error file=...,title=...::message``) that
GitHub shows on the run's summary and on the clip in a pull request's files. The library never
prints, so they are written to a file that a workflow step prints::

    vidlint check clips/ -f json,github || status=$?
    cat reports/annotations.github.txt; exit ${status:-0}

A batch also gets ``annotations.github.txt`` with every clip's lines and the clips that could not
be checked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vidlint.fileio import write_text_atomic
from vidlint.report.model import Finding, Report

SUFFIX = ".github.txt"
BATCH_NAME = "annotations.github.txt"
LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """The message part (GitHub's toolkit ``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A ``key=value`` property (GitHub's toolkit ``escapeProperty``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{level} {props}::{escape_data(message)}"


def repo_path(path: str) -> str:
    """The clip's path relative to the checked-out repository when the workflow runs inside one
    (``GITHUB_WORKSPACE``): GitHub attaches an annotation to a file only by its repository path."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return path
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return path


def annotation(report: Report, finding: Finding) -> str:
    frames = (
        f"frame {finding.start_frame}"
        if finding.start_frame == finding.end_frame
        else f"frames {finding.start_frame}-{finding.end_frame}"
    )
    message = (
        f"{finding.message} ({frames}, {finding.start_s:.2f}-{finding.end_s:.2f} s, "
        f"confidence {finding.confidence:.2f})"
    )
    return command(
        LEVELS[finding.severity],
        message,
        file=repo_path(str(report.clip["path"])),
        title=f"{finding.code} {finding.name}",
    )


def render(report: Report) -> str:
    lines = [annotation(report, f) for f in report.findings]
    lines += [
        command(
            "error",
            str(e.get("message", "")),
            file=repo_path(str(report.clip["path"])),
            title="vidlint decode error",
        )
        for e in report.errors
        if e.get("fatal")
    ]
    return "".join(line + "\n" for line in lines)


def write(report: Report, path: Path) -> Path:
    return write_text_atomic(path, render(report))


def write_batch(result: Any, out_dir: Path) -> Path:
    lines = []
    for outcome in result.outcomes:
        written = outcome.reports.get("github")
        if outcome.error:
            lines.append(
                command(
                    "error",
                    outcome.error,
                    file=repo_path(outcome.path),
                    title="vidlint could not check this clip",
                )
                + "\n"
            )
        elif written and Path(written).is_file():
            lines.append(Path(written).read_text(encoding="utf-8"))
    return write_text_atomic(Path(out_dir) / BATCH_NAME, "".join(lines))
