"""``vidlint fix``: regenerate failing clips through a backend until they pass (resumable)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from vidlint.batch import expand_inputs
from vidlint.cli.console import VERDICT_STYLE, err, fail, out, split_list
from vidlint.config import load_config
from vidlint.errors import VidlintError

STATUS_STYLE = {"passed": "green", "salvaged": "green", "exhausted": "red"}


def fix(
    paths: Annotated[list[str], typer.Argument(help="Clips, folders or globs.")],
    backend: Annotated[
        str | None,
        typer.Option(help="synthetic, command, http or comfyui (default: backend.name in config)."),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for fixed clips, reports and histories.")
    ] = Path("fixed"),
    work_dir: Annotated[
        Path | None,
        typer.Option(
            "--work",
            help="Folder for the loop's state and attempts (default: OUT/.vidlint-fix); "
            "re-running with the same folder resumes.",
        ),
    ] = None,
    select: Annotated[
        list[str] | None, typer.Option(help="Rule families or codes to check, e.g. TMP,FLK.")
    ] = None,
    ignore: Annotated[list[str] | None, typer.Option(help="Rules to skip.")] = None,
    config: Annotated[Path | None, typer.Option(help="A vidlint.toml or pyproject.toml.")] = None,
    prompt: Annotated[str | None, typer.Option(help="The prompt the clip was made from.")] = None,
    negative_prompt: Annotated[str | None, typer.Option(help="Its negative prompt.")] = None,
    seed: Annotated[int | None, typer.Option(help="Its seed.")] = None,
    duration: Annotated[
        float | None,
        typer.Option(help="The duration asked for, in seconds (default: the clip's)."),
    ] = None,
    reference: Annotated[
        Path | None, typer.Option(help="Source image of an image-to-video clip.")
    ] = None,
    max_attempts: Annotated[
        int | None, typer.Option(help="Regenerations per clip (default: regen.max_attempts, 4).")
    ] = None,
    max_wall_s: Annotated[
        float | None, typer.Option(help="Wall-clock budget per clip, in seconds.")
    ] = None,
    no_salvage: Annotated[
        bool,
        typer.Option("--no-salvage", help="Never trim a clean prefix instead of regenerating."),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every step.")] = False,
) -> None:
    """Check clips; regenerate the failing ones with constrained requests until they pass."""
    from vidlint.regen import Fixer, regen_settings  # 70 ms of imports only fix needs

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_config(config).with_options(
            select=split_list(select), ignore=split_list(ignore)
        )
        regen = regen_settings(
            settings,
            max_attempts=max_attempts,
            max_wall_s=max_wall_s,
            salvage=False if no_salvage else None,
        )
        name = backend or str(settings.section("backend").get("name") or "")
        if not name:
            raise fail(
                "choose a backend: --backend synthetic|command|http|comfyui "
                "(or backend.name in config)"
            )
    except VidlintError as exc:
        raise fail(str(exc)) from None
    if reference is not None and not reference.is_file():
        raise fail(f"{reference}: reference image not found")
    context: dict[str, Any] = {
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "seed": seed,
        "duration_s": duration,
        "reference": str(reference) if reference else None,
    }
    context = {k: v for k, v in context.items() if v is not None}
    clips, missing = expand_inputs(paths, skip=out_dir)
    for row in missing:
        err.print(f"[red]error[/red] {escape(row.error or row.path)}")

    def show(kind: str, event: dict[str, Any]) -> None:
        if kind in ("checked", "planned", "salvage", "failed", "retry", "resubmit"):
            style = "red" if kind == "failed" else "dim"
            out.print(f"  [{style}]#{event['attempt']} {kind}: {escape(event['detail'])}[/{style}]")

    exit_code = 2 if missing else 0
    try:
        fixer = Fixer(
            settings,
            name,
            work_dir or out_dir / ".vidlint-fix",
            out_dir,
            settings=regen,
            on_event=show,
        )
    except VidlintError as exc:
        raise fail(str(exc)) from None
    try:
        for clip in clips:
            out.print(f"[bold]{escape(str(clip))}[/bold]")
            try:
                result = fixer.fix(clip, context)
            except VidlintError as exc:
                err.print(f"[red]error[/red] {escape(str(exc))}")
                exit_code = 2
                continue
            final = next(
                (a for a in result.history["attempts"] if a["attempt"] == result.final_attempt), {}
            )
            style = STATUS_STYLE.get(result.status, "red")
            verdict = final.get("verdict") or "-"
            out.print(
                f"[{style}]{result.status}[/{style}] after "
                f"{sum(a['kind'] == 'regen' for a in result.history['attempts'])} "
                f"regeneration(s): attempt {result.final_attempt} "
                f"[{VERDICT_STYLE.get(verdict, 'white')}]{verdict}[/] "
                f"{final.get('score', '-')} -> {escape(str(result.final_path))}"
            )
            if result.history_path:
                out.print(f"  [dim]history: {escape(result.history_path)}[/dim]")
            if not result.ok and exit_code == 0:
                exit_code = 1
    except KeyboardInterrupt:
        raise fail("interrupted: re-run the same command to resume", 130) from None
    finally:
        fixer.close()
    raise typer.Exit(exit_code)
