"""Open a clip once, probe it and stream its frames (PyAV by default, decord, an image folder)."""

from __future__ import annotations

import errno
import hashlib
import heapq
import itertools
import logging
import re
import time
from collections import deque
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from stat import S_ISREG

import av
import cv2
import numpy as np
from PIL import Image

from vidlint.decode.frames import (
    WORKING_SHORT_SIDE,
    ClipInfo,
    DecodeIssue,
    Frame,
    I420Picture,
    Picture,
    working_size,
)
from vidlint.decode.suffixes import IMAGE_SUFFIXES
from vidlint.errors import DecodeError, InputError

log = logging.getLogger(__name__)
# ffmpeg's own log lines ("moov atom not found", "Invalid NAL") would reach the user's terminal
# beside vidlint's one-line errors; the same causes arrive here as exceptions or DecodeIssues.
# They are silenced inside libav: a Python log callback (av.logging.set_level) needs the GIL from
# decoder threads, and deadlocks when a clip is closed mid-decode while those threads still log.
av.logging.set_level(None)
av.logging.set_libav_level(av.logging.PANIC)

MAX_PIXELS = 8192 * 8192
"""Frames larger than this are refused: a 16K frame is almost always a mislabelled file."""
NOT_REGULAR = "not a regular file (a FIFO, socket or device)"
MIN_SIDE = 32
"""Frames whose shorter side is under this are refused: the optical flow needs at least 12
pixels after its own downscaling (a 2x2 or 1x720 clip crashed it), and nothing generated for
viewing is that small."""

STILL_IMAGE_FORMATS = ("_pipe", "image2")
REORDER_DEPTH = 4
"""Frames held back to repair reordered timestamps (B-frame pyramids are at most 4 deep)."""
IMAGE_FOLDER_FPS = 24.0
"""An image sequence has no timing of its own: it plays at 24 fps unless told otherwise."""


KNOWN_SHA256: dict[tuple[int, ...], str] = {}
"""sha256 of files this process has read, by the file's stat (device, inode, size, mtime,
ctime): a batch hashes a clip for its cache key, the check for its report, and the writers that
show its frames to make sure it has not changed; one read serves all three."""
KNOWN_SHA256_MAX = 4096
RACY_NS = 2_000_000_000
"""A file changed less than 2 s before it was hashed is not remembered: a second change within
the same timestamp tick could leave its stat as it was (git's "racy clean" rule; 2 s is the
coarsest file-time resolution in use, FAT's)."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """The file's sha256, read again only when its stat has changed since this process last
    read it."""
    started = time.time_ns()
    stat = path.stat()
    if not S_ISREG(stat.st_mode):  # reading a FIFO would block forever
        raise OSError(errno.EINVAL, NOT_REGULAR, str(path))
    identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    known = KNOWN_SHA256.get(identity)
    if known is not None:
        return known
    digest = _digest_file(path, chunk)
    if started - max(stat.st_mtime_ns, stat.st_ctime_ns) > RACY_NS:
        if len(KNOWN_SHA256) >= KNOWN_SHA256_MAX:
            KNOWN_SHA256.clear()  # a long-lived service forgets, and reads files again
        KNOWN_SHA256[identity] = digest
    return digest


def _digest_file(path: Path, chunk: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def clip_sha256(path: Path) -> str:
    """A clip's identity: the sha256 of its file, or for an image-sequence folder the sha256 of
    its images' hashes in order."""
    if path.is_dir():
        files = image_files(path)
        return hashlib.sha256("\n".join(sha256_file(f) for f in files).encode()).hexdigest()
    return sha256_file(path)


