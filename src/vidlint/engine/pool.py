"""Engines that run on this machine: ``serial`` (in this process) and ``pool`` (one
single-threaded worker process per core)."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from vidlint.batch import ClipOutcome
from vidlint.engine.work import BatchJob, ClipTask, init_worker, run_task, single_thread_env
from vidlint.report.model import Report

log = logging.getLogger(__name__)

Result = tuple[ClipTask, ClipOutcome, "Report | None"]


class SerialEngine:
    """Every clip in this process, one after the other (OpenCV keeps its threads)."""

    name = "serial"

    def __init__(self, jobs: int | None = None) -> None:
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
    """

    name = "pool"

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)

    def run(self, tasks: list[ClipTask], job: BatchJob) -> Iterator[Result]:
        workers = min(self.jobs, len(tasks))
        if workers <= 1:
            yield from SerialEngine().run(tasks, job)
            return
        executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=init_worker)
        try:
            with single_thread_env():  # workers start during the first submits
                futures = {executor.submit(run_task, task, job): task for task in tasks}
            for future in as_completed(futures):
                task = futures[future]
                outcome, report = _result(future, task)
                yield task, outcome, report
        except BaseException:
            stop_pool(executor)
            raise
        executor.shutdown(wait=True)


def _result(future: Future, task: ClipTask) -> tuple[ClipOutcome, Report | None]:
    try:
        return future.result()
    except BrokenProcessPool:
        cause = "a worker process died (killed for memory, or a crash in native code)"
    except Exception as exc:  # e.g. a result that cannot be sent back
        log.exception("worker failed on %s", task.path)
        cause = f"internal error in a worker ({type(exc).__name__}: {exc})"
    return ClipOutcome(str(task.path), error=f"{task.path}: {cause}"), None


def stop_pool(executor: ProcessPoolExecutor) -> None:
    """Cancel queued clips and end the workers now (Python 3.11 has no public call for the
    second part; 3.14 adds ``terminate_workers``)."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
