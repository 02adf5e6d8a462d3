"""Bad input never ends in a traceback: each case gives one line naming the file and the cause,
the batch goes on, the clip gets an error row in summary.json, and the exit code says so."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

import vidlint
from vidlint.errors import InputError
from vidlint.synth import SynthSpec, write_clip


def _audio_only(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        for index in range(8):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 44100, index * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def _zero_decodable_frames(path: Path, good: Path) -> None:
    """A well-formed MP4 whose video payload is all zeros: it opens, nothing decodes."""
    data = bytearray(good.read_bytes())
    start = data.index(b"mdat") + 4
    size = int.from_bytes(data[start - 8 : start - 4], "big")
    data[start : start - 8 + size] = bytes(size - 8)
    path.write_bytes(bytes(data))


def _video(
    path: Path,
    size: tuple[int, int] = (64, 48),
    frames: int = 6,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    fmt: str | None = None,
    cover: bool = False,
) -> Path:
    """A small clip encoded with PyAV; ``cover`` puts an artwork stream (one picture, the
    attached-picture disposition) into an audio file instead."""
    with av.open(str(path), "w", format=fmt) as container:
        if cover:
            audio = container.add_stream("aac", rate=44100)
        stream = container.add_stream(codec, rate=12)
        stream.width, stream.height, stream.pix_fmt = *size, pix_fmt
        if cover:
            stream.disposition = av.stream.Disposition.attached_pic
            frames = 1
        for index in range(frames):
            rgb = np.full((size[1], size[0], 3), 40 + 20 * index, np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
        if cover:
            for index in range(4):
                sound = av.AudioFrame.from_ndarray(
                    np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
                )
                sound.sample_rate, sound.pts = 44100, index * 1024
                container.mux(audio.encode(sound))
            container.mux(audio.encode())
    return path


def _subtitles_only(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ass")
        stream.codec_context.extradata = b"[Script Info]\n"
        stream.time_base = Fraction(1, 1000)
        packet = av.Packet(b"hello")
        packet.stream, packet.pts, packet.dts, packet.duration = stream, 0, 0, 1000
        container.mux(packet)


def _matroska_without_frames(path: Path, good: Path) -> None:
    """A Matroska file cut just after its first cluster starts: the header opens, no frame
    is left."""
    data = good.read_bytes()
    path.write_bytes(data[: data.index(b"\x1f\x43\xb6\x75") + 12])


def _gif_of_impossible_size(path: Path) -> None:
    """A 40-byte GIF whose logical screen claims 65535x65535 (a decompression bomb)."""
    header = b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x80\x00\x00" + bytes(3) + b"\xff" * 3
    image = b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00\x02\x02\x44\x01\x00"
    path.write_bytes(header + image * 3 + b";")


def _image_sequence_with_a_bomb(folder: Path, side: int) -> None:
    """Three small PNGs and a 70-byte one whose header claims side x side (9000: over
    vidlint's limit; 20000: 1.2 GB decoded, over Pillow's too)."""
    folder.mkdir()
    for index in range(3):
        cv2.imwrite(str(folder / f"frame_{index:03d}.png"), np.full((48, 64, 3), 90, np.uint8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    (folder / "frame_003.png").write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(64)))
        + chunk(b"IEND", b"")
    )


def _image_sequence_of_two_sizes(folder: Path) -> None:
    folder.mkdir()
    for index in range(4):
        width = 80 if index == 2 else 64
        cv2.imwrite(str(folder / f"frame_{index:03d}.png"), np.full((48, width, 3), 90, np.uint8))


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """name -> (path, expected cause)."""
    root = tmp_path_factory.mktemp("bad")
    good = root / "good.mp4"
    write_clip(SynthSpec(frames=24), good, write_labels=False)
    cases: dict[str, tuple[Path, str]] = {}

    def case(name: str, cause: str) -> Path:
        path = root / name
        cases[name] = (path, cause)
        return path

    case("missing.mp4", "no such file or directory")
    case("empty.mp4", "empty file").write_bytes(b"")
    data = good.read_bytes()
    case("truncated.mp4", "damaged or truncated MP4/MOV file").write_bytes(data[: len(data) // 2])
    case("random.mp4", "not a video file").write_bytes(np.random.default_rng(1).bytes(4096))
    shutil.copy(Path(__file__).parent / "data" / "still.png", case("still.png", "still image"))
    shutil.copy(
        Path(__file__).parent / "data" / "still.png", case("image_named.mp4", "still image")
    )
    write_clip(SynthSpec(frames=1), case("one_frame.mp4", "only 1 frame"), write_labels=False)
    _zero_decodable_frames(case("zero_frames.mp4", "no decodable frames"), good)
    _audio_only(case("audio_only.m4a", "has no video stream (audio only)"))
    (case("no_videos", "folder holds no videos")).mkdir()
    os.symlink(root / "gone.mp4", case("dangling_link.mp4", "no such file or directory"))
    os.mkfifo(case("pipe.mp4", "not a regular file (a FIFO, socket or device)"))
    case("folder_named.mp4", "folder holds no videos").mkdir()
    _video(case("tiny.mp4", "frame size 16x16 is too small to check"), (16, 16))
    _video(
        case("one_column.mp4", "frame size 1x720 is too small to check"),
        (1, 720),
        pix_fmt="yuv444p",
    )
    _subtitles_only(case("subtitles.mkv", "has no video stream (subtitles only)"))
    _video(
        case("song_with_cover.m4a", "has no video stream (audio only)"),
        cover=True,
        codec="mjpeg",
        pix_fmt="yuvj420p",
        fmt="mp4",
    )
    _video(
        case("animated.webp", "is an animated WebP, which ffmpeg cannot decode"),
        codec="libwebp_anim",
        fmt="webp",
    )
    _matroska_without_frames(
        case(
            "cut.mkv",
            "no decodable frames (the container declares 6 frames but none could "
            "be read: truncated or damaged file)",
        ),
        _video(root / "good.mkv"),
    )
    _gif_of_impossible_size(case("bomb.gif", "video stream has no frame size"))
    _image_sequence_of_two_sizes(
        case("two_sizes", "image frame_002.png is 80x48 but frame_000.png is 64x48")
    )
    _image_sequence_with_a_bomb(case("png_bomb", "image frame_003.png is too large ("), 20000)
    _image_sequence_with_a_bomb(
        case("png_big", "image frame_003.png is too large (9000x9000)"), 9000
    )
    return cases


def test_each_bad_input_raises_a_clear_input_error(bad_inputs):
    for name, (path, cause) in bad_inputs.items():
        with pytest.raises(InputError) as caught:
            vidlint.check(path)
        assert str(path) in str(caught.value) and cause in str(caught.value), name


def test_batch_reports_every_bad_input_and_goes_on(bad_inputs, tmp_path, synth_clip):
    good = synth_clip("good-batch", ".mp4", [])
    paths = [str(p) for p, _ in bad_inputs.values()] + [str(good)]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vidlint",
            "check",
            *paths,
            "--out",
            str(tmp_path / "out"),
            "--select",
            "TMP",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
    for path, cause in bad_inputs.values():
        assert any(str(path) in line and cause in line for line in error_lines), (path, cause)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    rows = {row["path"]: row for row in summary["clips"]}
    assert rows[str(good)]["verdict"] == "pass"
    assert (tmp_path / "out" / "good-batch.vidlint.json").is_file()
    assert summary["totals"]["error"] == len(bad_inputs)
    for path, cause in bad_inputs.values():
        assert cause in rows[str(path)]["error"]


def test_truncated_file_with_index_up_front_is_reported_as_corrupt(tmp_path):
    """A 'faststart' MP4 cut in half still opens; its missing frames become TMP005."""
    full = tmp_path / "full.mp4"
    spec = SynthSpec(frames=48)
    rate = 24
    with av.open(str(full), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        from vidlint.synth import render

        for t, rgb in render(spec):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = round(t * rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    report = vidlint.check(cut, select=["TMP005"])
    assert report.verdict == "fail"
    (finding,) = [f for f in report.findings if "truncated" in f.message]
    assert finding.evidence["declared_frames"] == 48
    assert finding.evidence["decoded_frames"] < 48


def test_unreadable_file_names_the_cause(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file; the dangling link case covers unreadable paths")
    path = tmp_path / "locked.mp4"
    write_clip(SynthSpec(frames=4), path, write_labels=False)
    path.chmod(0)
    with pytest.raises(InputError, match="cannot read"):
        vidlint.check(path)


def test_bad_config_is_one_line_and_exit_2(tmp_path, synth_clip):
    config = tmp_path / "vidlint.toml"
    config.write_text('select = ["TMP"]\nthresholds = 3\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vidlint",
            "check",
            str(synth_clip("good-batch", ".mp4", [])),
            "--config",
            str(config),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{config}: unknown key 'thresholds'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_large_file_that_is_no_video_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """A 5 GB file of zeros was read in full for its sha256 (14 s) before ffmpeg said it is no
    video; now the probe comes first and the hash is never taken."""
    path = tmp_path / "huge.mp4"
    with path.open("wb") as handle:
        handle.truncate(5 * 2**30)  # sparse: no disk used

    def must_not_hash(*args):
        raise AssertionError("hashed a file that is no video")

    monkeypatch.setattr("vidlint.decode.clip._digest_file", must_not_hash)
    with pytest.raises(InputError, match="not a video file"):
        vidlint.check(path)


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif"])
def test_a_file_cut_mid_packet_is_an_error_or_a_corrupt_finding(tmp_path, suffix):
    """Wherever a file is cut, the user hears about it: the container cannot be opened (MP4 and
    MOV keep their index at the end), or the check reports TMP005 (frames missing against the
    declared count or end time, a packet the decoder rejects, a GIF without its trailer)."""
    full = tmp_path / f"full{suffix}"
    write_clip(SynthSpec(width=64, height=48, frames=24, fps=12.0), full, write_labels=False)
    data = full.read_bytes()
    for share in (0.5, 0.9):
        cut = tmp_path / f"cut{int(share * 100)}{suffix}"
        cut.write_bytes(data[: int(len(data) * share) | 1])  # odd: never on a packet boundary
        try:
            report = vidlint.check(cut, select=["TMP005"])
        except InputError as error:
            assert str(error).startswith(f"{cut}: ")
            assert "damaged or truncated" in str(error) or "no decodable frames" in str(error)
        else:
            assert [f.code for f in report.findings][:1] == ["TMP005"], (share, report.findings)


def test_unicode_path_with_spaces_is_checked_and_printed(tmp_path):
    path = tmp_path / "név with space ✓.mp4"
    write_clip(SynthSpec(width=64, height=48, frames=12), path, write_labels=False)
    assert vidlint.check(path, select=["TMP"]).clip["path"] == str(path)
    result = subprocess.run(
        [sys.executable, "-m", "vidlint", "check", str(path), "--no-write", "--select", "TMP"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr
    assert str(path) in result.stdout


def test_a_fix_state_that_is_no_database_is_one_line(tmp_path, synth_clip):
    from typer.testing import CliRunner

    from vidlint.cli.app import app

    state = tmp_path / "fixed" / ".vidlint-fix" / "state.sqlite"
    state.parent.mkdir(parents=True)
    state.write_text("not sqlite\n")
    clip = synth_clip("good-batch", ".mp4", [])
    argv = ["fix", str(clip), "--backend", "synthetic", "--out", str(tmp_path / "fixed")]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"error: {state}: not a vidlint database (file is not a database); "
        "move it aside to start afresh\n"
    )
    assert state.read_text() == "not sqlite\n"  # nothing written over it


@pytest.mark.parametrize("case", ["store-no-database", "folder-a-file", "folder-in-use"])
def test_a_serve_upload_folder_that_cannot_be_used_is_one_line(tmp_path, case):
    pytest.importorskip("fastapi")
    from typer.testing import CliRunner

    from vidlint.cli.app import app
    from vidlint.service.store import JobStore

    folder = tmp_path / "uploads"
    holder = None
    if case == "store-no-database":
        folder.mkdir()
        (folder / "jobs.sqlite").write_text("not sqlite\n")
        says = f"{folder}/jobs.sqlite: not a vidlint database (file is not a database)"
    elif case == "folder-a-file":
        folder.write_text("a file\n")
        says = f"'serve.upload_dir' = '{folder}': not a folder"
    else:
        folder.mkdir()
        holder = JobStore(folder)
        says = f"{folder}: another vidlint serve uses this upload folder (serve.upload_dir)"
    config = tmp_path / "vidlint.toml"
    config.write_text(f'[serve]\nupload_dir = "{folder}"\n')
    try:
        result = CliRunner().invoke(app, ["serve", "--config", str(config)])
    finally:
        if holder is not None:
            holder.close()
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {says}") and result.output.count("\n") == 1