def image_files(folder: Path) -> list[Path]:
    """The frames of an image-sequence folder, in order."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


class Clip:
    """An opened clip. Iterate ``frames()`` once; ``info`` is exact after the iteration ends."""

    def __init__(self, info: ClipInfo, source: _Source, short_side: int) -> None:
        self.info = info
        self.issues: list[DecodeIssue] = []
        self._source = source
        self._short_side = short_side
        self._times: list[float] = []
        self.declared_frames = info.frame_count
        """What the container declared (or its duration implied) before decoding; once decoded,
        a count implied by a duration is corrected for variable frame rate."""

    def frames(self) -> Iterator[Frame]:
        index = 0
        for item in self._source.read():
            if isinstance(item, str):
                time_s = self._times[-1] if self._times else 0.0
                self.issues.append(DecodeIssue(index, time_s, item))
                continue
            time_s, picture = item
            self._times.append(time_s)
            if isinstance(picture, np.ndarray):
                yield Frame.from_rgb(index, time_s, picture, self._short_side)
            else:
                yield _frame_from_av(index, time_s, picture, self._short_side)
            index += 1
        if index == 0 and self.declared_frames and not self.issues:
            self.issues.append(
                DecodeIssue(
                    0,
                    0.0,
                    f"the container declares "
                    f"{self.declared_frames} frames but none could be "
                    "read: truncated or damaged file",
                )
            )
        self.issues.extend(
            DecodeIssue(index, self._times[-1] if self._times else 0.0, message)
            for message in self._source.trailing_issues()
        )
        self._finalize(self._source.last_duration_s)

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> Clip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _finalize(self, last_duration_s: float | None) -> None:
        """Make frame count, duration, fps and VFR exact from the decoded timestamps."""
        times = np.asarray(self._times, dtype=np.float64)
        info = self.info
        if len(times) < 2:
            info.frame_count = len(times)
            return
        intervals = np.diff(times)
        positive = intervals[intervals > 0]
        typical = float(np.median(positive)) if len(positive) else 1.0 / max(info.fps, 1e-6)
        last = last_duration_s if last_duration_s and last_duration_s > 0 else typical
        duration = float(times[-1] - times[0] + last)
        if not self._source.frames_counted and self.declared_frames:
            # A count implied by duration x average rate is wrong for variable frame rate: what
            # the container declared is its end time, so only time missing at the end is frames
            # missing (at the typical interval).
            end_s = self._source.start_s + times[-1] + last  # Matroska declares its end time
            missing_s = max(0.0, self._source.declared_end_s - end_s)
            self.declared_frames = len(times) + round(missing_s / typical)
        info.frame_count = len(times)
        info.duration_s = round(duration, 6)
        if duration > 0 and (info.container == "gif" or not info.fps):
            info.fps = round(len(times) / duration, 4)
        # Timestamps are rounded to the time base: allow one tick of jitter before calling it VFR.
        tick = float(info.time_base) if info.time_base else 1e-3
        info.vfr = bool(
            len(positive) and (positive.max() - positive.min()) > max(1.5 * tick, 0.05 * typical)
        )


class _RotatedPicture(Picture):
    """A picture shown turned by the clip's display matrix (phones store portrait video
    landscape): every representation is made from the stored picture, then turned."""

    def __init__(self, stored: Picture, degrees_ccw: int) -> None:
        self._stored = stored
        self._turn = TURNS[degrees_ccw]
        self._sideways = degrees_ccw != 180

    def rgb(self) -> np.ndarray:
        return cv2.rotate(self._stored.rgb(), self._turn)

    def rgb_at(self, width: int, height: int, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        size = (height, width) if self._sideways else (width, height)
        return cv2.rotate(self._stored.rgb_at(*size, interpolation), self._turn)

    def gray_at(self, width: int, height: int) -> np.ndarray:
        size = (height, width) if self._sideways else (width, height)
        return cv2.rotate(self._stored.gray_at(*size), self._turn)


TURNS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
"""cv2's turn for each counter-clockwise display rotation."""


def display_rotation(picture: av.VideoFrame) -> int:
    """Counter-clockwise degrees (0, 90, 180 or 270) the display matrix turns the picture by;
    other angles and mirroring are ignored (no encoder writes them)."""
    try:
        degrees = round(picture.rotation) % 360
    except (AttributeError, TypeError, ValueError):
        return 0
    return degrees if degrees in (90, 180, 270) else 0


