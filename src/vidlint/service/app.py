"""``vidlint serve``: a small HTTP API in front of the checker.

POST a clip (an upload, or a path under the configured root; URLs are never fetched) with its
context and get a job id; GET the job and its report; optionally get a Standard Webhooks signed
callback when the job ends. The queue is bounded (429 when full) and a fixed number of worker
processes check clips. The OpenAPI spec is at ``/openapi.json`` (``vidlint serve --openapi``
prints it).
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from vidlint._version import __version__
from vidlint.config import Config
from vidlint.decode import IMAGE_SUFFIXES, VIDEO_SUFFIXES, is_video_path, open_clip
from vidlint.decode.clip import image_files
from vidlint.errors import VidlintError
from vidlint.service.jobs import Job, JobQueue
from vidlint.service.settings import SECRET_ENV, TOKEN_ENV, ServeSettings
from vidlint.service.upload import Form, read_form
from vidlint.service.webhooks import WebhookRefused, check_webhook_url

CHUNK = 1 << 20
FORM_SLACK = 1 << 20
"""Room for the form's other fields and multipart boundaries."""
RETRY_AFTER_S = 5
MODES = ("t2v", "i2v")
_TEXT = {"type": "string"}
SUBMIT_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "The clip."},
                    "path": {"type": "string", "description": "A clip path under the root."},
                    "reference": {
                        "type": "string",
                        "format": "binary",
                        "description": "Source image of an image-to-video clip.",
                    },
                    "prompt": _TEXT,
                    "negative_prompt": _TEXT,
                    "mode": {"type": "string", "enum": list(MODES)},
                    "seed": {"type": "integer"},
                    "generator": _TEXT,
                    "webhook_url": {
                        "type": "string",
                        "description": "Called (Standard Webhooks signed) when the job ends.",
                    },
                },
            }
        }
    },
}
"""The form of POST /v1/jobs (read by :func:`vidlint.service.upload.read_form`, not FastAPI)."""


