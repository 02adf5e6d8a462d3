"""HTML review report: one self-contained page per clip (``--format html``) and, for a batch,
``index.html`` listing every clip.

A clip's page opens from disk with no network: styles are inline, frames are embedded JPEG
thumbnails, each finding's span plays as a small embedded video, timelines and signal plots are
inline SVG. Its Content Security Policy allows only inline styles, ``data:`` images and media, and
the page's own script (keyboard navigation, by its hash), so nothing is fetched and nothing else
runs, even if a prompt were crafted to try. Everything user-supplied (paths, prompts, messages) is
escaped.

The page shows the verdict and score, the clip's context (prompt, source image), a filmstrip, a
per-family timeline (badness curve and finding spans, then the family's signals with the rules'
thresholds) and one card per finding: its span playing (region boxed), the peak frame and the
frame before it, zoomed crops of a small region, a difference or warp-error map for temporal,
flicker and motion findings, the source image for reference findings, the evidence next to the
rule's thresholds, and the fix hint. ``j`` / ``k`` move between findings.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import cv2
import numpy as np

from vidlint._version import __version__
from vidlint.decode.grab import FrameStore, shrink
from vidlint.errors import VidlintError
from vidlint.fileio import write_text_atomic
from vidlint.report.model import SEVERITIES, Finding, Report, Waived
from vidlint.rules import rules_for_reports
from vidlint.writers import html_media as media
from vidlint.writers.frames import about_context
from vidlint.writers.html_plots import (
    MAX_POINTS,
    SEVERITY_COLOR,
    frame_axis,
    signal_owners,
    signal_plots,
    sparkline_points,
    steps,
)

log = logging.getLogger(__name__)

SUFFIX = ".html"
INDEX_NAME = "index.html"
LINKS_INDEX = True
"""Pages written by a batch link back to its ``index.html`` (``write(..., index=True)``)."""

FILMSTRIP_FRAMES = 12
THUMB_SIDE = 360
"""Longer side of a finding's thumbnails: enough to see a hand or a face, small enough that a
page with dozens of findings stays a few MB at most."""
FILMSTRIP_SIDE = 160
MAX_FINDINGS_WITH_FRAMES = 40
"""Findings beyond this (the least severe) are listed without thumbnails."""
JPEG_QUALITY = 82
POSTER_SIDE = 128
POSTER_META = "vidlint-poster"
POSTER_READ_CHARS = 64_000
POSTER_PATTERN = re.compile(
    r'<meta name="vidlint-poster" content="(data:image/jpeg;base64,'
    r'[A-Za-z0-9+/]+={0,2})">'
)
PAGE_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CLIP_PAGE_CSP = f"{PAGE_CSP}; media-src data:"

__all__ = ["MAX_POINTS", "render", "render_index", "sparkline_points", "steps", "write"]


def h(value: Any) -> str:
    """Escape for HTML text and attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def css() -> str:
    return resources.files("vidlint.writers").joinpath("report.css").read_text("utf-8")


def page_script() -> str:
    return resources.files("vidlint.writers").joinpath("report.js").read_text("utf-8")


def jpeg_uri(rgb: np.ndarray) -> str:
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
    )
    if not ok:
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii")


def span_text(finding: Finding) -> str:
    if finding.start_frame == finding.end_frame:
        return f"frame {finding.start_frame} · {finding.start_s:.2f} s"
    return (
        f"frames {finding.start_frame}–{finding.end_frame} · "
        f"{finding.start_s:.2f}–{finding.end_s:.2f} s"
    )


def page(title: str, body: str, csp: str = PAGE_CSP, script: str = "", poster: str = "") -> str:
    poster_meta = f'<meta name="{POSTER_META}" content="{poster}">\n' if poster else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{h(csp)}">\n{poster_meta}'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="vidlint {h(__version__)}">\n'
        f"<title>{h(title)}</title>\n<style>\n{css()}</style>\n</head>\n<body>\n{body}\n"
        f"{script}</body>\n</html>\n"
    )


# -- frames -----------------------------------------------------------------------------------


