"""Generation backends behind one protocol: ``submit``, ``poll``, ``fetch``, ``cancel``.

Backends only talk to their service. Policy (retries, backoff, budgets, idempotency, state)
lives in the regeneration loop (:mod:`vidlint.regen.loop`). A backend signals a failure worth
retrying with :class:`TransientBackendError` (optionally carrying the server's Retry-After) and
anything else with :class:`~vidlint.errors.BackendError`.

Built-in backends are the entries of ``BACKENDS`` (each module's ``BACKEND`` class); plugins
register a class under the entry point group ``vidlint.backends``. A backend reads its
``[backend.NAME]`` table into a frozen settings dataclass with
:func:`vidlint.settings.read_settings`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from vidlint.decode.suffixes import VIDEO_SUFFIXES
from vidlint.errors import BackendError, ConfigError
from vidlint.registry import Registry

if TYPE_CHECKING:
    from vidlint.regen.request import RegenRequest

BACKENDS = Registry(
    "backend",
    {
        name: f"vidlint.backends.{name}:BACKEND"
        for name in ("synthetic", "command", "http", "comfyui")
    },
)

DONE, FAILED, QUEUED, RUNNING = "done", "failed", "queued", "running"
STATES = (QUEUED, RUNNING, DONE, FAILED)


class TransientBackendError(BackendError):
    """A failure that may go away: connection refused, timeout, 429, 5xx. ``retry_after`` is the
    server's Retry-After in seconds, when it sent one."""

    def __init__(
        self, cause: str, path: str | Path | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(cause, path)
        self.retry_after = retry_after


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands. ``outputs`` are opaque handles the same backend's ``fetch`` reads (a
    URL, a ComfyUI file record as JSON...), never paths to open."""

    state: str
    outputs: tuple[str, ...] = ()
    detail: str = ""

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"job state {self.state!r} is not one of {STATES}")

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outputs"] = list(self.outputs)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobStatus:
        return cls(data["state"], tuple(data.get("outputs", ())), data.get("detail", ""))


@dataclass(frozen=True)
class Submission:
    """What ``submit`` returns: the backend's job id, the status when the backend answered
    synchronously, and the raw response (recorded in the loop's state)."""

    job_id: str
    status: JobStatus | None = None
    response: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """One generation service. ``submit`` must be idempotent on ``request.idempotency_key``:
    submitting the same key again (after a crash) must not start a second job."""

    name: ClassVar[str]

    def submit(self, request: RegenRequest) -> Submission: ...

    def poll(self, job_id: str) -> JobStatus: ...

    def fetch(self, status: JobStatus, dest: Path) -> Path:
        """Save the first video output of a finished job under ``dest`` (a folder the loop
        owns) and return its path."""
        ...

    def cancel(self, job_id: str) -> None: ...


def safe_output_path(dest: Path, untrusted_name: str, stem: str = "output") -> Path:
    """Where to save a returned file: ``dest/<stem><suffix>``. The backend's name only lends its
    suffix, and only a known video suffix; everything else about it is ignored."""
    suffix = Path(str(untrusted_name).replace("\\", "/").split("?")[0]).suffix.lower()
    return Path(dest) / f"{stem}{suffix if suffix in VIDEO_SUFFIXES else '.mp4'}"


def settings_for(config: Any, name: str) -> dict[str, Any]:
    """This backend's table: ``[backend.NAME]`` in config. A table for a backend that does not
    exist (a typo) is an error naming it."""
    table = config.section("backend") if config is not None else {}
    known = {"name", *BACKENDS.names()}
    for key in table:
        if key not in known:
            raise ConfigError(
                f"unknown key 'backend.{key}' (known: {', '.join(sorted(known))})",
                config_origin(config),
            )
    value = table.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"'backend.{name}' must be a table", config_origin(config))
    return dict(value)


def make_backend(name: str, config: Any = None, work_dir: Path | None = None) -> Backend:
    """Build the backend ``name`` from its config table."""
    cls = BACKENDS.get(name)
    return cls(settings_for(config, name), config=config, work_dir=work_dir)


def config_origin(config: Any) -> str:
    """The files a config was read from, for error messages."""
    sources = getattr(config, "sources", ())
    return ", ".join(sources) or "config"


__all__ = [
    "BACKENDS",
    "DONE",
    "FAILED",
    "QUEUED",
    "RUNNING",
    "VIDEO_SUFFIXES",
    "Backend",
    "JobStatus",
    "Submission",
    "TransientBackendError",
    "config_origin",
    "make_backend",
    "safe_output_path",
    "settings_for",
]
