"""vidlint inside ComfyUI: a "vidlint check" node that a workflow can branch on.

ComfyUI loads a custom node package from ``custom_nodes/`` and reads its ``NODE_CLASS_MAPPINGS``
and ``NODE_DISPLAY_NAME_MAPPINGS`` (``nodes.py``, ``load_custom_node``); the folder
``integrations/comfyui/vidlint_nodes`` of this repository is such a package, and re-exports this
module's mappings. A node class declares ``INPUT_TYPES`` (``required`` and ``optional`` inputs),
``RETURN_TYPES``/``RETURN_NAMES``, the ``FUNCTION`` to call and its ``CATEGORY``; an
``OUTPUT_NODE`` runs even when nothing consumes its outputs, and may return ``{"ui": ...,
"result": (...)}``.

The node takes the frames a workflow made, as an ``IMAGE`` batch (a float tensor, B x H x W x C,
0..1) or a ``VIDEO`` (whose ``get_components()`` gives ``images`` and ``frame_rate``), checks them
in memory with :meth:`vidlint.pipeline.Checker.check_frames` (no video file is written), and
returns the verdict, the score, the findings as JSON and a BOOLEAN ``passed`` for a switch node.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from vidlint.config import build_config
from vidlint.decode.grab import HeldFrames
from vidlint.pipeline import Checker
from vidlint.report.model import Report
from vidlint.writers import html

CATEGORY = "vidlint"
_CHECKERS: dict[tuple[str, ...], Checker] = {}
"""One checker per rule selection: the face and hand models load once per ComfyUI process."""


def frames_of(tensor: Any) -> np.ndarray:
    """A ComfyUI IMAGE (float, B x H x W x C, 0..1; torch or numpy) as RGB uint8 frames."""
    array = tensor.detach().cpu().float().numpy() if hasattr(tensor, "detach") else tensor
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 3:  # a single image
        array = array[None]
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return np.clip(np.rint(array[..., :3] * 255.0), 0, 255).astype(np.uint8)


def checker_for(select: str) -> Checker:
    codes = tuple(c.strip().upper() for c in select.split(",") if c.strip())
    if codes not in _CHECKERS:
        _CHECKERS[codes] = Checker(build_config({"select": list(codes)} if codes else {}))
    return _CHECKERS[codes]


def output_folder() -> Path:
    """ComfyUI's output folder (where its own Save nodes write), else the system temp folder."""
    try:
        import folder_paths  # ComfyUI's module; absent outside ComfyUI
    except ImportError:
        return Path(tempfile.gettempdir())
    return Path(folder_paths.get_output_directory())


class VidlintCheck:
    """Check generated frames for artifacts; pass or fail them."""

    CATEGORY = CATEGORY
    FUNCTION = "check"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING", "INT", "STRING", "BOOLEAN")
    RETURN_NAMES = ("verdict", "score", "findings", "passed")
    OUTPUT_TOOLTIPS = (
        "pass, warn or fail",
        "0-100, 100 = no findings",
        "the findings as JSON: code, severity, frames, message",
        "true when the clip may be published: branch on it",
    )
    DESCRIPTION = (
        "Checks the frames a workflow generated for artifacts (freezes, flicker, morphing, bad "
        "hands and faces, drift from the source image) with vidlint."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, dict[str, Any]]:
        return {
            "required": {
                "fps": (
                    "FLOAT",
                    {
                        "default": 16.0,
                        "min": 1.0,
                        "max": 240.0,
                        "step": 0.01,
                        "tooltip": "frame rate of the images (a VIDEO brings its own)",
                    },
                ),
                "select": (
                    "STRING",
                    {"default": "", "tooltip": "rule families or codes, e.g. TMP,FLK (empty: all)"},
                ),
                "pass_on_warn": (
                    "BOOLEAN",
                    {"default": True, "tooltip": "a clip with only warnings passes"},
                ),
                "save_report": (
                    "BOOLEAN",
                    {"default": False, "tooltip": "write an HTML report to output/vidlint"},
                ),
            },
            "optional": {
                "images": ("IMAGE", {"tooltip": "the generated frames"}),
                "video": ("VIDEO", {"tooltip": "or the generated video"}),
                "source_image": ("IMAGE", {"tooltip": "the start image of image-to-video"}),
                "prompt": ("STRING", {"multiline": True, "default": ""}),
            },
        }

    def check(
        self,
        fps: float,
        select: str = "",
        pass_on_warn: bool = True,
        save_report: bool = False,
        images: Any = None,
        video: Any = None,
        source_image: Any = None,
        prompt: str = "",
    ) -> dict[str, Any]:
        if video is not None:
            components = video.get_components()
            frames, fps = frames_of(components.images), float(components.frame_rate)
        elif images is not None:
            frames = frames_of(images)
        else:
            raise ValueError("vidlint check needs images or a video")
        with tempfile.TemporaryDirectory(prefix="vidlint-") as scratch:
            context: dict[str, Any] = {"prompt": prompt.strip() or None}
            if source_image is not None:  # the reference analyzers read an image file
                from PIL import Image

                reference = Path(scratch) / "source.png"
                Image.fromarray(frames_of(source_image)[0]).save(reference)
                context["reference"] = str(reference)
            report = checker_for(select).check_frames(frames, fps, context, name="comfyui-frames")
            saved = write_html(report, frames) if save_report else ""
        passed = report.verdict == "pass" or (pass_on_warn and report.verdict == "warn")
        findings = json.dumps([finding_row(f) for f in report.findings])
        summary = f"{report.verdict} {report.score}: " + (
            ", ".join(sorted({f.code for f in report.findings})) or "no findings"
        )
        ui = {"text": [summary + (f" ({saved})" if saved else "")]}
        return {"ui": ui, "result": (report.verdict, report.score, findings, passed)}


def finding_row(finding: Any) -> dict[str, Any]:
    keys = ("code", "severity", "start_frame", "end_frame", "message")
    return {key: getattr(finding, key) for key in keys}


def write_html(report: Report, frames: np.ndarray) -> str:

    target = output_folder() / "vidlint" / f"vidlint_{report.clip['sha256'][:12]}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    return str(html.write(report, target, HeldFrames(frames)))


NODE_CLASS_MAPPINGS = {"VidlintCheck": VidlintCheck}
NODE_DISPLAY_NAME_MAPPINGS = {"VidlintCheck": "vidlint check"}

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "VidlintCheck", "frames_of"]
