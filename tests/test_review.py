"""The review page an editor decides a finding on: each card plays its span (the clip's own frames
and timing, the region boxed), zooms into a small region, maps the change into its peak frame;
reference and source findings show the source image; DRF001 is a frame finding; each signal is
plotted once with its rules' thresholds. Then in headless Chromium: the players play, j / k move
between findings, nothing is fetched, no console error, and screenshots of a real clip's page."""

from __future__ import annotations

import base64
import io
import os
import re
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

import vidlint
from vidlint.decode.grab import grab_dict
from vidlint.report.model import Report
from vidlint.synth import Artifact
from vidlint.writers import contact_sheet, frames
from vidlint.writers import html as html_writer
from vidlint.writers import html_media as media

from .conftest import REPO
from .test_html import ARTIFACTS, elements, page_images

DOCS_IMG = REPO / "docs" / "img"


@pytest.fixture(scope="module")
def review(synth_clip, tmp_path_factory) -> tuple[Path, Report, str]:
    """A morph (MOT001, with a region), a cut (TMP003), and a clip that degrades from frame 48
    (QLT002, DRF001)."""
    clip = synth_clip(
        "review-flawed",
        ".mp4",
        [Artifact("morph", 8, 3), Artifact("cut", 24), Artifact("degrade", 48)],
        width=320,
        height=240,
        frames=80,
        camera="pan",
    )
    report = vidlint.check(clip, select=["TMP", "MOT", "QLT", "DRF"])
    assert {"MOT001", "TMP003", "QLT002", "DRF001"} <= {f.code for f in report.findings}
    page = html_writer.write(report, tmp_path_factory.mktemp("review") / "clip.html", index=True)
    return clip, report, page.read_text()


def card(text: str, code: str) -> str:
    found = re.search(
        rf'<article class="finding [a-z ]+" id="finding-\d+" tabindex="-1">\n<header><span '
        rf'class="code">{code}</span>.*?</article>',
        text,
        re.DOTALL,
    )
    assert found, code
    return found.group(0)


def decoded_video(uri: str) -> tuple[list[np.ndarray], list[float]]:
    assert uri.startswith("data:video/mp4;base64,")
    with av.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as container:
        decoded = list(container.decode(video=0))
        return [f.to_ndarray(format="rgb24") for f in decoded], [float(f.time) for f in decoded]


def test_each_card_plays_its_span_at_the_clip_timing(review):
    clip, report, text = review
    rich = html_writer.with_media(report)
    assert {f.code for f in rich} >= {"MOT001", "TMP003", "DRF001"}
    sources = {a["aria-label"].split()[0]: a["src"] for t, a in elements(text) if t == "video"}
    assert set(sources) == {f.code for f in rich}
    for finding in rich:
        window = media.player_window(report, finding)
        assert window[0] <= finding.start_frame and window[-1] >= min(
            finding.end_frame, window[0] + media.MAX_PLAYER_FRAMES - 1
        )
        pictures, times = decoded_video(sources[finding.code])
        assert len(pictures) == len(window) <= media.MAX_PLAYER_FRAMES
        expected = [report.frame_time_s[i] - report.frame_time_s[window[0]] for i in window]
        assert np.allclose(times, expected, atol=0.002), finding.code  # the clip's own timing
        direct = grab_dict(clip, window, max_side=media.PLAYER_SIDE)
        height = pictures[0].shape[0]

        def smooth(rgb: np.ndarray, height: int = height) -> np.ndarray:  # H.264 drops noise
            return cv2.GaussianBlur(rgb[24 : height - 12], (7, 7), 0).astype(int)

        nearest = []
        for k, picture in enumerate(pictures):  # each is the frame it says (the camera pans)
            errors = [float(np.abs(smooth(picture) - smooth(direct[i])).mean()) for i in window]
            assert errors[k] < 8 and errors[k] <= min(errors) + 0.5, (finding.code, k, errors)
            nearest.append(int(np.argmin(errors)))
        assert all(abs(n - k) <= 1 for k, n in enumerate(nearest)), (finding.code, nearest)
        colour = np.array(media.SEVERITY_RGB[finding.severity])
        strip = [p[-2, :, :].astype(int) for p in pictures]
        span_at = round(
            (finding.start_frame - window[0] + 0.5) / len(window) * pictures[0].shape[1]
        )
        assert np.abs(strip[0][span_at] - colour).sum() < 120, finding.code  # span marked
    morph = next(f for f in rich if f.code == "MOT001")
    pictures, _ = decoded_video(sources["MOT001"])
    window = media.player_window(report, morph)
    height, width = pictures[0].shape[:2]
    edge_x = round(morph.region.x * width)
    rows = slice(round((morph.region.y + 0.3 * morph.region.h) * height),
                 round((morph.region.y + 0.7 * morph.region.h) * height))  # fmt: skip
    colour = np.array(media.SEVERITY_RGB[morph.severity])

    def box_distance(k: int) -> float:
        return float(np.abs(pictures[k][rows, edge_x].astype(int) - colour).sum(axis=1).mean())

    inside = window.index(morph.peak_frame)
    outside = 0 if window[0] < morph.start_frame else len(window) - 1
    assert box_distance(inside) < 120 < box_distance(outside)  # boxed while the span lasts


