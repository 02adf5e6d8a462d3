"""``comfyui``: run an API-format ComfyUI workflow with the request's prompt, seed and image.

The workflow is a file exported with *File -> Export (API)*: ``{node_id: {"class_type",
"inputs", "_meta": {"title"}}}``. Which node input receives the prompt, negative prompt, seed,
image and length is configured by node title or class (``[backend.comfyui.inputs]``), never by
node id, so re-exporting the workflow does not break the mapping.

Routes (ComfyUI ``server.py``): ``POST /upload/image`` (the reference frame), ``POST /prompt``
(with a ``prompt_id`` derived from the idempotency key, which newer builds honour), ``GET
/history/{id}`` and ``GET /queue`` (status), ``GET /view`` (the output file), ``POST /queue``
``{"delete"}`` and ``POST /interrupt`` (cancel). Videos appear under ``images`` (core
SaveVideo/SaveWEBM) or ``gifs`` (VideoHelperSuite) in the history outputs. Every request carries
a new seed: an unchanged graph is served from ComfyUI's cache.
"""

from __future__ import annotations

import copy
import json
import mimetypes
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vidlint.backends import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    VIDEO_SUFFIXES,
    JobStatus,
    Submission,
    check_settings,
    safe_output_path,
)
from vidlint.backends.http import download, httpx_module, read_json, send
from vidlint.errors import BackendError, ConfigError

DEFAULT_INPUTS: dict[str, list[dict[str, str]]] = {
    "prompt": [{"title": "Positive Prompt", "input": "text"}],
    "negative_prompt": [{"title": "Negative Prompt", "input": "text"}],
    "seed": [
        {"class": "KSampler", "input": "seed"},
        {"class": "KSamplerAdvanced", "input": "noise_seed"},
        {"class": "RandomNoise", "input": "noise_seed"},
        {"class": "SamplerCustom", "input": "noise_seed"},
    ],
    "image": [{"class": "LoadImage", "input": "image"}],
    "length": [],
}
"""Where each request field goes, tried in order; every matching node is set. ``length`` (in
frames) has no default: latent-video node names differ per model family."""
REQUIRED = ("prompt", "seed")
DEFAULTS: dict[str, Any] = {
    "url": "http://127.0.0.1:8188",
    "workflow": "",
    "inputs": {},
    "fps": 16.0,
    "length_step": 1,
    "output_node": "",
    "timeout_s": 30.0,
    "max_output_mb": 2048,
}
OUTPUT_LISTS = ("images", "gifs", "videos")


