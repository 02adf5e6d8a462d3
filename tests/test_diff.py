"""``vidlint diff``: two attempts of the synthetic regeneration loop compared (findings lost,
gained, unchanged, score), a moved artifact, folders compared clip by clip, and the regeneration
history page showing the same comparison between attempts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vidlint
from vidlint.backends.synthetic import SyntheticBackend
from vidlint.config import build_config
from vidlint.regen import Fixer, RegenSettings
from vidlint.report.diff import diff_findings
from vidlint.synth import Artifact
from vidlint.writers import WRITERS

from .conftest import run_cli


@pytest.fixture(scope="module")
def attempts(synth_clip, tmp_path_factory):
    """Two regenerations of a clip with a stall and a cut (TMP rules, small frames)."""
    clip = synth_clip(
        "diff-bad",
        artifacts=[Artifact("freeze", 7, 12), Artifact("cut", 33)],
        seed=1,
        width=160,
        height=120,
        frames=48,
    )
    work = tmp_path_factory.mktemp("diff-regen")
    config = build_config({"select": ["TMP"]}, sources=(str(work / "t.toml"),))
    backend = SyntheticBackend(config=config, work_dir=work / "backend")
    settings = RegenSettings(retry_base_s=0.0, poll_interval_s=0.0, max_attempts=2)
    fixer = Fixer(config, backend, work / "state", work / "out", settings=settings)
    try:
        result = fixer.fix(clip, {"prompt": "a few colourful balls roll across a textured floor"})
    finally:
        fixer.close()
    reports = []
    for number, attempt in enumerate(result.history["attempts"][:2]):
        report = vidlint.check(attempt["output"], select=["TMP"])
        reports.append(WRITERS.get("json").write(report, work / f"attempt-{number}.vidlint.json"))
    return result, reports


def test_diff_of_two_attempts(attempts):
    result, (first, second) = attempts
    history = result.history["attempts"]
    codes = [{f["code"] for f in a["findings"]} for a in history[:2]]
    assert codes[0] != codes[1], "the loop changed what is wrong"
    shown = run_cli("diff", first, second, "--json")
    document = json.loads(shown.stdout)
    (clip,) = document["clips"]
    lost = {m["code"] for m in clip["lost"]} | {m["from"]["code"] for m in clip["moved"]}
    gained = {m["code"] for m in clip["gained"]} | {m["to"]["code"] for m in clip["moved"]}
    assert lost - gained == codes[0] - codes[1] and gained - lost == codes[1] - codes[0]
    assert clip["unchanged"] == len(codes[0] & codes[1])
    assert clip["score_change"] == history[1]["score"] - history[0]["score"]
    new_errors = any(m["severity"] == "error" for m in clip["gained"])
    assert shown.returncode == (1 if new_errors else 0)
    text = run_cli("diff", first, second).stdout
    assert f"({clip['score_change']:+d})" in text
    for mark in clip["lost"]:
        assert f"- {mark['code']}" in text
    for mark in clip["gained"]:
        assert f"+ {mark['code']}" in text
    # the other way round, what was lost is gained
    back = json.loads(run_cli("diff", second, first, "--json").stdout)["clips"][0]
    assert {m["code"] for m in back["gained"]} == {m["code"] for m in clip["lost"]}


def test_history_page_compares_each_attempt_with_the_one_before(attempts):
    result, _ = attempts
    page = Path(result.history_path).with_suffix(".html").read_text()
    history = result.history["attempts"]
    change = diff_findings(history[0]["findings"], history[1]["findings"])
    assert change.changed
    assert "against the attempt before" in page
    assert f"score {history[1]['score'] - history[0]['score']:+d} (vs #0)" in page
    for mark in change.lost:
        assert f"<li class=lost>&minus; <code>{mark.code}</code> {mark.span()}</li>" in page
    for mark in change.gained:
        assert f"<li class=gained>+ <code>{mark.code}</code> {mark.span()}</li>" in page


def test_a_moved_artifact_and_folders_compared_clip_by_clip(synth_clip, tmp_path):
    spec = {"width": 160, "height": 120, "frames": 40}
    early = vidlint.check(
        synth_clip("diff-cut-20", ".mp4", [Artifact("cut", 20)], **spec), select=["TMP"]
    )
    late = vidlint.check(
        synth_clip("diff-cut-26", ".mp4", [Artifact("cut", 26)], **spec), select=["TMP"]
    )
    clean = vidlint.check(synth_clip("diff-clean", ".mp4", [], **spec), select=["TMP"])
    for folder, reports in (("a", [early, clean]), ("b", [late])):
        for report in reports:
            report.clip["path"] = f"/clips/{'shot' if report is not clean else 'other'}.mp4"
            name = Path(report.clip["path"]).stem
            WRITERS.get("json").write(report, tmp_path / folder / f"{name}.vidlint.json")
    shown = run_cli("diff", tmp_path / "a", tmp_path / "b", "--json")
    assert shown.returncode == 0, shown.stderr  # nothing new: the cut only moved
    clips = {c["clip"]: c for c in json.loads(shown.stdout)["clips"]}
    assert clips["other.mp4"]["b"] is None and clips["other.mp4"]["a"]["verdict"] == "pass"
    (moved,) = clips["shot.mp4"]["moved"]
    assert (moved["from"]["start_frame"], moved["to"]["start_frame"]) == (20, 26)
    assert clips["shot.mp4"]["gained"] == clips["shot.mp4"]["lost"] == []
    text = run_cli("diff", tmp_path / "a", tmp_path / "b").stdout
    assert "~ TMP003 frame 20 -> frame 26" in text and "other.mp4: only in A" in text
    far = diff_findings(early.findings, late.findings, move_frames=3)  # too far apart to be one
    assert [m.start for m in far.lost] == [20] and [m.start for m in far.gained] == [26]


def test_diff_of_what_is_not_a_report(tmp_path):
    (tmp_path / "x.vidlint.json").write_text("[]")
    result = run_cli("diff", tmp_path / "x.vidlint.json", tmp_path / "missing")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: {tmp_path / 'x.vidlint.json'}: not a vidlint report (not a JSON object)"
    )
