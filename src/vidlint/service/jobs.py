"""Jobs of the QA service: a bounded queue, a fixed number of runners, and the finished jobs
kept (up to a limit) with their reports, all of it in a job store that survives a restart
(:mod:`vidlint.service.store`).

Each runner hands its clip to a pool of single-threaded worker processes that run the same
per-clip function as ``vidlint check`` (:func:`vidlint.engine.work.run_task`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidlint.config import Config
from vidlint.engine.pool import stop_pool, worker_pool
from vidlint.engine.work import BatchJob, ClipTask, run_task, single_thread_env
from vidlint.service.settings import ServeSettings
from vidlint.service.store import JobStore, service_folder
from vidlint.service.webhooks import deliver

log = logging.getLogger(__name__)

OWED = (None, "pending", "sending")
"""Webhook states of a finished job whose callback has not been delivered yet."""


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
    idempotency_key: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("done", "failed")

    def record(self) -> dict[str, Any]:
        """The job as the store keeps it."""
        return dataclasses.asdict(self) | {
            "clip": str(self.clip),
            "temporary": [str(p) for p in self.temporary],
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Job:
        return cls(
            **record
            | {"clip": Path(record["clip"]), "temporary": [Path(p) for p in record["temporary"]]}
        )

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
        self.queue: asyncio.Queue[Job] = asyncio.Queue()  # bounded by submit()
        self.folder, self.durable = service_folder(settings.upload_dir)
        """Uploads and the job store; ``durable``: the configured folder, not a temp one."""
        self.store: JobStore | None = None
        self.running = 0
        self._runners: list[asyncio.Task] = []
        self._deliveries: set[asyncio.Task] = set()
        self._pool: ProcessPoolExecutor | None = None
        self._restart = asyncio.Lock()

    def new_id(self) -> str:
        return uuid.uuid4().hex

    def start(self) -> None:
        """Open the store and pick up where the last run stopped: jobs that had not ended are
        queued again (in their order), webhooks still owed are sent, stray uploads deleted."""
        self.store = JobStore(self.folder)
        owed = []
        for record in self.store.records():
            job = Job.from_record(record)
            self.jobs[job.id] = job
            if job.done:
                if job.webhook_url and (job.webhook or {}).get("status") in OWED:
                    owed.append(job)
            elif all(p.is_file() for p in job.temporary) and job.clip.exists():
                job.status, job.started_at = "queued", None
                self.queue.put_nowait(job)
            else:
                job.status, job.finished_at = "failed", time.time()
                job.error = f"{job.name}: its upload was lost while the service was down"
                self._save(job)
        waiting = [job for job in self.jobs.values() if not job.done]
        self.store.remove_uploads({path for job in waiting for path in job.temporary})
        self._pool = self._new_pool()
        self._runners = [asyncio.create_task(self._run()) for _ in range(self.settings.workers)]
        for job in owed:
            self._send_webhook(job)

    def _save(self, job: Job) -> None:
        assert self.store is not None, "the service has not started"
        self.store.save(job.record(), job.idempotency_key)

    def full(self) -> bool:
        return self.queue.qsize() >= self.settings.queue_size

    def job_for_key(self, key: str) -> Job | None:
        """The job submitted earlier with this Idempotency-Key, if it is still kept."""
        assert self.store is not None
        job_id = self.store.by_key(key)
        return self.jobs.get(job_id) if job_id else None

    def _new_pool(self, workers: int | None = None) -> ProcessPoolExecutor:
        workers = workers or self.settings.workers
        pool = worker_pool(workers)
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
        if self.store is not None:
            self.store.close()
        if not self.durable:  # nothing outlives this service
            shutil.rmtree(self.folder, ignore_errors=True)

    def submit(self, job: Job) -> Job:
        """Store and queue ``job``, or return the job already submitted with its
        Idempotency-Key (two requests with one key raced); raises :class:`asyncio.QueueFull`
        when the queue is at its bound."""
        if job.idempotency_key and (earlier := self.job_for_key(job.idempotency_key)):
            return earlier
        if self.full():
            raise asyncio.QueueFull
        self._save(job)
        self.queue.put_nowait(job)
        self.jobs[job.id] = job
        self._forget_old()
        return job

    async def _run(self) -> None:
        while True:
            job = await self.queue.get()
            job.status, job.started_at = "running", time.time()
            self._save(job)
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
                self.queue.task_done()
                if job.done:  # not when the service stops mid-job: a restart runs it again
                    job.finished_at = time.time()
                    self._save(job)
                    _remove(job.temporary)
            self._send_webhook(job)

    def _send_webhook(self, job: Job) -> None:
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
        self._save(job)
        job.webhook = await deliver(
            url,
            secret,
            f"msg_{job.id}",
            payload,
            settings.webhook_attempts,
            settings.webhook_timeout_s,
            settings.webhook_backoff_s,
        )
        self._save(job)

    def _forget_old(self) -> None:
        finished = [key for key, job in self.jobs.items() if job.done]
        old = finished[: max(0, len(self.jobs) - self.settings.keep_jobs)]
        for key in old:
            del self.jobs[key]
        if old and self.store is not None:
            self.store.forget(old)


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