def filmstrip_indices(n: int, count: int = FILMSTRIP_FRAMES) -> list[int]:
    if n <= 0:
        return []
    return sorted({round(i * (n - 1) / max(1, count - 1)) for i in range(min(n, count))})


def with_frames(report: Report) -> list[Finding]:
    """The findings that get thumbnails: the most severe and confident first."""
    ranked = sorted(
        (f for f in report.findings if not about_context(f)),
        key=lambda f: (SEVERITIES.index(f.severity), -f.confidence, f.start_frame),
    )
    return ranked[:MAX_FINDINGS_WITH_FRAMES]


def with_media(report: Report) -> list[Finding]:
    """The findings that also get a player, zoomed crops and a difference map: the first
    :data:`~vidlint.writers.html_media.MAX_PLAYERS` of :func:`with_frames`."""
    return with_frames(report)[: media.MAX_PLAYERS]


def zoomed(report: Report, finding: Finding) -> bool:
    """Whether the finding's region is small enough in a thumbnail to be worth a zoom."""
    width, height = int(report.clip.get("width") or 0), int(report.clip.get("height") or 0)
    return media.zoom_factor(finding, width, height, THUMB_SIDE) is not None


def wanted_frames(report: Report) -> list[tuple[set[int], int]]:
    """The frames the page shows, by the longer side they are grabbed at: thumbnails (filmstrip,
    poster, each shown finding's peak and the frame before it), the span players' frames and the
    frames zoomed crops are cut from."""
    thumbs = {poster_frame(report)} | set(filmstrip_indices(len(report.frame_index)))
    for finding in with_frames(report):
        thumbs |= {finding.peak_frame, finding.peak_frame - 1}
    player: set[int] = set()
    zoom: set[int] = set()
    for finding in with_media(report):
        player |= set(media.player_window(report, finding))
        if zoomed(report, finding):
            zoom |= media.zoom_frames(finding)
    return [(thumbs, THUMB_SIDE), (player, media.PLAYER_SIDE), (zoom, media.zoom_side(report))]


@dataclass
class Pictures:
    """The page's frames by use, or why there are none (the clip cannot be read again)."""

    thumbs: dict[int, np.ndarray] = field(default_factory=dict)
    player: dict[int, np.ndarray] = field(default_factory=dict)
    zoom: dict[int, np.ndarray] = field(default_factory=dict)
    missing: str = ""


def load_frames(report: Report, store: FrameStore | None = None) -> Pictures:
    """The page's frames, from ``store`` when writers share one (else one decode here)."""
    wanted = wanted_frames(report)
    if store is None:
        store = FrameStore.of_report(report)
        for indices, side in wanted:
            store.want(indices, side)
    try:
        thumbs, player, zoom = (store.get(indices, side) for indices, side in wanted)
    except VidlintError as exc:
        log.warning("HTML report without frames: %s", exc)
        return Pictures(missing=str(exc))
    return Pictures(thumbs, player, zoom)


def reference_uri(report: Report) -> str:
    reference = report.context.get("reference")
    if not reference:
        return ""
    image = cv2.imread(str(reference), cv2.IMREAD_COLOR)
    if image is None:
        return ""
    return jpeg_uri(shrink(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), THUMB_SIDE))


# -- per-clip page ------------------------------------------------------------------------------


def header(report: Report, name: str, index: bool) -> str:
    clip = report.clip
    meta = " · ".join(
        part
        for part in (
            f"{clip.get('width')}×{clip.get('height')}",
            f"{float(clip.get('fps') or 0):g} fps",
            f"{clip.get('frame_count')} frames",
            f"{float(clip.get('duration_s') or 0):.2f} s",
            str(clip.get("codec") or ""),
            "variable frame rate" if clip.get("vfr") else "",
        )
        if part
    )
    counts = report.counts()
    labels = {"error": "error", "warning": "warning", "info": "note"}
    tally = "".join(
        f'<span class="badge {s}">{counts[s]} {labels[s]}{"s" if counts[s] != 1 else ""}</span>'
        for s in SEVERITIES
    )
    if report.waived:
        tally += f'<span class="badge none">{len(report.waived)} waived</span>'
    verdict = report.verdict
    back = (
        f'<a class="to-index" href="{INDEX_NAME}" title="the batch index (u)">← all clips</a>'
        if index
        else ""
    )
    return (
        f'<header class="top {verdict}">\n{back}'
        f'<div class="verdict {verdict}">{h(verdict)}</div>\n'
        f'<div class="score" title="score 0-100">{report.score}<small>/100</small></div>\n'
        f'<div class="headline"><h1>{h(name)}</h1>\n'
        f'<div class="meta mono">{h(clip.get("path"))}</div>\n'
        f'<div class="meta">{h(meta)}</div></div>\n'
        f'<div class="tally">{tally}</div>\n</header>\n'
    )


