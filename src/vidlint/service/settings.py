"""``[tool.vidlint.serve]``: the QA service's settings, validated like every other table."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidlint.config import Config
from vidlint.errors import ConfigError

SECRET_ENV = "VIDLINT_WEBHOOK_SECRET"
"""The Standard Webhooks signing secret (``whsec_`` + base64) comes from the environment only,
never from a config file, a report or a log."""

TOKEN_ENV = "VIDLINT_SERVE_TOKEN"
"""When set, every /v1 request must carry ``Authorization: Bearer <token>`` (401 otherwise)."""


@dataclass(frozen=True)
class ServeSettings:
    root: str | None = None
    """Folder whose clips may be submitted by path; None disables path submissions."""
    upload_dir: str = ""
    """Where uploads wait for their job (deleted when it ends); default: a temp folder."""
    max_upload_mb: int = 2048
    queue_size: int = 100
    """Jobs waiting at most; a submission beyond it gets 429 and Retry-After."""
    concurrency: int = 0
    """Clips checked at once, one worker process each; 0 = one per core."""
    keep_jobs: int = 1000
    """Finished jobs (and their reports) kept in memory; the oldest go first."""
    webhook_attempts: int = 4
    webhook_timeout_s: float = 15.0
    webhook_backoff_s: float = 5.0
    """Waits between webhook attempts grow as backoff x 4^n with full jitter."""
    allow_private_webhooks: bool = False
    """Off: callbacks to loopback, private and link-local addresses are refused (SSRF)."""

    @property
    def workers(self) -> int:
        return self.concurrency or os.cpu_count() or 1


def serve_settings(config: Config, **options: Any) -> ServeSettings:
    """The ``serve`` table of ``config`` checked against :class:`ServeSettings`, then the
    options that are not None (CLI flags) on top."""
    origin = ", ".join(config.sources) or "options"
    fields = {f.name: f for f in dataclasses.fields(ServeSettings)}
    values: dict[str, Any] = {}
    table = config.section("serve")
    table.update({k: v for k, v in options.items() if v is not None})
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(f"unknown key 'serve.{key}' (known: {', '.join(fields)})", origin)
        default = fields[key].default
        kind = (str,) if key == "root" else (type(default),)
        if isinstance(default, float):
            kind = (int, float)
        if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, kind):
            raise ConfigError(f"'serve.{key}' = {value!r}: expected {kind[0].__name__}", origin)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"'serve.{key}' must not be negative", origin)
        values[key] = value
    settings = ServeSettings(**values)
    if settings.root is not None and not Path(settings.root).is_dir():
        raise ConfigError(f"'serve.root' = {settings.root!r} is not a folder", origin)
    if settings.queue_size < 1:
        raise ConfigError("'serve.queue_size' must be at least 1", origin)
    return settings
