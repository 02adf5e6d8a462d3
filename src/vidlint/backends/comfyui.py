"""``comfyui``: run an API-format ComfyUI workflow with a request's prompt, seed, length and image.

The workflow is a file exported with *File -> Export (API)*: ``{node_id: {"class_type",
"inputs", "_meta": {"title"}}}``. Where each request field goes is found from the graph
(:mod:`vidlint.backends.comfyui_graph`): the text encoders behind the samplers' positive and
negative inputs, every seed, the length of the latent-video node, LoadImage. ``[backend.comfyui.
inputs]`` overrides a field by node title, class or id. What a workflow cannot take is said once,
when the backend is made, and the loop skips the rungs that need it (``skipped_rungs``).

Routes (ComfyUI ``server.py``): ``POST /upload/image`` (the reference frame), ``POST /prompt``
(with a ``prompt_id`` derived from the idempotency key, which newer builds honour), ``GET
/history/{id}`` and ``GET /queue`` (status), ``GET /view`` (the output file), ``POST /queue``
``{"delete"}`` and ``POST /interrupt`` ``{"prompt_id"}`` (cancel). Videos appear under ``images``
(core SaveVideo/SaveWEBM) or ``gifs`` (VideoHelperSuite) in the history outputs. Every request
carries a new seed: an unchanged graph is served from ComfyUI's cache.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import mimetypes
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
from vidlint.backends.comfyui_graph import FIELDS, WorkflowMap, map_workflow
from vidlint.backends.http import download, httpx_module, read_json, send
from vidlint.decode.suffixes import VIDEO_SUFFIXES
from vidlint.errors import BackendError, ConfigError
from vidlint.settings import param, read_settings

log = logging.getLogger(__name__)

REQUIRED = {
    "prompt": "a text encoder behind a sampler's positive input",
    "seed": "a literal seed or noise_seed input",
}
DEFAULT_FPS = 16.0
"""Wan's rate (``sample_fps = 16``), for a workflow whose video node names none."""


@dataclass(frozen=True)
class ComfyUISettings:
    """``[backend.comfyui]``."""

    url: str = param("http://127.0.0.1:8188", "ComfyUI's default listen address and port")
    workflow: str = param("", "an API-format workflow JSON (required)")
    workflow_i2v: str = param(
        "",
        "the image-to-video workflow for requests with a reference image (default: workflow, "
        "if it has a LoadImage)",
    )
    inputs: dict[str, Any] = param(
        {}, "field: 'node_id.input' overrides for what the graph reading cannot find"
    )
    fps: float = param(0.0, "0: the workflow's video node's frame rate", bounds=(0.0, 1000.0))
    length_step: int = param(
        0,
        "0: the workflow's latent-video frame step (4 for Wan and Hunyuan, 8 for LTX)",
        bounds=(0, 1024),
    )
    output_node: str = param("", "the node whose output is the clip (default: found in the graph)")
    timeout_s: float = param(30.0, "per HTTP request; generation itself is polled")
    max_output_mb: int = param(2048, "a returned file larger than this is refused")


OUTPUT_LISTS = ("images", "gifs", "videos")


@dataclass
class Workflow:
    path: Path
    graph: dict[str, Any]
    map: WorkflowMap