def mode_text(context: dict[str, Any]) -> str:
    mode = str(context.get("mode") or "")
    if mode == "i2v" and context.get("mode_from") == "name":
        mode += " (from the file name)"
    if mode == "i2v" and not context.get("reference"):
        mode += "; no source image: REF and SRC rules did not run"
    return mode


def context_section(report: Report) -> str:
    labels = (
        ("prompt", "Prompt"),
        ("negative_prompt", "Negative prompt"),
        ("mode", "Mode"),
        ("generator", "Generator"),
        ("seed", "Seed"),
        ("reference", "Source image"),
    )
    values = {**report.context, "mode": mode_text(report.context)}
    rows = "".join(
        f"<dt>{h(label)}</dt><dd>{h(values[key])}</dd>\n"
        for key, label in labels
        if values.get(key) not in (None, "")
    )
    if not rows:
        return ""
    image = reference_uri(report)
    figure = (
        f'<figure class="reference"><img src="{image}" alt="source image">'
        '<figcaption class="muted">source image</figcaption></figure>'
        if image
        else ""
    )
    return (
        f'<section class="context"><div><h2>Context</h2><dl>\n{rows}</dl></div>{figure}</section>\n'
    )


def filmstrip_section(report: Report, pictures: Pictures) -> str:
    if pictures.missing:
        return (
            f'<section><h2>Filmstrip</h2><p class="note">Frames not shown: {h(pictures.missing)}'
            "</p></section>\n"
        )
    worst: dict[int, str] = {}
    for finding in report.findings:
        if about_context(finding):
            continue
        for index in range(finding.start_frame, finding.end_frame + 1):
            if index not in worst or (
                SEVERITIES.index(finding.severity) < SEVERITIES.index(worst[index])
            ):
                worst[index] = finding.severity
    times = report.frame_time_s
    figures = []
    for index in filmstrip_indices(len(report.frame_index)):
        if index not in pictures.thumbs:
            continue
        thumb = jpeg_uri(shrink(pictures.thumbs[index], FILMSTRIP_SIDE))
        time_s = times[index] if index < len(times) else 0.0
        figures.append(
            f'<figure class="{worst.get(index, "")}"><img src="{thumb}" '
            f'alt="frame {index}"><figcaption>{index} · {time_s:.2f} s'
            "</figcaption></figure>"
        )
    return (
        '<section><h2>Filmstrip</h2><div class="filmstrip">'
        + "".join(figures)
        + "</div></section>\n"
    )


