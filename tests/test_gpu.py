"""The torch path on the CPU device (what CI has): every batched op gives the OpenCV/numpy
result the analyzers compute, on real decoded frames of a synthetic clip and a camera clip;
device selection falls back cleanly; RAFT loads only from weights placed in models/."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the gpu extra is in the test extra

import vidlint
from vidlint.analyzers.temporal import BLOCK_DIFF, DIFF, LUMA, LUMA_STD
from vidlint.analyzers.temporal import block_means as cv_block_means
from vidlint.decode import open_clip
from vidlint.errors import ConfigError
from vidlint.gpu import (
    ops,
    select_device,
)
from vidlint.gpu.decode import frame_batches
from vidlint.gpu.flow import find_raft_weights, load_raft, raft_flow
from vidlint.gpu.stats import SHARPNESS, clip_statistics
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
        path = synth_clip("gpu-pan", ".mp4", [Artifact("flicker", 4, 4)], width=320,
                          height=240, frames=16)
    else:
        path = shared_clips / "real_mmaction2_basketball.mp4"
    return _frames(path)


def test_device_selection_falls_back_to_cpu_and_names_errors():
    assert select_device("cpu") == CPU
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            select_device("cuda")
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        select_device("tpu")


def test_gray_and_differences_are_bit_exact(frames):
    rgb = ops.as_batch([f.small for f in frames], CPU)
    gray = ops.rgb_to_gray(rgb).numpy()
    expected = np.stack([cv2.cvtColor(f.small, cv2.COLOR_RGB2GRAY) for f in frames])
    assert np.array_equal(gray, expected)
    diffs = ops.consecutive_diff(torch.from_numpy(expected)).numpy()
    for i, diff in enumerate(diffs):
        cv_diff = cv2.absdiff(expected[i + 1], expected[i])
        assert np.array_equal(diff, cv_diff)
        assert np.array_equal(ops.block_means(torch.from_numpy(diff)[None], 8)[0].numpy(),
                              cv_block_means(cv_diff, 8))


def test_statistics_match_opencv(frames):
    rgb = ops.as_batch([f.small for f in frames], CPU)
    mean, std = ops.mean_std(rgb)
    gray = torch.from_numpy(np.stack([f.gray for f in frames]))
    lap = ops.laplacian_variance(gray).numpy()
    for i, frame in enumerate(frames):
        cv_mean, cv_std = cv2.meanStdDev(frame.small)
        np.testing.assert_allclose(mean[i].numpy(), cv_mean[:, 0], rtol=1e-9)
        np.testing.assert_allclose(std[i].numpy(), cv_std[:, 0], rtol=1e-9)
        cv_lap = cv2.Laplacian(frame.gray, cv2.CV_32F).var()
        np.testing.assert_allclose(lap[i], cv_lap, rtol=1e-4)


def test_warp_and_occlusion_match_remap_with_dis_flow(frames):
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    a, b = frames[0].gray, frames[1].gray
    back = dis.calc(b, a, None)  # flow from the current frame to the previous one
    fwd = dis.calc(a, b, None)
    height, width = a.shape
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    cv_warped = cv2.remap(frames[0].small.astype(np.float32), xs + back[..., 0],
                          ys + back[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    warped = ops.warp(torch.from_numpy(frames[0].small)[None], torch.from_numpy(back)[None])
    exact = _bilinear(frames[0].small.astype(np.float64), xs + back[..., 0], ys + back[..., 1])
    assert np.abs(warped[0].numpy() - exact).max() < 0.01  # exact bilinear sampling
    # cv2.remap rounds sample positions to 1/32 px: a small, bounded difference
    error = np.abs(warped[0].numpy() - cv_warped)
    assert error.mean() < 0.1 and np.percentile(error, 99.9) < 2.0 and error.max() < 5.0
    # the warp must explain the motion: far lower error than not warping
    plain = np.abs(frames[1].small.astype(np.float32) - frames[0].small).mean()
    ours = ops.warp_error(torch.from_numpy(frames[0].small)[None],
                          torch.from_numpy(frames[1].small)[None],
                          torch.from_numpy(back)[None]).item()
    assert ours == pytest.approx(np.abs(cv_warped - frames[1].small).mean(), abs=0.05)
    if plain > 2:  # frames that move
        assert ours < plain

    bwd_at = cv2.remap(fwd, xs + back[..., 0], ys + back[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    cv_mask = ((back + bwd_at) ** 2).sum(-1) < 0.01 * ((back ** 2).sum(-1) +
                                                        (bwd_at ** 2).sum(-1)) + 0.5
    mask = ops.occlusion_mask(torch.from_numpy(back)[None], torch.from_numpy(fwd)[None])[0]
    assert (mask.numpy() == cv_mask).mean() > 0.995


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


def test_clip_statistics_equal_the_temporal_analyzer(synth_clip, shared_clips):
    path = synth_clip("gpu-stats", ".mp4", [Artifact("freeze", 6, 6), Artifact("black", 16, 2)],
                      width=320, height=240, frames=24)
    stats = clip_statistics(path, CPU, batch_size=7)
    signals = vidlint.check(path, select=["TMP"]).signals
    # The CPU path takes luma from the decoded Y plane, the torch path from decoded RGB: the
    # two agree to a fraction of a grey level (block maxima to one level).
    for key, tolerance in ((LUMA, 0.2), (LUMA_STD, 0.2), (DIFF, 0.2), (BLOCK_DIFF, 1.0)):
        expected = np.array([np.nan if v is None else v for v in signals[key]], dtype=float)
        np.testing.assert_allclose(stats[key], expected, atol=tolerance, err_msg=key)
    assert np.all(stats[SHARPNESS][16:18] < 1.0) and np.all(stats[SHARPNESS][:6] > 10)

    # a 720p clip downscaled to the 360p working size (torch area vs cv2 INTER_AREA)
    real = shared_clips / "gen_t2v_fasthunyuan_willsmith_noodles.mp4"
    stats = clip_statistics(real, CPU)
    signals = vidlint.check(real, select=["TMP"]).signals
    luma = np.array(signals[LUMA], dtype=float)
    diff = np.array([np.nan if v is None else v for v in signals[DIFF]], dtype=float)
    assert len(stats[LUMA]) == len(luma)
    assert np.abs(stats[LUMA] - luma).max() < 0.5  # measured 0.20 (levels of 255)
    assert np.nanmax(np.abs(stats[DIFF] - diff)) < 0.1  # measured 0.016, diffs up to 9.5


def test_raft_loads_only_from_weights_in_models(tmp_path):
    assert find_raft_weights(tmp_path) is None
    assert load_raft(CPU, tmp_path) is None  # nothing there: no download, no torchvision import
    (tmp_path / "raft_small.pth").write_bytes(b"not weights")
    assert find_raft_weights(tmp_path) == ("raft_small", tmp_path / "raft_small.pth")
    with pytest.raises(ConfigError):  # broken weights or no usable torchvision: a clear error
        load_raft(CPU, tmp_path)


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
    return (image[y0, x0] * (1 - ax) * (1 - ay) + image[y0, x1] * ax * (1 - ay)
            + image[y1, x0] * (1 - ax) * ay + image[y1, x1] * ax * ay)
