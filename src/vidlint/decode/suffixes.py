"""What the decoder reads, by file suffix: videos, and the still images of an image sequence."""

from __future__ import annotations

from pathlib import Path

VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",
        ".mov",
        ".mkv",
        ".webm",
        ".avi",
        ".gif",
        ".m4v",
        ".mpg",
        ".mpeg",
        ".ts",
        ".flv",
        ".wmv",
        ".ogv",
    }
)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


def is_video_path(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES
