"""The one place that opens clips.

``open_clip(path)`` probes the clip (raising :class:`~vidlint.errors.InputError` with a clear cause
for anything that is not a usable video) and returns a :class:`Clip` whose ``frames()`` streams
:class:`Frame` values with their presentation time. Undecodable packets become
:class:`DecodeIssue` values on ``clip.issues``; decoding goes on after them. ``open_frames(frames,
fps)`` is the same for frames already in memory (a ComfyUI IMAGE batch): nothing is written.
"""

from __future__ import annotations

from vidlint.decode.clip import Clip, open_clip, open_frames, sha256_file
from vidlint.decode.frames import (
    WORKING_SHORT_SIDE,
    ClipInfo,
    DecodeIssue,
    Frame,
    resize_short_side,
    working_size,
)
from vidlint.decode.suffixes import IMAGE_SUFFIXES, VIDEO_SUFFIXES, is_video_path

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "WORKING_SHORT_SIDE",
    "Clip",
    "ClipInfo",
    "DecodeIssue",
    "Frame",
    "is_video_path",
    "open_clip",
    "open_frames",
    "resize_short_side",
    "sha256_file",
    "working_size",
]
