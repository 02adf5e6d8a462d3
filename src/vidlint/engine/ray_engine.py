"""``--engine ray``: the same per-clip function as Ray tasks, on a local or remote Ray cluster.

Where it runs: ``address`` (``--ray-address``, ``[tool.vidlint.batch] address``) or the
``RAY_ADDRESS`` environment variable, e.g. ``ray://head:10001`` (Ray Client) or ``auto`` (the
cluster this machine belongs to); with neither, Ray starts a local cluster with ``jobs`` CPUs.
How reports come back: every task returns its report through Ray's object store and this process
(the driver) writes the files into ``--out``, so workers need no shared output folder; they do
need to read the clips at the same paths (shared storage) and have vidlint installed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from vidlint.engine.work import BatchJob, ClipOutcome, ClipTask, run_task, write_reports
from vidlint.errors import ConfigError
from vidlint.report.model import Report

log = logging.getLogger(__name__)


def check_on_ray(task: ClipTask, job: BatchJob) -> tuple[ClipOutcome, Report | None]:
    """The Ray task: one thread for OpenCV (Ray already sets OMP_NUM_THREADS to the task's
    CPUs), then the shared per-clip function."""
    import cv2

    cv2.setNumThreads(1)
    return run_task(task, job)


class RayEngine:
    name = "ray"

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        self.jobs = jobs
        self.address = address or os.environ.get("RAY_ADDRESS") or None

    def run(
        self, tasks: list[ClipTask], job: BatchJob
    ) -> Iterator[tuple[ClipTask, ClipOutcome, Report | None]]:
        ray = _import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            self._init(ray)
        remote = ray.remote(num_cpus=1)(check_on_ray)
        job_ref = ray.put(replace(job, out_dir=None, keep_reports=True))
        pending: dict[Any, ClipTask] = {remote.remote(task, job_ref): task for task in tasks}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                task = pending.pop(done[0])
                try:
                    outcome, report = ray.get(done[0])
                except ray.exceptions.RayError as exc:
                    cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
                    outcome, report = (
                        ClipOutcome(
                            str(task.path), error=f"{task.path}: Ray task failed ({cause})"
                        ),
                        None,
                    )
                if report is not None and job.out_dir is not None:
                    outcome.reports = write_reports(report, job.out_dir, task.stem, job.formats)
                yield task, outcome, report if job.keep_reports else None
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            if started_here:
                ray.shutdown()

    def _init(self, ray: Any) -> None:
        options: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.WARNING,
            "log_to_driver": False,
        }
        if self.address:
            options["address"] = self.address
        elif self.jobs:
            options["num_cpus"] = self.jobs
        try:
            ray.init(**options)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError from Ray
            where = self.address or "a local cluster"
            raise ConfigError(f"cannot start Ray on {where} ({exc})") from exc


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("engine 'ray' needs Ray: pip install 'vidlint[ray]'") from exc
    return ray
