"""The "vidlint check" ComfyUI node, imported the way ComfyUI's custom node loader imports a
package (``spec_from_file_location`` on its ``__init__.py``) with ComfyUI's own ``folder_paths``
module stubbed, run on real decoded frames as ComfyUI tensors."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from vidlint.cli.app import app
from vidlint.config import build_config
from vidlint.decode import open_clip
from vidlint.errors import InputError
from vidlint.pipeline import Checker
from vidlint.synth import Artifact

from .conftest import REPO

PACKAGE = REPO / "integrations" / "comfyui" / "vidlint_nodes"
COMFY_TYPES = {"IMAGE", "VIDEO", "STRING", "FLOAT", "INT", "BOOLEAN"}


@pytest.fixture(scope="module")
def node_package(tmp_path_factory, request):
    """The package as ComfyUI loads it from custom_nodes/, with folder_paths stubbed."""
    output = tmp_path_factory.mktemp("comfy-output")
    folder_paths = types.ModuleType("folder_paths")
    folder_paths.get_output_directory = lambda: str(output)  # type: ignore[attr-defined]
    saved = sys.modules.get("folder_paths")
    sys.modules["folder_paths"] = folder_paths
    name = str(PACKAGE).replace(".", "_x_")  # what load_custom_node names the module
    spec = importlib.util.spec_from_file_location(name, PACKAGE / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    yield module, output
    sys.modules.pop(name, None)
    if saved is None:
        sys.modules.pop("folder_paths", None)
    else:
        sys.modules["folder_paths"] = saved


def as_image_tensor(frames: np.ndarray) -> torch.Tensor:
    """What a ComfyUI IMAGE is: float32, B x H x W x C, 0..1."""
    return torch.from_numpy(frames).float() / 255.0


def decoded(path: Path) -> tuple[np.ndarray, float]:
    with open_clip(path) as clip:
        return np.stack([frame.rgb for frame in clip.frames()]), clip.info.fps


def test_the_node_follows_comfyui_conventions(node_package) -> None:
    module, _ = node_package
    assert module.NODE_DISPLAY_NAME_MAPPINGS == {"VidlintCheck": "vidlint check"}
    node = module.NODE_CLASS_MAPPINGS["VidlintCheck"]
    inputs = node.INPUT_TYPES()
    assert set(inputs) == {"required", "optional"}
    for section in inputs.values():
        for spec in section.values():
            assert isinstance(spec, tuple) and spec[0] in COMFY_TYPES
    assert {"images", "video", "source_image", "prompt"} <= set(inputs["optional"])
    assert node.RETURN_TYPES == ("STRING", "INT", "STRING", "BOOLEAN")
    assert len(node.RETURN_NAMES) == len(node.RETURN_TYPES) == len(node.OUTPUT_TOOLTIPS)
    assert callable(getattr(node(), node.FUNCTION)) and node.OUTPUT_NODE and node.CATEGORY


def test_node_verdict_matches_vidlint_check_on_a_real_clip(node_package, shared_clips, tmp_path):
    module, output = node_package
    clip = shared_clips / "gen_i2v_dynamicrafter_girl_talking.gif"
    source = clip.with_name(f"{clip.stem}_source.jpg")  # found by vidlint check as a sidecar
    cli = CliRunner().invoke(
        app, ["check", str(clip), "-f", "json", "-o", str(tmp_path), "--jobs", "1"]
    )
    assert cli.exit_code == 1, cli.output  # the clip fails
    expected = json.loads((tmp_path / f"{clip.stem}.vidlint.json").read_text())
    frames, fps = decoded(clip)
    reference = torch.from_numpy(np.array(Image.open(source).convert("RGB"))).float()[None]
    node = module.NODE_CLASS_MAPPINGS["VidlintCheck"]()
    answer = node.check(
        fps=fps, images=as_image_tensor(frames), source_image=reference / 255.0, save_report=True
    )
    verdict, score, findings, passed = answer["result"]
    assert (verdict, score) == (expected["verdict"], expected["score"]) == ("fail", score)
    codes = sorted({f["code"] for f in json.loads(findings)})
    assert codes == sorted({f["code"] for f in expected["findings"]})
    assert expected["context"]["reference"] == str(source)
    assert passed is False
    (page,) = (output / "vidlint").glob("vidlint_*.html")
    assert page.read_text().count("data:image/jpeg;base64,") >= 3, "thumbnails from memory"
    assert page.name in answer["ui"]["text"][0]


def test_node_checks_a_video_input_without_writing_one(node_package, synth_clip) -> None:
    module, _ = node_package
    clip = synth_clip("node_freeze", artifacts=[Artifact("freeze", 10, 14)], seed=4, frames=48)
    expected = Checker(build_config({"select": ["TMP"]})).check(clip)
    frames, fps = decoded(clip)
    video = types.SimpleNamespace(  # comfy_api's VideoInput: get_components() -> VideoComponents
        get_components=lambda: types.SimpleNamespace(
            images=as_image_tensor(frames), frame_rate=Fraction(fps).limit_denominator(1001)
        )
    )
    node = module.NODE_CLASS_MAPPINGS["VidlintCheck"]()
    verdict, score, findings, passed = node.check(fps=1.0, select="TMP", video=video)["result"]
    assert (verdict, score) == (expected.verdict, expected.score)
    assert [f["code"] for f in json.loads(findings)] == [f.code for f in expected.findings]
    assert "TMP001" in findings and passed is (verdict != "fail")
    with pytest.raises(ValueError, match="needs images or a video"):
        node.check(fps=16.0)
    with pytest.raises(InputError, match="comfyui-frames: frame size 8x8 is too small"):
        node.check(fps=16.0, images=torch.zeros(2, 8, 8, 3))
    with pytest.raises(InputError, match="the frame rate must be above 0"):
        node.check(fps=0.0, images=as_image_tensor(frames))
