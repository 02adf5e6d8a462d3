"""Faces and reference analyzer cost at 720p: a synthetic 5 s, 24 fps, 1280x720 clip with one
real face (the scikit-image astronaut) drifting over the scene, its first frame saved as the i2v
source image. Each analyzer's own time is measured while the clip streams (decode excluded),
per profile, as wall time and as CPU time of the process (CPU time is what the analyzers cost
on an idle machine, near enough, when other jobs share the cores: both analyzers run
single-threaded); the budget for faces + reference with the default profile is about 0.5 s.

    python benchmarks/bench_faces.py        (needs scikit-image: pip install -e .[test])
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PIL import Image

from vidlint.analyzers.faces import FacesAnalyzer
from vidlint.analyzers.reference import ReferenceAnalyzer
from vidlint.config import load_config
from vidlint.decode import open_clip
from vidlint.synth import Artifact, SynthSpec, write_clip


def run(path: Path, profile: str, reference: Path) -> dict[str, float]:
    config = load_config().with_options(profile=profile)
    context = {"reference": str(reference)}
    timings = {}
    with open_clip(path) as clip:
        analyzers = {}
        for cls in (FacesAnalyzer, ReferenceAnalyzer):
            start = time.perf_counter()
            analyzers[cls.name] = cls(config.analyzer_params(cls), clip.info, context)
            timings[f"{cls.name} setup"] = time.perf_counter() - start
            timings[cls.name] = 0.0
        cpu = time.process_time()
        for frame in clip.frames():
            for name, analyzer in analyzers.items():
                start = time.perf_counter()
                analyzer.update(frame)
                timings[name] += time.perf_counter() - start
        outputs = {}
        for name, analyzer in analyzers.items():
            start = time.perf_counter()
            outputs[name] = analyzer.finish().output
            timings[name] += time.perf_counter() - start
        timings["cpu"] = time.process_time() - cpu  # decode included
        descriptors = sum(len(t.descriptor_frames) for t in outputs["faces"].tracks)
    timings["descriptors"] = descriptors
    return timings


def main() -> None:
    decode_cpu = 0.0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "face720.mp4"
        write_clip(
            SynthSpec(
                1280,
                720,
                24.0,
                120,
                camera="pan",
                objects=2,
                artifacts=[Artifact("face", 0, 120, {"size": 0.45})],
            ),
            path,
            write_labels=False,
        )
        reference = Path(folder) / "face720_source.png"
        with open_clip(path) as clip:
            Image.fromarray(next(clip.frames()).rgb).save(reference)
        run(path, "default", reference)  # warm-up: model loading, caches
        for _ in range(2):
            start = time.process_time()
            with open_clip(path) as clip:
                for _frame in clip.frames():
                    pass
            decode_cpu = min(decode_cpu or 1e9, time.process_time() - start)
        print(f"decode alone: {decode_cpu:.3f} s CPU")
        for profile in ("fast", "default", "thorough"):
            best = min(
                (run(path, profile, reference) for _ in range(2)),
                key=lambda t: t["faces"] + t["reference"],
            )
            total = best["faces"] + best["reference"]
            print(
                f"{profile:9s} faces {best['faces']:.3f} s ({best['descriptors']} descriptors), "
                f"reference {best['reference']:.3f} s, together {total:.3f} s for 120 frames "
                f"(setup: faces {best['faces setup']:.2f} s, reference "
                f"{best['reference setup']:.2f} s); process CPU with decode "
                f"{best['cpu']:.3f} s"
            )


if __name__ == "__main__":
    main()
