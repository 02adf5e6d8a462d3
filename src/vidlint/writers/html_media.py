"""The moving and magnified pictures of the HTML review page: a short video of each finding's
span, zoomed crops of its region, and a difference (or warp-error) map of its peak frame.

- **Span player**: the finding's frames with about half a second around them, at the clip's own
  timing (each frame keeps its presentation time, so uneven GIF delays play as they were), the
  region boxed on the span's frames and a progress strip at the bottom (the span in the
  severity's colour, a white playhead). It is an H.264 MP4 (libx264 through PyAV, which decodes
  the clips already) embedded as a ``data:`` URI: some tens of kB where an animated WebP of the
  same frames weighs ten times more and takes five times longer to encode.
- **Zoom**: the region of the peak frame and of the frame before it, cut from a larger decode of
  the clip and shown 2-4x the size it has in the thumbnail, so a 15 px face can be judged.
- **Difference map** for temporal, flicker and motion findings: what changed from the frame
  before to the peak (TMP, FLK), or, for motion (MOT), the warp error: the change that the
  optical flow from the frame before does not explain, where content morphs or pops.
"""

from __future__ import annotations

import base64
import io
import logging
from fractions import Fraction

import cv2
import numpy as np

from vidlint.report.model import Finding, Report

log = logging.getLogger(__name__)

PLAYER_SIDE = 320
"""Longer side of the span player: enough to see what moves, small enough to stay light."""
PLAYER_PAD_S = 0.5
"""Seconds shown before and after a finding's span."""
MAX_PLAYER_FRAMES = 36
"""Frames per player at most (1.5 s at 24 fps): a longer span is shown around its peak."""
MAX_PLAYERS = 8
"""Findings that get a player (the most severe); the others keep their stills."""
PLAYER_CRF = 32
PLAYER_PRESET = "superfast"
"""x264 settings: about 1 kB a frame at 320 px and 3 ms to encode it (veryfast at CRF 30 is as
small but takes 5 ms, ultrafast three times the size)."""
MIN_FRAME_MS = 20
"""Frames shorter than this play this long (browsers slow down faster frames anyway)."""

ZOOM_SIDE = 1280
"""Zoomed crops are cut from frames at most this long (the full frame when it is shorter, else
the full frame halved until it fits: halving is the fast way to shrink a frame)."""
ZOOM_TARGET_PX = 220
"""A zoomed crop aims at this longer side ..."""
ZOOM_RANGE = (2.0, 4.0)
"""... magnified 2-4x from its size in the thumbnail."""
ZOOM_MARGIN = 0.35
"""Context kept around the region, as a share of its size on each side."""

DIFFERENCE_FAMILIES = ("TMP", "FLK", "MOT")
DIFFERENCE_FULL_SCALE = 64.0
"""Grey levels of change that reach the top of the colour scale: a fixed scale, so a frozen
frame reads black and a cut reads bright, instead of noise stretched to full colour."""

SEVERITY_RGB = {"error": (220, 38, 38), "warning": (217, 119, 6), "info": (37, 99, 235)}


# -- which frames ------------------------------------------------------------------------------


