"""``vidlint synth``: render a synthetic clip with injected artifacts and its labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidlint.cli.console import fail, out


def synth(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Output clip: .mp4 .mov .mkv .webm .avi .gif, or a folder for PNG frames."
        ),
    ] = None,
    artifact: Annotated[
        list[str] | None,
        typer.Option(
            "--artifact",
            "-a",
            help="kind@start[:length][,key=value], e.g. freeze@40:12 "
            "(repeatable; 'vidlint synth --list' shows the kinds).",
        ),
    ] = None,
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT.")] = "320x240",
    frames: Annotated[int, typer.Option(help="Number of frames.")] = 48,
    fps: Annotated[float, typer.Option(help="Frame rate.")] = 24.0,
    camera: Annotated[str, typer.Option(help="static, pan or zoom.")] = "pan",
    motion: Annotated[float, typer.Option(help="Speed of camera and objects (1 = normal).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Scene seed.")] = 0,
    list_kinds: Annotated[bool, typer.Option("--list", help="List artifact kinds.")] = False,
) -> None:
    """Render a synthetic clip with known artifacts, plus <clip>.labels.json."""
    from vidlint.synth import INJECTIONS, Artifact, SynthSpec, write_clip

    if list_kinds:
        for name, item in sorted(INJECTIONS.items()):
            out.print(f"{name:12} {','.join(item.expect):16} {item.doc}")
        raise typer.Exit(0)
    if path is None:
        raise fail("give the clip to write, e.g. vidlint synth out.mp4 -a freeze@20:8")
    try:
        width, height = (int(v) for v in size.lower().split("x"))
        artifacts = [Artifact.parse(a) for a in artifact or []]
    except ValueError as exc:
        raise fail(f"bad option: {exc}") from None
    if camera not in ("static", "pan", "zoom"):
        raise fail(f"camera must be static, pan or zoom, not {camera!r}")
    spec = SynthSpec(
        width=width,
        height=height,
        frames=frames,
        fps=fps,
        camera=camera,
        motion=motion,
        seed=seed,
        artifacts=artifacts,
    )
    try:
        data = write_clip(spec, path)
    except (ValueError, OSError) as exc:
        raise fail(f"{path}: {exc}") from None
    spans = ", ".join(f"{a['kind']} {a['start']}-{a['end']}" for a in data["artifacts"]) or "clean"
    out.print(f"wrote {path} ({frames} frames, {width}x{height} @ {fps:g} fps; {spans})")
