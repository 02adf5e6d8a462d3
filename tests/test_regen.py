"""The regeneration loop with the built-in synthetic backend: convergence by escalation, budget,
best attempt, salvage by trimming, resuming, requests and their recorded changes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import vidlint
from vidlint.backends.synthetic import SyntheticBackend
from vidlint.config import build_config, load_config
from vidlint.errors import ConfigError
from vidlint.regen import Fixer, RegenSettings, build_request, initial_request, regen_settings
from vidlint.regen.salvage import salvage_cut
from vidlint.report.model import Report
from vidlint.rules import load_rules
from vidlint.synth import Artifact

SMALL = {"width": 160, "height": 120, "frames": 48}
PROMPT = "a few colourful balls roll across a textured floor"
FAST = RegenSettings(retry_base_s=0.0, poll_interval_s=0.0)


def tmp_config(tmp_path: Path, **sections):
    """TMP rules only (fast), plus feature tables."""
    return build_config({"select": ["TMP"], **sections}, sources=(str(tmp_path / "t.toml"),))


@pytest.fixture(scope="module")
def bad_clip(synth_clip) -> Path:
    """A stall (frames 7-18) and a scene cut (frame 33): the defects the synthetic generator
    also makes until the request is constrained."""
    return synth_clip(
        "regen_bad", artifacts=[Artifact("freeze", 7, 12), Artifact("cut", 33)], seed=1, **SMALL
    )


@pytest.fixture(scope="module")
def converged(bad_clip, tmp_path_factory):
    work = tmp_path_factory.mktemp("regen")
    config = tmp_config(work)
    backend = SyntheticBackend(config=config, work_dir=work / "backend")
    fixer = Fixer(config, backend, work / "state", work / "out", settings=FAST)
    result = fixer.fix(bad_clip, {"prompt": PROMPT})
    yield result, backend, fixer, work
    fixer.close()


def test_failing_clip_converges_by_escalation(converged) -> None:
    result, backend, _, _ = converged
    assert result.status == "passed" and result.ok
    attempts = result.history["attempts"]
    assert attempts[0]["kind"] == "original" and attempts[0]["verdict"] == "fail"
    assert {f["code"] for f in attempts[0]["findings"]} == {"TMP001", "TMP003"}
    regens = [a for a in attempts if a["kind"] == "regen"]
    assert len(regens) == 4 == backend.renders
    rungs = [sorted({c["rung"] for c in a["changes"]}) for a in regens]
    assert rungs == [["reseed"], ["constrain", "reseed"], ["reseed", "shorten"], ["i2v", "reseed"]]
    assert [a["verdict"] for a in regens] == ["fail", "fail", "fail", "pass"]
    # scores improve as the request is constrained
    scores = [a["score"] for a in regens]
    assert scores[-1] == 100 and scores[1] < scores[2] < scores[3]
    seeds = [a["request"]["seed"] for a in regens]
    assert len(set(seeds)) == 4, "every attempt has a new seed"
    assert result.final_attempt == regens[-1]["attempt"]
    assert Path(result.final_path).is_file() and result.final_path.endswith("_fixed.mp4")
    final = vidlint.check(result.final_path, select=["TMP"])
    assert final.verdict == "pass"


def test_every_change_names_the_finding_that_caused_it(converged) -> None:
    result = converged[0]
    regens = [a for a in result.history["attempts"] if a["kind"] == "regen"]
    first, second, third, fourth = regens
    negative = next(c for c in first["changes"] if c["field"] == "negative_prompt")
    assert "still frame" in negative["new"] and "TMP001" in negative["because"]
    prompt = {c["because"][0]: c for c in second["changes"] if c["field"] == "prompt"}
    assert set(prompt) == {"TMP003", "PRM002", "PRM003"}  # the shot's missing layers too
    assert prompt["TMP003"]["new"].endswith("Single continuous shot, no cuts.")
    assert "Camera:" in prompt["PRM002"]["new"] and "Lighting:" in prompt["PRM003"]["new"]
    shorten = next(c for c in third["changes"] if c["field"] == "params.duration_s")
    assert shorten["old"] == pytest.approx(2.0) and shorten["new"] == pytest.approx(1.2)
    assert set(shorten["because"]) == {"TMP004", "TMP005"}
    mode = next(c for c in fourth["changes"] if c["field"] == "mode")
    assert mode == {
        "rung": "i2v",
        "field": "mode",
        "old": "t2v",
        "new": "i2v",
        "because": ["TMP004"],
    }
    reference = Path(fourth["request"]["reference"])
    assert reference.is_file() and reference.suffix == ".png"
    # requests carry the regen/1 schema fields and a key that is a hash of the request
    request = fourth["request"]
    assert request["schema"] == "vidlint.regen/1" and len(request["idempotency_key"]) == 64
    assert request["reasons"] == ["TMP004"] and request["parent_report"].endswith("#3")
    # prompt lint ran on every request
    assert all(a["prompt_lint"] for a in regens)
    assert "PRM002" in {p["code"] for p in first["prompt_lint"]}
    assert "PRM002" not in {p["code"] for p in second["prompt_lint"]}


def test_history_and_report_are_written(converged) -> None:
    result = converged[0]
    history = json.loads(Path(result.history_path).read_text())
    assert history["schema"] == "vidlint.regen-history/1"
    assert history["status"] == "passed" and len(history["attempts"]) == 5
    assert [e["kind"] for e in history["events"]].count("submitted") == 4
    page = Path(result.history_path).with_name("regen_bad.regen.html").read_text()
    assert page.count("<tr>") == 6 and "Single continuous shot, no cuts." in page
    assert "because TMP003" in page and "<b class=passed>passed</b>" in page
    report_path = Path(result.history_path).with_name("regen_bad.vidlint.json")
    report = json.loads(report_path.read_text())
    assert report["extra"]["regen"]["status"] == "passed"
    assert [a["verdict"] for a in report["extra"]["regen"]["attempts"]][-1] == "pass"


def test_rerun_resumes_and_submits_nothing(converged, bad_clip) -> None:
    result, backend, fixer, _ = converged
    again = fixer.fix(bad_clip, {"prompt": PROMPT})
    assert again.status == "passed" and again.final_attempt == result.final_attempt
    assert backend.renders == 4


def test_budget_exhausted_keeps_the_best_attempt(bad_clip, tmp_path) -> None:
    config = tmp_config(tmp_path)
    backend = SyntheticBackend(config=config, work_dir=tmp_path / "backend")
    settings = dataclasses.replace(FAST, max_attempts=3)
    fixer = Fixer(config, backend, tmp_path / "state", tmp_path / "out", settings=settings)
    result = fixer.fix(bad_clip, {"prompt": PROMPT})
    fixer.close()
    assert result.status == "exhausted" and not result.ok
    attempts = result.history["attempts"]
    assert [a["kind"] for a in attempts] == ["original", "regen", "regen", "regen"]
    best = max(attempts, key=lambda a: (a["score"], -a["attempt"]))
    assert result.final_attempt == best["attempt"] == 3  # the shortened clip: one defect left
    assert best["verdict"] == "fail" and best["score"] > attempts[0]["score"]
    assert result.final_path.endswith("_best.mp4") and Path(result.final_path).is_file()


def test_bad_tail_is_salvaged_by_trimming(synth_clip, tmp_path) -> None:
    clip = synth_clip("regen_tail", artifacts=[Artifact("corrupt", 36, 12)], seed=2, **SMALL)
    config = tmp_config(tmp_path)
    backend = SyntheticBackend(config=config, work_dir=tmp_path / "backend")
    fixer = Fixer(config, backend, tmp_path / "state", tmp_path / "out", settings=FAST)
    result = fixer.fix(clip, {"prompt": PROMPT})
    fixer.close()
    assert result.status == "salvaged" and backend.renders == 0
    trim = result.history["attempts"][-1]
    assert trim["kind"] == "trim" and trim["trim"] == {"trim_of": 0, "frames": 36}
    fixed = vidlint.check(result.final_path, select=["TMP"])
    assert fixed.verdict == "pass" and fixed.clip["frame_count"] == 36


def test_salvage_needs_a_long_enough_clean_prefix(bad_clip) -> None:
    report = vidlint.check(bad_clip, select=["TMP"])
    assert salvage_cut(report, FAST) is None  # the stall starts at frame 7: 0.3 s clean
    late = dataclasses.replace(report, findings=[f for f in report.findings if f.code == "TMP003"])
    assert salvage_cut(late, FAST) == 33
    assert salvage_cut(late, dataclasses.replace(FAST, min_salvage_s=1.5)) is None


def test_change_table_comes_from_config(bad_clip, tmp_path) -> None:
    config = tmp_config(
        tmp_path,
        regen={
            "changes": {
                "TMP003": {"negative_prompt": ["jump cut"], "prompt": ["one unbroken take"]}
            }
        },
    )
    settings = regen_settings(config)
    report = vidlint.check(bad_clip, select=["TMP"])
    base = initial_request("job", {"prompt": PROMPT}, report, settings)
    first = build_request(base, report, 1, settings, rung=0)
    assert "jump cut" in first.negative_prompt and first.prompt == PROMPT
    second = build_request(first, report, 2, settings, rung=1)
    assert "One unbroken take." in second.prompt
    assert second.idempotency_key != first.idempotency_key
    assert build_request(base, report, 1, settings, rung=0) == first, "deterministic"


@pytest.mark.parametrize(
    "table, message",
    [
        pytest.param({"max_attempt": 3}, "unknown key 'regen.max_attempt'", id="unknown-key"),
        pytest.param({"max_attempts": "x"}, "'regen.max_attempts'", id="bad-type"),
        pytest.param(
            {"ladder": ["reseed", "pray"]},
            "'regen.ladder' = ['reseed', 'pray']: choose one of reseed",
            id="bad-rung",
        ),
        pytest.param({"max_attempts": "4"}, "'regen.max_attempts' = '4'", id="string-number"),
        pytest.param({"max_attempts": 0}, "'regen.max_attempts' = 0: must be above 0", id="zero"),
        pytest.param(
            {"poll_interval_s": -2.0},
            "'regen.poll_interval_s' = -2.0: must be above 0",
            id="negative",
        ),
        pytest.param(
            {"changes": {"HND": {"negatives": []}}},
            "unknown key 'regen.changes.HND.negatives'",
            id="bad-change-entry",
        ),
    ],
)
def test_bad_regen_config_names_key_and_file(tmp_path, table, message) -> None:
    config = tmp_config(tmp_path, regen=table)
    with pytest.raises(ConfigError) as info:
        regen_settings(config)
    assert message in str(info.value) and "t.toml" in str(info.value)


def test_cli_fix_with_the_synthetic_backend(bad_clip, tmp_path, monkeypatch) -> None:
    """The README's example."""
    from vidlint.cli.app import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "fix",
            str(bad_clip),
            "--backend",
            "synthetic",
            "--select",
            "TMP",
            "--prompt",
            PROMPT,
            "--out",
            "fixed",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "passed after 4 regeneration(s)" in result.output
    assert (tmp_path / "fixed" / "regen_bad_fixed.mp4").is_file()
    limited = runner.invoke(
        app,
        [
            "fix",
            str(bad_clip),
            "--backend",
            "synthetic",
            "--select",
            "TMP",
            "--out",
            "limited",
            "--max-attempts",
            "1",
        ],
    )
    assert limited.exit_code == 1 and "exhausted" in limited.output
    unknown = runner.invoke(app, ["fix", str(bad_clip), "--backend", "nope"])
    assert unknown.exit_code == 2 and "unknown backend 'nope'" in unknown.output


