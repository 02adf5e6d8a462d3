"""What every command prints with: the two consoles, the styles of verdicts and severities, and
the one-line error that ends a command with exit code 2."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

VERDICT_STYLE = {"pass": "green", "warn": "yellow", "fail": "red"}
SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as one error line; the caller raises what this returns."""
    err.print(f"[red]error[/red]: {escape(message)}")
    return typer.Exit(code)


def split_list(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-separated option values as one list (``-f json,html -f csv``)."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
