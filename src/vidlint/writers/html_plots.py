"""Per-frame signal plots of the HTML review page (inline SVG): one plot per signal, under the one
rule family that owns it, with the finding spans shaded, the thresholds of the rules that compare
the signal with a parameter drawn as lines (``@rule(thresholds=...)``), a value scale and a frame
axis whose labels all fit.

A signal is owned by the family whose rules draw a threshold on it, else by the family with the
most rules reading its analyzer (``flow.*`` under MOT, not under MOT, FLK and QLT at once).
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from vidlint.config import Config
from vidlint.report.model import Finding, Report
from vidlint.rules import rules_for_reports

WIDTH = 1000.0
LABEL_W = 200.0
"""Room left of each plot for the signal's name and its value scale."""
RIGHT = 12.0
ROW_H = 48.0
PLOT_PAD = 6.0
AXIS_H = 22.0
MAX_POINTS = 800
"""Points per curve at most: about one per pixel of the plot."""
SIGNAL_GAP = 4
"""Frames without a value that a line bridges: analyzers that run every few frames (a stride)
leave short gaps that are not missing data."""
SEVERITY_COLOR = {"error": "#dc2626", "warning": "#d97706", "info": "#2563eb"}
CHAR_W = 6.2
"""Width of one character of the 11 px axis font, to keep the last label inside the plot."""


def h(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def signal_owners(report: Report) -> dict[str, str]:
    """The family each of the report's signals is plotted under (``other`` when no rule reads
    it)."""
    rules = rules_for_reports()
    readers: dict[str, dict[str, int]] = {}
    drawn: dict[str, str] = {}
    for rule in rules.values():
        for analyzer in rule.requires:
            counts = readers.setdefault(analyzer, {})
            counts[rule.family] = counts.get(rule.family, 0) + 1
        for signal in rule.thresholds:
            drawn.setdefault(signal, rule.family)
    owners = {}
    for key in report.signals:
        counts = readers.get(key.split(".")[0], {})
        owners[key] = drawn.get(key) or (
            min(counts, key=lambda f: (-counts[f], f)) if counts else "other"
        )
    return owners


def threshold_lines(report: Report, key: str) -> list[tuple[str, str, float, str]]:
    """(code, parameter, value in force, severity) of each rule that draws a threshold on the
    signal ``key`` and ran (it is selected)."""
    ran = Config(
        select=tuple(report.config.get("select") or ("ALL",)),
        ignore=tuple(report.config.get("ignore") or ()),
    )
    configured = report.config.get("thresholds", {})
    lines = []
    for code, rule in rules_for_reports().items():
        name = rule.thresholds.get(key)
        if name is None or not ran.is_selected(code):
            continue
        value = configured.get(code, {}).get(name, rule.defaults().get(name))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            lines.append((code, name, float(value), rule.severity))
    return lines


def frame_axis(report: Report, x: Callable[[float], float], top: float, left: float) -> str:
    """Ticks every 1, 2, 5, 10... frames with ``frame · time``; a label that would run past the
    right edge is anchored at its tick's right instead (the last label was cut)."""
    n = max(1, len(report.frame_index))
    step = nice_step(n / 10)
    times = report.frame_time_s
    right = WIDTH - RIGHT
    ticks = []
    for frame in range(0, n, step):
        time_s = times[frame] if frame < len(times) else 0.0
        label = f"{frame} · {time_s:.1f}s"
        position = x(frame)
        anchor = ""
        if position + 2 + len(label) * CHAR_W > right:
            anchor = ' text-anchor="end"'
            position = min(position, right)
        ticks.append(
            f'<line x1="{x(frame):.1f}" x2="{x(frame):.1f}" y1="{top - 6}" y2="{top}" '
            f'stroke="#a1a1aa"/><text x="{position + (0 if anchor else 2):.1f}" '
            f'y="{top + 12}"{anchor}>{label}</text>'
        )
    return f'<line x1="{left}" x2="{right}" y1="{top}" y2="{top}" stroke="#a1a1aa"/>' + "".join(
        ticks
    )


def nice_step(raw: float) -> int:
    """1, 2, 5, 10, 20, 50... at least ``raw``."""
    if raw <= 1:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)


def value_text(value: float) -> str:
    return f"{value:.3g}"


