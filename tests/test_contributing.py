"""docs/contributing.md's worked example, built: a copy of the package plus exactly the three
files the page shows (analyzer module, rule module, test file) gives a working analyzer and
rule, with nothing else edited."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "contributing.md"


def worked_example() -> dict[str, str]:
    """``{path: code}`` for each ``` `path`: ``` line followed by a python code block."""
    text = GUIDE.read_text()
    blocks = re.findall(r"^`([\w/.]+\.py)`:\n\n```python\n(.*?)^```", text, re.M | re.S)
    return dict(blocks)


def test_the_worked_example_is_three_files(tmp_path):
    files = worked_example()
    assert sorted(files) == [
        "src/vidlint/analyzers/saturation.py",
        "src/vidlint/rules/saturation.py",
        "tests/test_saturation.py",
    ]
    tree = tmp_path / "checkout"
    shutil.copytree(
        REPO / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    (tree / "sample_clips").mkdir()
    shutil.copy(REPO / "sample_clips" / "clean_pan.mp4", tree / "sample_clips")
    for name, code in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(code)
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True
        )

    tests = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_saturation.py")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout
    listing = run("-m", "vidlint", "rules", "SAT")
    assert listing.returncode == 0 and "SAT001" in listing.stdout and "max_ratio" in listing.stdout
    explained = run("-m", "vidlint", "explain", "SAT001")
    assert "What it detects" in explained.stdout and "max_ratio = 0.5" in explained.stdout
    (tree / "vidlint.toml").write_text("[analyzers.saturation]\nside = 0\n")
    refused = run("-m", "vidlint", "check", "sample_clips/clean_pan.mp4", "--select", "SAT")
    assert refused.returncode == 2
    assert "'analyzers.saturation.side' = 0: must be between 8 and 1080" in refused.stderr
