"""Cost of each report writer at 720p: a synthetic 5 s, 24 fps, 1280x720 clip with a freeze, a
cut, black frames and repeats, checked once with the TMP rules, then every writer run on its
report. The writers that show pictures (html, contact-sheet, frames) decode the clip again up to
the last frame they need; the others only format the report. Also times the frame grabber alone
(full-clip decode, one frame converted to full-resolution RGB).

    python benchmarks/bench_writers.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import vidlint
from vidlint.decode.grab import grab_dict
from vidlint.synth import Artifact, SynthSpec, write_clip
from vidlint.writers import WRITERS

FORMATS = (
    "json",
    "html",
    "csv",
    "junit",
    "github",
    "otio",
    "fcpxml",
    "edl",
    "contact-sheet",
    "frames",
)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "bench.mp4"
        write_clip(
            SynthSpec(
                width=1280,
                height=720,
                fps=24.0,
                frames=120,
                camera="pan",
                artifacts=[
                    Artifact("freeze", 20, 12),
                    Artifact("cut", 60),
                    Artifact("black", 90, 3),
                    Artifact("repeat", 100),
                ],
            ),
            clip,
        )
        report = vidlint.check(clip, select=["TMP"])
        print(
            f"{clip.name}: 1280x720, 120 frames; {len(report.findings)} findings "
            f"({', '.join(f.code for f in report.findings)})"
        )
        start = time.perf_counter()
        grab_dict(clip, [119])
        grab = time.perf_counter() - start
        print(f"{'grab (decode all, 1 frame rgb)':32} {grab:7.3f} s  {120 / grab:6.0f} fps")
        for name in FORMATS:
            writer = WRITERS.get(name)
            target = Path(folder) / f"out{writer.SUFFIX}"
            start = time.perf_counter()
            written = writer.write(report, target)
            seconds = time.perf_counter() - start
            size = (
                sum(p.stat().st_size for p in written.iterdir())
                if written and written.is_dir()
                else written.stat().st_size
                if written
                else 0
            )
            print(f"{name:32} {seconds:7.3f} s  {size / 1024:8.0f} KB")


if __name__ == "__main__":
    main()