def signal_plots(report: Report, family: str, keys: Sequence[str], spans: Sequence[Finding]) -> str:
    """The family's signals, one plot each, with ``spans`` shaded and a frame axis under them
    ("" when none of them was measured)."""
    n = max(1, len(report.frame_index))
    plot_w = WIDTH - LABEL_W - RIGHT

    def x(frame: float) -> float:
        return LABEL_W + plot_w * frame / n

    rows = []
    for key in keys:
        values = np.array([np.nan if v is None else float(v) for v in report.signals[key]])
        finite = values[np.isfinite(values)]
        if not len(finite):
            continue
        lines = threshold_lines(report, key)
        lo = (
            min(float(finite.min()), *(v for _, _, v, _ in lines)) if lines else float(finite.min())
        )
        hi = (
            max(float(finite.max()), *(v for _, _, v, _ in lines)) if lines else float(finite.max())
        )
        y0 = len(rows) * ROW_H
        inner = ROW_H - 2 * PLOT_PAD

        def y(
            value: float, y0: float = y0, lo: float = lo, hi: float = hi, inner: float = inner
        ) -> float:
            if hi <= lo:
                return y0 + ROW_H / 2
            return y0 + ROW_H - PLOT_PAD - (value - lo) / (hi - lo) * inner

        parts = [
            f'<rect x="{LABEL_W}" y="{y0 + 1}" width="{plot_w}" height="{ROW_H - 2}" '
            'fill="#fafafa"/>'
        ]
        parts += [
            f'<rect x="{x(f.start_frame):.1f}" y="{y0 + 1}" '
            f'width="{max(2.0, x(f.end_frame + 1) - x(f.start_frame)):.1f}" height="{ROW_H - 2}" '
            f'fill="{SEVERITY_COLOR[f.severity]}" fill-opacity="0.15"><title>{h(f.code)} '
            f"{h(f.message)}</title></rect>"
            for f in spans
        ]
        for code, name, value, severity in lines:
            level = y(value)
            parts.append(
                f'<line class="threshold" x1="{LABEL_W}" x2="{WIDTH - RIGHT}" y1="{level:.1f}" '
                f'y2="{level:.1f}" stroke="{SEVERITY_COLOR[severity]}" stroke-dasharray="5 3">'
                f"<title>{h(code)} {h(name)} = {value_text(value)}</title></line>"
                f'<text class="threshold-label" x="{WIDTH - RIGHT - 2}" y="{level - 2:.1f}" '
                f'text-anchor="end" fill="{SEVERITY_COLOR[severity]}">{h(code)} {h(name)} '
                f"{value_text(value)}</text>"
            )
        parts.append(curve(values, x, y))
        parts.append(
            f'<text x="0" y="{y0 + 16:.1f}" class="mono">{h(key)}</text>'
            f'<text x="{LABEL_W - 6}" y="{y0 + PLOT_PAD + 8:.1f}" text-anchor="end">'
            f"{value_text(hi)}</text>"
            f'<text x="{LABEL_W - 6}" y="{y0 + ROW_H - PLOT_PAD:.1f}" text-anchor="end">'
            f"{value_text(lo)}</text>"
        )
        rows.append("".join(parts))
    if not rows:
        return ""
    top = len(rows) * ROW_H + 2
    height = top + AXIS_H
    return (
        f'<svg class="signals" viewBox="0 0 {WIDTH:.0f} {height:.0f}" role="img" '
        f'aria-label="{h(family)} signals">{"".join(rows)}{frame_axis(report, x, top, LABEL_W)}'
        "</svg>"
    )


def curve(values: np.ndarray, x: Callable[[float], float], y: Callable[[float], float]) -> str:
    """The signal as polylines broken where nothing was measured; lone points as dots."""
    lines: list[list[str]] = []
    points, gap = sparkline_points(values)
    last = -math.inf
    for position, value in points:
        if position - last > gap:
            lines.append([])
        lines[-1].append(f"{x(position):.1f},{y(value):.1f}")
        last = position
    paths = "".join(
        f'<polyline points="{" ".join(p)}" fill="none" stroke="#3f3f46" stroke-width="1.2"/>'
        for p in lines
        if len(p) > 1
    )
    dots = "".join(
        f'<circle cx="{p[0].split(",")[0]}" cy="{p[0].split(",")[1]}" r="1.5" fill="#3f3f46"/>'
        for p in lines
        if len(p) == 1
    )
    return paths + dots


def steps(curve: Sequence[Any], max_steps: int = MAX_POINTS) -> list[tuple[int, int, float]]:
    """(first frame, stop frame, value) steps of a per-frame curve; a long clip's curve is reduced
    to the maximum of each of ``max_steps`` buckets, so a one-frame spike still shows."""
    values = np.array([0.0 if v is None else float(v) for v in curve])
    n = len(values)
    if n <= max_steps:
        return [(i, i + 1, float(v)) for i, v in enumerate(values)]
    edges = np.linspace(0, n, max_steps + 1).astype(int)
    return [
        (int(a), int(b), float(values[a:b].max())) for a, b in itertools.pairwise(edges) if b > a
    ]


def sparkline_points(
    values: np.ndarray, max_points: int = MAX_POINTS
) -> tuple[list[tuple[float, float]], float]:
    """(frame position, value) points of a signal and the frame distance that breaks its line.
    A long clip is reduced to the minimum and maximum of each of ``max_points`` buckets, so the
    page stays small (a 10-minute clip has 14,400 frames) and spikes stay visible."""
    n = len(values)
    measured = np.flatnonzero(np.isfinite(values))
    if n <= max_points:
        return [(i + 0.5, float(values[i])) for i in measured], SIGNAL_GAP
    size = n / max_points
    buckets = np.floor(measured / size).astype(int)
    points: list[tuple[float, float]] = []
    for bucket in np.unique(buckets):
        members = measured[buckets == bucket]
        low, high = members[np.argmin(values[members])], members[np.argmax(values[members])]
        points += [(i + 0.5, float(values[i])) for i in sorted({int(low), int(high)})]
    return points, SIGNAL_GAP + 2 * size
