"""SRC pre-flight lint of source images: a sharp photo passes; blurred, downscaled, noisy,
JPEG-crushed and cluttered versions are flagged; ``vidlint check-source`` exit codes; ``check``
with a reference runs the same rules."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from vidlint import check_source
from vidlint.cli.app import app
from vidlint.config import load_config
from vidlint.errors import InputError
from vidlint.pipeline import Checker
from vidlint.report.schema import validate
from vidlint.synth.scene import texture

skimage_data = pytest.importorskip("skimage.data")  # the sample photo; in the test extra

TARGET = (512, 512)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    photo = skimage_data.astronaut()
    noisy = photo + np.random.default_rng(0).normal(0, 15, photo.shape)
    variants = {
        "sharp.png": photo,
        "blurred.png": cv2.GaussianBlur(photo, (0, 0), 2),
        "downscaled.png": cv2.resize(photo, (128, 128), interpolation=cv2.INTER_AREA),
        "noisy.png": np.clip(noisy, 0, 255).astype(np.uint8),
        "clutter.png": texture(512, 512, np.random.default_rng(1)),
    }
    paths = {}
    for name, rgb in variants.items():
        Image.fromarray(rgb).save(folder / name)
        paths[name] = folder / name
    Image.fromarray(photo).save(folder / "crushed.jpg", quality=10)
    paths["crushed.jpg"] = folder / "crushed.jpg"
    return paths


def codes(report) -> set[str]:
    return {f.code for f in report.findings}


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sharp.png", set()),
        ("blurred.png", {"SRC001"}),
        ("downscaled.png", {"SRC002"}),
        ("noisy.png", {"SRC003"}),
        ("crushed.jpg", {"SRC003"}),
        ("clutter.png", {"SRC004"}),
    ],
    ids=["sharp", "blurred", "downscaled", "noisy", "jpeg-q10", "clutter"],
)
def test_source_image_variants(images, name, expected):
    report = check_source(images[name], TARGET)
    assert codes(report) == expected, [(f.code, f.message) for f in report.findings]
    assert all(f.start_frame == 0 and f.end_frame == 0 for f in report.findings)
    validate(report.to_dict())


def test_size_is_judged_against_the_target(images):
    assert codes(check_source(images["sharp.png"], (1280, 720))) == {"SRC002"}  # 2.5x
    assert not codes(check_source(images["downscaled.png"], (160, 120)))


def test_missing_and_unreadable_images_are_input_errors(tmp_path):
    with pytest.raises(InputError, match=re.escape("nope.png: source image not found")):
        check_source(tmp_path / "nope.png")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(InputError, match=re.escape("bad.jpg: cannot read the source image")):
        check_source(bad)


@pytest.fixture(scope="module")
def cli():
    return CliRunner()


def test_check_source_exit_codes(cli, images):
    sharp, blurred = str(images["sharp.png"]), str(images["blurred.png"])
    result = cli.invoke(app, ["check-source", sharp, "--target", "512x512"])
    assert result.exit_code == 0, result.output
    result = cli.invoke(
        app, ["check-source", sharp, blurred, str(images["downscaled.png"]), "--target", "512x512"]
    )
    assert result.exit_code == 1
    assert "SRC001" in result.output and "SRC002" in result.output
    result = cli.invoke(app, ["check-source", sharp, "/missing/source.png"])
    assert result.exit_code == 2
    assert "/missing/source.png: source image not found" in result.output
    result = cli.invoke(app, ["check-source", sharp, "--target", "wide"])
    assert result.exit_code == 2


def test_check_source_writes_json_reports(cli, images, tmp_path):
    result = cli.invoke(
        app,
        ["check-source", str(images["blurred.png"]), "--target", "512x512", "--out", str(tmp_path)],
    )
    assert result.exit_code == 1
    written = tmp_path / "blurred.source.vidlint.json"
    import json

    document = json.loads(written.read_text())
    validate(document)
    assert [f["code"] for f in document["findings"]] == ["SRC001"]


def test_check_with_a_reference_also_lints_the_source(synth_clip, images):
    clip = synth_clip("src_small_target", width=320, height=240, frames=12)
    config = load_config().with_options(select=["SRC"])
    report = Checker(config).check(clip, {"reference": str(images["downscaled.png"])})
    finding = next(f for f in report.findings if f.code == "SRC002")
    assert finding.evidence["target"] == [320, 240] and finding.evidence["upscale"] == 2.5
    assert not codes(Checker(config).check(clip, {"reference": str(images["sharp.png"])}))
