"""Crash points: the named steps where vidlint writes state, at which a test makes the process
kill itself with SIGKILL, to prove that running the same command again recovers.

``VIDLINT_CRASH_AT=STEP[#N]`` kills the process the N-th time (default: the first) it reaches
``STEP``; in a pool worker it kills the worker's parent, the command, and lets the worker go on
as a kill -9 of the command would. ``VIDLINT_CRASH_LOG=FILE`` appends ``pid step`` for each
step reached, which is how the tests enumerate them. With neither set, :func:`reached` is a
no-op.
"""

from __future__ import annotations

import os
import signal

AT_ENV = "VIDLINT_CRASH_AT"
LOG_ENV = "VIDLINT_CRASH_LOG"

_at: tuple[str, int] | None = None
_log: str | None = None
_counts: dict[str, int] = {}
_victim: int | None = None


def configure() -> None:
    """Read the environment (done at import; again in a process whose environment changed)."""
    global _at, _log
    spec = os.environ.get(AT_ENV)
    step, _, nth = (spec or "").partition("#")
    _at = (step, int(nth or 1)) if spec else None
    _log = os.environ.get(LOG_ENV) or None
    _counts.clear()


def kill_parent_instead() -> None:
    """In a pool worker: a crash point kills the command that started this worker."""
    global _victim
    _victim = os.getppid()


def reached(step: str) -> None:
    if _at is None and _log is None:
        return
    count = _counts[step] = _counts.get(step, 0) + 1
    if _log is not None:
        with open(_log, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {step}\n")
    if _at == (step, count):
        os.kill(_victim or os.getpid(), signal.SIGKILL)


configure()
