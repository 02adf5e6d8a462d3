"""Checks the torch path against the CPU (OpenCV/numpy) results and prints its timings.

    python benchmarks/gpu_check.py [--clip PATH] [--device auto|cpu|cuda] [--batch 32]

Run it in a venv with torch (``pip install -e '.[gpu]'``; on a CUDA machine a CUDA build of
torch 2.13.0). It needs no evaluation clips: without ``--clip`` it renders a 720p synthetic clip.
Exit status 1 if any GPU result departs from the CPU result beyond its tolerance.

What it compares, on the clip's real decoded frames:
- gray conversion and frame differences (bit-exact), block means, mean/std, Laplacian variance;
- bilinear warping by a DIS flow field against an exact float64 reference (and cv2.remap, which
  rounds sample positions to 1/32 px) and the forward/backward occlusion mask;
- the temporal analyzer's per-frame statistics (vidlint.check --select TMP) against
  vidlint.gpu.stats.clip_statistics on the device, end to end;
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

import vidlint
from vidlint.analyzers.temporal import BLOCK_DIFF, DIFF, LUMA, LUMA_STD
from vidlint.analyzers.temporal import block_means as cv_block_means
from vidlint.decode import open_clip
from vidlint.gpu import require_torch, select_device

torch = require_torch()

from vidlint.gpu import ops
from vidlint.gpu.decode import frame_batches, torchcodec_available
from vidlint.gpu.flow import find_raft_weights, load_raft, raft_flow
from vidlint.gpu.stats import clip_statistics, working_gray

failures: list[str] = []


def check(name: str, error: float, tolerance: float) -> None:
    ok = error <= tolerance
    print(f"  {'ok  ' if ok else 'FAIL'} {name:44s} max error {error:.3g} (tolerance {tolerance:g})")
    if not ok:
        failures.append(name)


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
    write_clip(SynthSpec(width=1280, height=720, frames=96, fps=24.0, camera="pan",
                         artifacts=[Artifact("flicker", 30, 6), Artifact("black", 60, 2)]), path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    device = select_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, device {device} ({name}); torchcodec "
          f"{'present' if torchcodec_available() else 'absent'}")
    folder = Path(tempfile.mkdtemp(prefix="vidlint-gpu-"))
    clip = args.clip or make_clip(folder)

    with open_clip(clip) as opened:
        frames = [f for _, f in zip(range(args.batch), opened.frames())]
    small = np.stack([f.small for f in frames])
    gray_cpu = np.stack([cv2.cvtColor(f.small, cv2.COLOR_RGB2GRAY) for f in frames])
    print(f"clip {clip}: {frames[0].rgb.shape[1]}x{frames[0].rgb.shape[0]}, working copy "
          f"{small.shape[2]}x{small.shape[1]}, {len(frames)} frames per batch")

    print("agreement with the CPU path:")
    rgb = ops.as_batch(small, device)
    gray = ops.rgb_to_gray(rgb)
    check("gray (cv2.cvtColor)", float(np.abs(gray.cpu().numpy().astype(int) - gray_cpu).max()), 0)
    diffs = ops.consecutive_diff(gray).cpu().numpy()
    cv_diffs = np.stack([cv2.absdiff(gray_cpu[i + 1], gray_cpu[i]) for i in range(len(frames) - 1)])
    check("absdiff", float(np.abs(diffs.astype(int) - cv_diffs).max()), 0)
    blocks = ops.block_means(torch.from_numpy(cv_diffs).to(device), 8).cpu().numpy()
    cv_blocks = np.stack([cv_block_means(d, 8) for d in cv_diffs])
    check("8x8 block means (INTER_AREA)", float(np.abs(blocks - cv_blocks).max()), 0)
    mean, std = ops.mean_std(rgb)
    cv_stats = [cv2.meanStdDev(f.small) for f in frames]
    check("meanStdDev mean", float(np.abs(mean.cpu().numpy() - np.stack(
        [m[:, 0] for m, _ in cv_stats])).max()), 1e-6)
    check("meanStdDev std", float(np.abs(std.cpu().numpy() - np.stack(
        [s[:, 0] for _, s in cv_stats])).max()), 1e-6)
    lap = ops.laplacian_variance(gray).cpu().numpy()
    cv_lap = np.array([cv2.Laplacian(g, cv2.CV_32F).var() for g in gray_cpu])
    check("Laplacian variance (relative)", float(np.abs(lap / cv_lap - 1).max()), 1e-4)

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    back = np.stack([dis.calc(gray_cpu[i + 1], gray_cpu[i], None) for i in range(len(frames) - 1)])
    fwd = np.stack([dis.calc(gray_cpu[i], gray_cpu[i + 1], None) for i in range(len(frames) - 1)])
    height, width = gray_cpu.shape[1:]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    warped = ops.warp(rgb[:-1], torch.from_numpy(back).to(device)).cpu().numpy()
    cv_warped = np.stack([cv2.remap(small[i].astype(np.float32), xs + back[i, ..., 0],
                                    ys + back[i, ..., 1], cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE) for i in range(len(back))])
    check("warp vs cv2.remap (mean)", float(np.abs(warped - cv_warped).mean()), 0.1)
    mask = ops.occlusion_mask(torch.from_numpy(back).to(device),
                              torch.from_numpy(fwd).to(device)).cpu().numpy()
    check("occlusion mask (share of pixels differing)",
          float(1 - (mask == _cv_mask(back, fwd, xs, ys)).mean()), 0.005)

    stats = clip_statistics(clip, device, batch_size=args.batch)
    signals = vidlint.check(clip, select=["TMP"]).signals
    for key in (LUMA, LUMA_STD, DIFF, BLOCK_DIFF):
        expected = np.array([np.nan if v is None else v for v in signals[key]], dtype=float)
        # downscaled working copies differ by rounding (torch area vs swscale AREA): a grey
        # level or two in a single 8x8 block, a fraction of a level in whole-frame means
        tolerance = (1e-5 if small.shape[1:3] == frames[0].rgb.shape[:2]
                     else 3.0 if key == BLOCK_DIFF else 0.5)
        check(f"clip statistics {key}", float(np.nanmax(np.abs(stats[key] - expected))), tolerance)

    print("timings (best of 3; per frame where it says fps):")
    n = len(frames)
    cpu_time = timed(lambda: [cv2.absdiff(gray_cpu[i + 1], gray_cpu[i]) for i in range(n - 1)],
                     torch.device("cpu"))
    gpu_time = timed(lambda: ops.consecutive_diff(gray), device)
    print(f"  absdiff        cv2 {n / cpu_time:8.0f} fps   torch {n / gpu_time:8.0f} fps")
    cpu_time = timed(lambda: [cv2.meanStdDev(f.small) for f in frames], torch.device("cpu"))
    gpu_time = timed(lambda: ops.mean_std(rgb), device)
    print(f"  meanStdDev     cv2 {n / cpu_time:8.0f} fps   torch {n / gpu_time:8.0f} fps")
    back_t = torch.from_numpy(back).to(device)
    cpu_time = timed(lambda: [cv2.remap(small[i], xs + back[i, ..., 0], ys + back[i, ..., 1],
                                        cv2.INTER_LINEAR) for i in range(n - 1)],
                     torch.device("cpu"))
    gpu_time = timed(lambda: ops.warp(rgb[:-1], back_t), device)
    print(f"  warp           cv2 {n / cpu_time:8.0f} fps   torch {n / gpu_time:8.0f} fps")
    full = ops.as_batch(np.stack([f.rgb for f in frames]), device)
    gpu_time = timed(lambda: working_gray(full), device)
    print(f"  720p->360p gray           torch {n / gpu_time:8.0f} fps")
    total = sum(1 for _ in open_clip(clip).frames())
    for decoder in ("pyav", "torchcodec"):
        if decoder == "torchcodec" and not (device.type == "cuda" and torchcodec_available()):
            print("  decode torchcodec (NVDEC): not available here")
            continue
        seconds = timed(lambda d=decoder: [b.rgb.shape for b in frame_batches(
            clip, device, args.batch, d)], device, 1)
        print(f"  decode {decoder:10s} to {device.type}: {total / seconds:8.0f} fps")
    seconds = timed(lambda: clip_statistics(clip, device, args.batch), device, 1)
    print(f"  clip statistics on {device.type}: {total / seconds:8.0f} fps (decode included)")
    weights = find_raft_weights()
    if weights:
        model = load_raft(device)
        pair = full[:8]
        seconds = timed(lambda: raft_flow(model, pair[:-1], pair[1:]), device, 1)
        print(f"  RAFT ({weights[0]}, full resolution): {7 / seconds:8.1f} pairs/s")
    else:
        print("  RAFT: no weights in models/ (place raft_large.pth or raft_small.pth)")
    print("result:", "all GPU paths match the CPU" if not failures else f"MISMATCH: {failures}")
    return 1 if failures else 0


def _cv_mask(back, fwd, xs, ys) -> np.ndarray:
    masks = []
    for b, f in zip(back, fwd):
        f_at = cv2.remap(f, xs + b[..., 0], ys + b[..., 1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
        masks.append(((b + f_at) ** 2).sum(-1) < 0.01 * ((b ** 2).sum(-1) + (f_at ** 2).sum(-1))
                     + 0.5)
    return np.stack(masks)


if __name__ == "__main__":
    sys.exit(main())
