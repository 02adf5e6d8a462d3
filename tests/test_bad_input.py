"""Bad input never ends in a traceback: each case gives one line naming the file and the cause,
the batch goes on, the clip gets an error row in summary.json, and the exit code says so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

import vidlint
from vidlint.errors import InputError
from vidlint.synth import SynthSpec, write_clip


def _audio_only(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        for index in range(8):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                               layout="mono")
            frame.sample_rate, frame.pts = 44100, index * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def _zero_decodable_frames(path: Path, good: Path) -> None:
    """A well-formed MP4 whose video payload is all zeros: it opens, nothing decodes."""
    data = bytearray(good.read_bytes())
    start = data.index(b"mdat") + 4
    size = int.from_bytes(data[start - 8:start - 4], "big")
    data[start:start - 8 + size] = bytes(size - 8)
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """name -> (path, expected cause)."""
    root = tmp_path_factory.mktemp("bad")
    good = root / "good.mp4"
    write_clip(SynthSpec(frames=24), good, write_labels=False)
    cases: dict[str, tuple[Path, str]] = {}

    def case(name: str, cause: str) -> Path:
        path = root / name
        cases[name] = (path, cause)
        return path

    case("missing.mp4", "no such file or directory")
    case("empty.mp4", "empty file").write_bytes(b"")
    data = good.read_bytes()
    case("truncated.mp4", "damaged or truncated MP4/MOV file").write_bytes(data[:len(data) // 2])
    case("random.mp4", "not a video file").write_bytes(np.random.default_rng(1).bytes(4096))
    shutil.copy(Path(__file__).parent / "data" / "still.png", case("still.png", "still image"))
    shutil.copy(Path(__file__).parent / "data" / "still.png",
                case("image_named.mp4", "still image"))
    write_clip(SynthSpec(frames=1), case("one_frame.mp4", "only 1 frame"), write_labels=False)
    _zero_decodable_frames(case("zero_frames.mp4", "no decodable frames"), good)
    _audio_only(case("audio_only.m4a", "has no video stream (audio only)"))
    (case("no_videos", "folder holds no videos")).mkdir()
    os.symlink(root / "gone.mp4", case("dangling_link.mp4", "no such file or directory"))
    return cases


def test_each_bad_input_raises_a_clear_input_error(bad_inputs):
    for name, (path, cause) in bad_inputs.items():
        if path.is_dir():
            continue  # a folder is a batch input, covered by the CLI test
        with pytest.raises(InputError) as caught:
            vidlint.check(path)
        assert str(path) in str(caught.value) and cause in str(caught.value), name


def test_batch_reports_every_bad_input_and_goes_on(bad_inputs, tmp_path, synth_clip):
    good = synth_clip("good-batch", ".mp4", [])
    paths = [str(p) for p, _ in bad_inputs.values()] + [str(good)]
    result = subprocess.run(
        [sys.executable, "-m", "vidlint", "check", *paths, "--out", str(tmp_path / "out"),
         "--select", "TMP"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
    for path, cause in bad_inputs.values():
        assert any(str(path) in line and cause in line for line in error_lines), (path, cause)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    rows = {row["path"]: row for row in summary["clips"]}
    assert rows[str(good)]["verdict"] == "pass"
    assert (tmp_path / "out" / "good-batch.vidlint.json").is_file()
    assert summary["totals"]["error"] == len(bad_inputs)
    for path, cause in bad_inputs.values():
        assert cause in rows[str(path)]["error"]


def test_truncated_file_with_index_up_front_is_reported_as_corrupt(tmp_path):
    """A 'faststart' MP4 cut in half still opens; its missing frames become TMP005."""
    full = tmp_path / "full.mp4"
    spec = SynthSpec(frames=48)
    rate = 24
    with av.open(str(full), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        from vidlint.synth import render

        for t, rgb in render(spec):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = round(t * rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:len(data) * 6 // 10])
    report = vidlint.check(cut, select=["TMP005"])
    assert report.verdict == "fail"
    (finding,) = [f for f in report.findings if "truncated" in f.message]
    assert finding.evidence["declared_frames"] == 48
    assert finding.evidence["decoded_frames"] < 48


def test_unreadable_file_names_the_cause(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file; the dangling link case covers unreadable paths")
    path = tmp_path / "locked.mp4"
    write_clip(SynthSpec(frames=4), path, write_labels=False)
    path.chmod(0)
    with pytest.raises(InputError, match="cannot read"):
        vidlint.check(path)


def test_bad_config_is_one_line_and_exit_2(tmp_path, synth_clip):
    config = tmp_path / "vidlint.toml"
    config.write_text('select = ["TMP"]\nthresholds = 3\n')
    result = subprocess.run([sys.executable, "-m", "vidlint", "check",
                             str(synth_clip("good-batch", ".mp4", [])), "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"{config}: unknown key 'thresholds'" in result.stderr
    assert "Traceback" not in result.stderr