def test_report_round_trip_keeps_findings(bad_clip) -> None:
    report = vidlint.check(bad_clip, select=["TMP"])
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert [f.code for f in again.findings] == [f.code for f in report.findings]
    assert load_config(start="/").section("regen") == {}


def test_docs_list_every_setting_and_every_rules_fix() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "regeneration.md").read_text()
    for name in [f.name for f in dataclasses.fields(RegenSettings)]:
        assert f"| `{name}` |" in doc, name
    for code, rule in load_rules().items():
        assert f"| `{code}` | {', '.join(rule.fix.negative_prompt) or '-'} |" in doc, code


def test_degradation_onset_sets_the_trim_and_the_shorter_duration(synth_clip) -> None:
    """DRF001 (any severity) gives the frame to trim at and caps the shortened duration."""
    from vidlint.report.model import Finding

    clip = synth_clip("regen_decay", artifacts=[Artifact("corrupt", 30, 18)], seed=3, **SMALL)
    report = vidlint.check(clip, select=["TMP"])
    (corrupt,) = report.findings
    onset = Finding(
        "DRF001",
        "DRF",
        "degradation-onset",
        "warning",
        "degrades",
        26,
        47,
        26,
        26 / 24,
        47 / 24,
        0.9,
        {"onset_frame": 26},
    )
    drifting = dataclasses.replace(report, findings=[corrupt, onset])
    assert salvage_cut(drifting, FAST) == 26
    settings = dataclasses.replace(FAST, shorten_factor=0.9)
    base = initial_request("job", {"prompt": PROMPT}, drifting, settings)
    shorter = build_request(base, drifting, 3, settings, rung=2)
    change = next(c for c in shorter.changes if c["field"] == "params.duration_s")
    assert change["new"] == pytest.approx(26 / 24, abs=1e-3) and change["because"] == ["DRF001"]


