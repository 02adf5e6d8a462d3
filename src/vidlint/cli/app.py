"""The ``vidlint`` command. Exit codes: 0 every clip passes, 1 some clip fails, 2 usage or input
error. Errors print as one ``file: cause`` line, never a traceback.

Each command is a function in its own module; this module only puts them together, so no
command module imports this one. A command imports what only it needs (the regeneration loop,
the service) when it runs, which keeps ``vidlint check`` from loading them.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from vidlint._version import __version__
from vidlint.cli import baseline, check, diff, fix, frames, rules, serve, source, synth
from vidlint.cli.console import err, out
from vidlint.cli.quiet import filter_native_logs
from vidlint.errors import VidlintError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="A linter for AI-generated video.",
)


def version() -> None:
    """Print the version."""
    out.print(f"vidlint {__version__}")


for name, command in {
    "check": check.check,
    "check-source": source.check_source_command,
    "fix": fix.fix,
    "rules": rules.rules,
    "explain": rules.explain,
    "frames": frames.frames,
    "baseline": baseline.baseline_command,
    "diff": diff.diff,
    "serve": serve.serve,
    "synth": synth.synth,
    "version": version,
}.items():
    app.command(name)(command)


def main() -> None:
    filter_native_logs()
    try:
        app(standalone_mode=True)
    except VidlintError as exc:  # any command's input error ends as one line
        err.print(f"[red]error[/red]: {escape(str(exc))}")
        sys.exit(2)
