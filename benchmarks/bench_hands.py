"""Hands analyzer speed at 720p: a synthetic 5 s, 24 fps, 1280x720 clip with a moving hand,
decoded once into memory, then fed to the analyzer with the default profile (frames per second
of clip) and, for comparison, with every frame sampled. Wall time and the process's CPU time
are both printed: on a shared, loaded machine the CPU time is the steadier figure (the analyzer
is single-threaded).

    python benchmarks/bench_hands.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from vidlint.analyzers.hands import HandsAnalyzer, HandsParams
from vidlint.decode import open_clip
from vidlint.synth import Artifact, SynthSpec, write_clip


def run(frames, info, params: HandsParams) -> tuple[float, float]:
    analyzer = HandsAnalyzer(params, info, {})
    start, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        analyzer.update(frame)
    analyzer.finish()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hand720.mp4"
        write_clip(
            SynthSpec(
                1280, 720, 24.0, 120, camera="pan", objects=2, artifacts=[Artifact("hand", 0, 120)]
            ),
            path,
            write_labels=False,
        )
        with open_clip(path) as clip:
            frames = list(clip.frames())
            info = clip.info
    default = HandsParams()
    for label, params in (
        (f"default ({default.sample_fps:g} fps sampled)", default),
        ("every frame", HandsParams(sample_fps=1000.0)),
    ):
        wall, cpu = min(run(frames, info, params) for _ in range(3))
        print(
            f"{label:24s} wall {wall:.3f} s, cpu {cpu:.3f} s for {len(frames)} frames: "
            f"{len(frames) / wall:.0f} fps of 720p clip (cpu: {len(frames) / cpu:.0f} fps)"
        )


if __name__ == "__main__":
    main()
