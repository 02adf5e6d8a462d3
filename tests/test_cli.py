"""The command line: exit codes 0/1/2, readable output, rules and explain."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from vidlint.synth import Artifact


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vidlint", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def clips(synth_clip):
    return {
        "clean": synth_clip("cli-clean", ".mp4", []),
        "frozen": synth_clip("cli-frozen", ".mp4", [Artifact("freeze", 10, 10)]),
    }


def test_exit_0_when_every_clip_passes(clips, tmp_path):
    result = run("check", str(clips["clean"]), "--out", str(tmp_path), "--select", "TMP")
    assert result.returncode == 0, result.stderr
    assert "pass" in result.stdout and "1 clip(s): 1 pass" in result.stdout


def test_exit_1_and_linter_lines_when_a_clip_fails(clips, tmp_path):
    result = run(
        "check",
        str(clips["clean"]),
        str(clips["frozen"]),
        "--out",
        str(tmp_path),
        "--select",
        "TMP",
    )
    assert result.returncode == 1, result.stderr
    assert f"{clips['frozen']}:10-19  TMP001 picture frozen for 10 frames" in result.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["totals"] == {"clips": 2, "pass": 1, "warn": 0, "fail": 1, "error": 0}


def test_folder_and_glob_inputs(clips, tmp_path):
    folder = clips["clean"].parent
    result = run(
        "check", str(folder / "cli-*.mp4"), "--out", str(tmp_path), "-q", "--select", "TMP001"
    )
    assert result.returncode == 1 and "2 clip(s)" in result.stdout
    result = run("check", str(folder), "--no-write", "--select", "TMP001")
    assert "clip(s)" in result.stdout and not (folder / "reports").exists()


def test_usage_errors_exit_2(clips):
    assert run("check", str(clips["clean"]), "--select", "NOPE").returncode == 2
    assert run("check", str(clips["clean"]), "--profile", "warp9").returncode == 2
    assert run("explain", "XYZ123").returncode == 2
    assert run("check").returncode == 2


def test_rules_lists_every_rule_with_defaults_and_explain_prints_the_doc():
    listing = run("rules")
    assert listing.returncode == 0
    assert "TMP001" in listing.stdout and "min_duration_s=0.25" in listing.stdout
    doc = run("explain", "tmp003")
    assert doc.returncode == 0
    for heading in ("What it detects", "Why it matters", "Thresholds", "Fix hint"):
        assert heading in doc.stdout
    assert "[rules.TMP003]" in doc.stdout and "content_threshold = 27.0" in doc.stdout


def test_rules_keep_every_name_whole_at_80_columns_when_piped():
    """Piped output is 80 columns wide: names and codes are never broken mid-word."""
    from vidlint.rules import load_rules

    listing = run("rules")
    assert listing.returncode == 0
    assert all(len(line) <= 80 for line in listing.stdout.splitlines())
    words = set(listing.stdout.split())
    for code, rule in load_rules().items():
        assert code in words and rule.name in words, rule.name


def test_explain_takes_a_family_as_select_and_rules_do():
    from vidlint.rules import load_rules

    doc = run("explain", "hnd")
    assert doc.returncode == 0, doc.stderr
    hands = [code for code in load_rules() if code.startswith("HND")]
    assert len(hands) > 1
    for code in hands:
        assert f"[rules.{code}]" in doc.stdout
    assert doc.stdout.count("What it detects") == len(hands)
    assert run("explain", "XYZ").returncode == 2


def test_synth_command_writes_clip_and_labels(tmp_path):
    target = tmp_path / "made.gif"
    result = run("synth", str(target), "-a", "freeze@5:6", "--frames", "20")
    assert result.returncode == 0, result.stderr
    labels = json.loads((tmp_path / "made.gif.labels.json").read_text())
    assert labels["artifacts"][0] == {
        "kind": "freeze",
        "start": 5,
        "end": 10,
        "params": {},
        "expect": ["TMP001"],
        "span": [5, 10],
    }
    assert run("synth", str(target), "-a", "explode@3").returncode == 2


def test_native_library_logs_stay_off_the_terminal(clips):
    """MediaPipe's TFLite/absl lines would bury vidlint's own one-line messages."""
    result = run("check", str(clips["clean"]), "--no-write", "--select", "FAC,HND")
    assert result.returncode == 0, result.stderr
    assert "XNNPACK" not in result.stderr and "W0000" not in result.stderr
    assert "inference_feedback_manager" not in result.stderr


def test_the_library_keeps_native_logs_off_stderr_too(clips):
    """``vidlint.check()`` from a script: MediaPipe's TFLite/absl lines stay off its stderr, and
    what the script itself writes there still gets through."""
    script = (
        "import sys, vidlint\n"
        f"report = vidlint.check({str(clips['clean'])!r}, select=['FAC', 'HND'])\n"
        "print('script line', file=sys.stderr)\n"
        "print(report.verdict)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pass"
    assert "script line" in result.stderr
    assert "XNNPACK" not in result.stderr and "W0000" not in result.stderr
    assert "inference_feedback_manager" not in result.stderr