def timeline_section(report: Report) -> str:
    """One lane per family (its badness curve and its findings' spans, waived ones in grey),
    then, per family, the plots of the signals it owns."""
    n = max(1, len(report.frame_index))
    owners = signal_owners(report)
    owned: dict[str, list[str]] = {}
    for key, family in owners.items():
        owned.setdefault(family, []).append(key)
    frame_findings = [f for f in report.findings if not about_context(f)]
    waived = [w.finding for w in report.waived if not about_context(w.finding)]
    lanes = sorted({f.family for f in frame_findings + waived} | (set(owned) - {"other"}))
    families = lanes + (["other"] if "other" in owned else [])
    if not families:
        return ""
    left, right, width = 70.0, 12.0, 1000.0
    plot = width - left - right

    def x(frame: float) -> float:
        return left + plot * frame / n

    lane_h, gap = 34.0, 10.0
    parts = []
    top = 4.0
    for family in lanes:
        y0 = top
        parts.append(
            f'<text class="lane-name" x="0" y="{y0 + lane_h / 2 + 4:.1f}">{h(family)}</text>'
        )
        parts.append(f'<rect x="{left}" y="{y0}" width="{plot}" height="{lane_h}" fill="#f4f4f5"/>')
        curve = report.badness.get(family)
        if not any(f.family == family for f in frame_findings + waived):
            parts.append(f'<text x="{left + 8}" y="{y0 + lane_h / 2 + 4:.1f}">no findings</text>')
        elif curve:
            points = [f"{x(0):.1f},{y0 + lane_h:.1f}"]
            for first, stop, value in steps(curve):
                y = y0 + lane_h - lane_h * min(1.0, value)
                points.append(f"{x(first):.1f},{y:.1f} {x(stop):.1f},{y:.1f}")
            points.append(f"{x(len(curve)):.1f},{y0 + lane_h:.1f}")
            parts.append(
                f'<polygon points="{" ".join(points)}" fill="#fca5a5" '
                'fill-opacity="0.55" stroke="none"/>'
            )
        numbered = [(f"finding-{i}", f, False) for i, f in enumerate(report.findings)]
        numbered += [(f"finding-waived-{i}", w.finding, True) for i, w in enumerate(report.waived)]
        for anchor, finding, is_waived in numbered:
            if finding.family != family or about_context(finding):
                continue
            x0 = x(finding.start_frame)
            w = max(3.0, x(finding.end_frame + 1) - x0)
            colour = "#a1a1aa" if is_waived else SEVERITY_COLOR[finding.severity]
            note = " (waived)" if is_waived else ""
            parts.append(
                f'<a href="#{anchor}"><rect x="{x0:.1f}" y="{y0 + 2}" '
                f'width="{w:.1f}" height="8" rx="2" opacity="0.85" '
                f'fill="{colour}"><title>{h(finding.code)} '
                f"{h(finding.message)} ({h(span_text(finding))}){note}</title></rect></a>"
            )
        top += lane_h + gap
    parts.append(frame_axis(report, x, top, left))
    height = top + 22
    svg = (
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="per-family badness timeline">{"".join(parts)}</svg>'
    )
    legend = (
        '<div class="legend"><span><i style="background:#fca5a5"></i>badness '
        "(worst finding: severity × confidence)</span>"
        + "".join(
            f'<span><i style="background:{c}"></i>{s}</span>' for s, c in SEVERITY_COLOR.items()
        )
        + ('<span><i style="background:#a1a1aa"></i>waived</span>' if report.waived else "")
        + '<span><i class="dash"></i>a rule\'s threshold</span></div>'
    )
    details = "".join(
        signal_details(report, family, owned.get(family, []), frame_findings) for family in families
    )
    return f'<section class="timeline"><h2>Timeline</h2>{svg}{legend}{details}</section>\n'


def signal_details(
    report: Report, family: str, keys: Sequence[str], frame_findings: Sequence[Finding]
) -> str:
    """The family's signal plots, folded: the lanes above are the overview."""
    spans = [f for f in frame_findings if f.family == family]
    svg = signal_plots(report, family, keys, spans)
    if not svg:
        return ""
    marked = f", {len(spans)} finding span(s) shaded" if spans else ""
    return f"<details><summary>{h(family)} signals ({len(keys)}{marked})</summary>{svg}</details>"


def thresholds_of(report: Report, code: str) -> list[tuple[str, Any, str]]:
    """(parameter, value in force, why) for the rule ``code``: its defaults with the report's
    configured overrides."""
    rule = rules_for_reports().get(code)
    if rule is None:
        return []
    configured = report.config.get("thresholds", {}).get(code, {})
    reasons = rule.param_reasons()
    return [
        (name, configured.get(name, default), reasons.get(name, ""))
        for name, default in rule.defaults().items()
    ]


def rule_summary(code: str) -> str:
    rule = rules_for_reports().get(code)
    return rule.summary if rule else ""


def value_text(value: Any) -> str:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def fix_text(fix: dict[str, Any]) -> str:
    parts = []
    for key, value in fix.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        parts.append(f"<b>{h(key.replace('_', ' '))}</b>: {h(value)}")
    return "; ".join(parts)


