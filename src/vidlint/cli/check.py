"""``vidlint check PATHS``: check clips, print a line per clip and its findings, write the
reports; the exit code says whether every clip passes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from vidlint.batch import run_batch
from vidlint.cli.console import SEVERITY_STYLE, VERDICT_STYLE, err, fail, out, split_list
from vidlint.clip_context import MANIFEST_KEY, MODES, load_manifest
from vidlint.config import load_config
from vidlint.engine import batch_settings
from vidlint.engine.work import ClipOutcome
from vidlint.errors import VidlintError
from vidlint.gpu import pipeline_device
from vidlint.report.baseline import load_baseline


def check(
    paths: Annotated[list[str], typer.Argument(help="Clips, folders or globs.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for reports.")] = Path(
        "reports"
    ),
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", "-f", help="Report formats, e.g. json,html (repeatable)."),
    ] = None,
    select: Annotated[
        list[str] | None, typer.Option(help="Rule families or codes to run, e.g. TMP,FLK001.")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option(help="Rule families or codes to skip.")
    ] = None,
    profile: Annotated[str | None, typer.Option(help="fast, default or thorough.")] = None,
    device: Annotated[
        str | None,
        typer.Option(
            help="Where the temporal and flow analyzers compute: auto (a CUDA GPU when torch sees "
            "one, else cpu), cpu, cuda, cuda:N, or torch-cpu."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="A vidlint.toml or pyproject.toml (default: found from the current folder)."
        ),
    ] = None,
    reference: Annotated[
        Path | None, typer.Option(help="Source image of an image-to-video clip.")
    ] = None,
    prompt: Annotated[str | None, typer.Option(help="The prompt the clip was made from.")] = None,
    negative_prompt: Annotated[str | None, typer.Option(help="Its negative prompt.")] = None,
    seed: Annotated[int | None, typer.Option(help="Its seed.")] = None,
    mode: Annotated[
        str | None,
        typer.Option(help="t2v or i2v (default: i2v with a source image, else the file name's)."),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(
            help="CSV or JSONL: clip, prompt, negative_prompt, seed, mode, reference, generator "
            "per clip (options given here win over it)."
        ),
    ] = None,
    no_write: Annotated[
        bool, typer.Option("--no-write", help="Print only; write no reports.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="One line per clip.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Every finding, with evidence.")
    ] = False,
    exit_zero: Annotated[
        bool,
        typer.Option(
            "--exit-zero", help="Exit 0 even when clips fail (input errors still exit 2)."
        ),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=0, help="Worker processes (0 or default: one per core)."),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="pool (default: one process per core), serial, or ray (RAY_ADDRESS picks the "
            "cluster)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Check again clips whose cached reports are up to date.")
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="Accepted findings (vidlint baseline writes them): report only new ones; the "
            "waived ones are kept in the reports as waived and do not fail the clip."
        ),
    ] = None,
    save_frames: Annotated[
        bool,
        typer.Option(
            "--save-frames",
            help="Also write each finding's peak frame as PNG (<clip>.frames/; "
            "the 'frames' format).",
        ),
    ] = False,
) -> None:
    """Check clips and write a report per clip plus summary.json."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_config(config).with_options(
            select=split_list(select),
            ignore=split_list(ignore),
            profile=profile,
            device=device,
            formats=split_list(formats),
        )
        pipeline_device(settings.device)  # "cuda" without a GPU: one clear line, no worker
        if save_frames and "frames" not in settings.formats:
            settings = settings.with_options(formats=[*settings.formats, "frames"])
        runner = batch_settings(settings).make_engine(engine, jobs)
    except VidlintError as exc:
        raise fail(str(exc)) from None
    if reference is not None and not reference.is_file():
        raise fail(f"{reference}: reference image not found")
    if mode is not None and mode.lower() not in MODES:
        raise fail(f"--mode {mode!r}: choose t2v or i2v")
    try:  # a bad manifest or baseline: one line before any clip is checked
        if manifest is not None:
            load_manifest(manifest)
        waivers = load_baseline(baseline) if baseline is not None else None
    except VidlintError as exc:
        raise fail(str(exc)) from None
    context = {
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "seed": seed,
        "mode": mode.lower() if mode else None,
        "reference": str(reference) if reference else None,
        MANIFEST_KEY: str(manifest) if manifest else None,
    }
    show_progress = sys.stderr.isatty() and not quiet
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        disable=not show_progress,
        transient=True,
    )
    task = progress.add_task("checking", total=None, rate="")

    def started(count: int) -> None:
        progress.update(task, total=count)

    def finished(outcome: ClipOutcome) -> None:
        if outcome.verdict is not None or outcome.error:
            progress.advance(task)
            elapsed = progress.tasks[0].elapsed or 0.0
            done = progress.tasks[0].completed
            progress.update(task, rate=f"{done / elapsed:.2f} clips/s" if elapsed else "")
        print_outcome(outcome)

    with progress:
        try:
            result = run_batch(
                paths,
                settings,
                None if no_write else out_dir,
                context,
                keep_reports=not quiet,
                on_start=started,
                on_result=finished,
                engine=runner,
                force=force,
                baseline=waivers,
            )
        except VidlintError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            raise fail("interrupted: reports already written are kept", 130) from None
    for outcome in result.outcomes:
        report = result.reports.get(outcome.path)
        if report is not None and not quiet:
            print_findings(report, verbose)
    print_totals(result.outcomes, None if no_write else out_dir)
    code = result.exit_code
    raise typer.Exit(0 if exit_zero and code == 1 else code)