def test_clean_clip_needs_nothing_and_bad_input_is_named(synth_clip, tmp_path) -> None:
    from vidlint.errors import InputError

    clean = synth_clip("regen_clean", seed=4, **SMALL)
    config = tmp_config(tmp_path)
    backend = SyntheticBackend(config=config, work_dir=tmp_path / "backend")
    fixer = Fixer(config, backend, tmp_path / "state", tmp_path / "out", settings=FAST)
    result = fixer.fix(clean)
    assert result.status == "passed" and result.final_attempt == 0 and backend.renders == 0
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    with pytest.raises(InputError) as info:
        fixer.fix(junk)
    assert "junk.mp4" in str(info.value)
    with pytest.raises(InputError, match="no such file"):
        fixer.fix(tmp_path / "missing.mp4")
    fixer.close()


class StuckBackend:
    """A handler-driven fake: jobs never finish, or polling blows up with a bug."""

    name = "stuck"

    def __init__(self, poll_error: Exception | None = None) -> None:
        self.poll_error = poll_error
        self.submitted: list[str] = []
        self.cancelled: list[str] = []

    def submit(self, request):
        from vidlint.backends import Submission

        self.submitted.append(request.idempotency_key)
        return Submission(f"job-{len(self.submitted)}")

    def poll(self, job_id):
        from vidlint.backends import RUNNING, JobStatus

        if self.poll_error:
            raise self.poll_error
        return JobStatus(RUNNING)

    def fetch(self, status, dest):
        raise AssertionError("never fetched")

    def cancel(self, job_id):
        self.cancelled.append(job_id)