def shot(rgb: np.ndarray | None, finding: Finding | None, caption: str, cls: str = "") -> str:
    """A still with the finding's region boxed (``finding`` None: no box)."""
    if rgb is None:
        return ""
    box = ""
    if finding is not None and finding.region is not None:
        r = finding.region
        box = (
            f'<span class="region" style="left:{100 * r.x:.2f}%;top:{100 * r.y:.2f}%;'
            f'width:{100 * r.w:.2f}%;height:{100 * r.h:.2f}%"></span>'
        )
    return (
        f'<figure class="{cls}"><span class="shot"><img src="{jpeg_uri(rgb)}" alt="{h(caption)}">'
        f"{box}</span><figcaption>{h(caption)}</figcaption></figure>"
    )


def image_figure(uri: str, caption: str, cls: str = "") -> str:
    if not uri:
        return ""
    return (
        f'<figure class="{cls}"><span class="shot"><img src="{uri}" alt="{h(caption)}"></span>'
        f"<figcaption>{h(caption)}</figcaption></figure>"
    )


def player(report: Report, finding: Finding, pictures: Pictures) -> str:
    """The span player: a muted looping video of the span and half a second around it."""
    video = media.span_video(report, finding, pictures.player)
    if not video:
        return ""
    window = media.player_window(report, finding)
    peak = pictures.thumbs.get(finding.peak_frame)
    poster = f' poster="{jpeg_uri(peak)}"' if peak is not None else ""
    caption = f"frames {window[0]}–{window[-1]} at the clip's timing, looping; span marked below"
    return (
        f'<figure class="player"><video class="span-player" src="{video}"{poster} autoplay '
        'muted loop playsinline controls disablepictureinpicture preload="auto" '
        f'aria-label="{h(finding.code)} {h(span_text(finding))}"></video>'
        f"<figcaption>{h(caption)}</figcaption></figure>"
    )


def frame_media(report: Report, finding: Finding, pictures: Pictures, rich: bool) -> str:
    """The card's pictures: the span player, the source image (REF), the frame before and the
    peak, a difference map (TMP, FLK, MOT) and zoomed crops of a small region (``rich`` for the
    most severe findings; the others get the two stills)."""
    peak_index = finding.peak_frame
    before, peak = pictures.thumbs.get(peak_index - 1), pictures.thumbs.get(peak_index)
    parts = [player(report, finding, pictures)] if rich else []
    if finding.family == "REF":
        parts.append(image_figure(reference_uri(report), "source image", "source"))
    parts.append(shot(before, finding, f"frame {peak_index - 1} (before)"))
    parts.append(shot(peak, finding, f"frame {peak_index} (peak)"))
    if rich and before is not None and peak is not None:
        heat = media.difference_map(finding, before, peak)
        if heat is not None:
            parts.append(shot(heat[0], finding, heat[1], "heat"))
    if rich and zoomed(report, finding):
        for index, label in ((peak_index - 1, "before"), (peak_index, "peak")):
            rgb = pictures.zoom.get(index)
            crop = media.zoom_crop(rgb, finding, THUMB_SIDE) if rgb is not None else None
            if crop is not None:
                parts.append(
                    shot(
                        crop[0],
                        None,
                        f"frame {index} ({label}), region {crop[1]:.1f}× zoom",
                        "zoom",
                    )
                )
    return '<div class="frames">' + "".join(parts) + "</div>"


