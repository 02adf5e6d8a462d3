"""Grab given frames of a clip again, after the check: for report thumbnails, contact sheets and
frame export.

Frames are found by decoding from the start (streaming, one frame held at a time) rather than by
seeking: the indices in a report are decoded-frame indices, and only a sequential decode gives
the same indices as the check did (seeking lands on key frames and skips broken packets
differently). Decoding stops after the last wanted frame.

Several writers of one clip (html, contact-sheet, frames) share a :class:`FrameStore`, which
decodes the frames they all show in one pass instead of one pass per writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vidlint.decode.clip import open_clip
from vidlint.errors import InputError, VidlintError


def grab_frames(
    path: str | Path,
    indices: Iterable[int],
    decoder: str = "pyav",
    max_side: int | None = None,
    expect_sha256: str | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, rgb)`` for each wanted frame that exists, in index order.

    ``max_side`` shrinks each frame so its longer side is at most that many pixels (never
    enlarges). ``expect_sha256`` guards against a clip that changed since its report was written:
    a mismatch raises :class:`InputError` instead of showing the wrong pictures.
    """
    for index, rgb in _decoded(path, indices, decoder, expect_sha256):
        yield index, shrink(rgb, max_side)


def grab_dict(
    path: str | Path,
    indices: Iterable[int],
    decoder: str = "pyav",
    max_side: int | None = None,
    expect_sha256: str | None = None,
) -> dict[int, np.ndarray]:
    """The grabbed frames by index (hold only what you need: pass ``max_side`` for thumbnails)."""
    return dict(grab_frames(path, indices, decoder, max_side, expect_sha256))


def shrink(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """``rgb`` with its longer side brought down to ``max_side`` (a copy either way, so the caller
    never holds the decoder's buffer)."""
    height, width = rgb.shape[:2]
    if not max_side or max(height, width) <= max_side:
        return rgb.copy()
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # INTER_AREA is slow for a factor that is not a whole number (6.6 ms for 720p to 360 px):
    # halve on its fast whole-factor path while that keeps at least the target size, then make
    # the last step, by less than 2x, bilinear (0.6 grey levels from INTER_AREA, 8x faster).
    while rgb.shape[1] % 2 == 0 and rgb.shape[0] % 2 == 0 and rgb.shape[1] // 2 >= size[0]:
        rgb = cv2.resize(rgb, (rgb.shape[1] // 2, rgb.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if rgb.shape[1] >= 2 * size[0]:  # an odd size kept it from halving: INTER_AREA all the way
        return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)


class FrameStore:
    """The frames that several writers show of one clip, decoded once.

    Each writer first says what it will ask for (:meth:`want`: frame indices and the longer side
    it needs, ``None`` for full resolution). The first :meth:`get` decodes every wanted frame in
    one sequential pass and keeps it at each size some writer wants (a thumbnail stays a
    thumbnail: a full-resolution frame is held only where a writer wants one), shrunk from the
    decoded frame exactly as :func:`grab_dict` shrinks it, so every writer gets the very pixels
    it would have grabbed alone. Frames asked for without being wanted first are grabbed on their
    own (right, at the cost of one more decode). A decode error (the clip is gone, or changed
    since the report) is raised again to each writer that asks.
    """

    def __init__(
        self, path: str | Path, decoder: str = "pyav", expect_sha256: str | None = None
    ) -> None:
        self.path, self.decoder, self.expect_sha256 = path, decoder, expect_sha256
        self.wanted: dict[int | None, set[int]] = {}
        """Frame indices by the longer side they are wanted at (None: full resolution)."""
        self.looked_for: dict[int | None, set[int]] | None = None
        """What a decode has looked for so far (None: nothing decoded yet)."""
        self.held: dict[int | None, dict[int, np.ndarray]] = {}
        self.error: VidlintError | None = None

    @classmethod
    def of_report(cls, report: Any) -> FrameStore:
        """A store for the clip of ``report``, guarded by the sha256 the report recorded."""
        return cls(
            report.clip.get("path", ""),
            report.config.get("decoder", "pyav"),
            report.clip.get("sha256"),
        )

    def want(self, indices: Iterable[int], max_side: int | None = None) -> None:
        """Declare frames a writer will :meth:`get` (before the first :meth:`get`, or they cost
        a decode of their own)."""
        self.wanted.setdefault(max_side, set()).update(_valid(indices))

    def get(self, indices: Iterable[int], max_side: int | None = None) -> dict[int, np.ndarray]:
        """The frames by index, as ``grab_dict(path, indices, max_side=max_side)`` gives them
        (frames the clip does not have are left out), read-only: they are shared."""
        if self.looked_for is None:
            self._decode()
        if self.error is not None:
            raise self.error
        assert self.looked_for is not None
        asked = _valid(indices)
        held = self.held.setdefault(max_side, {})
        looked_for = self.looked_for.setdefault(max_side, set())
        if not asked <= looked_for:
            for index, rgb in grab_frames(
                self.path, asked - looked_for, self.decoder, max_side, self.expect_sha256
            ):
                held[index] = _read_only(rgb)
            looked_for |= asked
        return {index: held[index] for index in sorted(asked) if index in held}

    def _decode(self) -> None:
        self.looked_for = {side: set(indices) for side, indices in self.wanted.items()}
        sides: dict[int, list[int | None]] = {}
        for side, indices in self.wanted.items():
            for index in indices:
                sides.setdefault(index, []).append(side)
        try:
            for index, rgb in _decoded(self.path, sides, self.decoder, self.expect_sha256):
                for side in sides[index]:
                    self.held.setdefault(side, {})[index] = _read_only(shrink(rgb, side))
        except VidlintError as exc:
            self.error = exc
            self.held.clear()


class HeldFrames(FrameStore):
    """Frames already in memory (RGB, N x H x W x 3), served to the writers the way a
    :class:`FrameStore` serves decoded ones: for a report of frames that were never a file."""

    def __init__(self, frames: Any) -> None:
        super().__init__("")
        self.frames = frames

    def get(self, indices: Iterable[int], max_side: int | None = None) -> dict[int, np.ndarray]:
        wanted = sorted(i for i in _valid(indices) if i < len(self.frames))
        return {i: _read_only(shrink(np.asarray(self.frames[i]), max_side)) for i in wanted}


def _decoded(
    path: str | Path, indices: Iterable[int], decoder: str, expect_sha256: str | None
) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, full-resolution rgb)`` of the wanted frames, in index order; the array is the
    decoder's and is only valid until the next one."""
    wanted = sorted(_valid(indices))
    if not wanted:
        return
    # Frames skipped over cost only their small working copy: full-resolution RGB is converted on
    # demand (Frame.rgb), for the wanted frames alone.
    with open_clip(path, decoder=decoder) as clip:
        if expect_sha256 and clip.info.sha256 and clip.info.sha256 != expect_sha256:
            raise InputError("clip changed since its report was written (sha256 differs)", path)
        last = wanted[-1]
        pending = set(wanted)
        for frame in clip.frames():
            if frame.index in pending:
                yield frame.index, frame.rgb
                pending.discard(frame.index)
            if frame.index >= last:
                break


def _valid(indices: Iterable[int]) -> set[int]:
    return {int(i) for i in indices if int(i) >= 0}


def _read_only(rgb: np.ndarray) -> np.ndarray:
    rgb.flags.writeable = False
    return rgb


__all__ = ["FrameStore", "HeldFrames", "grab_dict", "grab_frames", "shrink"]
