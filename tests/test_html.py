"""HTML reports: content checked in the markup, then loaded in real headless Chromium over the
DevTools protocol (no console errors, every image decoded, a hostile prompt shows as text, the
batch index sorts) with a screenshot saved to the test artifacts."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import vidlint
from vidlint.batch import run_batch
from vidlint.config import load_config
from vidlint.report.model import Report
from vidlint.synth import Artifact
from vidlint.writers import html as html_writer

from .conftest import REPO

HOSTILE = 'a cat <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> & "co"'
ARTIFACTS = Path(os.environ.get("VIDLINT_TEST_ARTIFACTS", REPO / "test-artifacts"))


@pytest.fixture(scope="module")
def flawed(synth_clip) -> Path:
    return synth_clip(
        "html-flawed",
        ".mp4",
        [Artifact("freeze", 8, 8), Artifact("cut", 24), Artifact("black", 34, 3)],
        width=320,
        height=240,
        frames=48,
    )


@pytest.fixture(scope="module")
def report(flawed) -> Report:
    return vidlint.check(
        flawed, context={"prompt": HOSTILE, "seed": 7, "negative_prompt": "</dd><b>bold</b>"}
    )


@pytest.fixture(scope="module")
def page(report, tmp_path_factory) -> Path:
    return html_writer.write(report, tmp_path_factory.mktemp("html") / "clip.html")


class Elements(HTMLParser):
    """Tags and their attributes, to check the markup as a browser would parse it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(text)
    return parser.tags


def test_page_shows_verdict_findings_and_frames(report, page):
    text = page.read_text()
    tags = elements(text)
    assert '<div class="verdict fail">fail</div>' in text
    assert f">{report.score}<small>/100</small>" in text
    ids = {attrs.get("id") for _, attrs in tags}
    for number, finding in enumerate(report.findings):
        assert f"finding-{number}" in ids
        assert f'<span class="code">{finding.code}</span>' in text
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert all(src.startswith("data:image/jpeg;base64,") for src in images)
    frame_findings = [f for f in report.findings if f.family != "PRM"]
    # the filmstrip, plus the peak frame and the one before it of each finding about frames
    assert len(images) >= len(html_writer.filmstrip_indices(48)) + 2 * len(frame_findings) - 1
    alts = {attrs.get("alt") for tag, attrs in tags if tag == "img"}
    assert {"frame 24 (peak)", "frame 23 (before)", "frame 34 (peak)"} <= alts
    links = {attrs.get("href") for tag, attrs in tags if tag == "a"}
    assert {
        f"#finding-{n}" for n, f in enumerate(report.findings) if f.family == "TMP"
    } <= links  # timeline spans link to their cards
    assert "frames 34–36 · 1.42–1.50 s" in text
    from vidlint.rules import load_rules

    cut = load_rules()["TMP003"]
    for name, value in cut.defaults().items():  # the thresholds in force, with their reasons
        assert f'<td>{name}</td><td class="value">{value}</td>' in text
        assert html.escape(cut.param_reasons()[name]) in text