def create_app(config: Config, settings: ServeSettings | None = None) -> FastAPI:
    """The service for one configuration. Worker processes start with the app (lifespan)."""
    settings = settings or ServeSettings()
    secret = os.environ.get(SECRET_ENV) or None
    queue: JobQueue | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal queue
        queue = JobQueue(config, settings, secret)
        queue.start()
        try:
            yield
        finally:
            await queue.stop()

    app = FastAPI(
        title="vidlint QA service", version=__version__, lifespan=lifespan, description=__doc__
    )
    token = os.environ.get(TOKEN_ENV) or None
    body_limit = settings.max_upload_mb * CHUNK * 2 + FORM_SLACK  # a clip and a reference

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """A bearer token on /v1 when one is set; a declared body larger than the uploads may
        be is refused before it is read."""
        if request.url.path.startswith("/v1/"):
            given = request.headers.get("authorization", "")
            if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return JSONResponse(
                    {"detail": "missing or wrong bearer token"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > body_limit:
                return JSONResponse(
                    {
                        "detail": f"request body larger than "
                        f"{settings.max_upload_mb} MB uploads allow"
                    },
                    status_code=413,
                )
        return await call_next(request)

    def jobs() -> JobQueue:
        assert queue is not None, "the service has not started"
        return queue

    @app.get("/health", summary="Liveness and load")
    async def health() -> dict[str, Any]:
        q = jobs()
        return {
            "status": "ok",
            "version": __version__,
            "queued": q.queue.qsize(),
            "running": q.running,
            "queue_size": settings.queue_size,
            "workers": settings.workers,
        }

    @app.post(
        "/v1/jobs",
        status_code=202,
        summary="Submit a clip to check",
        responses={
            400: {
                "description": "bad request (empty upload, both or neither of "
                "file and path, bad webhook)"
            },
            403: {"description": "path outside the served root, or path submissions disabled"},
            404: {"description": "path not found under the root"},
            413: {"description": "upload too large"},
            415: {"description": "not a video file type"},
            422: {"description": "the file is not a usable video"},
            429: {"description": "queue full: retry after Retry-After seconds"},
        },
        openapi_extra={"requestBody": SUBMIT_BODY},
    )
    async def submit(request: Request) -> JSONResponse:
        q = jobs()
        key = request.headers.get("idempotency-key")
        if key is not None:
            if not 0 < len(key) <= 255 or not key.isprintable():
                raise HTTPException(400, "Idempotency-Key must be 1 to 255 printable characters")
            if (earlier := q.job_for_key(key)) is not None:  # a retry: the same job again
                return _accepted(earlier)
        if q.full():
            raise _queue_full()
        job_id = q.new_id()
        form = await read_form(
            request,
            q.folder,
            {"file": job_id, "reference": f"{job_id}_ref"},
            {"file": VIDEO_SUFFIXES, "reference": IMAGE_SUFFIXES},
            settings.max_upload_mb * CHUNK,
        )
        try:
            job = await _job_from_form(form, job_id, key, settings, secret)
            if (accepted := q.submit(job)) is not job:
                form.remove_files()
        except asyncio.QueueFull:
            form.remove_files()
            raise _queue_full() from None
        except BaseException:
            form.remove_files()
            raise
        return _accepted(accepted)

    @app.get(
        "/v1/jobs/{job_id}",
        summary="A job's status and verdict",
        responses={404: {"description": "unknown job"}},
    )
    async def get_job(job_id: str) -> dict[str, Any]:
        return _job(jobs(), job_id).summary()

    @app.get(
        "/v1/jobs/{job_id}/report",
        summary="A finished job's report (vidlint.report/1)",
        responses={
            404: {"description": "unknown job"},
            409: {"description": "the job has not finished"},
            422: {"description": "the clip could not be checked"},
        },
    )
    async def get_report(job_id: str) -> dict[str, Any]:
        job = _job(jobs(), job_id)
        if not job.done:
            raise HTTPException(409, f"job {job_id} is {job.status}")
        if job.report is None:
            raise HTTPException(422, job.error or "the clip could not be checked")
        return job.report

    return app


async def _job_from_form(
    form: Form, job_id: str, key: str | None, settings: ServeSettings, secret: str | None
) -> Job:
    """Check the form's fields and build the job (its clip probed: 422 if not a video)."""
    fields = form.fields
    upload = form.files.get("file")
    path = fields.get("path")
    if (upload is None) == (path is None):
        raise HTTPException(400, "send exactly one of 'file' (an upload) or 'path'")
    mode = fields.get("mode")
    if mode is not None and mode not in MODES:
        raise HTTPException(400, f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    seed = fields.get("seed")
    if seed is not None and not re.fullmatch(r"-?\d{1,19}", seed.strip()):
        raise HTTPException(400, f"seed must be an integer, not {seed[:40]!r}")
    webhook_url = fields.get("webhook_url") or None
    if webhook_url:
        if not secret:
            raise HTTPException(400, f"webhooks need {SECRET_ENV} set on the server")
        try:
            await run_in_threadpool(check_webhook_url, webhook_url, settings.allow_private_webhooks)
        except WebhookRefused as exc:
            raise HTTPException(400, str(exc)) from None
    if upload is not None:
        clip, name = upload
    else:
        clip, name = _under_root(path or "", settings)
    context: dict[str, Any] = {
        "prompt": fields.get("prompt"),
        "negative_prompt": fields.get("negative_prompt"),
        "mode": mode,
        "seed": int(seed) if seed is not None else None,
        "generator": fields.get("generator"),
    }
    reference = form.files.get("reference")
    if reference is not None:
        context["reference"] = str(reference[0])
    await run_in_threadpool(_probe, clip, name)
    return Job(
        job_id,
        clip,
        name,
        {k: v for k, v in context.items() if v is not None},
        webhook_url,
        [path for path, _ in form.files.values()],
        reference_name=reference[1] if reference is not None else None,
        idempotency_key=key,
    )


def _accepted(job: Job) -> JSONResponse:
    return JSONResponse(job.summary(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


def _job(queue: JobQueue, job_id: str) -> Job:
    job = queue.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return job


def _queue_full() -> HTTPException:
    return HTTPException(
        429, "the queue is full; retry later", headers={"Retry-After": str(RETRY_AFTER_S)}
    )


def _under_root(path: str, settings: ServeSettings) -> tuple[Path, str]:
    if settings.root is None:
        raise HTTPException(403, "path submissions are disabled (set serve.root)")
    if "\0" in path:
        raise HTTPException(400, "path must not contain a NUL character")
    root = Path(settings.root).resolve()
    try:
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise HTTPException(403, f"{path}: outside the served root")
        if not target.exists():
            raise HTTPException(404, f"{path}: no such clip under the served root")
        name = str(target.relative_to(root))
        if target.is_dir() and not image_files(target):
            videos = sorted(p for p in target.rglob("*") if p.is_file() and is_video_path(p))
            if videos:
                raise HTTPException(
                    400,
                    f"{path}: a folder of {len(videos)} video(s), not a clip: submit one clip "
                    f"by its path, e.g. {videos[0].relative_to(root)}",
                )
    except OSError as exc:
        raise HTTPException(400, f"{path[:200]}: cannot be used ({exc.strerror})") from None
    return target, name


def _probe(clip: Path, name: str) -> None:
    """Open the clip once so a file that is not a usable video is refused at once (422)."""
    try:
        with open_clip(clip):
            pass
    except VidlintError as exc:
        raise HTTPException(422, f"{name}: {exc.cause}") from None
