"""Hands analyzer speed at 720p: a synthetic 5 s, 24 fps, 1280x720 clip with a moving hand,
decoded once into memory, then fed to the analyzer with the default profile (frames per second
of clip) and, for comparison, with every frame sampled.

    python benchmarks/bench_hands.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from vidlint.analyzers.hands import HandsAnalyzer, HandsParams
from vidlint.decode import open_clip
from vidlint.synth import Artifact, SynthSpec, write_clip


def run(frames, info, params: HandsParams) -> float:
    analyzer = HandsAnalyzer(params, info, {})
    start = time.perf_counter()
    for frame in frames:
        analyzer.update(frame)
    analyzer.finish()
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hand720.mp4"
        write_clip(SynthSpec(1280, 720, 24.0, 120, camera="pan", objects=2,
                             artifacts=[Artifact("hand", 0, 120)]), path, write_labels=False)
        with open_clip(path) as clip:
            frames = list(clip.frames())
            info = clip.info
    for label, params in (("default (8 fps sampled)", HandsParams()),
                          ("every frame", HandsParams(sample_fps=1000.0))):
        seconds = min(run(frames, info, params) for _ in range(2))
        print(f"{label:24s} {seconds:.3f} s for {len(frames)} frames: "
              f"{len(frames) / seconds:.0f} fps of 720p clip")


if __name__ == "__main__":
    main()
