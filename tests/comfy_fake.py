"""A fake ComfyUI that speaks the real API, for any workflow built from the nodes in
``tests/data/comfyui/object_info.json``.

Shapes follow ComfyUI's own ``server.py`` and ``execution.py``: ``POST /prompt`` validates the
graph as ``validate_prompt`` does (unknown class, missing required input, linked output of the
wrong type, a value not in a COMBO list, LoadImage's "Invalid image file") and answers 400 with
``{"error": {"type", "message", "details", "extra_info"}, "node_errors": {id: {"errors",
"dependent_outputs", "class_type"}}}``; a queued prompt honours a client ``prompt_id``; history
entries are ``{"prompt": [number, id, graph, extra_data, outputs], "outputs", "status":
{"status_str", "completed", "messages"}, "meta"}``; SaveVideo's output is listed under
``images`` with ``animated``; ``/upload/image`` defaults ``type`` to input and renames on a name
clash; ``/view`` refuses ``..`` (400) and subfolders that escape (403); ``/interrupt`` takes an
empty body or ``{"prompt_id"}``; ``/queue``, ``/object_info``, ``/system_stats`` and the ``/ws``
websocket (``status`` on connect, ``executing`` with ``node: null`` when a prompt is done) exist.

"Running" a prompt interprets the graph forward, node by node (text encoders make
conditioning, samplers take their seed and conditioning, latent nodes their length, CreateVideo
its fps), so what is rendered depends only on what the graph says, not on how vidlint mapped it.
The render is the synthetic generator's (small frames, the real frame count): its defects go
away only when the prompt, negative prompt, length or uploaded image asks for it.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import email.parser
import email.policy
import hashlib
import json
import mimetypes
import select
import struct
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .loopback import Generator, Handler

DATA = Path(__file__).parent / "data" / "comfyui"
OBJECT_INFO = json.loads((DATA / "object_info.json").read_text())
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RENDER_SIZE = (160, 120)


@dataclasses.dataclass
class ComfyState:
    generator: Generator
    root: Path
    run_s: float = 0.05
    """How long a prompt stays running (in the queue, not yet in the history)."""
    fail_class: str = ""
    """Executing a node of this class raises (an execution_error in the history)."""
    object_info: dict = dataclasses.field(default_factory=lambda: copy.deepcopy(OBJECT_INFO))
    number: int = 0
    prompts: list = dataclasses.field(default_factory=list)
    uploads: dict = dataclasses.field(default_factory=dict)
    jobs: dict = dataclasses.field(default_factory=dict)  # prompt_id -> job
    views: list = dataclasses.field(default_factory=list)
    interrupts: list = dataclasses.field(default_factory=list)
    deleted: list = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        for kind in ("input", "output", "temp"):
            (self.root / kind).mkdir(parents=True, exist_ok=True)
        for name in self.object_info["LoadImage"]["input"]["required"]["image"][0]:
            (self.root / "input" / name).write_bytes(b"an example image of a template")

    def uninstall(self, class_type: str, input_name: str, value: str) -> None:
        """Remove a model (or other COMBO value) from what this server has."""
        spec = self.object_info[class_type]["input"]
        for section in spec.values():
            if input_name in section:
                section[input_name][0].remove(value)

    def history(self, prompt_id: str) -> dict[str, Any] | None:
        job = self.jobs.get(prompt_id)
        return job["entry"] if job and time.monotonic() >= job["done_at"] else None


class FakeComfy(Handler):
    state: ComfyState
    protocol_version = "HTTP/1.1"  # websockets clients refuse an HTTP/1.0 upgrade

    def route(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        path = parts.path[4:] if parts.path.startswith("/api/") else parts.path
        return path, {k: v[0] for k, v in parse_qs(parts.query).items()}

    def ok(self) -> None:
        self.reply(200, raw=b"", kind="application/octet-stream")

    # -- GET ------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        s = self.state
        path, query = self.route()
        if path == "/ws":
            return self.websocket(query.get("clientId") or uuid.uuid4().hex)
        if path.startswith("/history/"):
            entry = s.history(path.split("/")[2])
            return self.reply(200, {path.split("/")[2]: entry} if entry else {})
        if path == "/history":
            done = {pid: s.history(pid) for pid in s.jobs if s.history(pid)}
            return self.reply(200, done)
        if path == "/queue":
            running = [job["item"] for pid, job in s.jobs.items() if not s.history(pid)]
            return self.reply(200, {"queue_running": running, "queue_pending": []})
        if path == "/view":
            return self.view(query)
        if path == "/object_info":
            return self.reply(200, s.object_info)
        if path.startswith("/object_info/"):
            name = path.split("/")[2]
            return self.reply(200, {name: s.object_info[name]} if name in s.object_info else {})
        if path == "/system_stats":
            return self.reply(200, SYSTEM_STATS)
        self.reply(404, raw=b"404: Not Found", kind="text/plain")

    def view(self, query: dict[str, str]) -> None:
        self.state.views.append(query)
        filename = query.get("filename", "")
        if not filename:
            return self.reply(404, raw=b"", kind="text/plain")
        if filename[0] == "/" or ".." in filename:
            return self.reply(400, raw=b"", kind="text/plain")
        kind = query.get("type", "output")
        if kind not in ("input", "output", "temp"):
            return self.reply(400, raw=b"", kind="text/plain")
        folder = (self.state.root / kind).resolve()
        target_dir = (folder / query.get("subfolder", "")).resolve()
        if not target_dir.is_relative_to(folder):
            return self.reply(403, raw=b"", kind="text/plain")
        target = target_dir / Path(filename).name
        if not target.is_file():
            return self.reply(404, raw=b"", kind="text/plain")
        media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        disposition = {"Content-Disposition": f'filename="{target.name}"'}
        self.reply(200, raw=target.read_bytes(), kind=media, headers=disposition)

    # -- POST -----------------------------------------------------------------------------------
    def do_POST(self) -> None:
        path, _ = self.route()
        raw = self.body()
        if path == "/prompt":
            return self.prompt(raw)
        if path == "/upload/image":
            return self.upload(raw)
        if path == "/queue":
            body = json.loads(raw or b"{}")
            self.state.deleted.append(body)
            for prompt_id in body.get("delete", []):
                self.state.jobs.pop(prompt_id, None)
            return self.ok()
        if path == "/interrupt":
            try:  # ComfyUI reads the body as JSON and treats anything else as {}
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {}
            self.state.interrupts.append(body)
            return self.ok()
        self.reply(404, raw=b"404: Not Found", kind="text/plain")

    def prompt(self, raw: bytes) -> None:
        s = self.state
        body = json.loads(raw)
        s.prompts.append(body)
        if "prompt" not in body:
            error = {"type": "no_prompt", "message": "No prompt provided"}
            error |= {"details": "No prompt provided", "extra_info": {}}
            return self.reply(400, {"error": error, "node_errors": {}})
        graph = body["prompt"]
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        valid, error, outputs, node_errors = validate(graph, s)
        if not valid:
            return self.reply(400, {"error": error, "node_errors": node_errors})
        number = s.number
        s.number += 1
        extra = {**body.get("extra_data", {}), "client_id": body.get("client_id")}
        item = [number, prompt_id, graph, extra, outputs]
        s.jobs[prompt_id] = {
            "item": item,
            "client": body.get("client_id"),
            "done_at": time.monotonic() + s.run_s,
            "entry": execute(graph, prompt_id, item, s),
        }
        self.reply(200, {"prompt_id": prompt_id, "number": number, "node_errors": node_errors})

    def upload(self, raw: bytes) -> None:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"content-type: " + self.headers["content-type"].encode() + b"\r\n\r\n" + raw
        )
        fields = {
            part.get_param("name", header="content-disposition"): part
            for part in message.iter_parts()
        }
        image = fields.get("image")
        if image is None or not image.get_filename():
            return self.reply(400, raw=b"", kind="text/plain")

        def text(name: str) -> str | None:
            return fields[name].get_content().strip() if name in fields else None

        kind = text("type") or "input"  # get_dir_by_type: no type is the input folder
        subfolder = text("subfolder") or ""
        folder = (self.state.root / kind).resolve()
        target_dir = (folder / subfolder).resolve()
        if not target_dir.is_relative_to(folder):
            return self.reply(400, raw=b"", kind="text/plain")
        target_dir.mkdir(parents=True, exist_ok=True)
        data = image.get_payload(decode=True)
        name = image.get_filename()
        stem, suffix = Path(name).stem, Path(name).suffix
        counter = 1
        while text("overwrite") not in ("true", "1") and (target_dir / name).exists():
            if (target_dir / name).read_bytes() == data:  # a duplicate is not saved again
                break
            name = f"{stem} ({counter}){suffix}"
            counter += 1
        (target_dir / name).write_bytes(data)
        self.state.uploads[f"{subfolder}/{name}" if subfolder else name] = data
        self.reply(200, {"name": name, "subfolder": subfolder, "type": kind})

    # -- the websocket --------------------------------------------------------------------------
    def websocket(self, sid: str) -> None:
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.send_event("status", {"status": self.queue_info(), "sid": sid})
        announced: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for prompt_id, job in list(self.state.jobs.items()):
                mine = job["client"] == sid and prompt_id not in announced
                if mine and self.state.history(prompt_id):
                    announced.add(prompt_id)
                    self.send_event("executing", {"node": None, "prompt_id": prompt_id})
                    self.send_event("status", {"status": self.queue_info()})
            readable, _, _ = select.select([self.connection], [], [], 0.02)
            if readable and self.read_frame() in (None, 0x8):  # closed, or a close frame
                self.send_frame(0x8, struct.pack("!H", 1000))
                break
        self.close_connection = True

    def queue_info(self) -> dict[str, Any]:
        remaining = sum(1 for pid in self.state.jobs if not self.state.history(pid))
        return {"exec_info": {"queue_remaining": remaining}}

    def send_event(self, kind: str, data: dict[str, Any]) -> None:
        self.send_frame(0x1, json.dumps({"type": kind, "data": data}).encode())

    def send_frame(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        header = bytes([0x80 | opcode])
        if size < 126:
            header += bytes([size])
        elif size < 1 << 16:
            header += bytes([126]) + struct.pack("!H", size)
        else:
            header += bytes([127]) + struct.pack("!Q", size)
        self.wfile.write(header + payload)
        self.wfile.flush()

    def read_frame(self) -> int | None:
        """Read one (masked) client frame; its opcode, or None when the peer is gone."""
        head = self.rfile.read(2)
        if len(head) < 2:
            return None
        size = head[1] & 0x7F
        if size == 126:
            size = struct.unpack("!H", self.rfile.read(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self.rfile.read(8))[0]
        self.rfile.read((4 if head[1] & 0x80 else 0) + size)
        return head[0] & 0x0F


SYSTEM_STATS = {
    "system": {
        "os": "posix",
        "ram_total": 16 << 30,
        "ram_free": 8 << 30,
        "comfyui_version": "0.0.0-fake",
        "python_version": "3.11",
        "pytorch_version": "none",
        "embedded_python": False,
        "argv": ["main.py"],
    },
    "devices": [
        {
            "name": "cpu",
            "type": "cpu",
            "index": None,
            "vram_total": 0,
            "vram_free": 0,
            "torch_vram_total": 0,
            "torch_vram_free": 0,
        }
    ],
}


# -- validation (execution.py validate_prompt / validate_inputs) --------------------------------


def validate(graph: Any, s: ComfyState) -> tuple[bool, Any, list[str], dict[str, Any]]:
    if not isinstance(graph, dict):
        return False, _error("invalid_prompt", "Prompt is not a dict of nodes", ""), [], {}
    for node_id, node in graph.items():
        if "class_type" not in node:
            message = "Cannot execute because a node is missing the class_type property."
            return False, _error("invalid_prompt", message, f"Node ID '#{node_id}'"), [], {}
        if node["class_type"] not in s.object_info:
            message = f"Cannot execute because node {node['class_type']} does not exist."
            return False, _error("invalid_prompt", message, f"Node ID '#{node_id}'"), [], {}
    outputs = [i for i, n in graph.items() if s.object_info[n["class_type"]]["output_node"]]
    if not outputs:
        return False, _error("prompt_no_outputs", "Prompt has no outputs", ""), [], {}
    validated: dict[str, list[dict[str, Any]]] = {}
    node_errors: dict[str, Any] = {}
    good, failures = [], []
    for output in outputs:
        ok = _validate_node(graph, output, validated, s)
        if ok:
            good.append(output)
            continue
        failures += validated[output]
        for node_id, reasons in validated.items():
            if reasons:
                entry = node_errors.setdefault(
                    node_id,
                    {
                        "errors": reasons,
                        "dependent_outputs": [],
                        "class_type": graph[node_id]["class_type"],
                    },
                )
                entry["dependent_outputs"].append(output)
    if not good:
        details = "\n".join(
            f"{r['message']}: {r['details']}" for reasons in validated.values() for r in reasons
        )
        error = _error(
            "prompt_outputs_failed_validation", "Prompt outputs failed validation", details
        )
        return False, error, [], node_errors
    return True, None, good, node_errors


def _validate_node(graph: dict, node_id: str, validated: dict, s: ComfyState) -> bool:
    if node_id in validated:
        return not validated[node_id]
    validated[node_id] = []
    node = graph[node_id]
    spec = s.object_info[node["class_type"]]["input"]
    inputs = node.get("inputs", {})
    errors: list[dict[str, Any]] = []
    upstream_ok = True
    for section in ("required", "optional"):
        for name, (kind, _options) in spec.get(section, {}).items():
            if name not in inputs:
                if section == "required":
                    errors.append(
                        _reason("required_input_missing", "Required input is missing", name, name)
                    )
                continue
            value = inputs[name]
            if isinstance(value, list):
                origin = graph.get(str(value[0])) if len(value) == 2 else None
                if origin is None or origin.get("class_type") not in s.object_info:
                    errors.append(
                        _reason(
                            "bad_linked_input",
                            "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                            name,
                            name,
                        )
                    )
                    continue
                produced = s.object_info[origin["class_type"]]["output"]
                received = produced[value[1]] if value[1] < len(produced) else None
                if isinstance(kind, str) and received != kind:
                    errors.append(
                        _reason(
                            "return_type_mismatch",
                            "Return type mismatch between linked nodes",
                            f"{name}, received_type({received}) mismatch input_type({kind})",
                            name,
                        )
                    )
                    continue
                upstream_ok &= _validate_node(graph, str(value[0]), validated, s)
            elif node["class_type"] == "LoadImage" and name == "image":  # its VALIDATE_INPUTS
                if not (s.root / "input" / str(value)).is_file():
                    errors.append(
                        _reason(
                            "custom_validation_failed",
                            "Custom validation failed for node",
                            f"image - Invalid image file: {value}",
                            name,
                        )
                    )
            elif isinstance(kind, list) and value not in kind:
                listed = f"(list of length {len(kind)})" if len(kind) > 20 else str(kind)
                errors.append(
                    _reason(
                        "value_not_in_list",
                        "Value not in list",
                        f"{name}: '{value}' not in {listed}",
                        name,
                        value,
                    )
                )
            elif kind in ("INT", "FLOAT"):
                try:
                    float(value)
                except (TypeError, ValueError) as exc:
                    errors.append(
                        _reason(
                            "invalid_input_type",
                            f"Failed to convert an input value to a {kind} value",
                            f"{name}, {value}, {exc}",
                            name,
                            value,
                        )
                    )
    validated[node_id] = errors
    return not errors and upstream_ok


def _error(kind: str, message: str, details: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def _reason(kind: str, message: str, details: str, name: str, value: Any = None) -> dict[str, Any]:
    extra: dict[str, Any] = {"input_name": name}
    if value is not None:
        extra["received_value"] = value
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


# -- execution: the graph interpreted forward -----------------------------------------------------


def execute(graph: dict, prompt_id: str, item: list, s: ComfyState) -> dict[str, Any]:
    """The history entry of running ``graph``: each node's outputs are a dict of what they
    carry (text, seed, length, image, fps); output nodes render."""
    now = int(time.time() * 1000)
    messages: list[list[Any]] = [["execution_start", {"prompt_id": prompt_id, "timestamp": now}]]
    messages.append(["execution_cached", {"nodes": [], "prompt_id": prompt_id, "timestamp": now}])
    results: dict[str, list[dict[str, Any]]] = {}
    outputs: dict[str, Any] = {}

    def run(node_id: str) -> list[dict[str, Any]]:
        if node_id not in results:
            node = graph[node_id]
            if node["class_type"] == s.fail_class:
                raise NodeFailure(node_id, node["class_type"])
            values = {
                name: run(str(v[0]))[v[1]] if isinstance(v, list) else v
                for name, v in node["inputs"].items()
            }
            results[node_id] = NODE_RUNS.get(node["class_type"], _pass_through)(values)
            if node["class_type"] == "SaveVideo":
                outputs[node_id] = _save(values["video"], prompt_id, s)
        return results[node_id]

    status = {"status_str": "success", "completed": True, "messages": messages}
    try:
        for node_id in item[4]:
            run(node_id)
        messages.append(["execution_success", {"prompt_id": prompt_id, "timestamp": now}])
    except NodeFailure as failure:
        status = {"status_str": "error", "completed": False, "messages": messages}
        messages.append(
            [
                "execution_error",
                {
                    "prompt_id": prompt_id,
                    "node_id": failure.node_id,
                    "node_type": failure.class_type,
                    "executed": list(results),
                    "exception_message": "Allocation on device would exceed allowed memory.\n",
                    "exception_type": "torch.OutOfMemoryError",
                    "traceback": [],
                    "current_inputs": {},
                    "current_outputs": [],
                    "timestamp": now,
                },
            ]
        )
    meta = {
        n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n}
        for n in outputs
    }
    return {"prompt": item, "outputs": outputs, "status": status, "meta": meta}


class NodeFailure(Exception):
    def __init__(self, node_id: str, class_type: str) -> None:
        self.node_id, self.class_type = node_id, class_type


def _pass_through(values: dict[str, Any]) -> list[dict[str, Any]]:
    merged: dict[str, Any] = {}
    for value in values.values():
        if isinstance(value, dict):
            merged.update(value)
    return [merged] * 3


def _sampler(values: dict[str, Any]) -> list[dict[str, Any]]:
    guider = values.get("guider") or {}
    facts = {
        **(values.get("latent_image") or {}),
        "seed": values.get(
            "seed", values.get("noise_seed", (values.get("noise") or {}).get("seed"))
        ),
        "prompt": (values.get("positive") or {}).get("text", guider.get("prompt", "")),
        "negative": (values.get("negative") or {}).get("text", guider.get("negative", "")),
    }
    return [facts, facts]


def _image_to_video(values: dict[str, Any]) -> list[dict[str, Any]]:
    image = (values.get("start_image") or values.get("image") or {}).get("image")
    latent = {"length": values["length"], "image": image}
    return [values.get("positive") or {}, values.get("negative") or {}, latent]


NODE_RUNS = {
    "CLIPTextEncode": lambda v: [{"text": v["text"]}],
    "KSampler": _sampler,
    "SamplerCustom": _sampler,
    "SamplerCustomAdvanced": _sampler,
    "RandomNoise": lambda v: [{"seed": v["noise_seed"]}],
    "BasicGuider": lambda v: [{"prompt": v["conditioning"].get("text", "")}],
    "EmptyHunyuanLatentVideo": lambda v: [{"length": v["length"]}],
    "EmptyLTXVLatentVideo": lambda v: [{"length": v["length"]}],
    "Wan22ImageToVideoLatent": lambda v: [
        {"length": v["length"], "image": (v.get("start_image") or {}).get("image")}
    ],
    "WanImageToVideo": _image_to_video,
    "LTXVImgToVideo": _image_to_video,
    "LTXVConditioning": lambda v: [v["positive"], v["negative"]],
    "LoadImage": lambda v: [{"image": v["image"]}, {}],
    "CreateVideo": lambda v: [{**v["images"], "fps": v["fps"]}],
}


def _save(video: dict[str, Any], prompt_id: str, s: ComfyState) -> dict[str, Any]:
    """Render what the graph asked for; the file lands as SaveVideo names it."""
    image = video.get("image")
    uploaded = image in s.uploads
    request = {
        "prompt": video.get("prompt", ""),
        "negative_prompt": video.get("negative", ""),
        "seed": int(video["seed"]),
        "mode": "i2v" if uploaded else "t2v",
        "reference": image if uploaded else None,
        "params": {
            "duration_s": video["length"] / float(video["fps"]),
            "fps": float(video["fps"]),
            "width": RENDER_SIZE[0],
            "height": RENDER_SIZE[1],
        },
        "idempotency_key": hashlib.sha256(prompt_id.encode()).hexdigest(),
    }
    clip = s.generator.render(request)
    folder = s.root / "output" / "video"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"ComfyUI_{len(list(folder.iterdir())) + 1:05d}_.mp4"
    (folder / name).write_bytes(clip.read_bytes())
    record = {"filename": name, "subfolder": "video", "type": "output"}
    return {"images": [record], "animated": [True]}