class ComfyUIBackend:
    name = "comfyui"

    def __init__(
        self,
        settings: dict[str, Any] | None = None,
        config: Any = None,
        work_dir: Path | None = None,
        transport: Any = None,
    ) -> None:
        self.origin = config_origin(config)
        self.settings = read_settings(
            ComfyUISettings, settings, f"backend.{self.name}", self.origin, positive=True
        )
        self.url = str(self.settings.url).rstrip("/")
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ConfigError("'backend.comfyui.url' must be an http(s) URL", self.origin)
        if not self.settings.workflow:
            raise ConfigError(
                "'backend.comfyui.workflow' (an API-format workflow JSON) is not set", self.origin
            )
        overrides = _overrides(self.settings.inputs, self.origin)
        self.t2v = self._workflow(str(self.settings.workflow), overrides)
        self.i2v = (
            self._workflow(str(self.settings.workflow_i2v), overrides)
            if self.settings.workflow_i2v
            else (self.t2v if self.t2v.map["image"] else None)
        )
        self.notes = self._notes()
        for note in self.notes:
            log.warning("%s", note)
        self.client_id = str(uuid.uuid4())
        httpx = httpx_module()
        self.client = httpx.Client(
            timeout=float(self.settings.timeout_s), transport=transport, follow_redirects=False
        )

    def skipped_rungs(self) -> dict[str, str]:
        """The ladder rungs these workflows cannot apply, with the reason (the loop skips them
        instead of spending attempts on them)."""
        skipped = {}
        if not self.t2v.map["length"]:
            skipped["shorten"] = f"{self.t2v.path.name} has no length input"
        if self.i2v is None:
            skipped["i2v"] = (
                f"{self.t2v.path.name} has no LoadImage node and "
                "backend.comfyui.workflow_i2v is not set"
            )
        return skipped

    # -- protocol -----------------------------------------------------------------------------
    def submit(self, request: Any) -> Submission:
        data = request.to_dict() if hasattr(request, "to_dict") else dict(request)
        prompt_id = str(uuid.UUID(data["idempotency_key"][:32]))
        if self._known(prompt_id):  # a resumed submit: the job already exists
            return Submission(prompt_id, None, {"prompt_id": prompt_id, "resumed": True})
        graph = self.graph_for(data)
        body = {"prompt": graph, "client_id": self.client_id, "prompt_id": prompt_id}
        response = self._send("POST", "/prompt", json=body, accept=(400,))
        answer = read_json(response, "POST /prompt")
        if response.status_code == 400 or answer.get("node_errors"):
            raise BackendError(f"ComfyUI rejected the workflow: {_errors(answer)}")
        returned = str(answer.get("prompt_id") or "")
        if not returned:
            raise BackendError("ComfyUI answered /prompt without a prompt_id")
        return Submission(returned, None, answer)

    def poll(self, job_id: str) -> JobStatus:
        for _ in range(2):  # the job may leave the queue between the two reads
            history = read_json(self._send("GET", f"/history/{job_id}"), "GET /history")
            if job_id in history:
                return self._status(history[job_id])
            queue = read_json(self._send("GET", "/queue"), "GET /queue")
            if _in_queue(queue.get("queue_running"), job_id):
                return JobStatus(RUNNING)
            if _in_queue(queue.get("queue_pending"), job_id):
                return JobStatus(QUEUED)
        return JobStatus(
            FAILED,
            detail=f"prompt {job_id} is neither queued nor in the history (ComfyUI restarted?)",
        )

    def fetch(self, status: JobStatus, dest: Path) -> Path:
        if not status.outputs:
            raise BackendError("the job finished without a video output")
        record = json.loads(status.outputs[0])
        params = {k: str(record.get(k, "")) for k in ("filename", "subfolder", "type")}
        target = safe_output_path(dest, params["filename"])
        limit = int(self.settings.max_output_mb) * 1024 * 1024
        return download(self.client, f"{self.url}/view", target, limit, params=params)

    def cancel(self, job_id: str) -> None:
        for path, body in (("/queue", {"delete": [job_id]}), ("/interrupt", {"prompt_id": job_id})):
            with contextlib.suppress(BackendError):
                self._send("POST", path, json=body)

    def close(self) -> None:
        self.client.close()

    # -- the graph ----------------------------------------------------------------------------
    def graph_for(self, data: dict[str, Any]) -> dict[str, Any]:
        """The workflow (the image-to-video one for a request with a reference) with this
        request's values in the mapped node inputs. The request's negative terms are appended
        to the workflow's own negative prompt; an empty request prompt keeps the workflow's."""
        reference = data.get("reference")
        workflow = self.i2v if reference and self.i2v is not None else self.t2v
        if reference and not workflow.map["image"]:
            raise BackendError(
                f"the request has a reference image but {workflow.path.name} has no LoadImage "
                "node: set backend.comfyui.workflow_i2v to an image-to-video workflow"
            )
        graph = copy.deepcopy(workflow.graph)
        values: dict[str, Any] = {"seed": int(data.get("seed") or 0)}
        if data.get("prompt"):
            values["prompt"] = str(data["prompt"])
        duration = (data.get("params") or {}).get("duration_s")
        if duration:
            values["length"] = self.frames_for(float(duration), workflow)
        if reference:
            values["image"] = self._upload(Path(reference), data["idempotency_key"])
        for name, value in values.items():
            for target in workflow.map[name]:
                graph[target.node_id]["inputs"][target.input] = value
        negative = str(data.get("negative_prompt") or "")
        for target in workflow.map["negative_prompt"]:
            inputs = graph[target.node_id]["inputs"]
            own = str(inputs.get(target.input) or "").strip().rstrip(",")
            inputs[target.input] = ", ".join(t for t in (own, negative) if t)
        return graph

    def frames_for(self, duration_s: float, workflow: Workflow | None = None) -> int:
        """Frames for a duration at the workflow's frame rate; with a length step k the count
        is k*n + 1 (Wan and Hunyuan: 4n + 1, LTX: 8n + 1)."""
        found = (workflow or self.t2v).map
        fps = float(self.settings.fps) or found.fps or DEFAULT_FPS
        frames = max(1, round(duration_s * fps))
        step = int(self.settings.length_step) or found.length_step
        if step > 1:
            frames = step * max(1, round((frames - 1) / step)) + 1
        return frames

    def _workflow(self, path_text: str, overrides: dict[str, list[dict[str, str]]]) -> Workflow:
        path = Path(path_text)
        graph = _load_workflow(path)
        found = map_workflow(graph, overrides)
        for field, what in REQUIRED.items():
            if not found[field]:
                how = overrides.get(field) or what
                raise ConfigError(
                    f"no node in the workflow matches backend.comfyui.inputs.{field} ({how})",
                    path,
                )
        return Workflow(path, graph, found)

    def _notes(self) -> list[str]:
        """One sentence per thing these workflows cannot take, said once."""
        notes = []
        for workflow in {id(w): w for w in (self.t2v, self.i2v) if w is not None}.values():
            name, found = workflow.path.name, workflow.map
            if not found["negative_prompt"]:
                notes.append(
                    f"{name}: no text encoder behind a sampler's negative input: negative "
                    "terms are not sent (map one with backend.comfyui.inputs.negative_prompt)"
                )
            if found["length"] and not (self.settings.fps or found.fps):
                notes.append(f"{name}: no frame rate found: the length assumes {DEFAULT_FPS} fps")
        for rung, reason in self.skipped_rungs().items():
            notes.append(f"{reason}: the {rung} rung is skipped")
        if self.i2v is self.t2v:
            image = ", ".join(str(t) for t in self.t2v.map["image"])
            notes.append(
                f"{self.t2v.path.name} takes its image from {image}: requests without a "
                "reference keep the workflow's own image"
            )
        return notes

    def _upload(self, path: Path, key: str) -> str:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BackendError(f"cannot read the reference image ({exc.strerror})", path) from exc
        name = f"vidlint-{key[:16]}{path.suffix.lower() or '.png'}"
        kind = mimetypes.guess_type(name)[0] or "image/png"
        response = self._send(
            "POST",
            "/upload/image",
            files={"image": (name, data, kind)},
            data={"type": "input", "overwrite": "true"},
        )
        answer = read_json(response, "POST /upload/image")
        stored = str(answer.get("name") or "")
        if not stored:
            raise BackendError("ComfyUI answered /upload/image without a name")
        subfolder = str(answer.get("subfolder") or "")
        return f"{subfolder}/{stored}" if subfolder else stored

    # -- helpers ------------------------------------------------------------------------------
    def _known(self, prompt_id: str) -> bool:
        """Whether ComfyUI already has this prompt (finished, running or queued)."""
        for _ in range(2):  # it may leave the queue between the two reads
            history = read_json(self._send("GET", f"/history/{prompt_id}"), "GET /history")
            if prompt_id in history:
                return True
            queue = read_json(self._send("GET", "/queue"), "GET /queue")
            if _in_queue(queue.get("queue_running"), prompt_id) or _in_queue(
                queue.get("queue_pending"), prompt_id
            ):
                return True
        return False

    def _status(self, entry: Any) -> JobStatus:
        if not isinstance(entry, dict):
            raise BackendError("ComfyUI history entry is not an object")
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            return JobStatus(FAILED, detail=_execution_error(status))
        if not status.get("completed", True):
            return JobStatus(RUNNING)
        outputs = []
        wanted = self.settings.output_node
        sent = entry.get("prompt")  # [number, prompt_id, graph, extra_data, outputs]
        graph = sent[2] if isinstance(sent, list) and len(sent) > 2 else self.t2v.graph
        graph = graph if isinstance(graph, dict) else {}
        for node_id, ui in (entry.get("outputs") or {}).items():
            if wanted and (graph.get(node_id, {}).get("_meta") or {}).get("title") != wanted:
                continue
            for key in OUTPUT_LISTS:
                for item in (ui or {}).get(key) or []:
                    if (
                        isinstance(item, dict)
                        and Path(str(item.get("filename", ""))).suffix.lower() in VIDEO_SUFFIXES
                    ):
                        outputs.append(
                            json.dumps(
                                {k: item.get(k, "") for k in ("filename", "subfolder", "type")}
                            )
                        )
        if not outputs:
            return JobStatus(
                FAILED,
                detail="the workflow finished without a video output "
                f"(lists {', '.join(OUTPUT_LISTS)})",
            )
        return JobStatus(DONE, tuple(outputs))

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        httpx = httpx_module()
        try:
            return send(
                self.client,
                method,
                f"{self.url}{path}",
                float(self.settings.timeout_s),
                **kwargs,
            )
        except TransientBackendError as exc:
            if isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout)):
                raise TransientBackendError(
                    f"ComfyUI at {self.url} is unreachable "
                    f"({type(exc.__cause__).__name__}): is it running?"
                ) from exc.__cause__
            raise


