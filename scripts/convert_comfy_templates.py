"""Convert ComfyUI's own video workflow templates (UI format) to API format, once, for the tests.

The templates come from the PyPI package ``comfyui-workflow-templates-json`` (MIT), which is
not a dependency of vidlint or of its tests: download its wheel and point this script at it::

    pip download --no-deps comfyui-workflow-templates-json==0.1.123 -d /tmp/templates
    python scripts/convert_comfy_templates.py /tmp/templates/comfyui_workflow_templates_json-*.whl

It writes ``tests/data/comfyui/<template>.json`` (API format, as *File -> Export (API)* makes it),
``tests/data/comfyui/object_info.json`` (the node schemas the fake ComfyUI serves) and
``tests/data/comfyui/SOURCE.md`` (package version, licence and the sha256 of every template read).

A UI-format workflow is ``{"nodes": [...], "links": [[id, from_node, from_slot, to_node, to_slot,
type], ...]}`` where each node lists its linked ``inputs`` and its ``widgets_values`` in the order
of the node class's widget inputs. The conversion does what the ComfyUI frontend's
``graphToPrompt`` does: notes and reroutes are dropped (a reroute passes its link through), muted
nodes (mode 2) are dropped, bypassed nodes (mode 4) are dropped and their outputs wired to their
input of the same type, widget values are named from the class's input order (``NODE_SPECS``,
read from the node sources named beside each entry), the UI-only values are skipped (the
``control_after_generate`` after a seed, the ``upload`` button of LoadImage), and ``_meta.title``
is the node's title or its class's display name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "comfyui-workflow-templates-json"
TEMPLATES = (
    "text_to_video_wan",
    "image_to_video_wan",
    "ltxv_text_to_video",
    "ltxv_image_to_video",
    "hunyuan_video_text_to_video",
    "video_wan2_2_5B_ti2v",
)
VARIANTS = {
    # Wan 2.2 5B ships with its LoadImage bypassed (text-to-video). Re-enabling it in the UI and
    # exporting again gives the image-to-video form of the same workflow.
    "video_wan2_2_5B_ti2v_i2v": ("video_wan2_2_5B_ti2v", {56}),
}
OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "comfyui"

WIDGETS = ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")
VIRTUAL = ("Note", "MarkdownNote", "Reroute", "PrimitiveNode")
MUTED, BYPASSED = 2, 4


@dataclass(frozen=True)
class Input:
    name: str
    type: str
    control: bool = False
    """An INT with ``control_after_generate``: the UI stores one more value after it."""
    upload: bool = False
    """A COMBO with an upload button (LoadImage): the UI stores one more value after it."""
    optional: bool = False
    options: tuple[str, ...] = ()
    """A COMBO's choices as the source lists them; empty where the source computes them."""


@dataclass(frozen=True)
class NodeSpec:
    source: str
    display: str
    category: str
    inputs: tuple[Input, ...]
    outputs: tuple[str, ...]
    output_names: tuple[str, ...] = ()
    output_node: bool = False

    @property
    def widgets(self) -> list[Input]:
        return [i for i in self.inputs if i.type in WIDGETS]


def i(name: str, kind: str, **flags: Any) -> Input:
    return Input(name, kind, **flags)


def file_combo(name: str, optional: bool = False) -> Input:
    """A COMBO of files on the server (models): its choices are what is installed."""
    return Input(name, "COMBO", optional=optional)


CONDITIONING_PAIR = ("CONDITIONING", "CONDITIONING", "LATENT")
PAIR_NAMES = ("positive", "negative", "latent")

