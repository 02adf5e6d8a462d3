"""Per-clip context in a batch: a manifest (CSV or JSONL) and sidecars give each clip its prompt,
seed, mode, source image and generator; options on the command line win; a clip named as
image-to-video without its source image says so; a bad manifest is one line naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import vidlint
from vidlint.batch import run_batch
from vidlint.config import load_config
from vidlint.report.schema import validate
from vidlint.synth import Artifact

from .conftest import run_cli


@pytest.fixture(scope="module")
def folder(synth_clip, tmp_path_factory) -> Path:
    """Two small clips, a source image in a sub-folder, and a clip named like an i2v output."""
    root = tmp_path_factory.mktemp("context")
    for name, artifacts in (("gen_t2v_a.mp4", []), ("gen_i2v_b.mp4", [Artifact("cut", 12)])):
        source = synth_clip(f"context-{name}", ".mp4", artifacts, width=160, height=120, frames=24)
        shutil.copy(source, root / name)
    (root / "images").mkdir()
    image = np.full((120, 160, 3), 90, np.uint8)
    image[30:90, 40:120] = (200, 80, 40)
    Image.fromarray(image).save(root / "images" / "b_source.png")
    return root


def reports_of(out: Path) -> dict[str, dict]:
    return {
        Path(document["clip"]["path"]).name: document
        for document in (json.loads(p.read_text()) for p in out.glob("*.vidlint.json"))
    }


def test_manifest_rows_give_each_clip_its_context(folder, tmp_path):
    manifest = folder / "manifest.csv"
    manifest.write_text(
        "file,prompt,negative_prompt,seed,mode,reference,generator,notes\n"
        'gen_t2v_a.mp4,"a red ball, rolling",blurry,7,t2v,,model A,ignored\n'
        "gen_i2v_b.mp4,a box,,12,,images/b_source.png,model B,\n"
    )
    result = run_cli(
        "check", folder, "--out", tmp_path, "--select", "TMP,SRC", "--manifest", manifest, "-q"
    )
    assert result.returncode == 1, result.stderr  # the cut in gen_i2v_b
    reports = reports_of(tmp_path)
    a, b = reports["gen_t2v_a.mp4"]["context"], reports["gen_i2v_b.mp4"]["context"]
    assert a == {
        "prompt": "a red ball, rolling",
        "negative_prompt": "blurry",
        "seed": 7,
        "mode": "t2v",
        "generator": "model A",
    }
    assert b["mode"] == "i2v" and b["seed"] == 12 and b["generator"] == "model B"
    assert Path(b["reference"]) == folder / "images" / "b_source.png"
    for document in reports.values():
        validate(document)
    # the context is part of the cache key: a changed row re-checks that clip only
    manifest.write_text(manifest.read_text().replace("a box", "a blue box"))
    again = run_cli(
        "check", folder, "--out", tmp_path, "--select", "TMP,SRC", "--manifest", manifest, "-q"
    )
    assert again.returncode == 1, again.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    cached = {Path(c["path"]).name: c["cached"] for c in summary["clips"]}
    assert cached == {"gen_t2v_a.mp4": True, "gen_i2v_b.mp4": False}
    assert reports_of(tmp_path)["gen_i2v_b.mp4"]["context"]["prompt"] == "a blue box"


def test_sidecar_and_options_win_over_the_manifest(folder, tmp_path):
    manifest = tmp_path / "rows.jsonl"
    manifest.write_text(
        json.dumps({"clip": str(folder / "gen_t2v_a.mp4"), "prompt": "from the manifest"})
        + "\n\n"
        + json.dumps({"clip": "gen_i2v_b.mp4", "prompt": "b", "seed": "3"})
        + "\n"
    )
    sidecar = folder / "gen_t2v_a.context.json"
    sidecar.write_text(json.dumps({"prompt": "from the sidecar", "seed": 5}))
    try:
        config = load_config().with_options(select=["TMP001"])
        result = run_batch(
            [folder / "gen_t2v_a.mp4", folder / "gen_i2v_b.mp4"],
            config,
            None,
            {"manifest": str(manifest), "negative_prompt": "for every clip"},
            keep_reports=True,
        )
    finally:
        sidecar.unlink()
    a = result.reports[str(folder / "gen_t2v_a.mp4")].context
    b = result.reports[str(folder / "gen_i2v_b.mp4")].context
    assert a["prompt"] == "from the sidecar" and a["seed"] == 5
    assert b["prompt"] == "b" and b["seed"] == 3
    assert a["negative_prompt"] == b["negative_prompt"] == "for every clip"
    assert "manifest" not in a and "manifest" not in b


def test_check_takes_mode_negative_prompt_and_seed(folder, tmp_path):
    result = run_cli(
        "check",
        folder / "gen_t2v_a.mp4",
        "--out",
        tmp_path,
        "--select",
        "TMP001",
        "--mode",
        "I2V",
        "--negative-prompt",
        "no text",
        "--seed",
        "42",
        "--prompt",
        "a ball",
    )
    assert result.returncode == 0, result.stderr
    context = reports_of(tmp_path)["gen_t2v_a.mp4"]["context"]
    assert context == {"prompt": "a ball", "negative_prompt": "no text", "seed": 42, "mode": "i2v"}
    bad = run_cli("check", folder / "gen_t2v_a.mp4", "--no-write", "--mode", "v2v")
    assert bad.returncode == 2 and "--mode 'v2v'" in bad.stderr


def test_a_clip_named_i2v_without_its_source_is_not_silently_t2v(shared_clips):
    """A real image-to-video output whose source image is not beside it."""
    clip = shared_clips / "gen_i2v_wan2.1-i2v-14b_astronaut_egg.mp4"
    report = vidlint.check(clip, select=["SRC", "TMP001"])
    assert report.context["mode"] == "i2v" and report.context["mode_from"] == "name"
    (note,) = [f for f in report.findings if f.code == "SRC005"]
    assert note.severity == "info" and "file name says i2v" in note.message
    assert report.verdict == "pass"  # a note, not a defect of the clip
    told = vidlint.check(clip, select=["SRC", "TMP001"], context={"mode": "t2v"})
    assert told.context["mode"] == "t2v" and "mode_from" not in told.context
    assert not [f for f in told.findings if f.code == "SRC005"]
    validate(report.to_dict())


@pytest.mark.parametrize(
    "name, content, cause",
    [
        ("m.csv", "prompt\nx\n", "no clip column (one of clip, file, path, video) in the header"),
        ("m.csv", "clip,seed\na.mp4,seven\n", "line 2: seed 'seven' is not a whole number"),
        ("m.csv", "clip,mode\na.mp4,real\n", "line 2: mode 'real' is not one of t2v, i2v"),
        ("m.csv", "clip,reference\na.mp4,gone.png\n", "line 2: source image gone.png not found"),
        ("m.csv", "clip\na.mp4\na.mp4\n", "line 3: clip a.mp4 is listed twice"),
        ("m.jsonl", '{"clip": "a.mp4"}\n{"clip": \n', "line 2: not JSON (Expecting value)"),
        ("m.txt", "clip\n", "a manifest is a .csv or .jsonl file"),
        ("missing.csv", None, "manifest not found"),
    ],
)
def test_a_bad_manifest_is_one_line_naming_it(folder, tmp_path, name, content, cause):
    manifest = tmp_path / name
    if content is not None:
        manifest.write_text(content)
    result = run_cli("check", folder / "gen_t2v_a.mp4", "--no-write", "--manifest", manifest)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {manifest}: {cause}"
