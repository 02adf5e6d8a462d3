"""Checks the torch path against the OpenCV path and prints its timings.

    python benchmarks/gpu_check.py [--clip PATH] [--device auto|cuda|cuda:N|torch-cpu]

Run it in a venv with torch (``pip install -e '.[gpu]'``; on a CUDA machine a CUDA build of
torch 2.13.0). It needs no evaluation clips: without ``--clip`` it renders a 720p synthetic clip
with a flicker burst, black frames and a morphing object. Exit status 1 if the torch path's
findings differ from the OpenCV path's, or a signal departs beyond its tolerance.

What it compares, on the same clip:
- ``vidlint.check(select TMP,MOT,FLK)`` with ``device = "cpu"`` and with the torch device:
  findings (code, frames, severity) and the temporal and flow signals, and the seconds each
  analyzer took on each path;
- the batched ops on their own (differences, mean/std, warp), frames per second on each side;
- batched decode: PyAV (CPU) and, where installed, torchcodec on the GPU (NVDEC);
- RAFT optical flow when weights are in models/ (timing only; no CPU reference).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from vidlint.config import load_config
from vidlint.decode import open_clip
from vidlint.gpu import require_torch, select_device
from vidlint.pipeline import Checker

torch = require_torch()

from vidlint.analyzers.flow.batched import find_raft_weights, load_raft, raft_flow
from vidlint.gpu import ops
from vidlint.gpu.decode import frame_batches, torchcodec_available

TOLERANCE = {
    "temporal.": 1e-9,
    "flow.warp_error": 0.03,
    "flow.brightness_shift": 0.03,
    "flow.occluded": 1e-3,
    "flow.": 1e-6,
}
"""Largest difference allowed per signal (first matching prefix): temporal values are exact;
the flow warp differs only by cv2.remap's fixed-point interpolation weights."""

failures: list[str] = []


def synchronize(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(function, device, repeat: int = 3) -> float:
    function()
    synchronize(device)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def make_clip(folder: Path) -> Path:
    from vidlint.synth import Artifact, SynthSpec, write_clip

    path = folder / "gpu_check_720p.mp4"
    write_clip(
        SynthSpec(
            width=1280,
            height=720,
            frames=120,
            fps=24.0,
            camera="pan",
            artifacts=[
                Artifact("flicker", 30, 6),
                Artifact("black", 60, 2),
                Artifact("morph", 90, 4),
            ],
        ),
        path,
    )
    return path


def compare_pipeline(clip: Path, device_name: str) -> None:
    reports = {}
    for name in ("cpu", device_name):
        checker = Checker(load_config().with_options(select=["TMP", "MOT", "FLK"], device=name))
        checker.check(clip)  # warm: imports, first CUDA kernels
        start = time.perf_counter()
        reports[name] = checker.check(clip)
        print(
            f"  {reports[name].config['device_used']:12s} whole check "
            f"{time.perf_counter() - start:6.2f} s; analyzers "
            + ", ".join(f"{k} {v:.2f} s" for k, v in reports[name].timings["analyzers_s"].items())
        )
    cpu, gpu = reports["cpu"], reports[device_name]
    spans = [
        [(f.code, f.start_frame, f.end_frame, f.severity) for f in r.findings] for r in (cpu, gpu)
    ]
    same = spans[0] == spans[1]
    print(
        f"  {'ok  ' if same else 'FAIL'} findings {spans[0]}" + ("" if same else f" vs {spans[1]}")
    )
    if not same:
        failures.append("findings")
    for key in cpu.signals:
        if not key.startswith(("temporal.", "flow.")):
            continue
        a, b = (
            np.array([np.nan if v is None else v for v in r.signals[key]], dtype=float)
            for r in (cpu, gpu)
        )
        error = float(np.nanmax(np.abs(a - b))) if np.isfinite(a).any() else 0.0
        tolerance = next(t for prefix, t in TOLERANCE.items() if key.startswith(prefix))
        ok = error <= tolerance and np.array_equal(np.isnan(a), np.isnan(b))
        print(
            f"  {'ok  ' if ok else 'FAIL'} {key:26s} max difference {error:.3g} "
            f"(tolerance {tolerance:g})"
        )
        if not ok:
            failures.append(key)


def op_timings(clip: Path, device, batch: int) -> None:
    with open_clip(clip) as opened:
        frames = [f for _, f in zip(range(batch), opened.frames(), strict=False)]
    gray = np.stack([f.gray for f in frames])
    gray_t = ops.as_batch(gray, device)
    n = len(frames)
    cpu = timed(
        lambda: [cv2.absdiff(gray[i + 1], gray[i]) for i in range(n - 1)], torch.device("cpu")
    )
    gpu = timed(lambda: ops.consecutive_diff(gray_t), device)
    print(f"  absdiff        cv2 {n / cpu:8.0f} fps   torch {n / gpu:8.0f} fps")
    cpu = timed(lambda: [cv2.meanStdDev(g) for g in gray], torch.device("cpu"))
    gpu = timed(lambda: ops.mean_std(gray_t), device)
    print(f"  meanStdDev     cv2 {n / cpu:8.0f} fps   torch {n / gpu:8.0f} fps")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    back = np.stack([dis.calc(gray[i + 1], gray[i], None) for i in range(n - 1)])
    back_t = ops.as_batch(back, device)
    height, width = gray.shape[1:]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    cpu = timed(
        lambda: [
            cv2.remap(gray[i], xs + back[i, ..., 0], ys + back[i, ..., 1], cv2.INTER_LINEAR)
            for i in range(n - 1)
        ],
        torch.device("cpu"),
    )
    gpu = timed(lambda: ops.warp(gray_t[:-1], back_t), device)
    print(f"  warp           cv2 {n / cpu:8.0f} fps   torch {n / gpu:8.0f} fps")
    total = sum(1 for _ in open_clip(clip).frames())
    for decoder in ("pyav", "torchcodec"):
        if decoder == "torchcodec" and not (device.type == "cuda" and torchcodec_available()):
            print("  decode torchcodec (NVDEC): not available here")
            continue
        seconds = timed(
            lambda d=decoder: [b.rgb.shape for b in frame_batches(clip, device, batch, d)],
            device,
            1,
        )
        print(f"  decode {decoder:10s} to {device.type}: {total / seconds:8.0f} fps")
    weights = find_raft_weights()
    if weights:
        model = load_raft(device)
        pair = ops.as_batch(np.stack([f.small for f in frames[:8]]), device)
        seconds = timed(lambda: raft_flow(model, pair[:-1], pair[1:]), device, 1)
        print(f"  RAFT ({weights[0]}, working copy): {7 / seconds:8.1f} pairs/s")
    else:
        print("  RAFT: no weights in models/ (place raft_large.pth or raft_small.pth)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    device = select_device(args.device)
    device_name = (
        args.device if args.device != "auto" else ("cuda" if device.type == "cuda" else "torch-cpu")
    )
    label = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"torch {torch.__version__}, device {device} ({label}); torchcodec "
        f"{'present' if torchcodec_available() else 'absent'}"
    )
    clip = args.clip or make_clip(Path(tempfile.mkdtemp(prefix="vidlint-gpu-")))
    print(f"clip {clip}")
    print("the pipeline, OpenCV path against the torch path (TMP, MOT, FLK):")
    compare_pipeline(clip, device_name)
    print(f"batched ops and decode (best of 3, batches of {args.batch} frames):")
    op_timings(clip, device, args.batch)
    print(
        "result:",
        "the torch path matches the OpenCV path" if not failures else f"MISMATCH: {failures}",
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