NODE_SPECS: dict[str, NodeSpec] = {
    # nodes.py (INPUT_TYPES and NODE_DISPLAY_NAME_MAPPINGS)
    "CLIPTextEncode": NodeSpec(
        "nodes.py",
        "CLIP Text Encode (Prompt)",
        "conditioning",
        (i("text", "STRING"), i("clip", "CLIP")),
        ("CONDITIONING",),
    ),
    "KSampler": NodeSpec(
        "nodes.py",
        "KSampler",
        "sampling",
        (
            i("model", "MODEL"),
            i("seed", "INT", control=True),
            i("steps", "INT"),
            i("cfg", "FLOAT"),
            i("sampler_name", "COMBO"),
            i("scheduler", "COMBO"),
            i("positive", "CONDITIONING"),
            i("negative", "CONDITIONING"),
            i("latent_image", "LATENT"),
            i("denoise", "FLOAT"),
        ),
        ("LATENT",),
    ),
    "VAEDecode": NodeSpec(
        "nodes.py", "VAE Decode", "latent", (i("samples", "LATENT"), i("vae", "VAE")), ("IMAGE",)
    ),
    "VAEDecodeTiled": NodeSpec(
        "nodes.py",
        "VAE Decode (Tiled)",
        "_for_testing",
        (
            i("samples", "LATENT"),
            i("vae", "VAE"),
            i("tile_size", "INT"),
            i("overlap", "INT"),
            i("temporal_size", "INT"),
            i("temporal_overlap", "INT"),
        ),
        ("IMAGE",),
    ),
    "CheckpointLoaderSimple": NodeSpec(
        "nodes.py",
        "Load Checkpoint",
        "loaders",
        (file_combo("ckpt_name"),),
        ("MODEL", "CLIP", "VAE"),
    ),
    "CLIPLoader": NodeSpec(
        "nodes.py",
        "Load CLIP",
        "advanced/loaders",
        (file_combo("clip_name"), i("type", "COMBO"), i("device", "COMBO", optional=True)),
        ("CLIP",),
    ),
    "DualCLIPLoader": NodeSpec(
        "nodes.py",
        "DualCLIPLoader",
        "advanced/loaders",
        (
            file_combo("clip_name1"),
            file_combo("clip_name2"),
            i("type", "COMBO"),
            i("device", "COMBO", optional=True),
        ),
        ("CLIP",),
    ),
    "UNETLoader": NodeSpec(
        "nodes.py",
        "Load Diffusion Model",
        "advanced/loaders",
        (file_combo("unet_name"), i("weight_dtype", "COMBO")),
        ("MODEL",),
    ),
    "VAELoader": NodeSpec("nodes.py", "Load VAE", "loaders", (file_combo("vae_name"),), ("VAE",)),
    "CLIPVisionLoader": NodeSpec(
        "nodes.py", "Load CLIP Vision", "loaders", (file_combo("clip_name"),), ("CLIP_VISION",)
    ),
    "CLIPVisionEncode": NodeSpec(
        "nodes.py",
        "CLIP Vision Encode",
        "conditioning",
        (
            i("clip_vision", "CLIP_VISION"),
            i("image", "IMAGE"),
            i("crop", "COMBO", options=("center", "none")),
        ),
        ("CLIP_VISION_OUTPUT",),
    ),
    "LoadImage": NodeSpec(
        "nodes.py",
        "Load Image",
        "image",
        (Input("image", "COMBO", upload=True),),
        ("IMAGE", "MASK"),
    ),
    # comfy_extras/nodes_model_advanced.py
    "ModelSamplingSD3": NodeSpec(
        "comfy_extras/nodes_model_advanced.py",
        "ModelSamplingSD3",
        "advanced/model",
        (i("model", "MODEL"), i("shift", "FLOAT")),
        ("MODEL",),
    ),
    # comfy_extras/nodes_flux.py
    "FluxGuidance": NodeSpec(
        "comfy_extras/nodes_flux.py",
        "FluxGuidance",
        "advanced/conditioning/flux",
        (i("conditioning", "CONDITIONING"), i("guidance", "FLOAT")),
        ("CONDITIONING",),
    ),
    # comfy_extras/nodes_hunyuan.py
    "EmptyHunyuanLatentVideo": NodeSpec(
        "comfy_extras/nodes_hunyuan.py",
        "EmptyHunyuanLatentVideo",
        "latent/video",
        (i("width", "INT"), i("height", "INT"), i("length", "INT"), i("batch_size", "INT")),
        ("LATENT",),
    ),
    # comfy_extras/nodes_wan.py
    "WanImageToVideo": NodeSpec(
        "comfy_extras/nodes_wan.py",
        "WanImageToVideo",
        "conditioning/video_models",
        (
            i("positive", "CONDITIONING"),
            i("negative", "CONDITIONING"),
            i("vae", "VAE"),
            i("width", "INT"),
            i("height", "INT"),
            i("length", "INT"),
            i("batch_size", "INT"),
            i("clip_vision_output", "CLIP_VISION_OUTPUT", optional=True),
            i("start_image", "IMAGE", optional=True),
        ),
        CONDITIONING_PAIR,
        PAIR_NAMES,
    ),
    "Wan22ImageToVideoLatent": NodeSpec(
        "comfy_extras/nodes_wan.py",
        "Wan22ImageToVideoLatent",
        "conditioning/inpaint",
        (
            i("vae", "VAE"),
            i("width", "INT"),
            i("height", "INT"),
            i("length", "INT"),
            i("batch_size", "INT"),
            i("start_image", "IMAGE", optional=True),
        ),
        ("LATENT",),
    ),
    # comfy_extras/nodes_lt.py
    "EmptyLTXVLatentVideo": NodeSpec(
        "comfy_extras/nodes_lt.py",
        "EmptyLTXVLatentVideo",
        "latent/video/ltxv",
        (i("width", "INT"), i("height", "INT"), i("length", "INT"), i("batch_size", "INT")),
        ("LATENT",),
    ),
    "LTXVImgToVideo": NodeSpec(
        "comfy_extras/nodes_lt.py",
        "LTXVImgToVideo",
        "conditioning/video_models",
        (
            i("positive", "CONDITIONING"),
            i("negative", "CONDITIONING"),
            i("vae", "VAE"),
            i("image", "IMAGE"),
            i("width", "INT"),
            i("height", "INT"),
            i("length", "INT"),
            i("batch_size", "INT"),
            i("strength", "FLOAT"),
        ),
        CONDITIONING_PAIR,
        PAIR_NAMES,
    ),
    "LTXVConditioning": NodeSpec(
        "comfy_extras/nodes_lt.py",
        "LTXVConditioning",
        "conditioning/video_models",
        (i("positive", "CONDITIONING"), i("negative", "CONDITIONING"), i("frame_rate", "FLOAT")),
        ("CONDITIONING", "CONDITIONING"),
        ("positive", "negative"),
    ),
    "LTXVScheduler": NodeSpec(
        "comfy_extras/nodes_lt.py",
        "LTXVScheduler",
        "sampling/custom_sampling/schedulers",
        (
            i("steps", "INT"),
            i("max_shift", "FLOAT"),
            i("base_shift", "FLOAT"),
            i("stretch", "BOOLEAN"),
            i("terminal", "FLOAT"),
            i("latent", "LATENT", optional=True),
        ),
        ("SIGMAS",),
    ),
    # comfy_extras/nodes_custom_sampler.py
    "SamplerCustom": NodeSpec(
        "comfy_extras/nodes_custom_sampler.py",
        "SamplerCustom",
        "sampling/custom_sampling",
        (
            i("model", "MODEL"),
            i("add_noise", "BOOLEAN"),
            i("noise_seed", "INT", control=True),
            i("cfg", "FLOAT"),
            i("positive", "CONDITIONING"),
            i("negative", "CONDITIONING"),
            i("sampler", "SAMPLER"),
            i("sigmas", "SIGMAS"),
            i("latent_image", "LATENT"),
        ),
        ("LATENT", "LATENT"),
        ("output", "denoised_output"),
    ),
    "SamplerCustomAdvanced": NodeSpec(
        "comfy_extras/nodes_custom_sampler.py",
        "SamplerCustomAdvanced",
        "sampling/custom_sampling",
        (
            i("noise", "NOISE"),
            i("guider", "GUIDER"),
            i("sampler", "SAMPLER"),
            i("sigmas", "SIGMAS"),
            i("latent_image", "LATENT"),
        ),
        ("LATENT", "LATENT"),
        ("output", "denoised_output"),
    ),
    "KSamplerSelect": NodeSpec(
        "comfy_extras/nodes_custom_sampler.py",
        "KSamplerSelect",
        "sampling/custom_sampling/samplers",
        (i("sampler_name", "COMBO"),),
        ("SAMPLER",),
    ),
    "BasicScheduler": NodeSpec(
        "comfy_extras/nodes_custom_sampler.py",
        "BasicScheduler",
        "sampling/custom_sampling/schedulers",
        (i("model", "MODEL"), i("scheduler", "COMBO"), i("steps", "INT"), i("denoise", "FLOAT")),
        ("SIGMAS",),
    ),
    "BasicGuider": NodeSpec(
        "comfy_extras/nodes_custom_sampler.py",
        "BasicGuider",
        "sampling/custom_sampling/guiders",
        (i("model", "MODEL"), i("conditioning", "CONDITIONING")),
        ("GUIDER",),
    ),
    "RandomNoise": NodeSpec(
        "comfy_extras/nodes_custom_sampler.py",
        "RandomNoise",
        "sampling/custom_sampling/noise",
        (i("noise_seed", "INT", control=True),),
        ("NOISE",),
    ),
    # comfy_extras/nodes_video.py
    "CreateVideo": NodeSpec(
        "comfy_extras/nodes_video.py",
        "Create Video",
        "image/video",
        (i("images", "IMAGE"), i("fps", "FLOAT"), i("audio", "AUDIO", optional=True)),
        ("VIDEO",),
    ),
    "SaveVideo": NodeSpec(
        "comfy_extras/nodes_video.py",
        "Save Video",
        "image/video",
        (
            i("video", "VIDEO"),
            i("filename_prefix", "STRING"),
            i("format", "COMBO", options=("auto", "mp4")),
            i("codec", "COMBO", options=("auto", "h264")),
        ),
        (),
        output_node=True,
    ),
}