def finding_card(
    report: Report,
    number: int | str,
    finding: Finding,
    pictures: Pictures | None,
    waiver: Waived | None = None,
    rich: bool = False,
) -> str:
    if pictures is not None:
        images = frame_media(report, finding, pictures, rich)
    elif finding.family == "SRC" and not waiver:
        images = (
            '<div class="frames">'
            + image_figure(reference_uri(report), "source image", "source")
            + "</div>"
        )
    else:
        images = ""
    evidence = finding.to_dict()["evidence"]
    evidence_rows = "".join(
        f'<tr><td>{h(k)}</td><td class="value">{h(value_text(v))}</td></tr>'
        for k, v in evidence.items()
    )
    threshold_rows = "".join(
        f'<tr title="{h(why)}"><td>{h(name)}</td><td class="value">{h(value_text(value))}</td>'
        f'<td class="muted">{h(why)}</td></tr>'
        for name, value, why in thresholds_of(report, finding.code)
    )
    tables = ""
    if evidence_rows:
        tables += f"<table><tr><th>evidence</th><th>value</th></tr>{evidence_rows}</table>"
    if threshold_rows:
        tables += (
            '<details><summary class="muted">thresholds in force</summary><table><tr>'
            "<th>parameter</th><th>value</th><th>why</th></tr>"
            f"{threshold_rows}</table></details>"
        )
    fix = fix_text(finding.fix)
    fix_html = f'<div class="fix">Fix: {fix}</div>' if fix else ""
    summary = rule_summary(finding.code)
    where = (
        "about the inputs"
        if about_context(finding)
        else f"{span_text(finding)} · peak {finding.peak_frame}"
    )
    waived = (
        f'<div class="waiver">Waived: {h(waiver.reason)}'
        f'<span class="muted mono"> ({h(waiver.baseline)})</span></div>'
        if waiver
        else ""
    )
    return (
        f'<article class="finding {finding.severity}{" waived" if waiver else ""}" '
        f'id="finding-{number}" tabindex="-1">\n'
        f'<header><span class="code">{h(finding.code)}</span>'
        f'<span class="mono muted">{h(finding.name)}</span>'
        f'<span class="badge {finding.severity}">{h(finding.severity)}</span>'
        + ('<span class="badge none">waived</span>' if waiver else "")
        + f'<span class="where">{h(where)} · '
        f"confidence {finding.confidence:.2f}</span></header>\n{waived}"
        f'<div class="message">{h(finding.message)}</div>'
        f'<div class="muted">{h(summary)}</div>\n'
        f'<div class="body">{images}<div class="facts">{tables}{fix_html}</div></div>\n'
        "</article>\n"
    )


def findings_section(report: Report, pictures: Pictures) -> str:
    """Cards for the findings about frames, in time order (the inputs' findings have their own
    section)."""
    numbered = [(n, f) for n, f in enumerate(report.findings) if not about_context(f)]
    if not numbered:
        return (
            "<section><h2>Findings in the frames</h2><p>None: every selected frame rule "
            "passed.</p></section>\n"
        )
    shown = {id(f) for f in with_frames(report)}
    rich = {id(f) for f in with_media(report)}
    cards = "".join(
        finding_card(
            report,
            number,
            f,
            pictures if id(f) in shown and not pictures.missing else None,
            rich=id(f) in rich,
        )
        for number, f in numbered
    )
    notes = ['<span class="keys"><kbd>j</kbd> / <kbd>k</kbd> next / previous finding</span>']
    if len(numbered) > len(rich):
        notes.append(
            f"the {len(rich)} most severe play their span; "
            + (
                f"{len(numbered) - len(shown)} more are listed without frames"
                if len(numbered) > len(shown)
                else "the others show their peak frame"
            )
        )
    return (
        f"<section><h2>Findings in the frames ({len(numbered)})</h2>"
        f'<p class="note">{"; ".join(notes)}</p>{cards}</section>\n'
    )


def context_findings_section(report: Report) -> str:
    numbered = [(n, f) for n, f in enumerate(report.findings) if about_context(f)]
    if not numbered:
        return ""
    cards = "".join(finding_card(report, number, f, None) for number, f in numbered)
    return (
        f"<section><h2>Findings about the prompt and source ({len(numbered)})</h2>{cards}"
        "</section>\n"
    )


def waived_section(report: Report) -> str:
    """The findings a baseline accepts, marked as waived with the reason (they do not count)."""
    if not report.waived:
        return ""
    cards = "".join(
        finding_card(report, f"waived-{n}", w.finding, None, waiver=w)
        for n, w in enumerate(report.waived)
    )
    return (
        f'<section><h2>Waived by the baseline ({len(report.waived)})</h2><p class="note">'
        "Accepted findings: they do not count in the verdict, the score or the exit code."
        f"</p>{cards}</section>\n"
    )


