"""Cost of the picture-showing writers together, as a batch writes them: ``write_reports`` with
html + contact-sheet + frames on a synthetic 5 s, 24 fps, 1280x720 clip (a freeze, a cut, black
frames and a repeat, checked with the TMP rules), against the same three writers each called
alone. Counts the clip decodes (``open_clip`` calls) and whole-file sha256 reads of each (the
check has read the clip already), and gives the size of the HTML page. Run it from a checkout
of an older version with ``PYTHONPATH=<old>/src`` for the figures before a change.

    python benchmarks/bench_write_reports.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import vidlint
from vidlint.decode import clip as decode_clip
from vidlint.decode import grab
from vidlint.engine.work import write_reports
from vidlint.synth import Artifact, SynthSpec, write_clip
from vidlint.writers import WRITERS

FORMATS = ("html", "contact-sheet", "frames")


def counted(module: object, name: str, counts: dict[str, int]) -> None:
    """Wrap ``module.name`` so each call adds one to ``counts[name]``."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        counts[name] = counts.get(name, 0) + 1
        return original(*args, **kwargs)

    setattr(module, name, wrapper)


def timed(run: Callable[[], object], repeat: int) -> float:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        clip = out / "bench.mp4"
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
        # a batch's clips are older than the window in which a file's sha256 is not remembered
        time.sleep(max(0.0, getattr(decode_clip, "RACY_NS", 0) / 1e9 + 0.1))
        print(
            f"{clip.name}: 1280x720, 120 frames, {clip.stat().st_size / 1e6:.1f} MB; "
            f"{len(report.findings)} findings ({', '.join(f.code for f in report.findings)})"
        )

        def alone() -> None:
            for name in FORMATS:
                writer = WRITERS.get(name)
                writer.write(report, out / f"alone{writer.SUFFIX}")

        def together() -> None:
            write_reports(report, out, "together", FORMATS)

        counts: dict[str, int] = {}
        counted(grab, "open_clip", counts)
        # reads of the whole file for its sha256 (before the hash memo: every sha256_file call)
        reader = "_digest_file" if hasattr(decode_clip, "_digest_file") else "sha256_file"
        counted(decode_clip, reader, counts)
        page = out / "together.html"
        for label, run in (("each writer alone", alone), ("write_reports", together)):
            counts.clear()
            run()
            decodes = counts.get("open_clip", 0)
            hashes = counts.get(reader, 0)
            seconds = timed(run, repeat)
            print(
                f"{label:20} {seconds:7.3f} s (median of {repeat})  "
                f"decodes {decodes}  file hashes {hashes}"
            )
        print(f"html page {page.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
