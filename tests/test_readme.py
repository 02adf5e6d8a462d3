"""The README's transcripts are true: every block of ``$ vidlint ...`` commands is run in a fresh
folder, each command in its own process as a user would, and prints what the README shows:
exactly, verdicts, scores and codes included, but for timings and the order in which parallel
workers finish."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SAMPLES = ROOT / "sample_clips"
TIMING = re.compile(r"\(\d+(\.\d+)? s\)$")


def transcripts() -> list[list[tuple[str, list[str]]]]:
    """The README's code blocks that start with ``$ vidlint``, as (command, printed lines)."""
    blocks = re.findall(r"```(?:console)?\n(\$ vidlint.*?)```", README.read_text(), re.DOTALL)
    found = []
    for block in blocks:
        steps: list[tuple[str, list[str]]] = []
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line.strip():
                steps[-1][1].append(line)
        found.append(steps)
    return found


def normalized(lines: list[str], parallel: bool) -> list[str]:
    """Timings masked; a check's clips in any order (its workers finish when they finish)."""
    masked = [TIMING.sub("(T s)", line.strip()) for line in lines]
    return sorted(masked) if parallel else masked


def test_the_readme_has_transcripts() -> None:
    commands = [command for block in transcripts() for command, _ in block]
    assert any(c.startswith("vidlint check") for c in commands)
    assert any(c.startswith("vidlint fix") for c in commands)


@pytest.mark.parametrize("block", transcripts(), ids=lambda block: block[-1][0].split()[1])
def test_readme_transcript_prints_what_it_shows(block, tmp_path) -> None:
    clips = tmp_path / "clips"  # the sample clips a transcript names under clips/
    for name in {n for _, lines in block for n in re.findall(r"clips/(\w+\.mp4)", " ".join(lines))}:
        clips.mkdir(exist_ok=True)
        shutil.copyfile(SAMPLES / name, clips / name)
    env = {**os.environ, "COLUMNS": "200"}
    for command, expected in block:
        argv = shlex.split(command)
        assert argv[0] == "vidlint"
        run = subprocess.run(
            [sys.executable, "-c", "from vidlint.cli.app import main; main()", *argv[1:]],
            cwd=tmp_path,
            env=env,
            text=True,
            capture_output=True,
            timeout=300,
            check=False,
        )
        printed = [line for line in run.stdout.splitlines() if line.strip()]
        parallel = argv[1] == "check"
        assert normalized(printed, parallel) == normalized(expected, parallel), (
            f"$ {command}\n{run.stderr}"
        )