def errors_section(report: Report) -> str:
    if not report.errors:
        return ""
    items = "".join(
        f"<li>frame {h(e.get('frame'))}: {h(e.get('message'))}"
        f"{' (fatal)' if e.get('fatal') else ''}</li>"
        for e in report.errors
    )
    return f"<section><h2>Decode issues ({len(report.errors)})</h2><ul>{items}</ul></section>\n"


def seconds_text(value: Any) -> str:
    try:
        return f"{float(value):.2f} s"
    except (TypeError, ValueError):
        return "? s"


def footer(report: Report) -> str:
    config = report.config
    timings = report.timings
    return (
        f"<footer>vidlint {h(__version__)} · select {h(','.join(config.get('select', [])))}"
        f" · ignore {h(','.join(config.get('ignore', [])) or '-')} · profile "
        f"{h(config.get('profile', 'default'))} · checked in "
        f"{seconds_text(timings.get('total_s'))} · sha256 "
        f'<span class="mono">{h(str(report.clip.get("sha256", ""))[:16])}</span></footer>'
    )


def render(report: Report, store: FrameStore | None = None, index: bool = False) -> str:
    """The page; its pictures come from ``store`` when given (see :func:`write`); ``index``
    links it back to the batch's ``index.html`` beside it."""
    name = Path(str(report.clip.get("path", "clip"))).name
    pictures = load_frames(report, store)
    body = (
        "<main>\n"
        + header(report, name, index)
        + context_section(report)
        + filmstrip_section(report, pictures)
        + timeline_section(report)
        + findings_section(report, pictures)
        + context_findings_section(report)
        + waived_section(report)
        + errors_section(report)
        + footer(report)
        + "</main>"
    )
    script = page_script()
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode("ascii")
    return page(
        f"{report.verdict.upper()} {report.score} · {name} · vidlint",
        body,
        csp=f"{CLIP_PAGE_CSP}; script-src 'sha256-{digest}'",  # this script only
        script=f"<script>{script}</script>\n",
        poster=poster_uri(report, pictures),
    )


def poster_frame(report: Report) -> int:
    """The frame that stands for the clip in the batch index: the worst finding's peak, else the
    middle frame."""
    ranked = with_frames(report)
    return ranked[0].peak_frame if ranked else len(report.frame_index) // 2


def poster_uri(report: Report, pictures: Pictures) -> str:
    rgb = pictures.thumbs.get(poster_frame(report))
    return jpeg_uri(shrink(rgb, POSTER_SIDE)) if rgb is not None else ""


def read_poster(page_path: str | Path) -> str:
    """The poster a clip page carries in its head (strictly a base64 JPEG data URI, or "")."""
    try:
        with open(page_path, encoding="utf-8") as handle:
            head = handle.read(POSTER_READ_CHARS)
    except OSError:
        return ""
    found = POSTER_PATTERN.search(head)
    return found.group(1) if found else ""


def write(
    report: Report, path: Path, frames: FrameStore | None = None, index: bool = False
) -> Path:
    """Write the page; ``frames`` is a store shared with other writers of the same clip (one
    decode for all), else the clip is decoded here; ``index``: a batch writes it, so it links
    back to the batch index."""
    return write_text_atomic(path, render(report, frames, index))


# -- batch index --------------------------------------------------------------------------------

SORT_SCRIPT = """
(function () {
  var table = document.querySelector("table.clips");
  if (!table) { return; }
  var body = table.tBodies[0];
  table.querySelectorAll("th[data-key]").forEach(function (th, column) {
    th.querySelector("button").addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (o) { o.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = th.dataset.type === "number";
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[th.cellIndex].dataset.sort, y = b.cells[th.cellIndex].dataset.sort;
        var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
"""
VERDICT_ORDER = {"fail": 0, "error": 1, "warn": 2, "pass": 3}