class ConversionError(Exception):
    pass


def to_api(workflow: dict[str, Any], enable: frozenset[int] = frozenset()) -> dict[str, Any]:
    """The API-format graph of a UI-format workflow (see the module docstring)."""
    if "definitions" in workflow and (workflow["definitions"] or {}).get("subgraphs"):
        raise ConversionError("subgraphs are not converted by this script")
    nodes = {int(n["id"]): n for n in workflow["nodes"]}
    links = {int(link[0]): link for link in workflow["links"]}

    def mode(node: dict[str, Any]) -> int:
        return 0 if int(node["id"]) in enable else int(node.get("mode") or 0)

    def source(link_id: int | None, want: str) -> list[Any] | None:
        """[origin_id, slot] of a link, through reroutes and bypassed nodes; None if it ends in
        a muted node or a bypassed node with no input of the same type."""
        seen = 0
        while link_id is not None:
            seen += 1
            if seen > len(links) + 1:
                raise ConversionError(f"link {link_id} loops")
            _, origin, slot, _, _, kind = links[link_id][:6]
            node = nodes[int(origin)]
            if node["type"] == "Reroute" or mode(node) == BYPASSED:
                link_id = next(
                    (
                        x.get("link")
                        for x in node.get("inputs", [])
                        if node["type"] == "Reroute" or x.get("type") in (kind, want)
                    ),
                    None,
                )
                continue
            if mode(node) == MUTED:
                return None
            return [str(origin), int(slot)]
        return None

    graph: dict[str, Any] = {}
    for node in sorted(nodes.values(), key=lambda n: int(n["id"])):
        kind = node["type"]
        if kind in VIRTUAL or mode(node) in (MUTED, BYPASSED):
            continue
        spec = NODE_SPECS.get(kind)
        if spec is None:
            raise ConversionError(f"node {node['id']}: no input order recorded for {kind}")
        inputs: dict[str, Any] = {}
        values = list(node.get("widgets_values") or [])
        linked = {x["name"]: x for x in node.get("inputs", []) if x.get("link") is not None}
        for widget in spec.widgets:
            if not values:
                if widget.optional:
                    break
                raise ConversionError(f"node {node['id']} ({kind}): no value for {widget.name}")
            inputs[widget.name] = values.pop(0)
            if widget.control or widget.upload:
                values.pop(0)  # the UI-only value after it
        if values:
            raise ConversionError(f"node {node['id']} ({kind}): {len(values)} widget values left")
        for name, slot in linked.items():
            if name not in {x.name for x in spec.inputs}:
                raise ConversionError(f"node {node['id']} ({kind}): unknown input {name}")
            origin = source(slot["link"], slot.get("type", ""))
            if origin is not None:
                inputs[name] = origin
            else:
                inputs.pop(name, None)
        graph[str(node["id"])] = {
            "inputs": inputs,
            "class_type": kind,
            "_meta": {"title": node.get("title") or spec.display},
        }
    if not any(NODE_SPECS[n["class_type"]].output_node for n in graph.values()):
        raise ConversionError("the workflow has no output node")
    return graph


