"""vidlint: a linter for AI-generated video.

>>> import vidlint
>>> report = vidlint.check("sample_clips/frozen_stall.mp4", select=["TMP"])
>>> report.verdict, report.score
('fail', 65)
>>> [(f.code, f.start_frame, f.end_frame, f.message) for f in report.findings]
[('TMP001', 30, 41, 'picture frozen for 12 frames (0.50 s)')]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidlint._version import __version__
from vidlint.analyzers.source import DEFAULT_TARGET
from vidlint.config import Config, load_config
from vidlint.errors import BackendError, ConfigError, DecodeError, InputError, VidlintError
from vidlint.pipeline import Checker
from vidlint.report.model import Finding, Region, Report


def check(
    path: str | Path,
    *,
    config: Config | str | Path | None = None,
    context: dict[str, Any] | None = None,
    **options: Any,
) -> Report:
    """Check one clip and return its :class:`Report`.

    ``options`` override the configuration like CLI flags (``select``, ``ignore``, ``profile``,
    ``rules``...); ``context`` carries the prompt, reference image, seed and generator.
    """
    if not isinstance(config, Config):
        config = load_config(config)
    if options:
        config = config.with_options(**options)
    return Checker(config).check(path, context=context)


def check_source(
    path: str | Path,
    target: tuple[int, int] = DEFAULT_TARGET,
    *,
    config: Config | str | Path | None = None,
) -> Report:
    """Lint one image-to-video source image for a clip of ``target`` (width, height) pixels
    and return its :class:`Report` (the SRC rules, on frame 0)."""
    if not isinstance(config, Config):
        config = load_config(config)
    return Checker(config).check_source(path, target)


__all__ = [
    "BackendError",
    "Checker",
    "Config",
    "ConfigError",
    "DecodeError",
    "Finding",
    "InputError",
    "Region",
    "Report",
    "VidlintError",
    "__version__",
    "check",
    "check_source",
    "load_config",
]
