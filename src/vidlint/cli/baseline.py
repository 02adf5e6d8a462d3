"""``vidlint baseline REPORTS``: write a baseline that accepts every finding of some reports, for
``vidlint check --baseline FILE`` to report only what is new (``vidlint.report.baseline``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vidlint.cli.console import fail, out
from vidlint.errors import VidlintError
from vidlint.report import load_report, report_files
from vidlint.report.baseline import DEFAULT_REASON, waivers_of, write_baseline


def baseline_command(
    reports: Annotated[
        list[Path], typer.Argument(help="Reports (.vidlint.json) or folders holding them.")
    ],
    output: Annotated[Path, typer.Option("--out", "-o", help="The baseline file to write.")] = Path(
        "vidlint-baseline.json"
    ),
    reason: Annotated[
        str | None, typer.Option(help="Why these findings are accepted (stored with each).")
    ] = None,
) -> None:
    """Accept every finding of the reports: write them as a baseline of waivers."""

    try:
        loaded = [load_report(path) for given in reports for path in report_files(given)]
        waivers = waivers_of(loaded, reason or DEFAULT_REASON)
        written = write_baseline(output, waivers)
    except VidlintError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{output}: cannot write ({exc.strerror or exc})") from None
    out.print(
        f"{len(waivers)} waiver(s) for {len(loaded)} clip(s) in {escape(str(written))}; "
        f"vidlint check --baseline {escape(str(written))} reports only new findings"
    )