def test_page_escapes_user_text_and_loads_nothing(page):
    import hashlib

    text = page.read_text()
    tags = elements(text)
    assert not [t for t, _ in tags if t in ("iframe", "object", "embed", "link")]
    assert [t for t, _ in tags].count("script") == 1  # the page's own keyboard navigation
    assert not [a for _, a in tags if any(k.startswith("on") for k in a)]  # no handlers
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in text
    assert "&lt;/dd&gt;&lt;b&gt;bold&lt;/b&gt;" in text
    assert not re.search(r"(src|href|poster)=\"(https?:)?//", text)  # nothing from the network
    csp = next(a["content"] for t, a in tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1]
    (script,) = re.findall(r"<script>(.*?)</script>", text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp  # that script runs, nothing else


def test_footer_rounds_the_check_time(report, page):
    total = float(report.timings["total_s"])
    assert re.search(r"checked in \d+\.\d\d s", page.read_text())
    assert f"checked in {total:.2f} s" in page.read_text()


def test_page_carries_its_poster_for_the_index(report, page):
    poster = html_writer.read_poster(page)
    assert poster.startswith("data:image/jpeg;base64,")
    worst = html_writer.poster_frame(report)
    assert worst in {f.peak_frame for f in report.findings if f.severity == "error"}


def test_page_without_the_clip_still_renders(report, tmp_path):
    moved = Report.from_dict(report.to_dict())
    moved.clip["path"] = str(tmp_path / "gone.mp4")
    text = html_writer.render(moved)
    assert "Frames not shown" in text and "no such file or directory" in text
    assert "<img" not in text and "TMP003" in text


def page_images(text: str) -> dict[str, np.ndarray]:
    """The page's pictures by their alt text, decoded from their data URIs."""
    import cv2

    images = {}
    for tag, attrs in elements(text):
        if tag == "img" and attrs.get("src", "").startswith("data:image/jpeg;base64,"):
            data = base64.b64decode(attrs["src"].split(",", 1)[1])
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            images[attrs["alt"]] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return images


def test_page_written_with_other_frame_writers_shows_the_right_frames(
    report, flawed, page, tmp_path, monkeypatch
):
    """Written beside the contact sheet and the frame export, the page's pictures come from one
    shared decode: the same page as alone, and each thumbnail is, of all the clip's frames
    decoded directly, closest to the frame it is captioned with."""
    from vidlint.decode import grab
    from vidlint.decode.grab import grab_dict, shrink
    from vidlint.engine.work import write_reports

    direct = grab_dict(flawed, range(48), max_side=html_writer.THUMB_SIDE)
    opened: list[str] = []
    original = grab.open_clip
    monkeypatch.setattr(
        grab, "open_clip", lambda path, *a, **k: opened.append(str(path)) or original(path, *a, **k)
    )
    written = write_reports(report, tmp_path, "clip", ["html", "contact-sheet", "frames"])
    assert opened == [str(flawed)]
    text = Path(written["html"]).read_text()
    assert text == page.read_text()
    images = page_images(text)
    # the camera pans: neighbouring frames differ, and a JPEG thumbnail is nearest its own
    for alt, index in (
        ("frame 24 (peak)", 24),
        ("frame 23 (before)", 23),
        ("frame 33 (before)", 33),
        ("frame 7 (before)", 7),
        ("frame 47", 47),
    ):
        side = max(images[alt].shape)  # the filmstrip's are smaller still
        errors = {
            i: float(np.abs(images[alt].astype(int) - shrink(rgb, side)).mean())
            for i, rgb in direct.items()
        }
        assert min(errors, key=errors.get) == index, alt
        assert errors[index] < 8, alt  # JPEG quality 82 on a textured frame
    assert images["frame 34 (peak)"].max() < 10  # black frames 34-36


@pytest.fixture(scope="module")
def batch(flawed, synth_clip, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("html-batch")
    clips = root / "clips"
    clips.mkdir()
    (clips / "flawed.mp4").symlink_to(flawed)
    (clips / "clean.mp4").symlink_to(synth_clip("html-clean", ".mp4", []))
    (clips / "odd <b>&name.mp4").symlink_to(
        synth_clip("html-repeat", ".mp4", [Artifact("repeat", 20), Artifact("repeat", 30)])
    )
    (clips / "broken.mp4").write_bytes(b"\x00" * 64)
    out = root / "out"
    config = load_config().with_options(select=["TMP"], formats=["json", "html"])
    run_batch([clips], config, out, engine="serial")
    return out


def test_index_lists_every_clip_with_links(batch):
    text = (batch / "index.html").read_text()
    tags = elements(text)
    rows = re.findall(r"<tr[ >]", text)
    assert len(rows) == 1 + 4  # header + clips
    links = {a["href"] for t, a in tags if t == "a"}
    assert links == {"flawed.html", "clean.html", "odd%20%3Cb%3E%26name.html"}
    posters = [a["src"] for t, a in tags if t == "img" and a.get("class") == "poster"]
    assert len(posters) == 3 and all(p.startswith("data:image/jpeg;base64,") for p in posters)
    for link in links:
        assert (batch / urllib.request.url2pathname(link)).is_file()
    assert "odd &lt;b&gt;&amp;name.mp4" in text and "<b>&name" not in text
    assert "not a video file" in text or "broken.mp4:" in text
    headers = [a.get("data-key") for t, a in tags if t == "th"]
    assert headers[:3] == ["clip", "verdict", "score"] and "TMP" in headers
    (script,) = [a for t, a in tags if t == "script"]
    csp = next(a["content"] for t, a in tags if a.get("http-equiv") == "Content-Security-Policy")
    assert f"script-src 'nonce-{script['nonce']}'" in csp  # only the index's own script runs


def test_index_marks_the_clips_taken_from_the_cache(batch, tmp_path):
    """A re-run into the same folder takes the clips from the cache: the index says so."""
    config = load_config().with_options(select=["TMP"], formats=["json", "html"])
    clips = [batch.parent / "clips" / "flawed.mp4", batch.parent / "clips" / "clean.mp4"]
    run_batch(clips, config, tmp_path, engine="serial")
    again = run_batch(clips, config, tmp_path, engine="serial")
    assert all(o.cached for o in again.outcomes)
    text = (tmp_path / "index.html").read_text()
    rows = re.findall(r"<tr[ >].*?</tr>", text, re.DOTALL)[1:]
    assert len(rows) == 2
    for row in rows:
        assert 'class="cached"' in row and ">cached<" in row, row


# -- in a real browser --------------------------------------------------------------------------


def test_clip_page_in_chromium(browser, page):
    browser.open(page.as_uri())
    assert browser.problems() == []
    assert browser.evaluate("window.pwned === undefined") is True
    shown = browser.evaluate(
        "Array.from(document.querySelectorAll('.context dd'))"
        ".map(function (d) { return d.textContent; })"
    )
    assert HOSTILE in shown and "</dd><b>bold</b>" in shown
    broken = browser.evaluate(
        "Array.from(document.images).filter(function (i) {"
        " return !(i.complete && i.naturalWidth > 0); }).length"
    )
    assert broken == 0 and browser.evaluate("document.images.length") > 12
    # the region-free finding cards sit under the timeline, each reachable from its span
    assert browser.evaluate("document.querySelectorAll('.timeline a').length") >= 3
    shot = browser.screenshot(ARTIFACTS / "html-report.png")
    assert shot.stat().st_size > 20_000


def test_clip_page_at_700_px_keeps_its_pictures_inside_the_cards(browser, page):
    browser.open(page.as_uri(), width=700)
    overflow = browser.evaluate(
        "Array.from(document.querySelectorAll('.finding')).map(function (card) {"
        " var right = card.getBoundingClientRect().right;"
        " return Array.from(card.querySelectorAll('img')).filter(function (i) {"
        "  return i.getBoundingClientRect().right > right + 0.5; }).length; })"
    )
    assert overflow and not any(overflow), overflow
    assert browser.evaluate("document.documentElement.scrollWidth") <= 700


def test_index_page_in_chromium_sorts(browser, batch):
    browser.open((batch / "index.html").as_uri())
    assert browser.problems() == []
    column = (
        "Array.from(document.querySelectorAll('tbody tr')).map(function (r) {"
        " return r.cells[2].textContent; })"
    )
    summary = json.loads((batch / "summary.json").read_text())
    scores = {Path(c["path"]).name: c["score"] for c in summary["clips"]}
    fail, warn = str(scores["flawed.mp4"]), str(scores["odd <b>&name.mp4"])
    assert scores["clean.mp4"] == 100 and int(fail) < int(warn) < 100
    assert browser.evaluate(column) == [fail, "", warn, "100"]  # fail, error, warn, pass
    browser.evaluate("document.querySelector('th[data-key=score] button').click()")
    assert browser.evaluate(column) == ["", fail, warn, "100"]
    browser.evaluate("document.querySelector('th[data-key=score] button').click()")
    assert browser.evaluate(column) == ["100", warn, fail, ""]
    assert (
        browser.evaluate("document.querySelector('th[data-key=score]').getAttribute('aria-sort')")
        == "descending"
    )
    browser.screenshot(ARTIFACTS / "html-index.png")


def test_the_browser_check_does_catch_errors(browser, tmp_path):
    """The harness itself: a page with a console error and an exception is reported."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><title>bad</title><script>console.error('boom');"
        "undefinedFunction();</script>"
    )
    browser.open(bad.as_uri())
    problems = browser.problems()
    assert any("boom" in p for p in problems) and any("undefinedFunction" in p for p in problems)


def test_long_clip_curves_are_reduced_but_keep_their_spikes(report, tmp_path):
    n = 14_400  # 10 minutes at 24 fps
    values = np.full(n, 1.0)
    values[7001] = 50.0  # a one-frame spike
    values[::3][100:] = np.nan  # strided measurements leave short gaps...
    values[9000:9500] = np.nan  # ...and a real gap
    points, gap = html_writer.sparkline_points(values)
    assert len(points) <= 2 * html_writer.MAX_POINTS
    assert (7001.5, 50.0) in points
    positions = np.array([p for p, _ in points])
    breaks = np.flatnonzero(np.diff(positions) > gap)
    assert len(breaks) == 1 and positions[breaks[0]] < 9000 < positions[breaks[0] + 1]
    badness = np.zeros(n)
    badness[12345] = 0.9
    steps = html_writer.steps(badness.tolist())
    assert len(steps) == html_writer.MAX_POINTS and max(v for _, _, v in steps) == 0.9
    long = Report.from_dict(report.to_dict())
    long.clip["path"] = str(tmp_path / "gone.mp4")
    long.frame_index = list(range(n))
    long.frame_time_s = [i / 24 for i in range(n)]
    long.signals = {key: values.tolist() for key in list(report.signals)[:20]}
    long.badness = {"TMP": badness.tolist()}
    assert len(html_writer.render(long)) < 1_500_000
