"""``vidlint check-source``: pre-flight lint of image-to-video source images (SRC rules).

Exit codes: 0 every image passes, 1 some image has a finding of severity warning or error
(a pre-flight gate stops before spending a generation on a bad source), 2 usage or input error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vidlint.cli.console import SEVERITY_STYLE, VERDICT_STYLE, err, fail, out
from vidlint.config import load_config
from vidlint.errors import VidlintError
from vidlint.pipeline import Checker
from vidlint.writers import WRITERS


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise fail(f"--target must be WIDTHxHEIGHT, e.g. 1280x720, not {text!r}") from None
    if width < 1 or height < 1:
        raise fail(f"--target {text!r} is not a size")
    return width, height


def check_source_command(
    images: Annotated[list[Path], typer.Argument(help="Source images (png, jpg, webp...).")],
    target: Annotated[
        str, typer.Option(help="Output resolution of the clip to be generated, WIDTHxHEIGHT.")
    ] = "1280x720",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Also write a JSON report per image into this folder."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="A vidlint.toml or pyproject.toml (default: found from the current folder)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show measurements.")] = False,
) -> None:
    """Lint image-to-video source images before generating: blur, size, noise, clutter."""

    size = parse_size(target)
    try:
        checker = Checker(load_config(config))
    except VidlintError as exc:
        raise fail(str(exc)) from None
    worst = 0
    for image in images:
        try:
            report = checker.check_source(image, size)
        except VidlintError as exc:
            err.print(f"[red]error[/red] {escape(str(exc))}")
            worst = 2
            continue
        verdict = report.verdict
        if report.findings and any(f.severity != "info" for f in report.findings):
            worst = max(worst, 1)
        style = VERDICT_STYLE[verdict]
        out.print(f"[{style}]{verdict:4}[/{style}] {report.score:3d}  {escape(str(image))}")
        for finding in report.findings:
            colour = SEVERITY_STYLE[finding.severity]
            out.print(
                f"  {escape(str(image))}  [{colour}]{finding.code}[/{colour}] "
                f"{escape(finding.message)}  [dim]{finding.name}[/dim]"
            )
        if verbose:
            measures = ", ".join(
                f"{k}={v}" for k, v in report.extra["source"].items() if k != "path"
            )
            out.print(f"      [dim]{escape(measures)}[/dim]")
        if out_dir is not None:
            WRITERS.get("json").write(report, out_dir / f"{image.stem}.source.vidlint.json")
    raise typer.Exit(worst)
