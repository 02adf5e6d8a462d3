"""A clip's row in a batch: its own module so the cache reads and writes rows without importing
the worker that makes them (:mod:`vidlint.engine.work` stores each row it finishes)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ClipOutcome:
    """One row of the batch summary: a verdict, or the error that stopped the clip."""

    path: str
    verdict: str | None = None
    score: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)
    families: dict[str, int] = field(default_factory=dict)
    """Findings per rule family (the batch index and summary show them)."""
    reports: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    cached: bool = False
    """True when a re-run took this row from the resumable cache instead of checking again."""
    waived: int = 0
    """Findings a baseline waived (not in ``counts`` or ``codes``)."""

    @property
    def failed(self) -> bool:
        return self.verdict == "fail"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
