"""Flow, flicker and quality analyzer cost at 720p: a synthetic 5 s, 24 fps, 1280x720 panning
clip (120 frames), decoded once into memory, then fed to each analyzer per profile. Budget for
the three together with the default profile: about 1.2 s (issue 4). Prints fps per analyzer and
whole-clip seconds; run it on an otherwise idle machine (2 cores in the reference setup:
``taskset -c 0,1 python benchmarks/bench_physics.py``).

    python benchmarks/bench_physics.py [clip.mp4]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from vidlint.analyzers.flicker import FlickerAnalyzer
from vidlint.analyzers.flow import FlowAnalyzer
from vidlint.analyzers.quality import QualityAnalyzer
from vidlint.config import load_config
from vidlint.decode import open_clip
from vidlint.synth import SynthSpec, write_clip

ANALYZERS = (FlowAnalyzer, FlickerAnalyzer, QualityAnalyzer)


def run(frames: list, info, profile: str) -> dict[str, float]:
    config = load_config().with_options(profile=profile)
    seconds = {}
    for cls in ANALYZERS:
        best = float("inf")
        for _ in range(2):  # best of 2: the first run warms caches and thread pools
            analyzer = cls(config.analyzer_params(cls), info, {})
            start = time.perf_counter()
            for frame in frames:
                analyzer.update(frame)
            analyzer.finish()
            best = min(best, time.perf_counter() - start)
        seconds[cls.name] = best
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(folder) / "pan_720p.mp4"
        if len(sys.argv) == 1:
            write_clip(SynthSpec(width=1280, height=720, fps=24, frames=120, camera="pan",
                                 objects=4), path, write_labels=False)
        with open_clip(path) as clip:
            frames = list(clip.frames())
            for frame in frames:
                frame.rgb  # noqa: B018 - full-resolution RGB is shared by all analyzers
            info = clip.info
    print(f"{path.name}: {len(frames)} frames, {info.width}x{info.height}")
    for profile in ("fast", "default", "thorough"):
        seconds = run(frames, info, profile)
        parts = ", ".join(f"{name} {len(frames) / s:.0f} fps ({s:.2f} s)"
                          for name, s in seconds.items())
        print(f"{profile:9} total {sum(seconds.values()):.2f} s: {parts}")


if __name__ == "__main__":
    main()