def _load_workflow(path: Path) -> dict[str, Any]:
    try:
        graph = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError("workflow file not found", path) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the workflow ({exc})", path) from exc
    if (
        not isinstance(graph, dict)
        or "nodes" in graph
        or not all(isinstance(node, dict) and "class_type" in node for node in graph.values())
    ):
        raise ConfigError("not an API-format workflow (export it with File -> Export (API))", path)
    return graph


def _overrides(table: dict[str, Any], origin: str) -> dict[str, list[dict[str, str]]]:
    """``[backend.comfyui.inputs]``: field -> one or a list of {title|class|id, input}."""
    overrides = {}
    for field, spec in table.items():
        if field not in FIELDS:
            raise ConfigError(
                f"unknown key 'backend.comfyui.inputs.{field}' (known: {', '.join(FIELDS)})",
                origin,
            )
        specs = spec if isinstance(spec, list) else [spec]
        for item in specs:
            if (
                not isinstance(item, dict)
                or "input" not in item
                or not ({"title", "class", "id"} & set(item))
            ):
                raise ConfigError(
                    f"'backend.comfyui.inputs.{field}' needs 'input' and a 'title', 'class' "
                    "or 'id'",
                    origin,
                )
        overrides[field] = [dict(item) for item in specs]
    return overrides