class _AVPicture(Picture):
    """Any other pixel format (GIF palettes, 4:4:4, 10-bit): swscale converts it."""

    def __init__(self, picture: av.VideoFrame) -> None:
        self._picture = picture

    def rgb(self) -> np.ndarray:
        return self._picture.to_ndarray(format="rgb24")

    def rgb_at(self, width: int, height: int, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        if (width, height) == (self._picture.width, self._picture.height):
            return self.rgb()
        name = "AREA" if interpolation == cv2.INTER_AREA else "BILINEAR"
        return self._picture.reformat(
            width=width, height=height, format="rgb24", interpolation=name
        ).to_ndarray()


def _frame_from_av(index: int, time_s: float, picture: av.VideoFrame, short_side: int) -> Frame:
    # cv2's I420 conversion assumes video range; full-range yuv420p (VP9, AV1 and some phones
    # flag it instead of using yuvj420p) goes through swscale, which reads the range flag.
    if (
        picture.format.name == "yuv420p"
        and picture.width % 2 == 0
        and picture.height % 2 == 0
        and picture.color_range != FULL_RANGE
    ):
        source: Picture = I420Picture(picture.to_ndarray(), picture.width, picture.height)
    else:
        source = _AVPicture(picture)
    width, height = picture.width, picture.height
    rotation = display_rotation(picture)
    if rotation:
        source = _RotatedPicture(source, rotation)
        if rotation != 180:
            width, height = height, width
    return Frame(index, time_s, source, working_size(width, height, short_side))


FULL_RANGE = 2
"""AVCOL_RANGE_JPEG: the frame's samples use 0-255, not video range 16-235."""


class _Source:
    last_duration_s: float | None = None
    frames_counted = True
    """False where the frame count is only duration x average rate (Matroska, WebM, MPEG-TS)."""
    declared_end_s = 0.0
    start_s = 0.0

    def read(self) -> Iterator[tuple[float, np.ndarray | av.VideoFrame] | str]:
        raise NotImplementedError

    def trailing_issues(self) -> list[str]:
        """Damage found only once every frame was read (e.g. a missing end marker)."""
        return []

    def close(self) -> None:
        pass


class _PyAVSource(_Source):
    def __init__(self, path: Path) -> None:
        self.path = path
        try:  # tags in another encoding than UTF-8 (or damaged ones) must not stop the check
            self.container = av.open(str(path), metadata_errors="replace")
        except av.error.FFmpegError as exc:
            raise InputError(f"{_damage_kind(path)} ({_ffmpeg_cause(exc)})", path) from exc
        except OSError as exc:
            raise InputError(f"cannot open ({exc.strerror or exc})", path) from exc
        fmt = self.container.format.name
        # A cover image (mp4/mkv artwork) is a one-picture "video" stream: never the clip.
        videos = [
            s
            for s in self.container.streams.video
            if not s.disposition & av.stream.Disposition.attached_pic
        ]
        if not videos:
            others = self._other_streams()
            self.container.close()
            raise InputError(f"has no video stream ({others})", path)
        if fmt == "webp_pipe" and _is_animated_webp(path):
            self.container.close()
            raise InputError(
                "is an animated WebP, which ffmpeg cannot decode: convert it to mp4, webm or gif",
                path,
            )
        if fmt.endswith(STILL_IMAGE_FORMATS):
            self.container.close()
            raise InputError(f"is a still image ({fmt.split('_')[0]}), not a clip", path)
        self.stream = videos[0]
        self.stream.thread_type = "AUTO"
        self.format = fmt
        self.frames_seen = 0
        # Frame times count from the stream's start, so the first frame of an MPEG-TS clip (or
        # of a file cut from a longer one) is at 0 s, as an editor shows it.
        start, time_base = self.stream.start_time, self.stream.time_base
        self.start_s = float(start * time_base) if start and time_base else 0.0
        self._items = self._decoded()
        self._peeked: list[av.VideoFrame | str] = []
        self.rotation = 0

    def _peek_rotation(self) -> None:
        """Decode up to the first frame, which carries the display matrix, and keep what was
        decoded for ``read``."""
        for item in self._items:
            self._peeked.append(item)
            if not isinstance(item, str):
                self.rotation = display_rotation(item)
                return

    def _other_streams(self) -> str:
        kinds = [
            kind
            for kind, streams in (
                ("audio", self.container.streams.audio),
                ("subtitles", self.container.streams.subtitles),
                ("data", self.container.streams.data),
            )
            if streams
        ]
        if kinds:
            return " and ".join(kinds) + " only"
        return "only a cover image" if self.container.streams.video else "no streams"

    def probe(self) -> ClipInfo:
        stream, ctx = self.stream, self.stream.codec_context
        if ctx is None:  # an MP4 cut inside its index: the stream is listed, its codec is not
            self.container.close()
            raise DecodeError(
                f"{_damage_kind(self.path)}: its video stream names no codec ffmpeg can decode",
                self.path,
            )
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        frames = int(stream.frames or 0)
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = (self.container.duration or 0) / av.time_base
        self.frames_counted = bool(frames)
        self.declared_end_s = duration
        if not frames and fps and duration:
            frames = round(duration * fps)
        width, height = int(ctx.width), int(ctx.height)
        if 0 < width * height <= MAX_PIXELS:  # never decode a frame open_clip will refuse
            self._peek_rotation()
        if self.rotation in (90, 270):  # width and height as shown, like every player
            width, height = height, width
        return ClipInfo(
            path=str(self.path),
            sha256="",
            width=width,
            height=height,
            fps=round(fps, 4),
            frame_count=frames,
            duration_s=round(duration, 6),
            codec=ctx.name,
            container=self.format,
            has_audio=bool(self.container.streams.audio),
            time_base=stream.time_base,
        )

    def read(self) -> Iterator[tuple[float, av.VideoFrame] | str]:
        """Frames with their presentation times, and an issue when the first frame comes late:
        a file cut mid-GOP starts with frames whose reference is gone, and the decoder drops
        them without an error. One interval late is not reported: AVI with packed B-frames
        stamps its first frame one tick after the stream start (real_mmaction2_eye_makeup.avi)."""
        rate = self.stream.average_rate or self.stream.guessed_rate
        interval = 1.0 / float(rate) if rate else 0.0
        first = True
        for item in self._in_display_order():
            if first and not isinstance(item, str):
                first = False
                if interval and item[0] > 1.5 * interval:
                    yield (
                        f"the first decodable frame is at {item[0]:.3f} s: the "
                        f"~{round(item[0] / interval)} frame(s) before it could not be "
                        "decoded (a file cut mid-GOP?)"
                    )
            yield item

    def _in_display_order(self) -> Iterator[tuple[float, av.VideoFrame] | str]:
        """Decoders emit frames in display order, but some files (AVI with packed B-frames)
        stamp them with reordered pts: holding a few frames and handing out the smallest
        pending pts repairs that, and changes nothing for well-formed files."""
        pending: deque[av.VideoFrame] = deque()
        stamps: list[float] = []
        for item in itertools.chain(self._peeked, self._items):
            if isinstance(item, str):
                yield item
                continue
            pending.append(item)
            heapq.heappush(stamps, self._time_of(item))
            if len(pending) > REORDER_DEPTH:
                yield heapq.heappop(stamps), pending.popleft()
        while pending:
            yield heapq.heappop(stamps), pending.popleft()

    def _time_of(self, frame: av.VideoFrame) -> float:
        if frame.duration and frame.time_base:
            self.last_duration_s = float(frame.duration * frame.time_base)
        self.frames_seen += 1
        if frame.time is not None:
            return float(frame.time) - self.start_s
        return (self.frames_seen - 1) / float(self.stream.average_rate or 24)

    def trailing_issues(self) -> list[str]:
        if self.format == "gif" and not _ends_with(self.path, b";"):
            return [
                "the GIF ends without its trailer byte (truncated file): its last frame "
                + "may be incomplete"
            ]
        return []

    def _decoded(self) -> Iterator[av.VideoFrame | str]:
        packets = self.container.demux(self.stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:
                yield f"demux error: {_ffmpeg_cause(exc)}"
                return
            try:
                yield from packet.decode()
            except av.error.FFmpegError as exc:
                yield f"undecodable packet at pts {packet.pts}: {_ffmpeg_cause(exc)}"

    def close(self) -> None:
        self.container.close()


class _DecordSource(_Source):
    """decord's sequential reader: an alternative for clips PyAV struggles with."""

    def __init__(self, path: Path) -> None:
        try:
            import decord
        except ImportError as exc:
            raise InputError(
                "decoder 'decord' is not installed (pip install decord)", path
            ) from exc
        self.path = path
        try:
            self.reader = decord.VideoReader(str(path), num_threads=1)
        except Exception as exc:  # decord raises its own DECORDError or RuntimeError
            raise InputError(f"not a readable video (decord: {_decord_cause(exc)})", path) from exc
        if _stored_turned(path):
            raise InputError(
                "has a display rotation, which decord does not apply (its frames "
                "come out sideways or garbled): use the default decoder",
                path,
            )

    def probe(self) -> ClipInfo:
        try:
            height, width = self.reader[0].shape[:2] if len(self.reader) else (0, 0)
            self.reader.seek(0)
        except Exception as exc:  # DECORDError on a damaged first frame (an MPEG-TS cut)
            raise InputError(
                f"not a readable video (decord: {_decord_cause(exc)})", self.path
            ) from exc
        fps = float(self.reader.get_avg_fps() or 0.0)
        return ClipInfo(
            path=str(self.path),
            sha256="",
            width=int(width),
            height=int(height),
            fps=round(fps, 4),
            frame_count=len(self.reader),
            duration_s=round(len(self.reader) / fps, 6) if fps else 0.0,
            codec="unknown",
            container="decord",
        )

    def read(self) -> Iterator[tuple[float, np.ndarray] | str]:
        for index in range(len(self.reader)):
            try:
                start, _ = self.reader.get_frame_timestamp(index)
                yield float(start), self.reader.next().asnumpy()
            except Exception as exc:
                yield f"decord could not decode frame {index}: {_decord_cause(exc)}"


def _decord_cause(exc: Exception) -> str:
    """The first line of a decord error without its "[time] file.cc:line:" prefix (the rest
    is a C++ stack trace)."""
    lines = str(exc).strip().splitlines()
    return re.sub(r"^\[[\d:]+\] \S+:\d+: ", "", lines[0]) if lines else type(exc).__name__


def _stored_turned(path: Path) -> bool:
    """Whether the clip's first frame carries a display rotation (read with PyAV)."""
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            stream = container.streams.video[0]
            return any(
                display_rotation(frame) for frame in itertools.islice(container.decode(stream), 1)
            )
    except (av.error.FFmpegError, IndexError):
        return False


class _ImageFolderSource(_Source):
    """A folder of numbered images, played at ``IMAGE_FOLDER_FPS``."""

    def __init__(self, path: Path, fps: float = IMAGE_FOLDER_FPS) -> None:
        self.path = path
        self.fps = fps
        self.files = image_files(path)
        if not self.files:
            raise InputError("folder holds no videos and no image sequence", path)
        self.last_duration_s = 1.0 / fps
        _one_frame_size(self.files, path)

    def probe(self) -> ClipInfo:
        first = cv2.imread(str(self.files[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise InputError(f"cannot read image {self.files[0].name}", self.path)
        height, width = first.shape[:2]
        return ClipInfo(
            path=str(self.path),
            sha256="",
            width=width,
            height=height,
            fps=self.fps,
            frame_count=len(self.files),
            duration_s=len(self.files) / self.fps,
            codec="images",
            container="image-sequence",
            time_base=Fraction(1, round(self.fps)),
        )

    def read(self) -> Iterator[tuple[float, np.ndarray] | str]:
        for index, file in enumerate(self.files):
            bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if bgr is None:
                yield f"cannot read image {file.name}"
                continue
            yield index / self.fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _one_frame_size(files: list[Path], folder: Path) -> None:
    """Refuse a sequence whose images differ in size (analyzers compare frames pixel by pixel)
    or one too large to decode (a PNG header can claim 60000x60000 in a few bytes). Reads only
    the image headers; files that are no image are left to ``read``, which reports them as
    undecodable frames."""
    first: tuple[Path, tuple[int, int]] | None = None
    for file in files:
        try:
            with Image.open(file) as image:
                size = image.size
        except Image.DecompressionBombError as exc:
            raise InputError(f"image {file.name} is too large ({exc})", folder) from exc
        except (OSError, ValueError):
            continue
        if size[0] * size[1] > MAX_PIXELS:
            raise InputError(f"image {file.name} is too large ({size[0]}x{size[1]})", folder)
        if first is None:
            first = (file, size)
        elif size != first[1]:
            raise InputError(
                f"image {file.name} is {size[0]}x{size[1]} but {first[0].name} is "
                f"{first[1][0]}x{first[1][1]}: a sequence needs one frame size",
                folder,
            )


class _FramesSource(_Source):
    """Frames already in memory, RGB, N x H x W x 3 (a ComfyUI IMAGE batch, a test), played at
    ``fps``: checked without writing a video first."""

    def __init__(self, frames: np.ndarray, fps: float, name: str) -> None:
        self.path = Path(name)
        array = np.asarray(frames)
        if array.ndim != 4 or array.shape[-1] != 3 or array.shape[0] == 0:
            raise InputError(
                f"frames must be N x height x width x 3 RGB, not {'x'.join(map(str, array.shape))}",
                self.path,
            )
        if array.dtype != np.uint8:
            raise InputError(f"frames must be uint8, not {array.dtype}", self.path)
        if not fps > 0:
            raise InputError(f"the frame rate must be above 0, not {fps}", self.path)
        self.frames, self.fps = array, float(fps)
        self.last_duration_s = 1.0 / self.fps

    def probe(self) -> ClipInfo:
        count, height, width = self.frames.shape[:3]
        return ClipInfo(
            path=str(self.path),
            sha256="",
            width=int(width),
            height=int(height),
            fps=round(self.fps, 4),
            frame_count=int(count),
            duration_s=round(count / self.fps, 6),
            codec="rawvideo",
            container="frames",
        )

    def read(self) -> Iterator[tuple[float, np.ndarray] | str]:
        for index, rgb in enumerate(self.frames):
            yield index / self.fps, np.ascontiguousarray(rgb)

    def sha256(self) -> str:
        """The frames' identity: their shape, rate and pixels."""
        digest = hashlib.sha256(f"{self.frames.shape}:{self.fps}".encode())
        digest.update(np.ascontiguousarray(self.frames).data)
        return digest.hexdigest()


DECODERS = {"pyav": _PyAVSource, "decord": _DecordSource}


def open_clip(
    path: str | Path, decoder: str = "pyav", short_side: int = WORKING_SHORT_SIDE
) -> Clip:
    """Probe ``path`` and return a :class:`Clip`; raise :class:`InputError` naming the cause."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or directory", path)
    if path.is_dir():
        source: _Source = _ImageFolderSource(path)
    else:
        try:
            stat = path.stat()
        except OSError as exc:
            raise InputError(f"cannot read ({exc.strerror})", path) from exc
        if not S_ISREG(stat.st_mode):  # reading a FIFO would block; a device never ends
            raise InputError(NOT_REGULAR, path)
        if stat.st_size == 0:
            raise InputError("empty file (0 bytes)", path)
        if decoder not in DECODERS:
            raise InputError(
                f"unknown decoder {decoder!r} (choose from {', '.join(DECODERS)})", path
            )
        source = DECODERS[decoder](path)
    info = _probed(source, path)
    try:  # hashed only once it is known to be a video: a 5 GB non-video fails at once
        info.sha256 = clip_sha256(path)
    except OSError as exc:
        source.close()
        raise InputError(f"cannot read ({exc.strerror})", path) from exc
    return Clip(info, source, short_side)


def open_frames(
    frames: np.ndarray, fps: float, name: str = "frames", short_side: int = WORKING_SHORT_SIDE
) -> Clip:
    """A :class:`Clip` over frames held in memory (RGB uint8, N x H x W x 3) at ``fps``;
    ``name`` stands for the path in reports and errors."""
    source = _FramesSource(frames, fps, name)
    info = _probed(source, source.path)
    info.sha256 = source.sha256()
    return Clip(info, source, short_side)


def _probed(source: _Source, path: Path) -> ClipInfo:
    """The source's clip info, refused (and the source closed) when its frames cannot be
    checked."""
    info = source.probe()  # type: ignore[attr-defined]
    problem = None
    if info.width <= 0 or info.height <= 0:
        source.close()
        raise DecodeError("video stream has no frame size (unsupported or broken codec)", path)
    if info.width * info.height > MAX_PIXELS:
        problem = f"frame size {info.width}x{info.height} is too large"
    elif min(info.width, info.height) < MIN_SIDE:
        problem = (
            f"frame size {info.width}x{info.height} is too small to check (the "
            f"shorter side must be at least {MIN_SIDE} pixels)"
        )
    if problem:
        source.close()
        raise InputError(problem, path)
    return info


SIGNATURES = (
    (4, b"ftyp", "MP4/MOV"),
    (0, b"\x1aE\xdf\xa3", "Matroska/WebM"),
    (0, b"RIFF", "AVI"),
    (0, b"GIF8", "GIF"),
)


def _damage_kind(path: Path) -> str:
    """Say whether an unreadable file looks like a damaged video or is no video at all."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return "not a readable video"
    for offset, magic, name in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return f"damaged or truncated {name} file"
    return "not a video file"


def _ends_with(path: Path, tail: bytes) -> bool:
    try:
        with path.open("rb") as handle:
            handle.seek(-len(tail), 2)
            return handle.read() == tail
    except OSError:
        return True  # unreadable now: decoding already reported what matters


def _is_animated_webp(path: Path) -> bool:
    """An animated WebP has an ANIM chunk right after its VP8X header (RIFF, 'WEBP')."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return head[8:12] == b"WEBP" and b"ANIM" in head[12:64]


def _ffmpeg_cause(exc: av.error.FFmpegError) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(": '")[0].rstrip(".")