@pytest.mark.parametrize(
    "backend, message",
    [
        pytest.param(StuckBackend(), "not finished after 0 s; cancelled", id="job-timeout"),
        pytest.param(
            StuckBackend(ValueError("bad history")),
            "internal error (ValueError: bad history)",
            id="backend-bug",
        ),
    ],
)
def test_stuck_or_broken_backend_fails_the_attempt_not_the_run(
    bad_clip, tmp_path, backend, message
) -> None:
    settings = dataclasses.replace(FAST, max_attempts=2, job_timeout_s=0.0)
    fixer = Fixer(tmp_config(tmp_path), backend, tmp_path / "state", None, settings=settings)
    result = fixer.fix(bad_clip)
    fixer.close()
    assert result.status == "exhausted" and result.final_attempt == 0
    failed = [a for a in result.history["attempts"] if a["kind"] == "regen"]
    assert [a["status"] for a in failed] == ["failed", "failed"]
    assert all(message in a["error"] for a in failed)
    assert len(backend.submitted) == 2
    if not backend.poll_error:
        assert backend.cancelled == ["job-1", "job-2"]


def test_requests_for_a_real_generated_clip(shared_clips, tmp_path) -> None:
    """HunyuanVideo-STA's 'woman reading', its frame 11 held for half a second (the clip itself
    only slows down there: a slow close-up is no freeze), and its prompt one line of mood. The
    ladder asks for motion, adds the missing layers, then shortens; the clean frame for
    image-to-video comes from after the stall."""
    import csv

    import av
    import numpy as np

    from benchmarks.accuracy.cases import encode
    from vidlint.regen.salvage import best_clean_frame

    name = "gen_t2v_hunyuanvideo-sta_woman_reading.mp4"
    with open(shared_clips / "MANIFEST.csv", newline="") as handle:
        prompt = next(r for r in csv.DictReader(handle) if r["file"] == name)["prompt"]
    with av.open(str(shared_clips / name)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    frames[12:24] = frames[11]
    stalled = tmp_path / "woman_reading_stalled.mp4"
    encode(frames, 24.0, stalled)
    report = vidlint.check(stalled, select=["TMP"], context={"prompt": prompt})
    (freeze,) = [f for f in report.findings if f.code == "TMP001"]
    assert freeze.start_frame <= 11 and freeze.end_frame == 23
    assert salvage_cut(report, FAST) is None, "the stall is at 0.5 s: nothing to keep"
    base = initial_request("woman", {"prompt": prompt}, report, FAST)
    assert base.params["duration_s"] == pytest.approx(117 / 24, abs=0.05)
    first = build_request(base, report, 1, FAST, rung=0)
    negative = next(c for c in first.changes if c["field"] == "negative_prompt")
    assert "still frame" in first.negative_prompt and "TMP001" in negative["because"]
    second = build_request(first, report, 2, FAST, rung=1)
    assert second.prompt.startswith(prompt)
    assert {c["because"][0] for c in second.changes if c["field"] == "prompt"} == {
        "TMP001",
        "PRM002",
        "PRM003",
    }
    third = build_request(second, report, 3, FAST, rung=2)
    assert third.duration_s == pytest.approx(base.duration_s * 0.6, abs=0.01)
    frame = best_clean_frame(stalled, report, tmp_path / "reference.png")
    assert frame is not None and frame.stat().st_size > 10_000


def test_a_static_clip_is_asked_for_motion_never_for_less(synth_clip) -> None:
    """MOT004 (the clip barely moves) must not get the physics rules' calmer request: the
    regeneration asks for visible motion and keeps the motion strength."""
    still = synth_clip("regen_still", artifacts=[Artifact("static", 0)], camera="static", **SMALL)
    report = vidlint.check(still, select=["MOT004"])
    assert [f.code for f in report.findings] == ["MOT004"]
    strict = dataclasses.replace(FAST, pass_verdicts=("pass",))  # warnings regenerate too
    base = initial_request("job", {"prompt": PROMPT}, report, strict)
    asked = build_request(base, report, 2, strict, rung=1)
    assert asked.params["motion_strength"] == base.params["motion_strength"] == 1.0
    assert "static" in asked.negative_prompt and "moves clearly" in asked.prompt