def _in_queue(items: Any, prompt_id: str) -> bool:
    """Queue items are ``[number, prompt_id, graph, extra, outputs]``."""
    return any(
        isinstance(item, list) and len(item) > 1 and item[1] == prompt_id for item in items or []
    )


def _execution_error(status: dict[str, Any]) -> str:
    for message in status.get("messages") or []:
        if not (isinstance(message, list) and len(message) == 2):
            continue
        kind, data = message[0], message[1] or {}
        where = f"{data.get('node_type', 'node')} (node {data.get('node_id', '?')})"
        if kind == "execution_error":
            return f"{where} failed: {str(data.get('exception_message', '')).strip()[:300]}"
        if kind == "execution_interrupted":
            return f"interrupted in {where}"
    return "ComfyUI reports an execution error"


def _errors(answer: dict[str, Any]) -> str:
    """A rejected prompt as ComfyUI's execution.py reports it: the top error, then each node's
    errors with the node id, class, input and details ("unet_name: 'x.safetensors' not in [])
    that name the missing model or image."""
    error = answer.get("error") or {}
    if isinstance(error, dict):
        text = str(error.get("message") or error.get("type") or "")
        node_errors = answer.get("node_errors") or {}
        if error.get("details") and not node_errors:
            text += f": {error['details']}"
    else:
        text, node_errors = str(error), answer.get("node_errors") or {}
    for node_id, info in (node_errors if isinstance(node_errors, dict) else {}).items():
        info = info if isinstance(info, dict) else {}
        reasons = []
        for item in info.get("errors") or []:
            if not isinstance(item, dict):
                continue
            reason = str(item.get("message") or item.get("type") or "error")
            details = str(item.get("details") or "")
            name = str((item.get("extra_info") or {}).get("input_name") or "")
            if details:
                reason += (
                    f" ({details})"
                    if name and details.startswith(name)
                    else f" ({name + ': ' if name else ''}{details})"
                )
            elif name:
                reason += f" ({name})"
            reasons.append(reason)
        text += f"; node {node_id} ({info.get('class_type', '?')}): {', '.join(reasons)}"
    return text[:800] or "validation failed"


BACKEND = ComfyUIBackend