def print_outcome(outcome: ClipOutcome) -> None:
    """One line per clip as it finishes: verdicts on stdout, errors on stderr."""
    if outcome.error:
        err.print(f"[red]error[/red] {escape(outcome.error)}")
        return
    style = VERDICT_STYLE[outcome.verdict or "pass"]
    codes = ", ".join(outcome.codes) or "-"
    notes = [f"{outcome.seconds:.1f} s"]
    notes += [f"{outcome.waived} waived"] if outcome.waived else []
    notes += ["cached"] if outcome.cached else []
    out.print(
        f"[{style}]{outcome.verdict:4}[/{style}] {outcome.score:3d}  {escape(outcome.path)}"
        f"  [dim]{codes}  ({', '.join(notes)})[/dim]"
    )


def print_findings(report, verbose: bool) -> None:
    path = report.clip["path"]
    for finding in report.findings:
        if finding.severity == "info" and not verbose:
            continue
        style = SEVERITY_STYLE[finding.severity]
        span = (
            f"{finding.start_frame}"
            if finding.start_frame == finding.end_frame
            else f"{finding.start_frame}-{finding.end_frame}"
        )
        out.print(
            f"  {escape(path)}:{span}  [{style}]{finding.code}[/{style}] "
            f"{escape(finding.message)}  [dim]{finding.name}[/dim]"
        )
        if verbose and finding.evidence:
            evidence = ", ".join(f"{k}={v}" for k, v in finding.evidence.items())
            out.print(f"      [dim]{escape(evidence)}[/dim]")


def print_totals(outcomes: list[ClipOutcome], out_dir: Path | None) -> None:
    counts = {key: sum(1 for o in outcomes if o.verdict == key) for key in VERDICT_STYLE}
    errors = sum(1 for o in outcomes if o.error)
    line = (
        f"{len(outcomes)} clip(s): [green]{counts['pass']} pass[/green], "
        f"[yellow]{counts['warn']} warn[/yellow], [red]{counts['fail']} fail[/red]"
    )
    if errors:
        line += f", [red]{errors} error(s)[/red]"
    if out_dir is not None:
        line += f"; reports in {escape(str(out_dir))}/"
    out.print(line)