def object_info(graphs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``GET /object_info`` for the classes in NODE_SPECS, as ComfyUI's server.py ``node_info``
    writes it. A COMBO lists its source's choices; where the source computes them (model files,
    samplers) it lists the values the converted templates use: the fake server then acts as a
    ComfyUI that has exactly those models and input images installed."""
    used: dict[tuple[str, str], set[str]] = {}
    for graph in graphs.values():
        for node in graph.values():
            for name, value in node["inputs"].items():
                if isinstance(value, str):
                    used.setdefault((node["class_type"], name), set()).add(value)
    out: dict[str, Any] = {}
    for name, spec in NODE_SPECS.items():
        sections: dict[str, dict[str, Any]] = {"required": {}, "optional": {}}
        for item in spec.inputs:
            if item.type == "COMBO":
                choices = list(item.options) or sorted(used.get((name, item.name), set()))
                options: dict[str, Any] = {"image_upload": True} if item.upload else {}
                if item.control:
                    options["control_after_generate"] = True
                entry: list[Any] = [choices, options]
            else:
                entry = [item.type, {"control_after_generate": True} if item.control else {}]
            sections["optional" if item.optional else "required"][item.name] = entry
        out[name] = {
            "input": {k: v for k, v in sections.items() if v or k == "required"},
            "input_order": {k: list(v) for k, v in sections.items() if v or k == "required"},
            "output": list(spec.outputs),
            "output_is_list": [False] * len(spec.outputs),
            "output_name": list(spec.output_names or spec.outputs),
            "name": name,
            "display_name": spec.display,
            "description": "",
            "python_module": "nodes"
            if spec.source == "nodes.py"
            else spec.source[:-3].replace("/", "."),
            "category": spec.category,
            "output_node": spec.output_node,
        }
    return out


def read_templates(wheel: Path) -> tuple[str, str, dict[str, bytes]]:
    """(version, licence, raw template bytes by name) from the package's wheel."""
    with zipfile.ZipFile(wheel) as archive:
        meta_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        meta = archive.read(meta_name).decode()
        fields = dict(
            line.split(": ", 1) for line in meta.splitlines() if ": " in line and line[0] != " "
        )
        if fields.get("Name", "").lower().replace("_", "-") != PACKAGE:
            raise ConversionError(f"{wheel} is not {PACKAGE}")
        raw = {}
        for name in TEMPLATES:
            member = f"comfyui_workflow_templates_json/templates/{name}.json"
            raw[name] = archive.read(member)
    return fields["Version"], fields.get("License-Expression", fields.get("License", "?")), raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help=f"the {PACKAGE} wheel")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    version, licence, raw = read_templates(args.wheel)
    ui = {name: json.loads(data) for name, data in raw.items()}
    graphs = {name: to_api(ui[name]) for name in TEMPLATES}
    for variant, (base, enable) in VARIANTS.items():
        graphs[variant] = to_api(ui[base], frozenset(enable))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, graph in graphs.items():
        (args.out / f"{name}.json").write_text(
            json.dumps(graph, indent=2, ensure_ascii=False) + "\n"
        )
    (args.out / "object_info.json").write_text(json.dumps(object_info(graphs), indent=1) + "\n")
    rows = "\n".join(
        f"| `{name}.json` | `templates/{name}.json` | `{hashlib.sha256(data).hexdigest()[:16]}` |"
        for name, data in raw.items()
    )
    variants = "\n".join(
        f"- `{v}.json`: `{b}` with node(s) {', '.join(map(str, sorted(e)))} re-enabled"
        for v, (b, e) in VARIANTS.items()
    )
    (args.out / "SOURCE.md").write_text(
        f"# ComfyUI workflow templates, converted to API format\n\n"
        f"From the PyPI package `{PACKAGE}` {version} (licence: {licence}), converted by\n"
        f"`scripts/convert_comfy_templates.py`; do not edit by hand, run the script again.\n\n"
        f"| file | from | sha256 of the UI-format template |\n|---|---|---|\n{rows}\n\n"
        f"Variants (what re-enabling a bypassed node in the UI and exporting gives):\n\n"
        f"{variants}\n\n"
        f"`object_info.json` holds the schemas of the node classes these workflows use, as\n"
        f"ComfyUI's `GET /object_info` writes them, with the input order read from the node\n"
        f"sources named in the script. Where a source computes a COMBO's choices (model files,\n"
        f"samplers), the list holds only the values the templates use: the fake server acts as a\n"
        f"ComfyUI with exactly those models installed.\n"
    )
    print(f"wrote {len(graphs)} workflows and object_info.json to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
