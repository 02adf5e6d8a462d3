"""What the regeneration loop itself costs, apart from generating: the synthetic backend's
escalation run (4 regenerations of a 5 s, 24 fps clip) at 320x240 and 1280x720, with only the
TMP rules checked, split into time spent checking clips, rendering them (the stand-in for a
generator) and everything else (state, requests, prompt lint, history). Wall and CPU time.

    python benchmarks/bench_regen.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from vidlint.backends.synthetic import SyntheticBackend
from vidlint.config import build_config
from vidlint.regen import Fixer, RegenSettings
from vidlint.synth import Artifact, SynthSpec, write_clip

FRAMES = 120
PROMPT = "a few colourful balls roll across a textured floor"


class Timed:
    """Adds up the wall time of one method of an object."""

    def __init__(self, target: object, method: str) -> None:
        self.total = 0.0
        original = getattr(target, method)

        def timed(*args, **kwargs):
            tick = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - tick

        setattr(target, method, timed)


def run(width: int, height: int, folder: Path) -> dict[str, float]:
    clip = folder / f"bad_{width}.mp4"
    write_clip(
        SynthSpec(
            width=width,
            height=height,
            frames=FRAMES,
            seed=1,
            artifacts=[Artifact("freeze", 18, 30), Artifact("cut", 84)],
        ),
        clip,
    )
    config = build_config({"select": ["TMP"]})
    backend = SyntheticBackend(
        {"decay_after_s": 3.5, "max_side": max(width, height)}, work_dir=folder / f"backend_{width}"
    )
    fixer = Fixer(
        config,
        backend,
        folder / f"work_{width}",
        folder / f"out_{width}",
        settings=RegenSettings(shorten_factor=0.6),
    )
    checking = Timed(fixer.checker, "check")
    rendering = Timed(backend, "submit")
    wall, cpu = time.perf_counter(), time.process_time()
    result = fixer.fix(clip, {"prompt": PROMPT})
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    fixer.close()
    regens = sum(a["kind"] == "regen" for a in result.history["attempts"])
    return {
        "status": result.status,
        "regenerations": regens,
        "wall_s": wall,
        "cpu_s": cpu,
        "check_s": checking.total,
        "render_s": rendering.total,
        "loop_s": wall - checking.total - rendering.total,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        for width, height in ((320, 240), (1280, 720)):
            r = run(width, height, Path(temp))
            print(
                f"{width}x{height}: {r['status']} after {r['regenerations']} regenerations; "
                f"wall {r['wall_s']:.2f} s (cpu {r['cpu_s']:.2f} s) = checks "
                f"{r['check_s']:.2f} s + renders {r['render_s']:.2f} s + loop "
                f"{r['loop_s']:.2f} s ({r['loop_s'] / max(1, r['regenerations']) * 1000:.0f} "
                f"ms per attempt)"
            )


if __name__ == "__main__":
    main()
