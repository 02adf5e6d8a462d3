"""Grab given frames of a clip again, after the check: for report thumbnails, contact sheets and
frame export.

Frames are found by decoding from the start (streaming, one frame held at a time) rather than by
seeking: the indices in a report are decoded-frame indices, and only a sequential decode gives
the same indices as the check did (seeking lands on key frames and skips broken packets
differently). Decoding stops after the last wanted frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from vidlint.decode.clip import open_clip
from vidlint.errors import InputError


def grab_frames(path: str | Path, indices: Iterable[int], decoder: str = "pyav",
                max_side: int | None = None,
                expect_sha256: str | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, rgb)`` for each wanted frame that exists, in index order.

    ``max_side`` shrinks each frame so its longer side is at most that many pixels (never
    enlarges). ``expect_sha256`` guards against a clip that changed since its report was written:
    a mismatch raises :class:`InputError` instead of showing the wrong pictures.
    """
    wanted = sorted({int(i) for i in indices if int(i) >= 0})
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
                yield frame.index, shrink(frame.rgb, max_side)
                pending.discard(frame.index)
            if frame.index >= last:
                break


def grab_dict(path: str | Path, indices: Iterable[int], decoder: str = "pyav",
              max_side: int | None = None,
              expect_sha256: str | None = None) -> dict[int, np.ndarray]:
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
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


__all__ = ["grab_dict", "grab_frames", "shrink"]
