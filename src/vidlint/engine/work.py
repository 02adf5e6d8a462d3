"""The unit of work every engine runs: one clip through :func:`check_clip`, which checks it,
writes its reports and returns its :class:`ClipOutcome` (never raising for a bad clip).

It lives in its own module so the process pool, Ray and the QA service all call the very same
function, and so a worker process can be set up (one thread, Ctrl-C left to the parent) before
it checks anything.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidlint import crashpoints
from vidlint.config import Config
from vidlint.decode.grab import FrameStore
from vidlint.engine.cache import ResultCache
from vidlint.engine.outcome import ClipOutcome
from vidlint.engine.watchdog import one_clip, watch_parent
from vidlint.errors import VidlintError
from vidlint.pipeline import Checker
from vidlint.report.baseline import Baseline
from vidlint.report.model import Report
from vidlint.writers import WRITERS

log = logging.getLogger(__name__)


def check_clip(
    path: Path,
    checker: Checker,
    out_dir: Path | None,
    stem: str,
    formats: Iterable[str] = ("json",),
    context: dict[str, Any] | None = None,
    keep: dict[str, Report] | None = None,
    baseline: Baseline | None = None,
) -> ClipOutcome:
    """Check one clip and write its reports; a bad clip gives an outcome with ``error``. The
    findings ``baseline`` waives are kept in the report as waived."""
    started = time.perf_counter()
    outcome = ClipOutcome(str(path))
    try:
        report = checker.check(path, context=context)
        if baseline is not None:
            report = baseline.apply(report)
    except VidlintError as exc:
        outcome.error = str(exc) if exc.path else f"{path}: {exc}"
    except MemoryError:
        outcome.error = f"{path}: out of memory while checking"
    except Exception as exc:  # a bug must not stop the batch; the row says what happened
        log.exception("internal error on %s", path)
        outcome.error = f"{path}: internal error ({type(exc).__name__}: {exc})"
    else:
        outcome.verdict, outcome.score = report.verdict, report.score
        outcome.counts = report.counts()
        outcome.codes = sorted({f.code for f in report.findings})
        outcome.waived = len(report.waived)
        for finding in report.findings:
            outcome.families[finding.family] = outcome.families.get(finding.family, 0) + 1
        if out_dir is not None:
            outcome.reports = write_reports(report, out_dir, stem, formats, in_batch=True)
        if keep is not None:
            keep[str(path)] = report
    outcome.seconds = round(time.perf_counter() - started, 3)
    return outcome


def write_reports(
    report: Report, out_dir: Path, stem: str, formats: Iterable[str], in_batch: bool = False
) -> dict[str, str]:
    """Write ``report`` in every format as ``<out_dir>/<stem><suffix>``; returns what was
    written by format (a writer returns None when it has nothing for this clip).

    Writers that show frames of the clip (they offer ``wanted_frames(report)``) share one
    :class:`~vidlint.decode.grab.FrameStore`: the clip is decoded once for all of them.
    ``in_batch``: a batch writes its index into ``out_dir``, and pages link back to it."""
    writers = {name: WRITERS.get(name) for name in formats}
    store = FrameStore.of_report(report)
    for writer in writers.values():
        if hasattr(writer, "wanted_frames"):
            wanted = writer.wanted_frames(report)
            for indices, side in wanted if isinstance(wanted, list) else [wanted]:
                store.want(indices, side)
    written = {}
    for name, writer in writers.items():
        shared: dict[str, Any] = {"frames": store} if hasattr(writer, "wanted_frames") else {}
        if in_batch and getattr(writer, "LINKS_INDEX", False):
            shared["index"] = True
        path = writer.write(report, Path(out_dir) / f"{stem}{writer.SUFFIX}", **shared)
        if path is not None:
            written[name] = str(path)
    return written


SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}
"""Thread caps read by BLAS/OpenMP when a worker imports numpy: one worker per core, each with one
thread, scales 1.97x on 2 cores where threaded libraries fight each other
(research/stage-speeds.md section 7)."""


@dataclass(frozen=True)
class ClipTask:
    """One clip of a batch: where it is, the report stem it writes under, its place in the
    input order (the summary keeps that order), its size (the pool starts big clips first) and
    its cache key (None: not cached)."""

    path: Path
    stem: str
    order: int
    size: int = 0
    cache_key: str | None = None


@dataclass(frozen=True)
class BatchJob:
    """What is the same for every clip of a batch."""

    config: Config
    out_dir: Path | None
    formats: tuple[str, ...] = ("json",)
    context: dict[str, Any] | None = None
    keep_reports: bool = False
    baseline: Baseline | None = None


def run_task(task: ClipTask, job: BatchJob) -> tuple[ClipOutcome, Report | None]:
    """Check one clip with :func:`check_clip` and store it in the cache where its reports are
    written (a worker whose parent died still leaves a finished clip in the cache; Ray's driver
    writes both itself); return its outcome and, when the job keeps reports, its report."""
    kept: dict[str, Report] | None = {} if job.keep_reports else None
    with one_clip():
        outcome = check_clip(
            task.path,
            Checker(job.config),
            job.out_dir,
            task.stem,
            job.formats,
            job.context,
            kept,
            job.baseline,
        )
        if job.out_dir is not None:
            ResultCache(job.out_dir).store(task.stem, task.cache_key, outcome)
    return outcome, (kept or {}).get(str(task.path))


def init_worker(parent: int) -> None:
    """Set up a pool worker: one thread for OpenCV (the env caps cover BLAS/OpenMP) and Ctrl-C
    ignored, so the parent decides what stops. SIGTERM keeps its default (the process ends at
    once): the pool's worker loop would catch the SystemExit a handler raises and go on to the
    next clip. A report being written at that instant leaves only a temp file, never a torn
    report (fileio writes to a temp file, then renames), and the pool deletes it. A worker
    exits when its parent, pid ``parent``, dies (:mod:`vidlint.engine.watchdog`)."""
    import cv2

    cv2.setNumThreads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(parent)
    crashpoints.kill_parent_instead()


@contextmanager
def single_thread_env() -> Iterator[None]:
    """Set the thread caps in this process's environment while workers are spawned (they copy
    it), then put the parent's environment back."""
    saved = {key: os.environ.get(key) for key in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def clip_size(path: Path) -> int:
    """Bytes of a clip file, or of all files of an image-sequence folder (0 if unreadable)."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0
