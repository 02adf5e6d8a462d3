"""``vidlint frames REPORT``: the per-frame signals of a report, as a table or as CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vidlint.cli.console import fail, out, split_list
from vidlint.errors import VidlintError
from vidlint.fileio import write_text_atomic
from vidlint.report import load_report
from vidlint.writers.csv import frame_columns, frame_rows, to_csv


def frames(
    report_path: Annotated[
        Path, typer.Argument(metavar="REPORT", help="A report written by check (.vidlint.json).")
    ],
    csv: Annotated[
        bool, typer.Option("--csv", help="Write CSV: every signal of every frame.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file instead of standard output."),
    ] = None,
    signal: Annotated[
        list[str] | None,
        typer.Option("--signal", "-s", help="Only these signals, e.g. temporal.diff (repeatable)."),
    ] = None,
    flagged: Annotated[
        bool, typer.Option("--flagged", help="Only frames inside a finding's span.")
    ] = False,
) -> None:
    """Per-frame signals, badness per family and the codes flagging each frame."""

    try:
        report = load_report(report_path)
    except VidlintError as exc:
        raise fail(str(exc)) from None
    names = split_list(signal)
    try:
        columns = frame_columns(report, names)
    except KeyError as exc:
        known = ", ".join(report.signals) or "none"
        raise fail(f"{report_path}: unknown signal {exc.args[0]} (known: {known})") from None
    rows = frame_rows(report, names)
    if flagged:
        rows = [row for row in rows if row[-1]]
    if csv:
        text = to_csv(columns, rows)
        if output is None:
            sys.stdout.write(text)
        else:
            try:
                write_text_atomic(output, text)
            except OSError as exc:
                raise fail(f"{output}: cannot write ({exc.strerror or exc})") from None
        raise typer.Exit(0)
    if names is None:  # a table of every signal is too wide to read: badness and codes only
        keep = [i for i, c in enumerate(columns) if c not in report.signals]
        columns = [columns[i] for i in keep]
        rows = [[row[i] for i in keep] for row in rows]
    table = Table(box=None, pad_edge=False, title=escape(str(report.clip.get("path", ""))))
    for column in columns:
        if column == "codes":
            table.add_column(column)
        else:
            table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for row in rows:
        table.add_row(*(cell_text(value) for value in row))
    if output is not None:
        raise fail("--out needs --csv (the table is for reading)")
    out.print(table)
    if names is None and report.signals:
        out.print("[dim]--signal KEY adds a signal; --csv writes them all[/dim]")


def cell_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))
