"""Whole-pipeline benchmark: prints, in one run, the figures design.md's targets are about.

    python benchmarks/pipeline.py [--clip PATH] [--batch-clips 4] [--long-seconds 60] [--no-long]

- decode-only time (vidlint's decoder with its 360p working copy) on the reference clip;
- default profile, one clip: cold (a fresh ``vidlint check`` process, start-up included) and
  warm (in this process, second run);
- default profile in a batch with the process pool, 2 workers: wall time per clip;
- temporal-only (``--select TMP,FLK``) and PySceneDetect's ContentDetector alone on the same clip;
- start-up included: ``vidlint check --select TMP`` against ``scenedetect -i CLIP detect-content``,
  each a whole process, median of 5 runs taken in turn;
- the ratios between them, and whether the targets are met;
- peak memory (max RSS of a fresh process) checking the reference clip and a long clip
  (default 60 s of 1080p): flat if the pipeline streams.

Reference clip: 5 s, 720p, 24 fps H.264 with faces and hands. Made once (cached in
$VIDLINT_BENCH_DIR, default /tmp/vidlint-bench) from the 720p evaluation clip
gen_t2v_fasthunyuan_willsmith_noodles.mp4 played forwards then backwards to 120 frames, or, where
the evaluation clips are absent, from a synthetic 720p clip with a drawn hand.
Timings on a shared machine are noisy: run it when the machine is idle.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIDLINT_SHARED_CLIPS", REPO.parent / "shared" / "clips"))
BENCH = Path(os.environ.get("VIDLINT_BENCH_DIR", Path(tempfile.gettempdir()) / "vidlint-bench"))
SOURCE = "gen_t2v_fasthunyuan_willsmith_noodles.mp4"
TARGET_BATCH_S, TARGET_COLD_S, STRETCH_S = 2.5, 5.0, 1.5
CLI = "from vidlint.cli.app import main; main()"


def encode(frames, path: Path, fps: float = 24.0, size: tuple[int, int] | None = None) -> Path:
    """H.264 (CRF 20, like research/stage-speeds.md's clips) from an iterable of RGB frames."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(partial), "w") as container:
        stream = None
        for index, rgb in enumerate(frames):
            if stream is None:
                stream = container.add_stream("libx264", rate=rate)
                stream.height, stream.width = (size[1], size[0]) if size else rgb.shape[:2]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": "20", "preset": "veryfast"}
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if size and (rgb.shape[1], rgb.shape[0]) != size:
                frame = frame.reformat(width=size[0], height=size[1])
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    partial.replace(path)
    return path


def source_frames() -> list[np.ndarray]:
    source = SHARED / SOURCE
    if source.is_file():
        with av.open(str(source)) as container:
            return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    from vidlint.synth import Artifact, SynthSpec, render

    spec = SynthSpec(
        width=1280,
        height=720,
        frames=60,
        fps=24.0,
        camera="pan",
        artifacts=[Artifact("hand", 0, 60)],
    )
    return [rgb for _, rgb in render(spec)]


def reference_clip() -> Path:
    """5 s of 720p at 24 fps: the source clip forwards, backwards, forwards... (120 frames)."""
    path = BENCH / "reference_720p_5s.mp4"
    if not path.is_file():
        frames = source_frames()
        loop = frames + frames[-2:0:-1]
        encode((loop[i % len(loop)] for i in range(120)), path)
    return path


def long_clip(seconds: int) -> Path:
    """``seconds`` of 1080p at 24 fps made the same way (upscaled), for the memory check."""
    path = BENCH / f"long_1080p_{seconds}s.mp4"
    if not path.is_file():
        frames = source_frames()
        loop = frames + frames[-2:0:-1]
        encode((loop[i % len(loop)] for i in range(seconds * 24)), path, size=(1920, 1080))
    return path


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - start, value


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Row:
    """A wall time and the CPU seconds it took: on a busy shared machine the wall time
    inflates, the CPU time much less; CPU / cores estimates the wall time on an idle machine."""

    def __init__(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = wall, cpu

    def __str__(self) -> str:
        return f"{self.wall:6.2f} s wall, {self.cpu:6.2f} s CPU"


def in_process(function, *args) -> tuple[Row, object]:
    """Second of two runs in this process (the first loads models and warms caches)."""
    function(*args)
    cpu = time.process_time()
    seconds, value = timed(function, *args)
    return Row(seconds, time.process_time() - cpu), value


def decode_only(path: Path) -> Row:
    from vidlint.decode import open_clip

    def run() -> int:
        with open_clip(path) as clip:
            return sum(1 for _ in clip.frames())

    return in_process(run)[0]


def check_warm(path: Path, select: list[str] | None = None) -> tuple[Row, object]:
    from vidlint.config import load_config
    from vidlint.pipeline import Checker

    config = load_config(start=REPO)
    if select:
        config = config.with_options(select=select)
    return in_process(Checker(config).check, path)


def check_cold(path: Path) -> Row:
    """A fresh ``vidlint check`` process: imports, model set-up, the clip, the report."""
    with tempfile.TemporaryDirectory() as out:
        cpu = children_cpu()
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", CLI, "check", str(path), "-o", out, "-q", "--engine", "serial"],
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        return Row(time.perf_counter() - start, children_cpu() - cpu)


def batch(path: Path, clips: int, jobs: int) -> Row:
    """Per clip: wall and worker CPU seconds for ``clips`` copies of ``path`` through the
    process pool (worker start-up included)."""
    from vidlint.batch import run_batch
    from vidlint.config import load_config

    with tempfile.TemporaryDirectory() as folder:
        copies = []
        for number in range(clips):
            copy = Path(folder) / f"clip{number}.mp4"
            copy.symlink_to(path)
            copies.append(copy)
        cpu = children_cpu()
        seconds, result = timed(
            run_batch,
            copies,
            load_config(start=REPO),
            Path(folder) / "out",
            engine="pool",
            jobs=jobs,
            force=True,
        )
        cpu = children_cpu() - cpu
    errors = [o.error for o in result.outcomes if o.error]
    if errors:
        raise SystemExit(f"batch failed: {errors[0]}")
    return Row(seconds / clips, cpu / clips)


def process_seconds(command: list[str]) -> float:
    """Wall seconds of one fresh process: what a user waits for, imports included."""
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, capture_output=True, check=False)
    return time.perf_counter() - start


def startup_race(path: Path, runs: int = 5) -> tuple[float, float]:
    """Median wall seconds of ``vidlint check --select TMP`` and of PySceneDetect's own CLI on
    the clip, run in turn so that a busy spell on a shared machine falls on both."""
    bin_folder = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as out:
        vidlint = [str(bin_folder / "vidlint"), "check", str(path), "--select", "TMP", "-o", out]
        scenedetect = [str(bin_folder / "scenedetect"), "-i", str(path), "detect-content"]
        for command in (vidlint, scenedetect):  # one untimed run each fills the file cache
            process_seconds(command)
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(process_seconds(vidlint))
            theirs.append(process_seconds(scenedetect))
    return sorted(ours)[runs // 2], sorted(theirs)[runs // 2]


def scenedetect_time(path: Path) -> tuple[Row, int]:
    from scenedetect import ContentDetector, detect

    return in_process(detect, str(path), ContentDetector())


def peak_memory(path: Path, select: str | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of a fresh process checking ``path``."""
    command = [sys.executable, __file__, "--measure-memory", str(path)]
    if select:
        command += ["--select", select]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"memory run failed: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])["max_rss_mib"]


def measure_memory(path: Path, select: str | None) -> None:
    from vidlint.config import load_config
    from vidlint.pipeline import Checker

    config = load_config(start=REPO)
    if select:
        config = config.with_options(select=select.split(","))
    Checker(config).check(path)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"max_rss_mib": round(rss, 1)}))


def available(select: list[str]) -> list[str]:
    from vidlint.rules import load_rules

    codes = load_rules()
    return [s for s in select if any(code.startswith(s) for code in codes)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--clip",
        type=Path,
        help="Reference clip (default: made from the evaluation clips, see the module doc).",
    )
    parser.add_argument(
        "--batch-clips",
        type=int,
        default=8,
        help="Clips in the batch run (worker start-up is shared by them).",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--long-seconds", type=int, default=60)
    parser.add_argument("--no-long", action="store_true", help="Skip the long-clip memory run.")
    parser.add_argument("--measure-memory", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--select", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_memory:
        measure_memory(args.measure_memory, args.select)
        return

    clip = args.clip or reference_clip()
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        frames = stream.frames or sum(1 for _ in container.decode(video=0))
        info = f"{stream.codec_context.width}x{stream.codec_context.height}, {frames} frames"
    print(
        f"clip: {clip} ({info}); {os.cpu_count()} CPUs; load average "
        f"{os.getloadavg()[0]:.1f} (figures are noisy when others use the machine)"
    )
    temporal = available(["TMP", "FLK"])
    cores = os.cpu_count() or 1

    rows: dict[str, Row] = {}
    rows["decode"] = decode_only(clip)
    print(f"  decode only (PyAV + 360p working copy)    {rows['decode']}")
    rows["scenedetect"], scenes = scenedetect_time(clip)
    print(f"  PySceneDetect ContentDetector alone       {rows['scenedetect']} ({len(scenes)} cuts)")
    rows["tmp"], _ = check_warm(clip, ["TMP"])
    print(f"  TMP rules only (--select TMP)             {rows['tmp']}")
    ours, theirs = startup_race(clip)
    print(
        f"  whole process, median of 5: vidlint check --select TMP {ours:5.2f} s, "
        f"scenedetect detect-content {theirs:5.2f} s ({ours / theirs:.2f}x, <= 1 wanted)"
    )
    rows["temporal"], report = check_warm(clip, temporal)
    print(
        f"  temporal (--select {','.join(temporal)})               {rows['temporal']}"
        f"  [runs {', '.join(sorted(report.timings['analyzers_s']))}]"
    )
    rows["warm"], report = check_warm(clip)
    print(f"  default profile, one clip, warm           {rows['warm']}")
    analyzers = report.timings.get("analyzers_s", {})
    print(
        "      wall per stage: "
        + ", ".join(f"{k} {v:.2f}" for k, v in sorted(analyzers.items(), key=lambda kv: -kv[1]))
        + f"; decode {report.timings['decode_s']:.2f}"
        f"; rules {report.timings.get('rules_s', 0):.2f}"
    )
    rows["cold"] = check_cold(clip)
    print(f"  default profile, one clip, cold process   {rows['cold']}")
    rows["batch"] = batch(clip, args.batch_clips, args.jobs)
    print(
        f"  default profile, batch of {args.batch_clips}, {args.jobs} workers  {rows['batch']}"
        " per clip"
    )

    print("ratios (wall; CPU in brackets):")

    def ratio(a: str, b: str) -> str:
        return f"{rows[a].wall / rows[b].wall:6.2f} [{rows[a].cpu / rows[b].cpu:5.2f}]"

    print(
        f"  TMP only / PySceneDetect                   {ratio('tmp', 'scenedetect')}  (<= 1 wanted)"
    )
    print(f"  temporal (TMP,FLK) / PySceneDetect         {ratio('temporal', 'scenedetect')}")
    print(f"  default warm / decode only                 {ratio('warm', 'decode')}")
    print(f"  single warm / batch per clip               {ratio('warm', 'batch')}")
    idle_batch = rows["batch"].cpu / min(cores, args.jobs)
    idle_cold = rows["cold"].cpu  # upper bound: most stages are single-threaded
    print(
        f"targets (5 s 720p clip, {cores} cores); 'idle est.' = CPU s / cores, what an idle "
        "machine would give:"
    )
    for label, wall, idle, target in (
        ("batch per clip", rows["batch"].wall, idle_batch, TARGET_BATCH_S),
        ("cold one clip ", rows["cold"].wall, idle_cold, TARGET_COLD_S),
    ):
        verdict = "met" if min(wall, idle) <= target else "NOT met"
        print(f"  {label} {wall:6.2f} s wall, idle est. {idle:5.2f} s vs <= {target} s: {verdict}")
    print(
        f"  stretch {STRETCH_S} s per clip in a batch: "
        f"{'met' if idle_batch <= STRETCH_S else 'not met'}"
    )
    print(
        f"  TMP only vs PySceneDetect: "
        f"{'met' if rows['tmp'].cpu <= rows['scenedetect'].cpu else 'NOT met'} (CPU)"
    )

    if not args.no_long:
        seconds, short_rss = peak_memory(clip)
        print(
            f"memory: default profile, 5 s 720p clip: peak RSS {short_rss:7.0f} MiB "
            f"({seconds:.1f} s)"
        )
        long_path = long_clip(args.long_seconds)
        seconds, long_rss = peak_memory(long_path)
        raw = args.long_seconds * 24 * 1920 * 1080 * 3 / 2**20
        print(
            f"memory: default profile, {args.long_seconds} s 1080p clip: peak RSS "
            f"{long_rss:7.0f} MiB ({seconds:.1f} s; the decoded clip would be {raw:.0f} MiB)"
        )
        print(
            f"  long / short peak RSS {long_rss / short_rss:.2f} "
            f"({'flat: streams' if long_rss < short_rss + 0.1 * raw else 'GROWS with length'})"
        )


if __name__ == "__main__":
    from vidlint.cli.quiet import filter_native_logs

    filter_native_logs()  # MediaPipe's native log lines would bury the figures
    main()
