"""``vidlint serve``: run the QA service (FastAPI + uvicorn)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from vidlint.cli.console import fail, out
from vidlint.config import load_config
from vidlint.errors import VidlintError
from vidlint.gpu import pipeline_device


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    root: Annotated[
        Path | None,
        typer.Option(
            help="Folder whose clips may be submitted by path (default: serve.root; none: uploads "
            "only)."
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Clips checked at once (default: one per core).")
    ] = None,
    queue_size: Annotated[
        int | None, typer.Option(help="Jobs that may wait; beyond it submissions get 429.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="A vidlint.toml or pyproject.toml (default: found from the current folder)."
        ),
    ] = None,
    openapi: Annotated[
        bool, typer.Option("--openapi", help="Print the OpenAPI spec and exit.")
    ] = False,
) -> None:
    """Serve the checker over HTTP: POST /v1/jobs, GET /v1/jobs/{id}[/report], GET /health."""
    try:
        import uvicorn

        from vidlint.service import create_app, serve_settings
    except ImportError as exc:
        raise fail(f"vidlint serve needs its extra: pip install 'vidlint[serve]' ({exc})") from None
    try:
        settings = load_config(config)
        pipeline_device(settings.device)  # "cuda" without a GPU: refuse to start, not per job
        serving = serve_settings(
            settings,
            root=str(root) if root else None,
            concurrency=concurrency,
            queue_size=queue_size,
        )
    except VidlintError as exc:
        raise fail(str(exc)) from None
    application = create_app(settings, serving)
    if openapi:
        out.print_json(json.dumps(application.openapi()))
        raise typer.Exit(0)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out.print(
        f"vidlint serve on http://{host}:{port} ({serving.workers} workers, queue "
        f"{serving.queue_size}; root {serving.root or 'none: uploads only'})"
    )
    uvicorn.run(application, host=host, port=port, log_level="info")
