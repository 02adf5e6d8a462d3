"""One error tree for vidlint. Every error names the file it is about and the cause.

Foreign exceptions (PyAV, OpenCV, OS, HTTP) are translated at the boundary with
``raise ... from exc`` so callers only ever catch :class:`VidlintError`.
"""

from __future__ import annotations

from pathlib import Path


class VidlintError(Exception):
    """Base class: ``str(err)`` is ``"path: cause"``, the line the CLI prints."""

    def __init__(self, cause: str, path: str | Path | None = None) -> None:
        self.cause = cause
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {cause}" if self.path else cause)


class InputError(VidlintError):
    """The input clip or image cannot be used (missing, empty, not a video, too small...)."""


class DecodeError(InputError):
    """The clip opened but its frames cannot be decoded."""


class ConfigError(VidlintError):
    """A configuration file or option is invalid (unknown key, bad value)."""


class BackendError(VidlintError):
    """A generation backend failed, timed out or answered garbage."""
