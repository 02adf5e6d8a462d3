"""Jobs of the QA service: a bounded queue, a fixed number of runners, and the finished jobs
kept (up to a limit) with their reports.

Each runner hands its clip to a pool of single-threaded worker processes that run the same
per-clip function as ``vidlint check`` (:func:`vidlint.engine.work.run_task`).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidlint.config import Config
from vidlint.engine.pool import stop_pool
from vidlint.engine.work import BatchJob, ClipTask, init_worker, run_task, single_thread_env
from vidlint.service.settings import ServeSettings
from vidlint.service.webhooks import deliver

log = logging.getLogger(__name__)


@dataclass
class Job:
    id: str
    clip: Path
    name: str
    context: dict[str, Any]
    webhook_url: str | None = None
    temporary: list[Path] = field(default_factory=list)
    """Uploaded files to delete when the job ends."""
    reference_name: str | None = None
    """The uploaded reference image's own name (its file here has a name of ours)."""
    status: str = "queued"
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    verdict: str | None = None
    score: int | None = None
    codes: list[str] = field(default_factory=list)
    error: str | None = None
    report: dict[str, Any] | None = None
    webhook: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status in ("done", "failed")

    def summary(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "status": self.status,
            "clip": self.name,
            "submitted_at": _iso(self.submitted_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "verdict": self.verdict,
            "score": self.score,
            "codes": self.codes,
            "error": self.error,
            "links": {"self": f"/v1/jobs/{self.id}", "report": f"/v1/jobs/{self.id}/report"},
        }
        if self.webhook_url:
            data["webhook"] = self.webhook or {"status": "pending"}
        return data


class JobQueue:
    function = staticmethod(run_task)
    """The per-clip function the workers run (the same as ``vidlint check``'s)."""

    def __init__(self, config: Config, settings: ServeSettings, secret: str | None) -> None:
        self.config = config
        self.settings = settings
        self.secret = secret
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=settings.queue_size)
        self.running = 0
        self._runners: list[asyncio.Task] = []
        self._deliveries: set[asyncio.Task] = set()
        self._pool: ProcessPoolExecutor | None = None
        self._restart = asyncio.Lock()

    def new_id(self) -> str:
        return uuid.uuid4().hex

    def start(self) -> None:
        self._pool = self._new_pool()
        self._runners = [asyncio.create_task(self._run()) for _ in range(self.settings.workers)]

    def _new_pool(self, workers: int | None = None) -> ProcessPoolExecutor:
        workers = workers or self.settings.workers
        pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker
        )
        with single_thread_env():  # start the workers now, with one thread each
            for future in [pool.submit(_ready) for _ in range(workers)]:
                future.result()
        return pool

    async def _check(self, task: ClipTask, batch: BatchJob) -> tuple[Any, Any]:
        """Run the clip in a worker. A worker that dies breaks the pool for every clip in it:
        the pool is replaced, and each of those clips runs again alone in a one-worker pool,
        so only the clip that kills its worker again fails."""
        loop = asyncio.get_running_loop()
        pool = self._pool
        assert pool is not None  # start() makes the pool before it starts the runners
        try:
            return await loop.run_in_executor(pool, self.function, task, batch)
        except BrokenProcessPool:
            async with self._restart:
                if self._pool is pool:  # the first runner to notice replaces it
                    log.warning("a worker process died; restarting the workers")
                    stop_pool(pool)
                    self._pool = await asyncio.to_thread(self._new_pool)
        alone = await asyncio.to_thread(self._new_pool, 1)
        try:
            return await loop.run_in_executor(alone, self.function, task, batch)
        finally:
            await asyncio.to_thread(stop_pool, alone)

    async def stop(self) -> None:
        for runner in self._runners:
            runner.cancel()
        await asyncio.gather(*self._runners, *self._deliveries, return_exceptions=True)
        if self._pool is not None:
            stop_pool(self._pool)
        for job in self.jobs.values():
            _remove(job.temporary)

    def submit(self, job: Job) -> None:
        """Queue ``job``; raises :class:`asyncio.QueueFull` when the queue is at its bound."""
        self.queue.put_nowait(job)
        self.jobs[job.id] = job
        self._forget_old()

    async def _run(self) -> None:
        while True:
            job = await self.queue.get()
            job.status, job.started_at = "running", time.time()
            self.running += 1
            try:
                task = ClipTask(job.clip, job.id, 0)
                batch = BatchJob(self.config, None, ("json",), job.context, keep_reports=True)
                outcome, report = await self._check(task, batch)
                if outcome.error:
                    job.status, job.error = "failed", outcome.error.replace(str(job.clip), job.name)
                else:
                    job.status = "done"
                    job.verdict, job.score, job.codes = (
                        outcome.verdict,
                        outcome.score,
                        outcome.codes,
                    )
                    job.report = report.to_dict() if report is not None else None
                    if job.report is not None:
                        job.report["clip"]["path"] = job.name  # not the server's temp path
                        if job.reference_name and "reference" in job.report["context"]:
                            job.report["context"]["reference"] = job.reference_name
            except asyncio.CancelledError:
                raise
            except BrokenProcessPool:
                job.status = "failed"
                job.error = (
                    f"{job.name}: a worker process died on this clip twice (killed for "
                    "memory, or a crash in native code)"
                )
            except Exception as exc:  # a bug must fail the job, not the service
                log.exception("job %s failed", job.id)
                job.status, job.error = "failed", f"{job.name}: internal error ({exc})"
            finally:
                self.running -= 1
                job.finished_at = time.time()
                _remove(job.temporary)
                self.queue.task_done()
            if job.webhook_url and self.secret:
                delivery = asyncio.create_task(self._notify(job, job.webhook_url, self.secret))
                self._deliveries.add(delivery)
                delivery.add_done_callback(self._deliveries.discard)

    async def _notify(self, job: Job, url: str, secret: str) -> None:
        event = "vidlint.job.completed" if job.status == "done" else "vidlint.job.failed"
        summary = job.summary()
        summary.pop("webhook", None)
        payload = {"type": event, "timestamp": _iso(job.finished_at), "data": summary}
        settings = self.settings
        job.webhook = {"status": "sending"}
        job.webhook = await deliver(
            url,
            secret,
            f"msg_{job.id}",
            payload,
            settings.webhook_attempts,
            settings.webhook_timeout_s,
            settings.webhook_backoff_s,
        )

    def _forget_old(self) -> None:
        finished = [key for key, job in self.jobs.items() if job.done]
        for key in finished[: max(0, len(self.jobs) - self.settings.keep_jobs)]:
            del self.jobs[key]


def _ready() -> bool:
    return True


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
    paths.clear()


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{int(stamp % 1 * 1000):03d}Z"
