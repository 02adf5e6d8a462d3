"""Decoding: every container, presentation times (GIF delays, gaps), the working copy, image
folders, the decord alternative, and memory that does not grow with clip length."""

from __future__ import annotations

import tracemalloc

import av
import cv2
import numpy as np
import pytest

import vidlint
from vidlint.decode import open_clip, working_size
from vidlint.errors import InputError
from vidlint.synth import Artifact, SynthSpec, render, write_clip


@pytest.mark.parametrize(
    "suffix, fps",
    [
        (".mp4", 12.0),
        (".mov", 12.0),
        (".mkv", 12.0),
        (".webm", 12.0),
        (".avi", 12.0),
        (".gif", 12.0),
        ("", 24.0),  # an image folder has no timing: it plays at 24 fps
    ],
)
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
    error = np.mean(
        [np.abs(f.rgb.astype(int) - r).mean() for f, r in zip(frames, rendered, strict=True)]
    )
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
    assert max(np.abs(a.astype(int) - b).mean() for a, b in zip(pyav, other, strict=True)) < 2.0


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


# Unusual but valid input: each clip is encoded here with PyAV (no ffmpeg binary) from pictures
# whose content says what must come out: a red block at the top-left (orientation) and a lower
# half whose gray level encodes the frame number.


def _picture(index: int, width: int, height: int) -> np.ndarray:
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:] = (40, 80, 160)
    rgb[height // 2 :] = 20 + 8 * index
    rgb[: height // 4, : width // 4] = (230, 20, 20)
    return rgb


def _encode(
    path,
    pictures,
    codec="libx264",
    pix_fmt="yuv420p",
    rate=12,
    pts=None,
    rotation=None,
    full_range=False,
    options=None,
    fmt=None,
):
    height, width = pictures[0].shape[:2]
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, options=options or {})
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if rotation is not None:
            stream.set_display_rotation(rotation)
        if full_range:
            stream.codec_context.color_range = 2
        for index, rgb in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if full_range:
                frame = frame.reformat(format=pix_fmt, dst_color_range="JPEG")
                frame.color_range = 2
            frame.pts = index if pts is None else pts[index]
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def _remux(source, path, edit):
    """Copy ``source``'s video packets into ``path`` after ``edit(packets)`` changed them."""
    with av.open(str(source)) as inp, av.open(str(path), "w") as out:
        stream = inp.streams.video[0]
        packets = [p for p in inp.demux(stream) if p.size]
        target = out.add_stream_from_template(stream)
        for packet in edit(packets):
            packet.stream = target
            out.mux(packet)
    return path


def _decoded(path):
    with open_clip(path) as clip:
        frames = list(clip.frames())
    return clip, frames


def _frame_numbers(frames) -> list[int]:
    return [round((float(f.rgb[f.rgb.shape[0] * 3 // 4 :].mean()) - 20) / 8) for f in frames]


@pytest.mark.parametrize("rotation", [-90, 90, 180], ids=["phone-portrait", "ccw", "upside"])
def test_display_rotation_gives_upright_frames_in_the_shown_size(tmp_path, rotation):
    """A phone stores portrait video landscape with a display matrix; players show it upright
    and call it portrait, and so does vidlint (frames, working copy, gray, reported size)."""
    upright = (
        [_picture(i, 64, 96) for i in range(6)]
        if rotation != 180
        else [_picture(i, 96, 64) for i in range(6)]
    )
    stored = [np.ascontiguousarray(np.rot90(p, -rotation // 90)) for p in upright]
    path = _encode(tmp_path / "phone.mp4", stored, rotation=rotation)
    clip, frames = _decoded(path)
    height, width = upright[0].shape[:2]
    assert (clip.info.width, clip.info.height) == (width, height)
    for frame in frames:
        assert frame.rgb.shape == (height, width, 3) and frame.gray.shape == (height, width)
        assert np.abs(frame.rgb.astype(int) - upright[frame.index]).mean() < 4
        red = frame.small[: height // 8, : width // 8].reshape(-1, 3).mean(0)
        assert red[0] > 180 and red[2] < 60, "the red block must stay at the top-left"
        expected_gray = cv2.cvtColor(upright[frame.index], cv2.COLOR_RGB2GRAY)
        assert np.abs(frame.gray.astype(int) - expected_gray).mean() < 4
    assert _frame_numbers(frames) == list(range(6))
    report = vidlint.check(path, select=["TMP004"])
    assert (report.clip["width"], report.clip["height"]) == (width, height)


@pytest.mark.parametrize(
    "codec, pix_fmt, suffix, size, full_range",
    [
        ("libx264", "yuv444p", ".mp4", (96, 64), False),
        ("libx264", "yuv422p", ".mp4", (96, 64), False),
        ("libx264", "yuv420p10le", ".mp4", (96, 64), False),
        ("libx264rgb", "rgb24", ".mp4", (96, 64), False),
        ("libx264", "yuv444p", ".mp4", (65, 49), False),
        ("libvpx-vp9", "yuv420p", ".webm", (65, 49), False),
        ("libvpx-vp9", "yuva420p", ".webm", (96, 64), False),
        ("png", "rgba", ".mov", (96, 64), False),
        ("libvpx-vp9", "yuv420p", ".webm", (96, 64), True),
    ],
    ids=[
        "444",
        "422",
        "10bit",
        "rgb24",
        "odd-size-444",
        "odd-size-vp9",
        "vp9-alpha",
        "png-rgba",
        "full-range-vp9",
    ],
)
def test_pixel_formats_decode_to_the_encoded_colours(
    tmp_path, codec, pix_fmt, suffix, size, full_range
):
    """Full-range yuv420p (VP9 flags it instead of using yuvj420p) must not go through cv2's
    video-range conversion: colours were off by up to 16 levels (blue 160 came out 164, red
    40 as 28)."""
    width, height = size
    pictures = [_picture(i, width, height) for i in range(6)]
    clip, frames = _decoded(
        _encode(tmp_path / f"clip{suffix}", pictures, codec, pix_fmt, full_range=full_range)
    )
    assert (clip.info.width, clip.info.height, len(frames)) == (width, height, 6)
    for frame, expected in zip(frames, pictures, strict=True):
        assert frame.rgb.shape == (height, width, 3)
        error = np.abs(frame.rgb.astype(int) - expected).mean()
        assert error < 4, f"frame {frame.index} off by {error:.1f}"
        small = cv2.resize(expected, frame.small.shape[1::-1], interpolation=cv2.INTER_AREA)
        assert np.abs(frame.small.astype(int) - small).mean() < 5
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        assert np.abs(frame.gray.astype(int) - gray).mean() < 5


def test_times_count_from_the_stream_start(tmp_path):
    """MPEG-TS starts its clock late and a file cut from a longer one starts mid-way: frame 0
    is at 0 s either way, as an editor shows it."""
    pictures = [_picture(i, 64, 48) for i in range(24)]
    clip, frames = _decoded(_encode(tmp_path / "clip.ts", pictures, fmt="mpegts"))
    assert np.allclose([f.time_s for f in frames], np.arange(24) / 12, atol=1e-3)
    assert not clip.issues
    full = _encode(tmp_path / "full.mkv", pictures, options={"g": "8", "bf": "0"})
    cut = _remux(full, tmp_path / "cut.mkv", lambda packets: packets[3:])  # mid-GOP
    clip, frames = _decoded(cut)
    numbers = _frame_numbers(frames)
    # libavcodec may drop the frames whose reference is gone (how many depends on the
    # content); what it hands out keeps its time from the stream start, frame 3
    assert numbers == list(range(numbers[0], 24)) and numbers[0] >= 3
    assert np.allclose([f.time_s for f in frames], (np.array(numbers) - 3) / 12, atol=1e-3)
    assert clip.declared_frames == len(frames)  # its declared end is reached: not truncated
    reported = any("cut mid-GOP" in issue.message for issue in clip.issues)
    assert reported == (numbers[0] > 4), "2+ dropped leading frames are reported, only they"


def test_variable_rate_matroska_is_not_called_truncated(tmp_path):
    """Matroska declares no frame count, only its end time: 12 frames with gaps over 1.83 s are
    all there, while a file cut short still declares the frames it lost."""
    pictures = [_picture(i, 64, 48) for i in range(12)]
    pts = [0, 1, 2, 5, 6, 7, 12, 13, 14, 15, 20, 21]
    vfr = _encode(tmp_path / "vfr.mkv", pictures, pts=pts)
    clip, frames = _decoded(vfr)
    assert np.allclose([f.time_s for f in frames], np.array(pts) / 12, atol=1e-3)
    assert clip.info.vfr and clip.declared_frames == 12
    assert not vidlint.check(vfr, select=["TMP005"]).findings
    steady = _encode(tmp_path / "steady.mkv", [_picture(i, 64, 48) for i in range(24)])
    data = steady.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 8 // 10])
    clip, frames = _decoded(cut)
    assert len(frames) < 22 and clip.declared_frames == 24


def test_duplicated_and_reordered_timestamps_keep_every_frame(tmp_path):
    pictures = [_picture(i, 64, 48) for i in range(12)]
    steady = _encode(tmp_path / "steady.mkv", pictures, options={"bf": "0"})

    def duplicate(packets):
        packets[5].pts, packets[5].dts = packets[4].pts, packets[4].dts
        return packets

    def swap(packets):  # pts 6 and 7 swapped, decode order kept
        stamps = [p.pts for p in packets]
        packets[6].pts, packets[7].pts = packets[7].pts, packets[6].pts
        for index, packet in enumerate(packets):
            packet.dts = stamps[index - 1] if index else stamps[0] - 83
        return packets

    _, frames = _decoded(_remux(steady, tmp_path / "dup.mkv", duplicate))
    times = [f.time_s for f in frames]
    assert _frame_numbers(frames) == list(range(12)) and times[5] == times[4]
    _, frames = _decoded(_remux(steady, tmp_path / "swap.mkv", swap))
    times = [f.time_s for f in frames]
    # decoded order kept, times repaired to increase (as for AVI's packed B-frames)
    assert _frame_numbers(frames) == list(range(12)) and np.all(np.diff(times) > 0)


def test_gif_cut_short_is_reported(tmp_path):
    """A GIF has no frame count; one cut mid-frame decodes a half-drawn last frame without any
    decoder error. The missing trailer byte is what says it was cut."""
    path = tmp_path / "clip.gif"
    write_clip(SynthSpec(width=64, height=48, frames=12, fps=12.0), path, write_labels=False)
    data = path.read_bytes()
    cut = tmp_path / "cut.gif"
    cut.write_bytes(data[: len(data) * 3 // 4])
    clip, frames = _decoded(path)
    assert len(frames) == 12 and not clip.issues
    clip, frames = _decoded(cut)
    assert 0 < len(frames) < 12
    assert [i.message for i in clip.issues] == [
        ("the GIF ends without its trailer byte (truncated file): its last frame may be incomplete")
    ]
    report = vidlint.check(cut, select=["TMP005"])
    assert any("trailer" in f.message for f in report.findings)


def test_decord_refuses_clips_it_would_decode_wrong(tmp_path):
    """decord ignores a 180-degree display matrix and garbles a 90-degree one (4-channel frames,
    shifted bytes); an MPEG-TS clip fails in its first-frame probe with a C++ stack trace."""
    pytest.importorskip("decord")
    upright = [_picture(i, 64, 96) for i in range(4)]
    phone = _encode(
        tmp_path / "phone.mp4", [np.ascontiguousarray(np.rot90(p)) for p in upright], rotation=-90
    )
    with pytest.raises(InputError, match="display rotation, which decord does not apply"):
        open_clip(phone, decoder="decord")
    stream = _encode(tmp_path / "clip.ts", upright, fmt="mpegts")
    try:
        with open_clip(stream, decoder="decord") as clip:
            assert len(list(clip.frames())) == 4
    except InputError as error:
        assert str(error).startswith(f"{stream}: not a readable video (decord: ")
        assert "\n" not in str(error) and "Stack trace" not in str(error)


def test_tags_that_are_not_utf8_do_not_stop_the_check(tmp_path):
    """A title written in Latin-1 (or damaged) made PyAV raise UnicodeDecodeError on open, a
    traceback (found by fuzzing Matroska and WebM files)."""
    path = tmp_path / "latin1.mkv"
    with av.open(str(path), "w") as container:
        container.metadata["title"] = "caf\u00e9 TITLEMARK"
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(6):
            frame = av.VideoFrame.from_ndarray(_picture(index, 64, 48), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    data = path.read_bytes()
    path.write_bytes(data.replace("caf\u00e9".encode(), b"caf\xe9\xe9"))  # Latin-1, same length
    _, frames = _decoded(path)
    assert _frame_numbers(frames) == list(range(6))


def test_animated_png_is_a_clip(tmp_path):
    path = tmp_path / "anim.png"
    pictures = [_picture(i, 64, 48) for i in range(8)]
    with av.open(str(path), "w", format="apng") as container:
        stream = container.add_stream("apng", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "rgb24"
        for index, rgb in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    _, frames = _decoded(path)
    assert _frame_numbers(frames) == list(range(8))
    assert np.allclose([f.time_s for f in frames], np.arange(8) / 12, atol=1e-3)
    assert (
        max(np.abs(f.rgb.astype(int) - p).max() for f, p in zip(frames, pictures, strict=True)) == 0
    )


def test_a_file_with_two_video_streams_is_checked_on_its_first(tmp_path):
    path = tmp_path / "two.mov"
    with av.open(str(path), "w") as container:
        streams = []
        for width, height in ((64, 48), (96, 64)):
            stream = container.add_stream("libx264", rate=12)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            streams.append(stream)
        for index in range(6):
            for stream in streams:
                frame = av.VideoFrame.from_ndarray(
                    _picture(index, stream.width, stream.height), format="rgb24"
                )
                frame.pts = index
                container.mux(stream.encode(frame))
        for stream in streams:
            container.mux(stream.encode())
    clip, frames = _decoded(path)
    assert (clip.info.width, clip.info.height) == (64, 48)
    assert _frame_numbers(frames) == list(range(6))


def test_an_unreadable_image_in_a_sequence_is_a_missing_frame(tmp_path):
    """Files without an image suffix are not frames; a .png that is no image is a decode issue
    at its place, and the frames after it keep their times (the gap shows)."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in range(6):
        cv2.imwrite(str(folder / f"f{index:03d}.png"), _picture(index, 64, 48)[:, :, ::-1])
    (folder / "f002.png").write_bytes(b"not an image")
    (folder / "notes.txt").write_text("shot list")
    clip, frames = _decoded(folder)
    assert _frame_numbers(frames) == [0, 1, 3, 4, 5]
    assert np.allclose([f.time_s for f in frames], np.array([0, 1, 3, 4, 5]) / 24)
    assert [(i.index, i.message) for i in clip.issues] == [(2, "cannot read image f002.png")]
