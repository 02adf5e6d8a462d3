"""The report: valid against its JSON Schema on real clips, columnar and aligned, deterministic,
round-trips through JSON, written atomically."""

from __future__ import annotations

import json

import jsonschema
import pytest

import vidlint
from vidlint.batch import run_batch
from vidlint.config import build_config
from vidlint.report import Report, load_report, validate
from vidlint.synth import Artifact


@pytest.fixture(scope="module")
def flawed(synth_clip):
    return synth_clip("flawed", ".mp4", [Artifact("freeze", 8, 8), Artifact("black", 30, 2)])


def test_reports_of_real_and_synthetic_clips_match_the_schema(flawed, shared_clips):
    for path in (flawed, shared_clips / "gen_t2v_animatediff-realisticvision_bw_man.gif"):
        validate(vidlint.check(path, select=["TMP"]).to_dict())


def test_schema_rejects_a_broken_report(flawed):
    data = vidlint.check(flawed, select=["TMP"]).to_dict()
    data["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validate(data)


def test_per_frame_data_is_columnar_and_aligned(flawed):
    data = vidlint.check(flawed, select=["TMP"]).to_dict()
    frames = data["frames"]
    n = data["clip"]["frame_count"]
    assert frames["index"] == list(range(n)) and len(frames["time_s"]) == n
    assert all(len(v) == n for v in frames["signals"].values())
    assert frames["signals"]["temporal.diff"][0] is None  # no previous frame: null, not 0
    assert frames["badness"]["TMP"][30] == 1.0 and frames["badness"]["TMP"][2] == 0.0
    assert data["verdict"] == "fail" and 0 <= data["score"] < 100


def test_same_clip_and_config_give_the_same_report(flawed):
    first = vidlint.check(flawed, select=["TMP"]).to_dict()
    second = vidlint.check(flawed, select=["TMP"]).to_dict()
    first.pop("timings"), second.pop("timings")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_report_round_trips_through_json(flawed, tmp_path):
    result = run_batch([flawed], build_config({"select": ["TMP"]}), tmp_path)
    saved = load_report(result.outcomes[0].reports["json"])
    assert isinstance(saved, Report)
    original = vidlint.check(flawed, select=["TMP"])
    assert [f.to_dict() for f in saved.findings] == [f.to_dict() for f in original.findings]
    assert saved.verdict == original.verdict and saved.score == original.score


def test_rerun_replaces_reports_atomically_without_leftovers(flawed, tmp_path):
    config = build_config({"select": ["TMP"]})
    run_batch([flawed], config, tmp_path)
    run_batch([flawed], config, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert names == ["flawed.vidlint.json", "summary.json"]  # no temp files left behind
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["schema"] == "vidlint.summary/1" and summary["exit_code"] == 1
