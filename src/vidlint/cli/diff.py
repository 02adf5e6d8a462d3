"""``vidlint diff A B``: what changed between two reports, or two folders of reports, clip by
clip: findings gained, lost and moved, and the score (``vidlint.report.diff``).

Exit codes: 0 nothing got worse, 1 B has an error finding that A did not have, 2 input error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vidlint.cli.console import SEVERITY_STYLE, VERDICT_STYLE, fail, out
from vidlint.errors import VidlintError
from vidlint.report import load_report, report_files
from vidlint.report.diff import diff_sets


def diff(
    a: Annotated[Path, typer.Argument(help="A report (.vidlint.json) or a folder of reports.")],
    b: Annotated[Path, typer.Argument(help="The report or folder to compare with A.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Findings gained, lost and moved from A to B, and the score change."""

    try:
        before = [load_report(path) for path in report_files(a)]
        after = [load_report(path) for path in report_files(b)]
    except VidlintError as exc:
        raise fail(str(exc)) from None
    clips = diff_sets(before, after)
    if as_json:
        out.print_json(
            json.dumps({"a": str(a), "b": str(b), "clips": [c.to_dict() for c in clips]})
        )
    else:
        for clip in clips:
            print_clip(clip)
    raise typer.Exit(1 if any(c.regressed for c in clips) else 0)


def verdict_text(report) -> str:
    style = VERDICT_STYLE[report.verdict]
    return f"[{style}]{report.verdict}[/{style}] {report.score}"


def print_clip(clip) -> None:
    if clip.before is None or clip.after is None:
        side = "B" if clip.before is None else "A"
        report = clip.after or clip.before
        out.print(f"[bold]{escape(clip.clip)}[/bold]: only in {side} ({verdict_text(report)})")
        return
    change = clip.after.score - clip.before.score
    names = [Path(str(r.clip.get("path", ""))).name for r in (clip.before, clip.after)]
    title = names[1] if names[0] == names[1] else f"{names[0]} -> {names[1]}"
    out.print(
        f"[bold]{escape(title)}[/bold]: {verdict_text(clip.before)} -> "
        f"{verdict_text(clip.after)} ({change:+d})"
    )
    found = clip.findings
    for mark in found.lost:
        out.print(
            f"  [green]- {mark.code}[/green] {mark.span()}  {escape(mark.message)}  [dim]lost[/dim]"
        )
    for mark in found.gained:
        style = SEVERITY_STYLE.get(mark.severity, "white")
        out.print(
            f"  [{style}]+ {mark.code}[/{style}] {mark.span()}  {escape(mark.message)}  "
            "[dim]gained[/dim]"
        )
    for old, new in found.moved:
        out.print(f"  [yellow]~ {new.code}[/yellow] {old.span()} -> {new.span()}  [dim]moved[/dim]")
    if found.unchanged:
        out.print(f"  [dim]= {len(found.unchanged)} unchanged[/dim]")
