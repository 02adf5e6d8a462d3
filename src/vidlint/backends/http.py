"""``http``: POST the ``vidlint.regen/1`` request as JSON to a URL, signed with Standard Webhooks.

Protocol (what a service must speak; docs/regeneration.md has the full text):

- ``POST {url}`` with the request JSON (the reference image inlined as base64 when
  ``inline_reference``), headers ``webhook-id`` (the idempotency key, stable across retries),
  ``webhook-timestamp``, ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` over
  ``id.timestamp.body``, from the secret in the environment variable ``secret_env``) and
  ``Idempotency-Key``. The same key sent twice must not start a second job.
- The answer is the job: ``{"id", "status", "output", "error"}``, with ``status`` one of
  queued/starting/processing/running/succeeded/failed/canceled (Replicate's words) and ``output``
  a URL or a list of URLs. A finished answer is a synchronous result; otherwise the job is
  polled at ``status_url`` (default ``{url}/{id}``).
- Outputs are fetched from the same host as ``url`` (or ``allowed_output_hosts``); the served
  file name only lends its suffix.

Connection errors, timeouts, 408/429/5xx are :class:`TransientBackendError` (with Retry-After);
other 4xx and unparseable answers are final.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import json
import logging
import mimetypes
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from vidlint.backends import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    JobStatus,
    Submission,
    TransientBackendError,
    config_origin,
    safe_output_path,
)
from vidlint.errors import BackendError, ConfigError
from vidlint.settings import param, read_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpSettings:
    """``[backend.http]``."""

    url: str = param("", "the service's job collection: POST creates a job (required)")
    status_url: str = param("{url}/{id}", "where a job's status is read")
    cancel_url: str = param("{url}/{id}/cancel", "where a job is cancelled")
    secret_env: str = param(
        "VIDLINT_HTTP_SECRET", "the variable holding the HMAC secret that signs each request"
    )
    token_env: str = param("", "a variable holding a bearer token, when the service wants one")
    timeout_s: float = param(30.0, "per HTTP request; generation itself is polled")
    inline_reference: bool = param(
        True, "send the reference image in the request body (base64) rather than by path"
    )
    allowed_output_hosts: tuple[str, ...] = param(
        (), "hosts besides the service's own that output URLs may point to"
    )
    max_output_mb: int = param(2048, "a returned file larger than this is refused")


STATES = {
    "queued": QUEUED,
    "starting": QUEUED,
    "pending": QUEUED,
    "in_queue": QUEUED,
    "processing": RUNNING,
    "running": RUNNING,
    "in_progress": RUNNING,
    "succeeded": DONE,
    "completed": DONE,
    "success": DONE,
    "done": DONE,
    "failed": FAILED,
    "error": FAILED,
    "canceled": FAILED,
    "cancelled": FAILED,
}
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
NOT_VIDEO_TYPES = ("text/", "application/json", "application/xml")


def httpx_module() -> Any:
    try:
        import httpx
    except ImportError as exc:  # the regen extra is not installed
        raise ConfigError(
            "the http and comfyui backends need httpx: pip install 'vidlint[regen]'"
        ) from exc
    return httpx


class HttpBackend:
    name = "http"

    def __init__(
        self,
        settings: dict[str, Any] | None = None,
        config: Any = None,
        work_dir: Path | None = None,
        transport: Any = None,
    ) -> None:
        self.settings = read_settings(
            HttpSettings, settings, f"backend.{self.name}", config_origin(config), positive=True
        )
        url = str(self.settings.url).rstrip("/")
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError(
                "'backend.http.url' must be an http(s) URL",
                ", ".join(getattr(config, "sources", ())) or "config",
            )
        self.url = url
        if not os.environ.get(self.settings.secret_env or ""):
            log.warning(
                "%s is not set: requests to %s will not be signed",
                self.settings.secret_env or "backend.http.secret_env",
                _where(url),
            )
        httpx = httpx_module()
        self.client = httpx.Client(
            timeout=float(self.settings.timeout_s), transport=transport, follow_redirects=False
        )

    # -- protocol -----------------------------------------------------------------------------
    def submit(self, request: Any) -> Submission:
        data = request.to_dict() if hasattr(request, "to_dict") else dict(request)
        key = data["idempotency_key"]
        if self.settings.inline_reference and data.get("reference"):
            data["reference_image"] = _inline(Path(data["reference"]))
        body = json.dumps(data, sort_keys=True, separators=(",", ":"))
        headers = {
            "content-type": "application/json",
            "idempotency-key": key,
            **self._auth(),
            **self._signature(key, body),
        }
        response = self._send("POST", self.url, content=body.encode(), headers=headers)
        answer = read_json(response, "submit")
        job_id = str(answer.get("id") or key)
        return Submission(job_id, _status(answer), _public(answer))

    def poll(self, job_id: str) -> JobStatus:
        response = self._send("GET", self._job_url("status_url", job_id), headers=self._auth())
        return _status(read_json(response, "poll"))

    def fetch(self, status: JobStatus, dest: Path) -> Path:
        if not status.outputs:
            raise BackendError("the job finished without an output")
        url = urljoin(self.url + "/", status.outputs[0])
        self._check_output_url(url)
        target = safe_output_path(dest, urlsplit(url).path)
        limit = int(self.settings.max_output_mb) * 1024 * 1024
        return download(self.client, url, target, limit, headers=self._auth())

    def cancel(self, job_id: str) -> None:
        with contextlib.suppress(BackendError):  # one that cannot be cancelled has finished
            self._send("POST", self._job_url("cancel_url", job_id), headers=self._auth())

    def close(self) -> None:
        self.client.close()

    # -- helpers ------------------------------------------------------------------------------
    def _job_url(self, which: str, job_id: str) -> str:
        from urllib.parse import quote

        template = str(getattr(self.settings, which))
        status_url = str(self.settings.status_url).format(url=self.url, id=quote(job_id, safe=""))
        return template.format(url=self.url, id=quote(job_id, safe=""), status_url=status_url)

    def _auth(self) -> dict[str, str]:
        name = self.settings.token_env
        if not name:
            return {}
        token = os.environ.get(name)
        if not token:
            raise BackendError(f"environment variable {name} (backend.http.token_env) is not set")
        return {"authorization": f"Bearer {token}"}

    def _signature(self, msg_id: str, body: str) -> dict[str, str]:
        secret = os.environ.get(self.settings.secret_env or "", "")
        if not secret:
            return {}
        from standardwebhooks.webhooks import Webhook

        now = datetime.now(tz=UTC)
        try:
            signature = Webhook(secret).sign(msg_id, now, body)
        except (ValueError, TypeError) as exc:  # a malformed secret; never echo it
            raise ConfigError(
                f"the secret in {self.settings.secret_env} is not a valid "
                f"Standard Webhooks secret ({type(exc).__name__})"
            ) from None
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }

    def _check_output_url(self, url: str) -> None:
        parts, base = urlsplit(url), urlsplit(self.url)
        allowed = {base.netloc, *self.settings.allowed_output_hosts}
        if parts.scheme not in ("http", "https") or parts.netloc not in allowed:
            raise BackendError(
                f"refusing to fetch an output from {parts.scheme}://"
                f"{parts.netloc} (allowed: {', '.join(sorted(allowed))})"
            )

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        return send(self.client, method, url, float(self.settings.timeout_s), **kwargs)


def send(
    client: Any,
    method: str,
    url: str,
    timeout_s: float,
    accept: tuple[int, ...] = (),
    **kwargs: Any,
) -> Any:
    """One HTTP call with httpx's exceptions translated: transport failures and timeouts are
    transient, an error status (other than those in ``accept``) is raised by
    :func:`raise_for_status`."""
    httpx = httpx_module()
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise TransientBackendError(
            f"{method} {_where(url)} timed out after {timeout_s:g} s"
        ) from exc
    except httpx.TransportError as exc:
        raise TransientBackendError(
            f"{method} {_where(url)} failed: {type(exc).__name__}: {exc}"
        ) from exc
    if response.status_code not in accept:
        raise_for_status(response, f"{method} {_where(url)}")
    return response


def download(client: Any, url: str, target: Path, max_bytes: int, **kwargs: Any) -> Path:
    """Stream ``url`` into ``target`` (through a temp file); refuse text answers and files
    over ``max_bytes``."""
    httpx = httpx_module()
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.part")
    try:
        with client.stream("GET", url, **kwargs) as response:
            raise_for_status(response, f"GET {_where(url)}")
            kind = response.headers.get("content-type", "")
            if kind.startswith(NOT_VIDEO_TYPES):
                raise BackendError(
                    f"the returned file is not a video (content-type {kind.split(';')[0]})"
                )
            size = 0
            with open(temp, "wb") as handle:
                for block in response.iter_bytes():
                    size += len(block)
                    if size > max_bytes:
                        raise BackendError(f"the returned file is over {max_bytes >> 20} MB")
                    handle.write(block)
    except httpx.TimeoutException as exc:
        temp.unlink(missing_ok=True)
        raise TransientBackendError(f"fetching {_where(url)} timed out") from exc
    except httpx.TransportError as exc:
        temp.unlink(missing_ok=True)
        raise TransientBackendError(f"fetching {_where(url)} failed ({exc})") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if size == 0:
        temp.unlink(missing_ok=True)
        raise BackendError("the returned file is empty")
    temp.replace(target)
    return target


def raise_for_status(response: Any, what: str) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    try:
        response.read()
        excerpt = response.text[:200].replace("\n", " ")
    except (httpx_module().HTTPError, RuntimeError, UnicodeDecodeError):
        excerpt = ""
    message = f"{what}: HTTP {code} {excerpt}".strip()
    if code in TRANSIENT_STATUS:
        raise TransientBackendError(
            message, retry_after=_retry_after(response.headers.get("retry-after"))
        )
    raise BackendError(message)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def read_json(response: Any, what: str) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as exc:
        raise BackendError(
            f"{what}: the backend answered something that is not JSON ({response.text[:80]!r})"
        ) from exc
    if not isinstance(answer, dict):
        raise BackendError(f"{what}: the backend answered JSON that is not an object")
    return answer


def _status(answer: dict[str, Any]) -> JobStatus:
    raw = str(answer.get("status", "")).lower()
    if raw not in STATES:
        raise BackendError(f"the backend answered an unknown job status {raw!r}")
    output = answer.get("output", answer.get("outputs"))
    outputs = (
        (output,)
        if isinstance(output, str)
        else tuple(o for o in (output or ()) if isinstance(o, str))
    )
    state = STATES[raw]
    if state == DONE and not outputs:
        raise BackendError("the backend says the job succeeded but gives no output URL")
    detail = str(answer.get("error") or "")[:500]
    return JobStatus(state, outputs, detail)


def _public(answer: dict[str, Any]) -> dict[str, Any]:
    """The response as recorded in the state: capped, no bulky fields."""
    text = json.dumps(answer, default=str)
    return answer if len(text) < 20_000 else {"truncated": text[:20_000]}


def _inline(path: Path) -> dict[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BackendError(f"cannot read the reference image ({exc.strerror})", path) from exc
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return {"media_type": kind, "data": base64.b64encode(data).decode()}


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"  # no query: it may carry a token


BACKEND = HttpBackend
