"""Flow, flicker and quality analyzer cost at 720p: a synthetic 5 s, 24 fps, 1280x720 panning
clip (120 frames), decoded once into memory, then fed to each analyzer per profile. Budget for
the three together with the default profile: about 1.2 s (issue 4). Prints fps per analyzer and
whole-clip seconds, wall and CPU (CPU time is the steadier figure on a shared machine); run it
on an otherwise idle machine (2 cores in the reference setup).

    python benchmarks/bench_physics.py [clip.mp4]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import cv2

from vidlint.analyzers.flicker import FlickerAnalyzer
from vidlint.analyzers.flow import FlowAnalyzer
from vidlint.analyzers.quality import QualityAnalyzer
from vidlint.config import load_config
from vidlint.decode import open_clip
from vidlint.synth import SynthSpec, write_clip

ANALYZERS = (FlowAnalyzer, FlickerAnalyzer, QualityAnalyzer)


def run(frames: list, info, profile: str) -> dict[str, tuple[float, float]]:
    """(wall seconds, CPU seconds) per analyzer, best of 2 runs (the first warms caches)."""
    config = load_config().with_options(profile=profile)
    seconds = {}
    for cls in ANALYZERS:
        best = (float("inf"), float("inf"))
        for _ in range(2):
            analyzer = cls(config.analyzer_params(cls), info, {})
            wall, cpu = time.perf_counter(), time.process_time()
            for frame in frames:
                analyzer.update(frame)
            analyzer.finish()
            best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
        seconds[cls.name] = best
    return seconds


def main() -> None:
    if os.environ.get("VIDLINT_BENCH_THREADS"):
        cv2.setNumThreads(int(os.environ["VIDLINT_BENCH_THREADS"]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(folder) / "pan_720p.mp4"
        if len(sys.argv) == 1:
            write_clip(
                SynthSpec(width=1280, height=720, fps=24, frames=120, camera="pan", objects=4),
                path,
                write_labels=False,
            )
        with open_clip(path) as clip:
            frames = list(clip.frames())
            for frame in frames:
                frame.rgb  # noqa: B018 - full-resolution RGB is shared by all analyzers
            info = clip.info
    print(f"{path.name}: {len(frames)} frames, {info.width}x{info.height}")
    print(f"OpenCV threads: {cv2.getNumThreads()} (VIDLINT_BENCH_THREADS=1 for a pool worker)")
    for profile in ("fast", "default", "thorough"):
        seconds = run(frames, info, profile)
        parts = ", ".join(
            f"{name} {len(frames) / wall:.0f} fps ({wall:.2f} s wall, {cpu:.2f} s CPU)"
            for name, (wall, cpu) in seconds.items()
        )
        total = sum(wall for wall, _ in seconds.values())
        print(f"{profile:9} total {total:.2f} s: {parts}")


if __name__ == "__main__":
    main()
