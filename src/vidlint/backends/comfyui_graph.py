"""Where a request's fields go in an API-format ComfyUI workflow, found from the graph itself.

A workflow is ``{node_id: {"class_type", "inputs": {name: literal | [node_id, slot]}, "_meta":
{"title"}}}``. The text to change is not found by title (templates title their encoders "CLIP Text
Encode (Positive Prompt)", subgraphs leave them untitled) but by following each sampler's
``positive`` and ``negative`` inputs (or its guider's) back through conditioning nodes
(WanImageToVideo, LTXVConditioning, FluxGuidance...) to the text encoders. The seed is every
literal ``seed`` / ``noise_seed`` (KSampler, SamplerCustom, RandomNoise...); the length is the
``length`` of the model family's latent-video or image-to-video node (``LENGTH_NODES``, input
names and frame steps read from ComfyUI's ``comfy_extras`` sources); the image is LoadImage's
``image``; the frame rate is the video node's ``fps`` (CreateVideo) or ``frame_rate``
(VideoHelperSuite). A ``[backend.comfyui.inputs]`` entry for a field replaces what was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELDS = ("prompt", "negative_prompt", "seed", "length", "image")
LENGTH_NODES: dict[str, int] = {
    # class -> frame step of its ``length`` input (frames = step * n + 1)
    "EmptyHunyuanLatentVideo": 4,  # comfy_extras/nodes_hunyuan.py
    "HunyuanImageToVideo": 4,  # comfy_extras/nodes_hunyuan.py
    "WanImageToVideo": 4,  # comfy_extras/nodes_wan.py
    "WanFirstLastFrameToVideo": 4,
    "WanFunControlToVideo": 4,
    "WanFunInpaintToVideo": 4,
    "WanVaceToVideo": 4,
    "Wan22ImageToVideoLatent": 4,
    "EmptyLTXVLatentVideo": 8,  # comfy_extras/nodes_lt.py
    "LTXVImgToVideo": 8,
}
SEED_INPUTS = ("seed", "noise_seed")
TEXT_INPUTS = ("text", "prompt")
"""The literal string input of a text encoder (CLIPTextEncode: text; the Hunyuan i2v encoder:
prompt)."""
STRING_VALUE_INPUTS = ("value", "string", "text")
"""The literal of a string node feeding an encoder's text (PrimitiveStringMultiline: value)."""
POSITIVE_INPUTS = ("positive", "conditioning", "cond1", "cond2")
"""Where a sampler or guider takes what it should generate (BasicGuider: conditioning)."""
IMAGE_NODES = {"LoadImage": "image"}
FPS_INPUTS = {"CreateVideo": "fps", "VHS_VideoCombine": "frame_rate", "SaveWEBM": "fps"}
MAX_DEPTH = 64


@dataclass(frozen=True)
class Target:
    node_id: str
    input: str
    class_type: str = ""

    def __str__(self) -> str:
        return f"node {self.node_id} ({self.class_type}).{self.input}"


@dataclass
class WorkflowMap:
    """The targets of each field, the workflow's frame rate and length step, and one sentence
    per field that could not be mapped."""

    targets: dict[str, list[Target]] = field(default_factory=dict)
    fps: float | None = None
    length_step: int = 1
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> list[Target]:
        return self.targets.get(name, [])


def map_workflow(graph: dict[str, Any], overrides: dict[str, list[dict[str, str]]]) -> WorkflowMap:
    """Find every field's targets; ``overrides`` (field -> [{title|class|id, input}]) win."""
    found = WorkflowMap()
    positive, negative = text_targets(graph)
    found.targets = {
        "prompt": positive,
        "negative_prompt": [t for t in negative if t not in positive],
        "seed": [
            Target(node_id, name, node["class_type"])
            for node_id, node in graph.items()
            for name in SEED_INPUTS
            if _is_int(node["inputs"].get(name))
        ],
        "length": [
            Target(node_id, "length", node["class_type"])
            for node_id, node in graph.items()
            if node["class_type"] in LENGTH_NODES and _is_int(node["inputs"].get("length"))
        ],
        "image": [
            Target(node_id, IMAGE_NODES[node["class_type"]], node["class_type"])
            for node_id, node in graph.items()
            if node["class_type"] in IMAGE_NODES
        ],
    }
    for name, specs in overrides.items():
        found.targets[name] = by_spec(graph, specs)
    steps = {LENGTH_NODES.get(graph[t.node_id]["class_type"], 1) for t in found["length"]}
    found.length_step = max(steps) if steps else 1
    rates = [
        float(node["inputs"][FPS_INPUTS[node["class_type"]]])
        for node in graph.values()
        if node["class_type"] in FPS_INPUTS
        and _is_number(node["inputs"].get(FPS_INPUTS[node["class_type"]]))
    ]
    found.fps = rates[0] if rates else None
    return found


def by_spec(graph: dict[str, Any], specs: list[dict[str, str]]) -> list[Target]:
    """The nodes an override names, the first spec that matches any node winning."""
    for spec in specs:
        hits = [
            Target(node_id, spec["input"], node["class_type"])
            for node_id, node in graph.items()
            if ("id" in spec and node_id == str(spec["id"]))
            or ("title" in spec and (node.get("_meta") or {}).get("title") == spec["title"])
            or ("class" in spec and node["class_type"] == spec["class"])
        ]
        if hits:
            return hits
    return []


def text_targets(graph: dict[str, Any]) -> tuple[list[Target], list[Target]]:
    """The text inputs behind every sampler's positive and negative conditioning."""
    positive: list[Target] = []
    negative: list[Target] = []
    for node in graph.values():
        inputs = node["inputs"]
        if not _is_link(inputs.get("latent_image")):
            continue  # not a sampler
        roots = {"positive": [], "negative": []}
        sources = [inputs]
        guider = inputs.get("guider")
        if _is_link(guider) and str(guider[0]) in graph:
            sources.append(graph[str(guider[0])]["inputs"])
        for source in sources:
            for name, value in source.items():
                if not _is_link(value):
                    continue
                if name in POSITIVE_INPUTS:
                    roots["positive"].append(value)
                elif name == "negative":
                    roots["negative"].append(value)
        for role, links in roots.items():
            bucket = positive if role == "positive" else negative
            for link in links:
                for target in _trace(graph, link, role, 0):
                    if target not in bucket:
                        bucket.append(target)
    return positive, negative


def _trace(graph: dict[str, Any], link: list[Any], role: str, depth: int) -> list[Target]:
    """Follow a conditioning link back to the text it was encoded from."""
    node_id = str(link[0])
    node = graph.get(node_id)
    if node is None or depth > MAX_DEPTH:
        return []
    inputs = node["inputs"]
    for name in TEXT_INPUTS:
        value = inputs.get(name)
        if isinstance(value, str):
            return [Target(node_id, name, node["class_type"])]
        if _is_link(value):  # the text comes from a string node
            source = graph.get(str(value[0]))
            if source is not None:
                for key in STRING_VALUE_INPUTS:
                    if isinstance(source["inputs"].get(key), str):
                        return [Target(str(value[0]), key, source["class_type"])]
            return []
    if _is_link(inputs.get(role)):  # WanImageToVideo, LTXVConditioning, LTXVImgToVideo...
        return _trace(graph, inputs[role], role, depth + 1)
    found: list[Target] = []
    for name, value in inputs.items():  # FluxGuidance, ConditioningCombine, ZeroOut...
        if name.startswith("conditioning") and _is_link(value):
            found += _trace(graph, value, role, depth + 1)
    return found


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
