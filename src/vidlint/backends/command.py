"""``command``: run a user command that generates the clip.

The command gets the ``vidlint.regen/1`` request as JSON on stdin (and the idempotency key in
``VIDLINT_IDEMPOTENCY_KEY``) and prints the path of the clip it wrote as the last line of its
stdout. It runs synchronously at submit. Because the loop re-sends an interrupted submit with
the same key, the command should return its earlier output for a key it has seen.

Exit status 75 (``EX_TEMPFAIL``) or a timeout is a transient failure the loop retries; any
other non-zero status is final. The printed path must be an existing regular file; the loop
copies it into its own work folder and never uses the name otherwise.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidlint.backends import (
    DONE,
    JobStatus,
    Submission,
    TransientBackendError,
    config_origin,
    safe_output_path,
)
from vidlint.errors import BackendError, ConfigError
from vidlint.settings import param, read_settings


@dataclass(frozen=True)
class CommandSettings:
    """``[backend.command]``."""

    command: tuple[str, ...] = param(
        (), "the generator's argv (a string is split like a shell would); required"
    )
    timeout_s: float = param(1800.0, "one generation may take this long before it is killed")
    cwd: str = param("", "the folder it runs in (default: the current one)")


EX_TEMPFAIL = 75


class CommandBackend:
    name = "command"

    def __init__(
        self,
        settings: dict[str, Any] | None = None,
        config: Any = None,
        work_dir: Path | None = None,
    ) -> None:
        settings = dict(settings or {})
        if isinstance(settings.get("command"), str):
            settings["command"] = shlex.split(settings["command"])
        self.settings = read_settings(
            CommandSettings, settings, f"backend.{self.name}", config_origin(config), positive=True
        )
        if not self.settings.command:
            raise ConfigError(
                "'backend.command.command' (the generator command) is not set",
                config_origin(config),
            )
        self.results: dict[str, str] = {}

    def submit(self, request: Any) -> Submission:
        data = request.to_dict() if hasattr(request, "to_dict") else dict(request)
        key = data["idempotency_key"]
        env = {**os.environ, "VIDLINT_IDEMPOTENCY_KEY": key}
        argv = [str(part) for part in self.settings.command]
        try:
            done = subprocess.run(
                argv,
                input=json.dumps(data),
                capture_output=True,
                text=True,
                timeout=float(self.settings.timeout_s),
                env=env,
                cwd=self.settings.cwd or None,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TransientBackendError(
                f"command timed out after {self.settings.timeout_s:g} s"
            ) from exc
        except OSError as exc:
            raise BackendError(f"cannot run {argv[0]!r}: {exc.strerror}") from exc
        if done.returncode != 0:
            tail = (done.stderr or "").strip().splitlines()[-3:]
            message = f"command exited with status {done.returncode}: {' | '.join(tail)}"
            if done.returncode == EX_TEMPFAIL:
                raise TransientBackendError(message)
            raise BackendError(message)
        lines = [line.strip() for line in (done.stdout or "").splitlines() if line.strip()]
        if not lines:
            raise BackendError("command printed no output path")
        output = Path(lines[-1])
        if not output.is_absolute() and self.settings.cwd:
            output = Path(self.settings.cwd) / output
        if not output.is_file():
            raise BackendError(f"command printed {lines[-1][:200]!r}, which is not a file")
        self.results[key[:32]] = str(output)
        return Submission(
            key[:32],
            JobStatus(DONE, (str(output),)),
            {"output": str(output), "stderr_tail": (done.stderr or "")[-500:]},
        )

    def poll(self, job_id: str) -> JobStatus:
        if job_id not in self.results:
            raise BackendError(f"unknown job {job_id!r}: commands finish at submit")
        return JobStatus(DONE, (self.results[job_id],))

    def fetch(self, status: JobStatus, dest: Path) -> Path:
        if not status.outputs:
            raise BackendError("the command gave no output")
        source = Path(status.outputs[0])
        if not source.is_file():
            raise BackendError(f"the command's output {str(source)[:200]!r} is gone")
        target = safe_output_path(dest, source.name)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    def cancel(self, job_id: str) -> None:
        return None


BACKEND = CommandBackend
