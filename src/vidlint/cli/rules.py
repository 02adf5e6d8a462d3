"""``vidlint rules`` and ``vidlint explain CODE``: the rule table and each rule's documentation
with its parameters and their reasons."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vidlint.cli.console import fail, out
from vidlint.rules import family_titles, load_rules


def rules(
    family: Annotated[str | None, typer.Argument(help="Only this family, e.g. TMP.")] = None,
) -> None:
    """List every rule with its default thresholds and why."""
    # Codes, names and severities are never broken (piped output is 80 columns wide); the
    # summary and the defaults under it wrap between words.
    table = Table(show_lines=False, box=None, pad_edge=False)
    for column in ("code", "name", "severity"):
        table.add_column(column, no_wrap=True)
    table.add_column("what (defaults)", overflow="fold", ratio=1)
    for code, rule in load_rules().items():
        if family and not code.startswith(family.upper()):
            continue
        defaults = ", ".join(f"{k}={v}" for k, v in rule.defaults().items())
        what = escape(rule.summary) + (f"\n[dim]{escape(defaults)}[/dim]" if defaults else "")
        table.add_row(code, rule.name, rule.severity, what)
    out.print(table)
    titles = family_titles()
    out.print(
        "[dim]families: " + ", ".join(f"{f} {titles[f]}" for f in sorted(titles)) + "[/dim]",
        soft_wrap=False,
    )


def explain(
    code: Annotated[
        str, typer.Argument(help="A rule code (TMP001) or a family (TMP): every rule of it.")
    ],
) -> None:
    """Print a rule's documentation and its parameters with their reasons."""
    table = load_rules()
    wanted = code.upper()
    chosen = [rule for key, rule in table.items() if key == wanted or key[:3] == wanted]
    if not chosen:
        raise fail(f"unknown rule code or family {code!r} (see 'vidlint rules')")
    for number, rule in enumerate(chosen):
        if number:
            out.print()
        out.print(f"[bold]{rule.code} {rule.name}[/bold] ({rule.severity})\n")
        out.print(escape(rule.doc))
        reasons = rule.param_reasons()
        if reasons:
            out.print(
                f"\n[bold]Parameters[/bold] ({escape(f'[rules.{rule.code}]')} in vidlint.toml)"
            )
            for name, value in rule.defaults().items():
                out.print(f"  {name} = {value!r}: {escape(reasons[name])}")
