"""Engines that run on this machine: ``serial`` (in this process) and ``pool`` (one
single-threaded worker process per core)."""

from __future__ import annotations

import glob
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from vidlint.engine.work import (
    BatchJob,
    ClipOutcome,
    ClipTask,
    init_worker,
    run_task,
    single_thread_env,
)
from vidlint.report.model import Report

log = logging.getLogger(__name__)

Result = tuple[ClipTask, ClipOutcome, "Report | None"]


class SerialEngine:
    """Every clip in this process, one after the other (OpenCV keeps its threads)."""

    name = "serial"

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        self.jobs = 1

    def run(self, tasks: list[ClipTask], job: BatchJob) -> Iterator[Result]:
        for task in tasks:
            outcome, report = run_task(task, job)
            yield task, outcome, report


class PoolEngine:
    """A process pool with ``jobs`` workers (default: one per core), each single-threaded.

    Workers are spawned, not forked (OpenCV, PyAV and MediaPipe hold threads a fork would copy
    half-alive). With one clip or one job it runs in this process instead, which saves the
    workers' start-up. Ctrl-C cancels the queued clips and stops the workers; reports already
    written stay, since each is written atomically.

    A worker that dies (killed for memory, a crash in native code) breaks the whole pool. The
    clips that were in a worker or next in line then are suspects: each runs again alone in a
    fresh one-worker pool, so only the clip that kills its worker again gets an error row; the
    other unfinished clips go back to a fresh full pool.
    """

    name = "pool"

    def __init__(
        self, jobs: int | None = None, address: str | None = None, function: Callable = run_task
    ) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.function = function
        """The per-clip function, ``(task, job) -> (outcome, report)``."""

    def run(self, tasks: list[ClipTask], job: BatchJob) -> Iterator[Result]:
        workers = min(self.jobs, len(tasks))
        if workers <= 1:
            for task in tasks:
                outcome, report = self.function(task, job)
                yield task, outcome, report
            return
        queue = list(tasks)
        while queue:
            unfinished = yield from self._round(queue, job, workers)
            # the executor feeds workers in submission order: the first ``workers + 1``
            # unfinished clips were in a worker or in its call queue when the pool broke
            suspects, queue = unfinished[: workers + 1], unfinished[workers + 1 :]
            for suspect in suspects:
                again = yield from self._round([suspect], job, 1)
                for task in again:
                    cause = (
                        "a worker process died on this clip twice (killed for memory, "
                        "or a crash in native code)"
                    )
                    yield task, ClipOutcome(str(task.path), error=f"{task.path}: {cause}"), None

    def _round(
        self, tasks: list[ClipTask], job: BatchJob, workers: int
    ) -> Generator[Result, None, list[ClipTask]]:
        """Run ``tasks`` in a fresh pool; return those left unfinished by a broken pool."""
        executor = worker_pool(workers)
        unfinished: list[ClipTask] = []
        try:
            with single_thread_env():  # workers start during the first submits
                futures = {executor.submit(self.function, task, job): task for task in tasks}
            for future in as_completed(futures):
                task = futures[future]
                try:
                    outcome, report = future.result()
                except BrokenProcessPool:
                    unfinished.append(task)
                    continue
                except Exception as exc:  # e.g. a result that cannot be sent back
                    log.exception("worker failed on %s", task.path)
                    cause = f"internal error in a worker ({type(exc).__name__}: {exc})"
                    outcome = ClipOutcome(str(task.path), error=f"{task.path}: {cause}")
                    report = None
                yield task, outcome, report
        except BaseException:
            stop_pool(executor)
            remove_partial_writes(job.out_dir, tasks)
            raise
        executor.shutdown(wait=True)
        if unfinished:
            log.warning("a worker process died; %d clip(s) to run again", len(unfinished))
        order = {id(task): number for number, task in enumerate(tasks)}
        return sorted(unfinished, key=lambda task: order[id(task)])


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh processes (spawned: no copied locks or threads), each set up
    by :func:`init_worker` and told this process's pid, so it ends when this process dies."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(os.getpid(),),
    )


def remove_partial_writes(out_dir: Path | None, tasks: list[ClipTask]) -> None:
    """Delete the temp files of reports a stopped worker was writing (vidlint.fileio writes
    ``.<name>.<random>.tmp`` beside the report, then renames it)."""
    if out_dir is None:
        return
    for task in tasks:
        for partial in Path(out_dir).glob(f".{glob.escape(task.stem)}.*.tmp"):
            partial.unlink(missing_ok=True)


def stop_pool(executor: ProcessPoolExecutor) -> None:
    """Cancel queued clips and end the workers now (Python 3.11 has no public call for the
    second part; 3.14 adds ``terminate_workers``)."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + 5
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
    # the pool's own manager thread may reap a worker first; its exit code then shows up a
    # moment later (a second waitpid finds no child)
    while any(p.exitcode is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.01)