def player_window(report: Report, finding: Finding) -> list[int]:
    """The frames a finding's player shows: its span with ``PLAYER_PAD_S`` around it, at most
    ``MAX_PLAYER_FRAMES`` of them centred on the peak."""
    n = len(report.frame_index)
    if n == 0:
        return []
    fps = float(report.clip.get("fps") or 0.0) or 24.0
    pad = max(1, round(PLAYER_PAD_S * fps))
    first = max(0, finding.start_frame - pad)
    last = min(n - 1, finding.end_frame + pad)
    if last - first + 1 > MAX_PLAYER_FRAMES:
        first = min(max(first, finding.peak_frame - MAX_PLAYER_FRAMES // 2), last)
        first = max(0, min(first, last - MAX_PLAYER_FRAMES + 1))
        last = first + MAX_PLAYER_FRAMES - 1
    return list(range(first, last + 1))


def zoom_side(report: Report) -> int | None:
    """The longer side of the frames zoomed crops are cut from (None: full resolution)."""
    side = max(int(report.clip.get("width") or 0), int(report.clip.get("height") or 0))
    if side <= ZOOM_SIDE:
        return None
    while side > ZOOM_SIDE:
        side //= 2
    return side


def zoom_frames(finding: Finding) -> set[int]:
    return {finding.peak_frame, finding.peak_frame - 1} if finding.region is not None else set()


# -- the span player ---------------------------------------------------------------------------


def span_video(report: Report, finding: Finding, frames: dict[int, np.ndarray]) -> str:
    """The player's MP4 as a ``data:`` URI ("" when there are no frames or no H.264 encoder)."""
    window = [i for i in player_window(report, finding) if i in frames]
    if len(window) < 2:
        return ""
    import av

    times = report.frame_time_s
    try:
        data = encode_mp4(
            [player_picture(frames[i], i, finding, window) for i in window],
            [float(times[i]) if i < len(times) else i / 24.0 for i in window],
            float(report.clip.get("fps") or 24.0),
        )
    except (av.error.FFmpegError, ValueError) as exc:  # no libx264: the card keeps its stills
        log.warning("no span player for %s at frame %d: %s", finding.code, finding.peak_frame, exc)
        return ""
    return "data:video/mp4;base64," + base64.b64encode(data).decode("ascii")


def player_picture(rgb: np.ndarray, index: int, finding: Finding, window: list[int]) -> np.ndarray:
    """One frame of the player: the region boxed while the span lasts, the frame number, and a
    progress strip (span in the severity's colour, white playhead)."""
    height, width = rgb.shape[:2]
    picture = np.ascontiguousarray(rgb[: height - height % 2, : width - width % 2]).copy()
    height, width = picture.shape[:2]
    colour = SEVERITY_RGB[finding.severity]
    inside = finding.start_frame <= index <= finding.end_frame
    if finding.region is not None and inside:
        r = finding.region
        cv2.rectangle(
            picture,
            (round(r.x * width), round(r.y * height)),
            (round((r.x + r.w) * width) - 1, round((r.y + r.h) * height) - 1),
            colour,
            2,
        )
    strip = 5
    first, last = window[0], window[-1]

    def at(frame: float) -> int:
        return round((frame - first) / max(1, last - first + 1) * width)

    picture[height - strip :] = (40, 40, 40)
    picture[
        height - strip :,
        at(finding.start_frame) : max(at(finding.end_frame + 1), at(finding.start_frame) + 2),
    ] = colour
    cursor = at(index)
    picture[height - strip - 2 :, max(0, cursor - 1) : cursor + 2] = (255, 255, 255)
    label = f"frame {index}"
    (text_w, text_h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
    cv2.rectangle(picture, (0, 0), (text_w + 8, text_h + 8), (0, 0, 0), -1)
    cv2.putText(
        picture, label, (4, text_h + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
        colour if inside else (255, 255, 255), 1, cv2.LINE_AA,
    )  # fmt: skip
    return picture


def encode_mp4(pictures: list[np.ndarray], times_s: list[float], fps: float) -> bytes:
    """H.264 in MP4 with each picture at its own time (milliseconds from the first)."""
    import av

    height, width = pictures[0].shape[:2]
    buffer = io.BytesIO()
    base = Fraction(1, 1000)
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = base
        stream.codec_context.thread_count = 1
        stream.options = {"crf": str(PLAYER_CRF), "preset": PLAYER_PRESET}
        last = -MIN_FRAME_MS
        for picture, time_s in zip(pictures, times_s, strict=True):
            yuv = cv2.cvtColor(picture, cv2.COLOR_RGB2YUV_I420)  # 20x faster than libswscale
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = last = max(last + MIN_FRAME_MS, round((time_s - times_s[0]) * 1000))
            frame.time_base = base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


# -- zoomed crops ------------------------------------------------------------------------------


def zoom_factor(
    finding: Finding, width: int, height: int, thumb_side: int
) -> tuple[tuple[float, float, float, float], float] | None:
    """The crop (x0, y0, x1, y1, normalized) around the finding's region and its magnification
    from a thumbnail of ``thumb_side``: 2-4x, aiming at :data:`ZOOM_TARGET_PX`. None when there
    is no region or it is already large in the thumbnail (twice its size would not fit)."""
    region = finding.region
    if region is None or width <= 0 or height <= 0:
        return None
    x0 = max(0.0, region.x - ZOOM_MARGIN * region.w)
    y0 = max(0.0, region.y - ZOOM_MARGIN * region.h)
    x1 = min(1.0, region.x + region.w * (1 + ZOOM_MARGIN))
    y1 = min(1.0, region.y + region.h * (1 + ZOOM_MARGIN))
    scale = thumb_side / max(height, width)
    longest = max((x1 - x0) * width, (y1 - y0) * height) * scale
    if longest <= 0 or longest * ZOOM_RANGE[0] > thumb_side:
        return None
    return (x0, y0, x1, y1), min(ZOOM_RANGE[1], max(ZOOM_RANGE[0], ZOOM_TARGET_PX / longest))


def zoom_crop(
    rgb: np.ndarray, finding: Finding, thumb_side: int
) -> tuple[np.ndarray, float] | None:
    """The region of ``rgb`` with some context, at 2-4x its size in a thumbnail of
    ``thumb_side``, the region boxed thinly (None when it is not worth a zoom)."""
    height, width = rgb.shape[:2]
    found = zoom_factor(finding, width, height, thumb_side)
    if found is None or finding.region is None:
        return None
    (x0, y0, x1, y1), factor = found
    scale = thumb_side / max(height, width) * factor
    size = (max(1, round((x1 - x0) * width * scale)), max(1, round((y1 - y0) * height * scale)))
    top, left = round(y0 * height), round(x0 * width)
    cut = rgb[top : max(round(y1 * height), top + 1), left : max(round(x1 * width), left + 1)]
    grow = size[0] > cut.shape[1]
    zoomed = cv2.resize(cut, size, interpolation=cv2.INTER_CUBIC if grow else cv2.INTER_AREA)
    region = finding.region
    sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
    cv2.rectangle(
        zoomed,
        (round((region.x - x0) * sx), round((region.y - y0) * sy)),
        (round((region.x + region.w - x0) * sx) - 1, round((region.y + region.h - y0) * sy) - 1),
        SEVERITY_RGB[finding.severity],
        1,
    )
    return zoomed, factor


# -- difference maps ---------------------------------------------------------------------------


def difference_map(
    finding: Finding, before: np.ndarray, peak: np.ndarray
) -> tuple[np.ndarray, str] | None:
    """A heat map of the change into the peak frame and its caption, for TMP, FLK and MOT
    findings: the plain difference, or for MOT the warp error (what the flow from the frame
    before does not explain)."""
    if finding.family not in DIFFERENCE_FAMILIES or before.shape != peak.shape:
        return None
    peak_i = peak.astype(np.int16)
    if finding.family == "MOT":
        previous = cv2.cvtColor(before, cv2.COLOR_RGB2GRAY)
        current = cv2.cvtColor(peak, cv2.COLOR_RGB2GRAY)
        flow = cv2.calcOpticalFlowFarneback(current, previous, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        height, width = current.shape
        grid_x, grid_y = np.meshgrid(
            np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
        )
        warped = cv2.remap(
            before, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        change = np.abs(peak_i - warped.astype(np.int16)).max(axis=2)
        what = "warp error: the change the motion from the frame before does not explain"
    else:
        change = np.abs(peak_i - before.astype(np.int16)).max(axis=2)
        what = "difference from the frame before"
    level = np.clip(change * (255.0 / DIFFERENCE_FULL_SCALE), 0, 255).astype(np.uint8)
    heat = cv2.cvtColor(cv2.applyColorMap(level, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
    caption = (
        f"{what} (mean {float(change.mean()):.1f}, 99th percentile "
        f"{float(np.percentile(change, 99)):.0f} grey levels; full colour at "
        f"{DIFFERENCE_FULL_SCALE:.0f})"
    )
    return heat, caption