def index_row(outcome: Any, out_dir: Path, families: list[str]) -> str:
    verdict = "error" if outcome.error else (outcome.verdict or "error")
    page_path = outcome.reports.get("html")
    name = Path(outcome.path).name
    if page_path:
        href = quote(Path(os.path.relpath(page_path, out_dir)).as_posix())
        clip = f'<a href="{h(href)}">{h(name)}</a>'
    else:
        clip = h(name)
    detail = (
        f'<div class="muted">{h(outcome.error)}</div>'
        if outcome.error
        else f'<div class="muted mono">{h(outcome.path)}</div>'
    )
    score = -1 if outcome.score is None else outcome.score
    poster = read_poster(page_path) if page_path else ""
    image = (
        f'<img class="poster" src="{poster}" alt="">' if poster else '<span class="poster"></span>'
    )
    if page_path and poster:
        image = f'<a href="{h(href)}" tabindex="-1">{image}</a>'
    cells = [
        f'<td class="clip" data-sort="{h(name.lower())}"><div class="clip-cell">'
        f"{image}<div>{clip}{detail}</div></div></td>",
        (
            f'<td data-sort="{VERDICT_ORDER.get(verdict, 1)}">'
            f'<span class="badge {verdict}">{h(verdict)}</span></td>'
        ),
        f'<td class="num" data-sort="{score}">{"" if score < 0 else score}</td>',
    ]
    for family in families:
        count = outcome.families.get(family, 0)
        cells.append(f'<td class="num" data-sort="{count}">{count or ""}</td>')
    counts = outcome.counts or {}
    for severity in SEVERITIES:
        count = counts.get(severity, 0)
        cells.append(f'<td class="num" data-sort="{count}">{count or ""}</td>')
    cached = (
        ' <span class="badge none" title="not checked again: the cached report is up to date">'
        "cached</span>"
        if outcome.cached
        else ""
    )
    cells.append(
        f'<td class="num" data-sort="{outcome.seconds}">{outcome.seconds:.1f}{cached}</td>'
    )
    return f'<tr class="{"cached" if outcome.cached else ""}">' + "".join(cells) + "</tr>"


def render_index(result: Any, out_dir: Path) -> str:
    outcomes = sorted(
        result.outcomes,
        key=lambda o: (
            VERDICT_ORDER.get("error" if o.error else (o.verdict or "error"), 1),
            o.score if o.score is not None else -1,
            o.path,
        ),
    )
    families = sorted({family for o in outcomes for family in o.families})
    headers = [("clip", "text", ""), ("verdict", "number", ""), ("score", "number", "num")]
    headers += [(family, "number", "num") for family in families]
    headers += [
        ("errors", "number", "num"),
        ("warnings", "number", "num"),
        ("notes", "number", "num"),
        ("seconds", "number", "num"),
    ]
    head = "".join(
        f'<th data-key="{h(key)}" data-type="{kind}" class="{cls}">'
        f'<button type="button">{h(key)}</button></th>'
        for key, kind, cls in headers
    )
    rows = "\n".join(index_row(o, out_dir, families) for o in outcomes)
    verdicts = ["error" if o.error else o.verdict for o in outcomes]
    totals = "".join(
        f'<span class="badge {key}">{verdicts.count(key)} {key}</span>'
        for key in ("fail", "warn", "pass", "error")
        if verdicts.count(key)
    )
    body = (
        f'<main><header class="top"><div class="headline"><h1>vidlint review: '
        f'{len(outcomes)} clip(s)</h1><div class="meta">Click a column to sort; click a '
        f'clip for its frames, timeline and findings.</div></div><div class="totals">'
        f'{totals}</div></header>\n<section><table class="clips"><thead><tr>{head}</tr>'
        f"</thead><tbody>\n{rows}\n</tbody></table></section>\n"
        f"<footer>vidlint {h(__version__)}</footer></main>"
    )
    nonce = secrets.token_urlsafe(16)
    csp = f"{PAGE_CSP}; script-src 'nonce-{nonce}'"
    return page(
        f"vidlint review · {len(outcomes)} clip(s)",
        body,
        csp=csp,
        script=f'<script nonce="{nonce}">{SORT_SCRIPT}</script>\n',
    )


def write_batch(result: Any, out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    return write_text_atomic(out_dir / INDEX_NAME, render_index(result, out_dir))