class ComfyUIBackend:
    name = "comfyui"

    def __init__(
        self,
        settings: dict[str, Any] | None = None,
        config: Any = None,
        work_dir: Path | None = None,
        transport: Any = None,
    ) -> None:
        self.settings = check_settings(self.name, settings or {}, DEFAULTS, config)
        self.origin = ", ".join(getattr(config, "sources", ())) or "config"
        self.url = str(self.settings["url"]).rstrip("/")
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ConfigError("'backend.comfyui.url' must be an http(s) URL", self.origin)
        self.workflow_path = Path(str(self.settings["workflow"]))
        if not self.settings["workflow"]:
            raise ConfigError(
                "'backend.comfyui.workflow' (an API-format workflow JSON) is not set", self.origin
            )
        self.workflow = _load_workflow(self.workflow_path)
        self.inputs = _mapping(self.settings["inputs"], self.origin)
        for field in REQUIRED:
            if not self._targets(field):
                raise ConfigError(
                    f"no node in the workflow matches backend.comfyui.inputs."
                    f"{field} ({self.inputs[field]})",
                    self.workflow_path,
                )
        self.client_id = str(uuid.uuid4())
        httpx = httpx_module()
        self.client = httpx.Client(
            timeout=float(self.settings["timeout_s"]), transport=transport, follow_redirects=False
        )

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
        limit = int(self.settings["max_output_mb"]) * 1024 * 1024
        return download(self.client, f"{self.url}/view", target, limit, params=params)

    def cancel(self, job_id: str) -> None:
        for path, body in (("/queue", {"delete": [job_id]}), ("/interrupt", {"prompt_id": job_id})):
            try:
                self._send("POST", path, json=body)
            except BackendError:
                pass

    def close(self) -> None:
        self.client.close()

    # -- the graph ----------------------------------------------------------------------------
    def graph_for(self, data: dict[str, Any]) -> dict[str, Any]:
        """The workflow with this request's values in the mapped node inputs."""
        graph = copy.deepcopy(self.workflow)
        values: dict[str, Any] = {
            "prompt": data.get("prompt") or "",
            "negative_prompt": data.get("negative_prompt") or "",
            "seed": int(data.get("seed") or 0),
        }
        duration = (data.get("params") or {}).get("duration_s")
        if duration and self._targets("length"):
            values["length"] = self.frames_for(float(duration))
        if data.get("reference"):
            if not self._targets("image"):
                raise BackendError(
                    "the request has a reference image but no workflow node "
                    "matches backend.comfyui.inputs.image"
                )
            values["image"] = self._upload(Path(data["reference"]), data["idempotency_key"])
        for field, value in values.items():
            for node_id, input_name in self._targets(field):
                graph[node_id]["inputs"][input_name] = value
        return graph

    def frames_for(self, duration_s: float) -> int:
        """Frames for a duration; with ``length_step`` k the count is k*n + 1 (Wan: 4n + 1)."""
        frames = max(1, round(duration_s * float(self.settings["fps"])))
        step = int(self.settings["length_step"])
        if step > 1:
            frames = step * max(1, round((frames - 1) / step)) + 1
        return frames

    def _targets(self, field: str) -> list[tuple[str, str]]:
        found = []
        for spec in self.inputs.get(field, []):
            for node_id, node in self.workflow.items():
                meta = node.get("_meta") or {}
                if ("title" in spec and meta.get("title") == spec["title"]) or (
                    "class" in spec and node.get("class_type") == spec["class"]
                ):
                    found.append((node_id, spec["input"]))
            if found:
                return found
        return found

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
        wanted = self.settings["output_node"]
        for node_id, ui in (entry.get("outputs") or {}).items():
            if (
                wanted
                and (self.workflow.get(node_id, {}).get("_meta") or {}).get("title") != wanted
            ):
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
        return send(
            self.client, method, f"{self.url}{path}", float(self.settings["timeout_s"]), **kwargs
        )


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


def _mapping(overrides: dict[str, Any], origin: str) -> dict[str, list[dict[str, str]]]:
    mapping = {k: list(v) for k, v in DEFAULT_INPUTS.items()}
    for field, spec in overrides.items():
        if field not in DEFAULT_INPUTS:
            raise ConfigError(
                f"unknown key 'backend.comfyui.inputs.{field}' (known: "
                f"{', '.join(DEFAULT_INPUTS)})",
                origin,
            )
        specs = spec if isinstance(spec, list) else [spec]
        for item in specs:
            if (
                not isinstance(item, dict)
                or "input" not in item
                or not ({"title", "class"} & set(item))
            ):
                raise ConfigError(
                    f"'backend.comfyui.inputs.{field}' needs 'input' and a 'title' or 'class'",
                    origin,
                )
        mapping[field] = [dict(item) for item in specs]
    return mapping


def _in_queue(items: Any, prompt_id: str) -> bool:
    """Queue items are ``[number, prompt_id, graph, extra, outputs]``."""
    return any(
        isinstance(item, list) and len(item) > 1 and item[1] == prompt_id for item in items or []
    )


def _execution_error(status: dict[str, Any]) -> str:
    for message in status.get("messages") or []:
        if isinstance(message, list) and len(message) == 2 and message[0] == "execution_error":
            data = message[1] or {}
            return (
                f"{data.get('node_type', 'node')} failed: "
                f"{str(data.get('exception_message', ''))[:300]}"
            )
    return "ComfyUI reports an execution error"


def _errors(answer: dict[str, Any]) -> str:
    error = answer.get("error") or {}
    text = error.get("message", "") if isinstance(error, dict) else str(error)
    for node_id, info in (answer.get("node_errors") or {}).items():
        reasons = [
            e.get("message", "") for e in (info or {}).get("errors", []) if isinstance(e, dict)
        ]
        text += f"; node {node_id}: {', '.join(reasons)}"
    return text[:500] or "validation failed"


BACKEND = ComfyUIBackend
