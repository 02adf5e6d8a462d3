"""The torch path on the CPU device (what CI has): the temporal and flow analyzers give the
same signals and findings with ``device = "torch-cpu"`` as on their OpenCV path, on synthetic
clips with injected defects and on real clips; the batched ops give the OpenCV results; device
selection falls back cleanly and keeps torch out of the default path; RAFT loads only from
weights placed in models/."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the gpu extra is in the test extra

import subprocess
import sys

from vidlint.analyzers.flow.batched import find_raft_weights, load_raft, raft_flow, remap_position
from vidlint.analyzers.temporal import block_means as cv_block_means
from vidlint.config import load_config
from vidlint.decode import open_clip
from vidlint.errors import ConfigError
from vidlint.gpu import ops, pipeline_device, select_device
from vidlint.gpu.decode import frame_batches
from vidlint.pipeline import Checker
from vidlint.synth import Artifact

CPU = torch.device("cpu")


def _frames(path, count=12, short_side=360):
    with open_clip(path, short_side=short_side) as clip:
        frames = []
        for frame in clip.frames():
            frames.append(frame)
            if len(frames) == count:
                break
    return frames


@pytest.fixture(scope="module", params=["synth", "camera"])
def frames(request, synth_clip, shared_clips):
    if request.param == "synth":
        path = synth_clip(
            "gpu-pan", ".mp4", [Artifact("flicker", 4, 4)], width=320, height=240, frames=16
        )
    else:
        path = shared_clips / "real_mmaction2_basketball.mp4"
    return _frames(path)


def test_device_selection_falls_back_to_cpu_and_names_errors():
    assert select_device("cpu") == CPU
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pipeline_device("cpu") is None  # the OpenCV/numpy analyzers
    assert pipeline_device("torch-cpu") == CPU
    if torch.cuda.is_available():
        assert pipeline_device("auto").type == "cuda"
    else:
        assert pipeline_device("auto") is None  # no GPU: the OpenCV path, quietly
        for name in ("cuda", "cuda:1"):
            with pytest.raises(ConfigError, match="CUDA is not available"):
                pipeline_device(name)
    for name, cause in (("tpu", "unknown device 'tpu'"), ("cuda:x", "must be a number")):
        with pytest.raises(ConfigError, match=cause):
            pipeline_device(name)


def test_default_device_keeps_torch_out_of_a_machine_without_gpu(synth_clip, tmp_path):
    """``auto`` probes for the NVIDIA driver before importing torch (a second of start-up)."""
    path = synth_clip("gpu-lazy", ".mp4", [], width=160, height=120, frames=6)
    code = (
        "import sys, vidlint; r = vidlint.check(sys.argv[1], select=['TMP']); "
        "print(r.config['device'], r.config['device_used'], 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.split()
    from vidlint.gpu import nvidia_driver_present

    if not nvidia_driver_present():
        assert out == ["auto", "cpu", "False"]


def _same_analysis(path, select: str) -> tuple:
    """The report of ``path`` on the OpenCV path and on the torch path (CPU device)."""
    reports = [
        Checker(load_config().with_options(select=[select], device=device)).check(path)
        for device in ("cpu", "torch-cpu")
    ]
    assert [r.config["device_used"] for r in reports] == ["cpu", "torch-cpu"]
    return tuple(reports)


def _signal(report, key) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in report.signals[key]], dtype=float)


def _spans(report) -> list:
    return [(f.code, f.start_frame, f.end_frame, f.severity) for f in report.findings]


TEMPORAL_CLIPS = [
    (
        "synth",
        [
            Artifact("freeze", 6, 6),
            Artifact("black", 20, 2),
            Artifact("cut", 30),
            Artifact("repeat", 38),
        ],
    ),
    ("real_mmaction2_armwrestling.mp4", None),  # TMP005 229-267 and a pull-down TMP002
]


@pytest.mark.parametrize("clip, artifacts", TEMPORAL_CLIPS, ids=[c[0] for c in TEMPORAL_CLIPS])
def test_temporal_torch_path_gives_the_same_signals_and_findings(
    clip, artifacts, synth_clip, shared_clips
):
    if artifacts is None:
        path = shared_clips / clip
    else:  # 48 frames: the torch path's batches of 32 meet mid-clip, inside no defect
        path = synth_clip("gpu-temporal", ".mp4", artifacts, width=320, height=240, frames=48)
    cpu, gpu = _same_analysis(path, "TMP")
    assert cpu.findings, "the clip must give findings to compare"
    assert _spans(gpu) == _spans(cpu)
    for key in cpu.signals:
        np.testing.assert_allclose(_signal(gpu, key), _signal(cpu, key), atol=1e-9, err_msg=key)


FLOW_CLIPS = [
    ("morph", [Artifact("morph", 18, 4)]),
    ("teleport", [Artifact("teleport", 20)]),
    ("jerk", [Artifact("jerk", 20, 2)]),
    ("flicker", [Artifact("flicker", 10, 6)]),
    ("gen_i2v_wan2.1-i2v-14b_astronaut_egg.mp4", None),  # MOT001 19-23: the egg morphs
]


@pytest.mark.parametrize("clip, artifacts", FLOW_CLIPS, ids=[c[0] for c in FLOW_CLIPS])
def test_flow_torch_path_gives_the_same_findings(clip, artifacts, synth_clip, shared_clips):
    if artifacts is None:
        path = shared_clips / clip
    else:  # 40 frames: the flow's batches of 16 pairs meet twice
        path = synth_clip(
            f"gpu-flow-{clip}", ".mp4", artifacts, camera="pan", width=320, height=240, frames=40
        )
    cpu, gpu = _same_analysis(path, "MOT,FLK")
    assert cpu.findings, "the clip must give findings to compare"
    assert _spans(gpu) == _spans(cpu)
    # motion and camera fit come from the same DIS flow: equal; the warp error differs only by
    # cv2.remap's fixed-point weights (measured: under 0.01 grey levels)
    for key, tolerance in (
        ("flow.motion", 1e-6),
        ("flow.motion_p99", 1e-6),
        ("flow.camera_residual", 1e-6),
        ("flow.occluded", 1e-3),
        ("flow.warp_error", 0.03),
        ("flow.brightness_shift", 0.03),
    ):
        np.testing.assert_allclose(
            _signal(gpu, key), _signal(cpu, key), atol=tolerance, err_msg=key
        )


def test_differences_and_statistics_match_opencv(frames):
    gray = np.stack([f.gray for f in frames])
    diffs = ops.consecutive_diff(torch.from_numpy(gray)).numpy()
    for i, diff in enumerate(diffs):
        cv_diff = cv2.absdiff(gray[i + 1], gray[i])
        assert np.array_equal(diff, cv_diff)
        assert np.array_equal(
            ops.block_means(torch.from_numpy(diff)[None], 8)[0].numpy(), cv_block_means(cv_diff, 8)
        )
    mean, std = ops.mean_std(ops.as_batch([f.small for f in frames], CPU))
    for i, frame in enumerate(frames):
        cv_mean, cv_std = cv2.meanStdDev(frame.small)
        np.testing.assert_allclose(mean[i].numpy(), cv_mean[:, 0], rtol=1e-9)
        np.testing.assert_allclose(std[i].numpy(), cv_std[:, 0], rtol=1e-9)


def test_warp_matches_remap_with_dis_flow(frames):
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    back = dis.calc(frames[1].gray, frames[0].gray, None)  # current frame -> previous one
    height, width = back.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    image = frames[0].small.astype(np.float32)
    cv_warped = cv2.remap(
        image,
        xs + back[..., 0],
        ys + back[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    warped = ops.warp(torch.from_numpy(frames[0].small)[None], torch.from_numpy(back)[None])
    exact = _bilinear(image.astype(np.float64), xs + back[..., 0], ys + back[..., 1])
    assert np.abs(warped[0].numpy() - exact).max() < 0.01  # exact bilinear sampling
    # cv2.remap samples at positions rounded to 1/32 px: the flow checks round the same way
    # (vidlint.analyzers.flow.batched.remap_position) and then agree with it
    error = np.abs(warped[0].numpy() - cv_warped)
    assert error.mean() < 0.1 and error.max() < 5.0
    map_x, map_y = (torch.from_numpy(m) for m in (xs + back[..., 0], ys + back[..., 1]))
    at = torch.stack(
        [
            remap_position(map_x) - torch.from_numpy(xs),
            remap_position(map_y) - torch.from_numpy(ys),
        ],
        dim=-1,
    )[None]
    rounded = ops.warp(torch.from_numpy(frames[0].small)[None], at)[0].numpy()
    assert np.abs(rounded - cv_warped).max() < 0.01
    # the warp must explain the motion: far lower error than not warping
    plain = np.abs(frames[1].small.astype(np.float32) - image).mean()
    if plain > 2:  # frames that move
        assert np.abs(rounded - frames[1].small).mean() < plain


def test_batched_decode_gives_the_decoder_frames(synth_clip):
    path = synth_clip("gpu-decode", ".mp4", [], width=320, height=240, frames=20)
    batches = list(frame_batches(path, CPU, batch_size=8))
    assert [len(b.indices) for b in batches] == [8, 8, 4]
    with open_clip(path) as clip:
        frames = list(clip.frames())
    stacked = torch.cat([b.rgb for b in batches]).numpy()
    assert np.array_equal(stacked, np.stack([f.rgb for f in frames]))
    assert [t for b in batches for t in b.times] == [f.time_s for f in frames]
    with pytest.raises(ConfigError, match="unknown GPU decoder"):
        next(frame_batches(path, CPU, decoder="nvdec"))


def test_raft_loads_only_from_weights_in_models(tmp_path):
    assert find_raft_weights(tmp_path) is None
    assert load_raft(CPU, tmp_path) is None  # nothing there: no download, no torchvision import
    (tmp_path / "raft_small.pth").write_bytes(b"not weights")
    assert find_raft_weights(tmp_path) == ("raft_small", tmp_path / "raft_small.pth")
    with pytest.raises(ConfigError):  # broken weights or no usable torchvision: a clear error
        load_raft(CPU, tmp_path)


class ShiftModel(torch.nn.Module):
    """Stands in for RAFT's network, which torchvision cannot load beside the CPU build of
    torch: every pixel moves 2 px right. Like RAFT it returns its list of refinements."""

    def forward(self, first, second, num_flow_updates=12):
        flow = torch.zeros(first.shape[0], 2, *first.shape[2:])
        flow[:, 0] = 2.0
        return [flow]


def test_flow_analyzer_runs_raft_on_the_torch_path(synth_clip, tmp_path, monkeypatch):
    path = synth_clip("gpu-raft-static", ".mp4", [], width=320, height=240, frames=20)
    raft = {"flow": {"model": "raft"}}
    monkeypatch.setenv("VIDLINT_MODELS", str(tmp_path))  # an empty models/ folder
    with pytest.raises(
        ConfigError, match=re.escape("needs raft_large.pth or raft_small.pth")
    ) as error:
        Checker(
            load_config().with_options(select=["MOT"], device="torch-cpu", analyzers=raft)
        ).check(path)
    assert str(tmp_path) in str(error.value)
    with pytest.raises(ConfigError, match="set device to cuda"):
        Checker(load_config().with_options(select=["MOT"], device="cpu", analyzers=raft)).check(
            path
        )

    import vidlint.analyzers.flow.batched

    monkeypatch.setattr(vidlint.analyzers.flow.batched, "load_raft", lambda device: ShiftModel())
    report = Checker(
        load_config().with_options(select=["MOT"], device="torch-cpu", analyzers=raft)
    ).check(path)
    motion = np.array(report.signals["flow.motion"][1:])
    # 2 px at the 240-px check size is 3 px of a 360-px short side, on every pair
    np.testing.assert_allclose(motion, 3.0, atol=1e-6)
    dis = Checker(load_config().with_options(select=["MOT"], device="torch-cpu")).check(path)
    assert np.ptp(np.array(dis.signals["flow.motion"][1:], dtype=float)) > 0.05  # DIS: varies


def test_raft_flow_with_placed_weights(tmp_path, synth_clip):
    optical_flow = pytest.importorskip("torchvision.models.optical_flow")  # truly optional
    torch.save(optical_flow.raft_small(weights=None).state_dict(), tmp_path / "raft_small.pth")
    model = load_raft(CPU, tmp_path)
    path = synth_clip("gpu-raft", ".mp4", [], width=320, height=240, frames=4)
    rgb = next(frame_batches(path, CPU, batch_size=4)).rgb
    flow = raft_flow(model, rgb[:-1], rgb[1:], iterations=2)
    assert flow.shape == (3, 240, 320, 2) and torch.isfinite(flow).all()


def _bilinear(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """Reference bilinear sampling in float64 with replicated borders."""
    height, width = image.shape[:2]
    mx, my = np.clip(map_x, 0, width - 1), np.clip(map_y, 0, height - 1)
    x0, y0 = np.floor(mx).astype(int), np.floor(my).astype(int)
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    ax, ay = (mx - x0)[..., None], (my - y0)[..., None]
    return (
        image[y0, x0] * (1 - ax) * (1 - ay)
        + image[y0, x1] * ax * (1 - ay)
        + image[y1, x0] * (1 - ax) * ay
        + image[y1, x1] * ax * ay
    )
