"""``[tool.vidlint.serve]``: the QA service's settings, validated like every other table."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidlint.config import Config
from vidlint.errors import ConfigError
from vidlint.settings import param, read_settings

SECRET_ENV = "VIDLINT_WEBHOOK_SECRET"
"""The Standard Webhooks signing secret (``whsec_`` + base64) comes from the environment only,
never from a config file, a report or a log."""

TOKEN_ENV = "VIDLINT_SERVE_TOKEN"
"""When set, every /v1 request must carry ``Authorization: Bearer <token>`` (401 otherwise)."""


@dataclass(frozen=True)
class ServeSettings:
    root: str | None = param(
        None, "the folder whose clips may be submitted by path; unset: no path submissions"
    )
    upload_dir: str = param(
        "", "where uploads wait for their job (deleted when it ends); default: a temp folder"
    )
    max_upload_mb: int = param(2048, "a larger upload is refused with 413 while it streams")
    queue_size: int = param(
        100, "jobs waiting at most; one more gets 429 and Retry-After", bounds=(1, 1_000_000)
    )
    concurrency: int = param(
        0, "clips checked at once, one worker process each; 0: one per core", bounds=(0, 4096)
    )
    keep_jobs: int = param(1000, "finished jobs (and their reports) kept; the oldest go first")
    webhook_attempts: int = param(4, "deliveries of one event before it is given up")
    webhook_timeout_s: float = param(15.0, "per delivery attempt")
    webhook_backoff_s: float = param(
        5.0, "waits between attempts grow as backoff x 4^n with full jitter"
    )
    allow_private_webhooks: bool = param(
        False, "off: callbacks to loopback, private and link-local addresses are refused (SSRF)"
    )

    @property
    def workers(self) -> int:
        return self.concurrency or os.cpu_count() or 1

    def upload_folder(self) -> Path:
        folder = Path(self.upload_dir or Path(tempfile.gettempdir()) / "vidlint-uploads")
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def serve_settings(config: Config, **options: Any) -> ServeSettings:
    """The ``serve`` table of ``config`` checked against :class:`ServeSettings`, then the
    options that are not None (CLI flags) on top."""
    origin = ", ".join(config.sources) or "options"
    table = config.section("serve")
    table.update({k: v for k, v in options.items() if v is not None})
    settings = read_settings(ServeSettings, table, "serve", origin, positive=True)
    if settings.root is not None and not Path(settings.root).is_dir():
        raise ConfigError(f"'serve.root' = {settings.root!r} is not a folder", origin)
    return settings