def test_cards_zoom_into_the_region_and_map_the_change(review):
    clip, report, text = review
    images = page_images(text)
    morph = next(f for f in report.findings if f.code == "MOT001")
    (zoom_alt,) = [a for a in images if a.startswith(f"frame {morph.peak_frame} (peak), region")]
    factor = float(re.search(r"region ([\d.]+)× zoom", zoom_alt).group(1))
    assert media.ZOOM_RANGE[0] <= factor <= media.ZOOM_RANGE[1]
    assert f"frame {morph.peak_frame - 1} (before), region {factor:.1f}× zoom" in images
    zoom = images[zoom_alt]
    full = grab_dict(clip, [morph.peak_frame])[morph.peak_frame]  # the clip's own pixels
    (x0, y0, x1, y1), _ = media.zoom_factor(morph, 320, 240, html_writer.THUMB_SIDE)
    cut = full[round(y0 * 240) : round(y1 * 240), round(x0 * 320) : round(x1 * 320)]
    expected = cv2.resize(cut, zoom.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    assert float(np.abs(zoom.astype(int) - expected.astype(int)).mean()) < 10
    thumb = html_writer.THUMB_SIDE * (x1 - x0) * 320 / 320
    assert zoom.shape[1] == pytest.approx(thumb * factor, abs=2)  # 2-4x the thumbnail's size
    # the warp error of the morph sits in its region; the cut's difference covers the frame
    (warp_alt,) = re.findall(r'alt="(warp error[^"]*)"', card(text, "MOT001"))
    heat = images[warp_alt].astype(float).sum(axis=2)
    r = morph.region
    h, w = heat.shape
    inside = np.zeros_like(heat, bool)
    inside[round(r.y * h) : round((r.y + r.h) * h), round(r.x * w) : round((r.x + r.w) * w)] = True
    assert heat[inside].mean() > 2 * heat[~inside].mean()
    cut_card = card(text, "TMP003")
    (cut_alt,) = re.findall(r'alt="(difference from the frame before[^"]*)"', cut_card)
    calm = [a for a in images if a.startswith("difference")]
    assert images[cut_alt].mean() > 100 and len(calm) >= 1  # a cut changes everything
    assert "warp error" not in cut_card and "difference" not in card(text, "DRF001")


def test_drf001_is_a_frame_finding_at_its_onset(review, tmp_path):
    _, report, text = review
    (onset,) = [f for f in report.findings if f.code == "DRF001"]
    drf = card(text, "DRF001")
    assert f'alt="frame {onset.peak_frame} (peak)"' in drf and "<video" in drf
    assert onset.peak_frame == onset.evidence["onset_frame"]
    assert '<text class="lane-name" x="0"' in text and ">DRF</text>" in text
    assert "Findings about the prompt and source" not in text
    assert frames.frame_file("DRF001", onset.peak_frame) in {
        p.name for p in frames.write(report, tmp_path / "f").iterdir()
    }
    assert "DRF001" in {f.code for f in contact_sheet.chosen(report)}


def test_each_signal_is_plotted_once_with_its_thresholds(review):
    _, report, text = review
    labels = re.findall(r'<text x="0" y="[\d.]+" class="mono">([a-z_]+\.[a-z0-9_]+)</text>', text)
    measured = [k for k, v in report.signals.items() if np.isfinite(np.asarray(v, float)).any()]
    assert sorted(labels) == sorted(measured)  # every measured signal, once (no face: none)
    blocks = dict(
        re.findall(r"<summary>([A-Z]{3}|other) signals.*?</summary>(.*?)</details>", text)
    )
    assert "flow.motion" in blocks["MOT"] and "flow.motion" not in blocks.get("QLT", "")
    assert "<title>TMP003 content_threshold = 27</title>" in blocks["TMP"]
    assert "<title>TMP004 black_fraction = " in blocks["TMP"]
    assert "<title>MOT004 max_motion = 0.4</title>" in blocks["MOT"]
    (cut,) = [f for f in report.findings if f.code == "TMP003"]
    assert f"<title>TMP003 {cut.message}</title>" in blocks["TMP"]  # its span shaded


@pytest.fixture(scope="module")
def i2v(synth_clip, tmp_path_factory) -> Report:
    """An image-to-video clip whose source image is far too small and of other colours."""
    folder = tmp_path_factory.mktemp("review-i2v")
    clip = folder / "shot.mp4"
    clip.write_bytes(synth_clip("review-i2v", ".mp4", [], width=160, height=120).read_bytes())
    source = np.zeros((24, 32, 3), np.uint8)
    source[:, :, 2] = 255
    Image.fromarray(source).save(folder / "shot_source.png")
    return vidlint.check(clip, select=["SRC", "REF001", "TMP001"])


def test_reference_and_source_findings_show_the_source_image(i2v, tmp_path):
    assert {"SRC002", "REF001"} <= {f.code for f in i2v.findings}
    text = html_writer.render(i2v)
    reference = card(text, "REF001")
    assert reference.index('alt="source image"') < reference.index('alt="frame 0 (peak)"')
    source = card(text, "SRC002")
    assert 'alt="source image"' in source and "(peak)" not in source
    section = text.split("Findings about the prompt and source")[1]
    assert 'class="code">SRC002' in section and 'class="code">REF001' not in section
    shown = page_images(text)["source image"]
    assert shown[..., 2].mean() > 200 and shown[..., 0].mean() < 30  # the blue source, not frame 0
    written = frames.write(i2v, tmp_path / "f")
    assert not any(p.name.startswith("SRC") for p in written.iterdir())


# -- in Chromium ---------------------------------------------------------------------------------


def video_frame(browser, selector: str) -> np.ndarray:
    png = browser.element_png(selector)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def test_review_page_in_chromium(browser, review, tmp_path):
    _, report, text = review
    page = tmp_path / "clip.html"
    page.write_text(text)
    (tmp_path / "index.html").write_text("<!doctype html><title>index</title>")
    browser.open(page.as_uri())
    time.sleep(0.3)
    assert browser.problems() == []
    assert [u for u in browser.requests() if not u.startswith("data:")] == [page.as_uri()]
    videos = "Array.from(document.querySelectorAll('video.span-player'))"
    count = browser.evaluate(f"{videos}.length")
    assert count == len(html_writer.with_media(report))
    for number in range(count):  # browsers pause muted videos out of view: look at each
        video = f"{videos}[{number}]"
        browser.evaluate(f"{video}.scrollIntoView({{block: 'center'}})")
        time.sleep(0.2)
        then = browser.evaluate(f"{video}.currentTime")
        time.sleep(0.4)
        now, paused, ready, ok, loop, muted = browser.evaluate(
            f"[{video}.currentTime, {video}.paused, {video}.readyState, {video}.error === null,"
            f" {video}.loop, {video}.muted]"
        )
        assert ok and ready >= 2 and not paused and loop and muted, number
        assert now != then, number  # it plays
    before = video_frame(browser, "video.span-player")
    time.sleep(0.5)
    after = video_frame(browser, "video.span-player")
    assert np.abs(after - before).mean() > 1.0  # and its picture changes
    # keyboard: j / k move between the findings, v pauses the current one's span
    frame_cards = [f"finding-{n}" for n, f in enumerate(report.findings)]
    browser.press("j")
    assert browser.evaluate("location.hash") == f"#{frame_cards[0]}"
    assert browser.evaluate("document.activeElement.id") == frame_cards[0]
    browser.press("j")
    browser.press("j")
    assert browser.evaluate("location.hash") == f"#{frame_cards[2]}"
    browser.press("k")
    assert browser.evaluate("document.activeElement.id") == frame_cards[1]
    top = browser.evaluate(
        f"document.getElementById('{frame_cards[1]}').getBoundingClientRect().top"
    )
    assert 0 <= top < 100  # scrolled to it
    video = f"document.getElementById('{frame_cards[1]}').querySelector('video')"
    deadline = time.monotonic() + 5
    while browser.evaluate(f"{video}.paused") and time.monotonic() < deadline:
        time.sleep(0.05)  # playing again now that it is in view
    browser.press("v")
    assert browser.evaluate(f"{video}.paused")
    browser.press("v")
    assert not browser.evaluate(f"{video}.paused")
    # every label of every plot and axis lies inside its picture (none is cut)
    browser.evaluate(
        "document.querySelectorAll('details').forEach(function (d) { d.open = true; })"
    )
    cut = browser.evaluate(
        "Array.from(document.querySelectorAll('svg')).flatMap(function (svg) {"
        " var box = svg.getBoundingClientRect();"
        " return Array.from(svg.querySelectorAll('text')).filter(function (t) {"
        "  var r = t.getBoundingClientRect();"
        "  return r.right > box.right + 0.5 || r.left < box.left - 0.5; })"
        "  .map(function (t) { return t.textContent; }); })"
    )
    assert cut == []
    browser.press("u")  # back to the batch index
    deadline = time.monotonic() + 10
    while browser.evaluate("document.title") != "index" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert browser.evaluate("location.href") == (tmp_path / "index.html").as_uri()
    assert browser.problems() == []


def test_real_clip_page_in_chromium(browser, shared_clips, tmp_path):
    """A generated clip where a hand pops in at frame 1: its page works, and screenshots of it
    (copied to docs/img with VIDLINT_DOCS_IMG=1)."""
    clip = shared_clips / "gen_i2v_pia_boy_waving_hand.gif"
    report = vidlint.check(clip, context={"prompt": "1boy is waving hands"})
    hand = next(f for f in report.findings if f.code == "HND001")
    page = html_writer.write(report, tmp_path / "boy.html", index=True)
    browser.open(page.as_uri(), width=1280)
    time.sleep(0.5)
    assert browser.problems() == []
    assert [u for u in browser.requests() if not u.startswith("data:")] == [page.as_uri()]
    card_selector = f"#finding-{report.findings.index(hand)}"
    assert browser.evaluate(f"document.querySelector('{card_selector} video').readyState") >= 2
    shots = {"review-card.png": browser.element_png(card_selector)}
    browser.evaluate(
        "document.querySelectorAll('.timeline details').forEach(function (d) {"
        " d.open = ['HND', 'REF'].indexOf(d.textContent.slice(0, 3)) >= 0; })"
    )
    shots["review-timeline.png"] = browser.element_png(".timeline")
    assert browser.problems() == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, png in shots.items():
        assert len(png) > 20_000, name
        (ARTIFACTS / name).write_bytes(png)
        if os.environ.get("VIDLINT_DOCS_IMG"):
            (DOCS_IMG / name).write_bytes(png)
