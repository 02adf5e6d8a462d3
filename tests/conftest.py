"""Shared fixtures: synthetic clips with injected artifacts (rendered once per session) and the
evaluation clips in ../shared/clips (referenced by path, never copied)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vidlint.synth import Artifact, SynthSpec, write_clip

REPO = Path(__file__).resolve().parents[1]
SHARED_CLIPS = Path(os.environ.get("VIDLINT_SHARED_CLIPS", REPO.parent / "shared" / "clips"))


@pytest.fixture(scope="session")
def shared_clips() -> Path:
    """The evaluation clips. Absent only outside this project's machines."""
    if not (SHARED_CLIPS / "MANIFEST.csv").is_file():
        pytest.skip(f"evaluation clips not found at {SHARED_CLIPS}")
    return SHARED_CLIPS


@pytest.fixture(scope="session")
def synth_clip(tmp_path_factory):
    """``synth_clip(name, suffix=".mp4", **spec)`` renders a clip once per session and returns
    its path; labels are in ``<path>.labels.json``."""
    folder = tmp_path_factory.mktemp("synth")
    made: dict[str, Path] = {}

    def make(
        name: str, suffix: str = ".mp4", artifacts: list[Artifact] | tuple = (), **spec
    ) -> Path:
        key = json.dumps([name, suffix, [repr(a) for a in artifacts], spec], sort_keys=True)
        if key not in made:
            path = folder / f"{name}{suffix}"
            write_clip(SynthSpec(artifacts=list(artifacts), **spec), path)
            made[key] = path
        return made[key]

    return make


@pytest.fixture(scope="session")
def real_case(shared_clips, tmp_path_factory):
    """``real_case(clip, start, end, kind, seed=0, **params)`` injects ``kind`` with the
    accuracy benchmark's injector (parameters drawn from the kind's ranges, ``params``
    overriding them) into frames ``start``..``end`` of an evaluation clip, renders it to H.264
    once per session and returns its path and labels. The content a cut or dissolve brings in
    is the clip played backwards, or ``donor=(clip, start, end)``."""
    from benchmarks.accuracy.cases import Base, cover, decode_base, encode
    from benchmarks.accuracy.inject import KINDS, Scene, draw

    folder = tmp_path_factory.mktemp("real_cases")
    made: dict[str, tuple[Path, list]] = {}

    def make(
        clip: str,
        start: int,
        end: int,
        kind: str,
        seed: int = 0,
        donor: tuple[str, int, int] | None = None,
        **params: float,
    ):
        key = json.dumps([clip, start, end, kind, seed, donor, params], sort_keys=True)
        if key not in made:
            frames, fps = decode_base(Base(kind, clip, start, end, "", "", ""), shared_clips)
            rng = np.random.default_rng(seed)
            drawn = {**draw(KINDS[kind].params, rng), **params}
            if donor is None:
                other = np.ascontiguousarray(frames[::-1])
            else:
                given = decode_base(Base("donor", *donor, "", "", ""), shared_clips)[0]
                other = cover(given, frames.shape[2], frames.shape[1])
            labels = KINDS[kind].inject(Scene(frames, fps, rng, other), drawn)
            path = folder / f"{len(made)}_{kind}.mp4"
            encode(frames, fps, path)
            made[key] = (path, labels)
        return made[key]

    return make


def run_cli(*args: object) -> subprocess.CompletedProcess:
    """``python -m vidlint ARGS`` in a fresh process, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "vidlint", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )


def labels_of(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".labels.json").read_text())


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every test that looks at a page (skipped without one)."""
    from .browser import Browser, chromium_binary

    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium)")
    session = Browser(binary)
    yield session
    session.close()
