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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from vidlint._version import __version__
from vidlint.config import Config
from vidlint.decode import IMAGE_SUFFIXES, VIDEO_SUFFIXES, open_clip
from vidlint.errors import VidlintError
from vidlint.service.jobs import Job, JobQueue
from vidlint.service.settings import SECRET_ENV, TOKEN_ENV, ServeSettings
from vidlint.service.webhooks import WebhookRefused, check_webhook_url

CHUNK = 1 << 20
FORM_SLACK = 1 << 20
"""Room for the form's other fields and multipart boundaries."""
RETRY_AFTER_S = 5
MODES = ("t2v", "i2v")


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
    )
    async def submit(
        file: Annotated[UploadFile | None, File(description="The clip, uploaded.")] = None,
        path: Annotated[str | None, Form(description="A clip path under the served root.")] = None,
        reference: Annotated[
            UploadFile | None, File(description="Source image of an image-to-video clip.")
        ] = None,
        prompt: Annotated[str | None, Form()] = None,
        negative_prompt: Annotated[str | None, Form()] = None,
        mode: Annotated[str | None, Form(description="t2v or i2v.")] = None,
        seed: Annotated[int | None, Form()] = None,
        generator: Annotated[str | None, Form()] = None,
        webhook_url: Annotated[
            str | None, Form(description="Called (Standard Webhooks signed) when the job ends.")
        ] = None,
    ) -> JSONResponse:
        q = jobs()
        if (file is None) == (path is None):
            raise HTTPException(400, "send exactly one of 'file' (an upload) or 'path'")
        if mode is not None and mode not in MODES:
            raise HTTPException(400, f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if webhook_url:
            if not secret:
                raise HTTPException(400, f"webhooks need {SECRET_ENV} set on the server")
            try:
                await run_in_threadpool(
                    check_webhook_url, webhook_url, settings.allow_private_webhooks
                )
            except WebhookRefused as exc:
                raise HTTPException(400, str(exc)) from None
        if q.queue.full():
            raise _queue_full()
        job_id = q.new_id()
        temporary: list[Path] = []
        try:
            if file is not None:
                name = Path(file.filename or "upload").name
                clip = await _save_upload(file, name, job_id, VIDEO_SUFFIXES, settings)
                temporary.append(clip)
            else:
                clip, name = _under_root(path or "", settings)
            context = {
                "prompt": prompt,
                "negative_prompt": negative_prompt,
                "mode": mode,
                "seed": seed,
                "generator": generator,
            }
            if reference is not None:
                ref_name = Path(reference.filename or "reference").name
                ref = await _save_upload(
                    reference, ref_name, f"{job_id}_ref", IMAGE_SUFFIXES, settings
                )
                temporary.append(ref)
                context["reference"] = str(ref)
            await run_in_threadpool(_probe, clip, name)
            job = Job(
                job_id,
                clip,
                name,
                {k: v for k, v in context.items() if v is not None},
                webhook_url or None,
                temporary,
                reference_name=ref_name if reference is not None else None,
            )
            q.submit(job)
        except asyncio.QueueFull:
            _remove(temporary)
            raise _queue_full() from None
        except BaseException:
            _remove(temporary)
            raise
        return JSONResponse(
            job.summary(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"}
        )

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


def _job(queue: JobQueue, job_id: str) -> Job:
    job = queue.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return job


def _queue_full() -> HTTPException:
    return HTTPException(
        429, "the queue is full; retry later", headers={"Retry-After": str(RETRY_AFTER_S)}
    )


async def _save_upload(
    upload: UploadFile, name: str, stem: str, suffixes: frozenset[str], settings: ServeSettings
) -> Path:
    """Stream an upload to the upload folder under a name of our own (the client's file name
    only lends its suffix, checked against ``suffixes``)."""
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise HTTPException(
            415,
            f"{name}: unsupported file type {suffix or '(none)'!r} "
            f"(expected one of {', '.join(sorted(suffixes))})",
        )
    target = settings.upload_folder() / f"{stem}{suffix}"
    limit = settings.max_upload_mb * CHUNK
    size = 0
    try:
        with target.open("wb") as handle:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"{name}: larger than {settings.max_upload_mb} MB")
                handle.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if size == 0:
        target.unlink(missing_ok=True)
        raise HTTPException(400, f"{name}: empty upload (0 bytes)")
    return target


def _under_root(path: str, settings: ServeSettings) -> tuple[Path, str]:
    if settings.root is None:
        raise HTTPException(403, "path submissions are disabled (set serve.root)")
    root = Path(settings.root).resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise HTTPException(403, f"{path}: outside the served root")
    if not target.exists():
        raise HTTPException(404, f"{path}: no such clip under the served root")
    return target, str(target.relative_to(root))


def _probe(clip: Path, name: str) -> None:
    """Open the clip once so a file that is not a usable video is refused at once (422)."""
    try:
        with open_clip(clip):
            pass
    except VidlintError as exc:
        raise HTTPException(422, f"{name}: {exc.cause}") from None


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
