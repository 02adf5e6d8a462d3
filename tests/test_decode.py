"""Decoding: every container, presentation times (GIF delays, gaps), the working copy, image
folders, the decord alternative, and memory that does not grow with clip length."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from vidlint.decode import open_clip, working_size
from vidlint.synth import Artifact, SynthSpec, render, write_clip


@pytest.mark.parametrize("suffix, fps", [
    (".mp4", 12.0), (".mov", 12.0), (".mkv", 12.0), (".webm", 12.0), (".avi", 12.0),
    (".gif", 12.0), ("", 24.0),  # an image folder has no timing: it plays at 24 fps
])
def test_every_container_decodes_to_the_rendered_frames(tmp_path, suffix, fps):
    spec = SynthSpec(width=320, height=240, frames=24, fps=fps)
    path = tmp_path / f"clip{suffix}" if suffix else tmp_path / "frames"
    write_clip(spec, path)
    rendered = [rgb for _, rgb in render(spec)]
    with open_clip(path) as clip:
        frames = list(clip.frames())
        info = clip.info
    assert [f.index for f in frames] == list(range(24))
    assert (info.width, info.height, info.frame_count) == (320, 240, 24)
    assert info.fps == pytest.approx(fps, rel=0.02)
    assert info.duration_s == pytest.approx(24 / fps, rel=0.02)
    # GIF delays are whole hundredths of a second
    assert np.allclose([f.time_s for f in frames], np.arange(24) / fps, atol=0.006)
    error = np.mean([np.abs(f.rgb.astype(int) - r).mean() for f, r in zip(frames, rendered)])
    assert error < 12, f"decoded frames differ from what was rendered ({error:.1f})"
    assert not info.vfr and len(info.sha256) == 64


def test_working_copy_is_made_once_at_360p():
    assert working_size(1280, 720) == (640, 360)
    assert working_size(720, 1280) == (360, 640)
    assert working_size(256, 256) == (256, 256)  # never upscaled


def test_frames_carry_full_resolution_and_working_copy(tmp_path):
    path = tmp_path / "wide.mp4"
    write_clip(SynthSpec(width=960, height=540, frames=4), path)
    with open_clip(path) as clip:
        frame = next(iter(clip.frames()))
    assert frame.rgb.shape == (540, 960, 3)
    assert frame.small.shape == (360, 640, 3) and frame.gray.shape == (360, 640)


def test_gif_frame_delays_are_honoured(shared_clips):
    with open_clip(shared_clips / "gen_t2v_animatediff-realisticvision_bw_man.gif") as clip:
        times = [f.time_s for f in clip.frames()]
        info = clip.info
    assert len(times) == 48
    assert set(np.round(np.diff(times), 2)) == {0.04, 0.05}  # delays of 4 and 5 hundredths
    assert info.fps == pytest.approx(23.077, abs=0.01)  # frames / sum of delays
    assert not info.vfr  # centisecond rounding of a steady rate is not variable rate


def test_uneven_gif_delays_make_a_vfr_clip(tmp_path):
    path = tmp_path / "vfr.gif"
    write_clip(SynthSpec(frames=20, fps=10.0, artifacts=[Artifact("drop", 10, 4)]), path)
    with open_clip(path) as clip:
        times = [f.time_s for f in clip.frames()]
        info = clip.info
    assert times[10] - times[9] == pytest.approx(0.5, abs=0.011)
    assert info.vfr


def test_decord_decoder_gives_the_same_frames(tmp_path):
    pytest.importorskip("decord")
    path = tmp_path / "clip.mp4"
    write_clip(SynthSpec(frames=12), path)
    with open_clip(path) as clip:
        pyav = [f.rgb for f in clip.frames()]
    with open_clip(path, decoder="decord") as clip:
        other = [f.rgb for f in clip.frames()]
    assert len(other) == len(pyav) == 12
    assert max(np.abs(a.astype(int) - b).mean() for a, b in zip(pyav, other)) < 2.0


def test_memory_stays_flat_while_streaming(tmp_path):
    """Holding a 600-frame 640x360 clip would take 400 MB; streaming keeps a few frames."""
    path = tmp_path / "long.mp4"
    write_clip(SynthSpec(width=640, height=360, frames=600, fps=60.0, objects=1), path)
    tracemalloc.start()
    with open_clip(path) as clip:
        count = sum(1 for _ in clip.frames())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 600
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MB"
