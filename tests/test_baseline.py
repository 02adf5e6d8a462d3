"""Baselines: write one from reports, re-check with it (exit 0, the accepted findings kept as
waived in the JSON and the HTML page), while a new finding, or the same finding in a clip with
other bytes, still fails; a bad baseline is one line naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vidlint.report import load_report
from vidlint.report.baseline import load_baseline
from vidlint.report.schema import validate
from vidlint.synth import Artifact

from .conftest import run_cli


@pytest.fixture(scope="module")
def clip(synth_clip, tmp_path_factory) -> Path:
    """A freeze (TMP001) and a cut (TMP003)."""
    source = synth_clip(
        "baseline-flawed",
        ".mp4",
        [Artifact("freeze", 6, 8), Artifact("cut", 30)],
        width=160,
        height=120,
        frames=40,
    )
    folder = tmp_path_factory.mktemp("baseline-clips")
    shutil.copy(source, folder / "shot.mp4")
    return folder / "shot.mp4"


def test_baseline_round_trip(clip, tmp_path):
    first = run_cli("check", clip, "--out", tmp_path / "r1", "--select", "TMP001", "-f", "json")
    assert first.returncode == 1, first.stderr
    baseline = tmp_path / "accepted.json"
    wrote = run_cli("baseline", tmp_path / "r1", "-o", baseline, "--reason", "the hold is wanted")
    assert wrote.returncode == 0, wrote.stderr
    (waiver,) = load_baseline(baseline).waivers
    report = load_report(tmp_path / "r1" / "shot.vidlint.json")
    (freeze,) = report.findings
    assert (waiver.code, waiver.clip, waiver.sha256, waiver.frames, waiver.reason) == (
        "TMP001",
        "shot.mp4",
        report.clip["sha256"],
        (freeze.start_frame, freeze.end_frame),
        "the hold is wanted",
    )
    # re-checked with the baseline: passes, the finding kept as waived
    again = run_cli(
        "check", clip, "--out", tmp_path / "r2", "--select", "TMP001", "-f", "json,html",
        "--baseline", baseline,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 waived" in again.stdout and "TMP001 picture frozen" not in again.stdout
    document = json.loads((tmp_path / "r2" / "shot.vidlint.json").read_text())
    validate(document)
    assert document["verdict"] == "pass" and document["score"] == 100
    assert document["findings"] == []
    (waived,) = document["waived"]
    assert waived["finding"] == freeze.to_dict()
    assert waived["reason"] == "the hold is wanted" and waived["baseline"] == str(baseline)
    page = (tmp_path / "r2" / "shot.html").read_text()
    assert f'class="finding {freeze.severity} waived"' in page and "the hold is wanted" in page
    # a new finding still fails: the cut, which the baseline does not know
    more = run_cli(
        "check", clip, "--out", tmp_path / "r3", "--select", "TMP001,TMP003", "-f", "json",
        "--baseline", baseline,
    )  # fmt: skip
    assert more.returncode == 1 and "TMP003" in more.stdout and "1 waived" in more.stdout
    assert [f.code for f in load_report(tmp_path / "r3" / "shot.vidlint.json").findings] == [
        "TMP003"
    ]
    # the same finding in a clip of the same name with other bytes is new too
    other = tmp_path / "other" / "shot.mp4"
    other.parent.mkdir()
    other.write_bytes(clip.read_bytes() + b"\0")
    changed = run_cli("check", other, "--no-write", "--select", "TMP001", "--baseline", baseline)
    assert changed.returncode == 1 and "waived" not in changed.stdout


def test_waivers_match_code_or_family_clip_and_overlapping_frames(clip, tmp_path):
    import vidlint
    from vidlint.report.baseline import Baseline, Waiver

    report = vidlint.check(clip, select=["TMP001", "TMP003"])
    freeze, cut = sorted(report.findings, key=lambda f: f.start_frame)
    assert (freeze.code, cut.code) == ("TMP001", "TMP003")

    def waived(*waivers: Waiver) -> list[str]:
        return [w.finding.code for w in Baseline("b.json", waivers).apply(report).waived]

    span = (freeze.end_frame, freeze.end_frame + 3)  # overlaps the freeze's last frame
    assert waived(Waiver("TMP001", "ok", clip="shot.mp4", frames=span)) == ["TMP001"]
    assert waived(Waiver("TMP", "ok", clip="shot.mp4")) == ["TMP001", "TMP003"]
    assert waived(Waiver("TMP001", "ok", clip="shot.mp4", frames=(0, 2))) == []
    assert waived(Waiver("TMP001", "ok", clip="other.mp4")) == []
    assert waived(Waiver("TMP001", "ok", sha256=report.clip["sha256"])) == ["TMP001"]
    assert waived(Waiver("TMP001", "ok", clip="shot.mp4", sha256="0" * 64)) == []
    kept = Baseline("b.json", (Waiver("TMP003", "ok", clip="shot.mp4"),)).apply(report)
    assert kept.verdict == "fail" and [f.code for f in kept.findings] == ["TMP001"]


def baseline_text(*waivers: dict) -> str:
    return json.dumps({"schema": "vidlint.baseline/1", "waivers": list(waivers)})


@pytest.mark.parametrize(
    "content, cause",
    [
        ("{", "not JSON"),
        ('{"schema": "other"}', "not a baseline (expected schema 'vidlint.baseline/1')"),
        ('{"schema": "vidlint.baseline/1", "waivers": {}}', "'waivers' must be a list"),
        (
            baseline_text({"code": "TMP1", "clip": "a.mp4", "reason": "x"}),
            "waiver 1: code 'TMP1' is not a rule code (TMP001) or family (TMP)",
        ),
        (baseline_text({"code": "TMP001", "clip": "a.mp4"}), "waiver 1: needs a reason"),
        (
            baseline_text({"code": "TMP001", "reason": "x"}),
            "waiver 1: needs the clip (file name) or its sha256",
        ),
        (
            baseline_text({"code": "TMP001", "clip": "a.mp4", "reason": "x", "frames": [9, 3]}),
            "waiver 1: frames [9, 3] must be [first, last], whole frames, first <= last",
        ),
        (None, "no such file"),
    ],
)
def test_a_bad_baseline_is_one_line_naming_it(clip, tmp_path, content, cause):
    baseline = tmp_path / "b.json"
    if content is not None:
        baseline.write_text(content)
    result = run_cli("check", clip, "--no-write", "--select", "TMP001", "--baseline", baseline)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"error: {baseline}: {cause}")


def test_baseline_of_nothing_is_refused(tmp_path):
    result = run_cli("baseline", tmp_path)
    assert result.returncode == 2 and "folder holds no reports" in result.stderr
