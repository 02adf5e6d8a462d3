"""Writers over real reports of synthetic flawed clips: every marker file reads back with
OpenTimelineIO (count, frames, rate), JUnit with junitparser, CSV with the csv module; frames,
contact sheets and the grabber show the right pictures."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from junitparser import Error, Failure, JUnitXml
from PIL import Image
from typer.testing import CliRunner

import vidlint
from vidlint.batch import run_batch
from vidlint.config import load_config
from vidlint.decode import clip as decode_clip
from vidlint.decode import grab as grab_module
from vidlint.decode import open_clip
from vidlint.decode.clip import sha256_file
from vidlint.decode.grab import FrameStore, grab_dict, grab_frames
from vidlint.engine.work import write_reports
from vidlint.errors import InputError
from vidlint.report.model import Report
from vidlint.synth import Artifact
from vidlint.writers import WRITERS, contact_sheet, edl, fcpxml, frames, github, junit
from vidlint.writers import csv as csv_writer
from vidlint.writers import html as html_writer
from vidlint.writers import otio as otio_writer

FLAWS = [Artifact("freeze", 8, 8), Artifact("cut", 24), Artifact("black", 34, 3)]
EXPECTED = {"TMP001": (8, 15), "TMP003": (24, 24), "TMP004": (34, 36)}
"""Injected span per code (TMP001 may end a frame early: the first frozen frame still moves)."""
PROMPT = 'a <b>cat</b>, on a sofa: "hello" & goodbye'


@pytest.fixture(scope="module")
def flawed(synth_clip) -> Path:
    return synth_clip("writers-flawed", ".mp4", FLAWS, width=320, height=240, frames=48)


@pytest.fixture(scope="module")
def report(flawed) -> Report:
    """Every family's rules (others' findings appear when they have any), with a prompt."""
    return vidlint.check(flawed, context={"prompt": PROMPT})


@pytest.fixture(scope="module")
def slow_report(synth_clip) -> Report:
    """A clip at 8 fps, a rate no NLE timeline has: markers go on a 24 fps timeline by time."""
    path = synth_clip(
        "writers-8fps", ".mp4", [Artifact("cut", 12)], width=320, height=240, frames=24, fps=8.0
    )
    return vidlint.check(path, select=["TMP"])


def tmp_findings(report: Report) -> dict[str, object]:
    return {f.code: f for f in report.findings if f.family == "TMP"}


def test_report_has_the_injected_flaws(report):
    found = tmp_findings(report)
    assert set(EXPECTED) <= set(found)
    for code, (start, end) in EXPECTED.items():
        assert found[code].start_frame == start
        assert end - 1 <= found[code].end_frame <= end


def test_otio_markers_read_back(report, tmp_path):
    path = otio_writer.write(report, tmp_path / "clip.otio")
    timeline = otio.adapters.read_from_file(str(path))
    clips = list(timeline.find_clips())
    assert len(clips) == 1 and clips[0].name == Path(report.clip["path"]).name
    markers = clips[0].markers
    assert len(markers) == len(report.findings)
    for marker, finding in zip(markers, report.findings, strict=True):
        assert marker.marked_range.start_time.rate == 24.0
        assert marker.marked_range.start_time.value == finding.start_frame
        assert marker.marked_range.duration.value == finding.end_frame - finding.start_frame + 1
        assert marker.name.startswith(finding.code + " ")
        assert marker.color == otio_writer.MARKER_COLORS[finding.severity]
        assert marker.metadata["vidlint"]["peak_frame"] == finding.peak_frame
    assert timeline.global_start_time.to_timecode() == "01:00:00:00"
    assert clips[0].media_reference.target_url.endswith(Path(report.clip["path"]).name)


def test_fcp7_xml_markers_read_back(report, tmp_path):
    path = fcpxml.write(report, tmp_path / "clip.fcp.xml")
    assert path.read_text().startswith("<?xml")
    timeline = otio.adapters.read_from_file(str(path), adapter_name="fcp_xml")
    clip = next(iter(timeline.find_clips()))
    for markers in (timeline.tracks.markers, clip.markers):
        assert len(markers) == len(report.findings)
        for marker, finding in zip(markers, report.findings, strict=True):
            assert marker.marked_range.start_time.rate == 24.0
            assert marker.marked_range.start_time.value == finding.start_frame
            assert marker.marked_range.duration.value == finding.end_frame - finding.start_frame + 1
            assert marker.name == f"{finding.code} {finding.message}"
    assert "<ntsc>FALSE</ntsc>" in path.read_text()


def resolve_markers(path: Path, rate: float) -> list[dict]:
    """Read a Resolve marker EDL back through OTIO's CMX 3600 reader."""
    timeline = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=rate)
    start = otio.opentime.from_timecode("01:00:00:00", rate)
    markers = []
    for clip in timeline.find_clips():
        (line,) = clip.metadata["cmx_3600"]["comments"]
        fields = dict(re.findall(r"\|([CMD]):([^|]*?)\s*(?=\||$)", line))
        markers.append(
            {
                "frame": (clip.source_range.start_time - start).value,
                "rate": clip.source_range.start_time.rate,
                "note": line.split(" |")[0],
                "color": fields["C"],
                "name": fields["M"],
                "frames": int(fields["D"]),
            }
        )
    return markers


def test_resolve_marker_edl_reads_back(report, tmp_path):
    path = edl.write(report, tmp_path / "clip.markers.edl")
    text = path.read_text()
    assert text.startswith("TITLE: vidlint ") and "FCM: NON-DROP FRAME" in text
    markers = resolve_markers(path, 24)
    starts = sorted({f.start_frame for f in report.findings})
    assert [m["frame"] for m in markers] == starts  # one marker per frame (Resolve's limit)
    assert all(m["rate"] == 24 for m in markers)
    found = tmp_findings(report)
    cut = next(m for m in markers if m["frame"] == found["TMP003"].start_frame)
    assert "TMP003 scene-cut" in cut["name"] and cut["color"] == "ResolveColorRed"
    black = next(m for m in markers if m["frame"] == 34)
    assert black["frames"] >= 3 and "TMP004" in black["note"]


def test_markers_of_an_odd_rate_clip_are_placed_by_time(slow_report, tmp_path):
    (cut,) = [f for f in slow_report.findings if f.code == "TMP003"]
    assert cut.start_frame == 12 and abs(cut.start_s - 1.5) < 1e-6
    assert otio_writer.timeline_rate(slow_report.clip["fps"]) == 24.0
    timeline = otio.adapters.read_from_file(
        str(otio_writer.write(slow_report, tmp_path / "slow.otio"))
    )
    marker = next(
        m for m in next(iter(timeline.find_clips())).markers if m.name.startswith("TMP003")
    )
    assert marker.marked_range.start_time.value == 36  # 1.5 s at 24 fps
    assert marker.metadata["vidlint"]["start_frame"] == 12  # the source frame stays known
    edl_markers = resolve_markers(edl.write(slow_report, tmp_path / "slow.edl"), 24)
    assert [m["frame"] for m in edl_markers if "TMP003" in m["name"]] == [36]


def test_markers_of_an_odd_rate_clip_last_as_long_as_their_frames(slow_report, tmp_path):
    """A frame of an 8 fps clip lasts 3 frames of a 24 fps timeline: a one-frame finding's marker
    covers all 3, and the clip all 24 x 3."""
    (cut,) = [f for f in slow_report.findings if f.code == "TMP003"]
    assert cut.start_frame == cut.end_frame == 12
    timeline = otio.adapters.read_from_file(
        str(otio_writer.write(slow_report, tmp_path / "slow.otio"))
    )
    clip = next(iter(timeline.find_clips()))
    marker = next(m for m in clip.markers if m.name.startswith("TMP003"))
    assert marker.marked_range.duration.value == 3
    assert clip.source_range.duration.value == 72


def test_timelines_hold_the_clip_exactly(synth_clip, tmp_path):
    """121 frames at 24 fps (duration_s 5.0417 once rounded) are 121 timeline frames, in OTIO
    and in FCP7 XML, not 122."""
    path = synth_clip(
        "writers-121", ".mp4", [Artifact("cut", 60)], width=160, height=120, frames=121
    )
    report = vidlint.check(path, select=["TMP003"])
    assert report.clip["frame_count"] == len(report.frame_index) == 121
    timeline = otio.adapters.read_from_file(str(otio_writer.write(report, tmp_path / "c.otio")))
    clip = next(iter(timeline.find_clips()))
    assert clip.source_range.duration.value == 121
    assert clip.media_reference.available_range.duration.value == 121
    fcp = otio.adapters.read_from_file(
        str(fcpxml.write(report, tmp_path / "c.fcp.xml")), adapter_name="fcp_xml"
    )
    assert next(iter(fcp.find_clips())).source_range.duration.value == 121
    assert fcp.duration().value == 121


@pytest.mark.parametrize(
    "fps, rate",
    [
        (24.0, 24.0),
        (23.976, 24000 / 1001),
        (25.0, 25.0),
        (29.97, 30000 / 1001),
        (16.0, 16.0),
        (8.0, 24.0),
        (7.692, 24.0),
        (0.0, 24.0),
    ],
)
def test_timeline_rate(fps, rate):
    assert otio_writer.timeline_rate(fps) == rate


def test_findings_csv(report, tmp_path):
    path = csv_writer.write(report, tmp_path / "clip.findings.csv")
    rows = list(csv.DictReader(path.open(newline="")))
    assert len(rows) == len(report.findings)
    for row, finding in zip(rows, report.findings, strict=True):
        assert row["code"] == finding.code and row["severity"] == finding.severity
        assert int(row["start_frame"]) == finding.start_frame
        assert int(row["end_frame"]) == finding.end_frame
        assert int(row["peak_frame"]) == finding.peak_frame
        assert json.loads(row["evidence"]) == finding.to_dict()["evidence"]


def test_csv_cells_never_run_as_spreadsheet_formulas():
    assert csv_writer.safe_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert csv_writer.safe_cell("-1+1") == "'-1+1"
    assert csv_writer.safe_cell(-1.5) == -1.5 and csv_writer.safe_cell(None) == ""


def test_frames_csv_has_every_frame_and_the_codes_covering_it(report):
    text = csv_writer.frames_csv(report)
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == len(report.frame_index) == 48
    assert set(report.signals) <= set(rows[0])
    for code, (start, end) in EXPECTED.items():
        flagged = [int(r["frame"]) for r in rows if code in r["codes"].split()]
        assert flagged[0] == start and end - 1 <= flagged[-1] <= end
    assert float(rows[34]["temporal.luma"]) < 1.0  # a black frame
    assert rows[0]["temporal.diff"] == ""  # not measured on the first frame


@pytest.fixture(scope="module")
def cli():
    from vidlint.cli.app import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def test_cli_frames_csv(report, tmp_path, cli):
    saved = tmp_path / "clip.vidlint.json"
    WRITERS.get("json").write(report, saved)
    result = cli("frames", saved, "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert len(rows) == 48 and "temporal.diff" in rows[0]
    result = cli(
        "frames", saved, "--csv", "--flagged", "-s", "temporal.luma", "-o", tmp_path / "f.csv"
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "f.csv").open(newline="")))
    assert list(rows[0]) == [
        "frame",
        "time_s",
        "temporal.luma",
        *(f"badness.{k}" for k in report.badness),
        "codes",
    ]
    assert all(r["codes"] for r in rows) and {"34", "35", "36"} <= {r["frame"] for r in rows}
    result = cli("frames", saved)
    assert result.exit_code == 0 and "TMP003" in result.stdout


@pytest.mark.parametrize(
    "content, cause",
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ('{"schema": "other/1"}', "not a vidlint report"),
        ("[1, 2]", "not a vidlint report"),
    ],
)
def test_cli_frames_rejects_what_is_not_a_report(tmp_path, cli, content, cause):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    result = cli("frames", path)
    assert result.exit_code == 2
    assert f"{path}: {cause}" in result.output
    assert "Traceback" not in result.output


def test_junit_reads_back(report, tmp_path):
    path = junit.write(report, tmp_path / "clip.junit.xml")
    suites = list(JUnitXml.fromfile(str(path)))
    (case,) = [case for suite in suites for case in suite]
    assert case.name == report.clip["path"]
    errors = [f for f in report.findings if f.severity == "error"]
    failures = [r for r in case.result if isinstance(r, Failure)]
    assert [f.type for f in failures] == [f.code for f in errors]
    assert all(f.message.startswith(f.type) for f in failures)
    assert "verdict fail" in case.system_out


def test_github_annotations(report, tmp_path):
    path = github.write(report, tmp_path / "clip.github.txt")
    lines = path.read_text().splitlines()
    assert len(lines) == len(report.findings)
    pattern = re.compile(r"^::(error|warning|notice) file=([^,]+),title=([^:]+)::(.+)$")
    for line, finding in zip(lines, report.findings, strict=True):
        level, file, title, message = pattern.match(line).groups()
        assert level == github.LEVELS[finding.severity]
        assert file == report.clip["path"] and title == f"{finding.code} {finding.name}"
        assert (
            f"frame{'s' if finding.start_frame != finding.end_frame else ''} "
            f"{finding.start_frame}" in message
        )


def test_github_annotation_escaping():
    line = github.command("error", "50% bad\nsecond line", file="a,b:c.mp4", title="T: x, y")
    assert line == "::error file=a%2Cb%3Ac.mp4,title=T%3A x%2C y::50%25 bad%0Asecond line"


def test_github_paths_are_relative_to_the_workspace(report, monkeypatch):
    clip = Path(report.clip["path"])
    monkeypatch.setenv("GITHUB_WORKSPACE", str(clip.parent.parent))
    assert (
        github.render(report)
        .splitlines()[0]
        .split(",")[0]
        .endswith(f"file={clip.parent.name}/{clip.name}")
    )
    monkeypatch.setenv("GITHUB_WORKSPACE", "/nonexistent/elsewhere")
    assert f"file={clip}," in github.render(report)


def test_contact_sheet_of_a_failing_clip(report, tmp_path):
    path = contact_sheet.write(report, tmp_path / "clip.contact.png")
    image = np.asarray(Image.open(path).convert("RGB"))
    tiles = contact_sheet.chosen(report)
    columns = min(contact_sheet.COLUMNS, len(tiles))
    assert image.shape[1] == columns * contact_sheet.TILE_WIDTH
    tile_h = round(contact_sheet.TILE_WIDTH * 240 / 320)
    for n, finding in enumerate(tiles):
        x = (n % columns) * contact_sheet.TILE_WIDTH
        y = contact_sheet.HEADER_HEIGHT + (n // columns) * (tile_h + contact_sheet.LABEL_HEIGHT)
        inner = image[y + 10 : y + tile_h - 10, x + 10 : x + contact_sheet.TILE_WIDTH - 10]
        if 34 <= finding.peak_frame <= 36:
            assert inner.mean() < 5  # the black frames
        else:
            assert inner.mean() > 30
        label = image[y + tile_h + 5 : y + tile_h + contact_sheet.LABEL_HEIGHT - 5, x + 2 : x + 40]
        color = contact_sheet.SEVERITY_RGB[finding.severity]
        assert (np.abs(label.astype(int) - color).sum(axis=2) < 30).mean() > 0.5


def test_no_contact_sheet_for_a_clip_that_passes(synth_clip, tmp_path):
    clean = vidlint.check(synth_clip("writers-clean", ".mp4", []), select=["TMP"])
    assert clean.verdict == "pass"
    assert contact_sheet.write(clean, tmp_path / "c.contact.png") is None
    assert not (tmp_path / "c.contact.png").exists()
    assert frames.write(clean, tmp_path / "c.frames") is None


def test_frame_export_writes_each_peak_frame(report, flawed, tmp_path):
    folder = frames.write(report, tmp_path / "clip.frames")
    names = sorted(p.name for p in folder.iterdir())
    shown = frames.frame_findings(report)
    assert {f.code for f in shown} >= set(EXPECTED)
    assert not any(f.family == "PRM" for f in shown)  # about the prompt, not a frame
    assert names == sorted({frames.frame_file(f.code, f.peak_frame) for f in shown})
    decoded = grab_dict(flawed, [f.peak_frame for f in shown])
    for finding in shown:
        png = np.asarray(Image.open(folder / frames.frame_file(finding.code, finding.peak_frame)))
        assert png.shape == (240, 320, 3)
        assert np.array_equal(png, decoded[finding.peak_frame])
    black = np.asarray(Image.open(folder / frames.frame_file("TMP004", 34)))
    assert black.mean() < 2


def test_grab_returns_the_frames_the_check_decoded(flawed):
    with open_clip(flawed) as clip:
        reference = {f.index: f.rgb.copy() for f in clip.frames() if f.index in (0, 23, 24, 47)}
    grabbed = list(grab_frames(flawed, [47, 24, 23, 0, 24, 999]))
    assert [i for i, _ in grabbed] == [0, 23, 24, 47]  # sorted, unique, missing ones skipped
    for index, rgb in grabbed:
        assert np.array_equal(rgb, reference[index])
    small = grab_dict(flawed, [5], max_side=160)[5]
    assert small.shape == (120, 160, 3)


def test_grab_refuses_a_clip_that_changed(flawed):
    with pytest.raises(InputError, match="changed since its report"):
        list(grab_frames(flawed, [0], expect_sha256="0" * 64))
    with pytest.raises(InputError, match="no such file"):
        list(grab_frames(flawed.with_name("missing.mp4"), [0]))


def test_batch_writes_every_format_and_the_batch_files(flawed, synth_clip, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    for name, source in (
        ("flawed.mp4", flawed),
        ("clean.mp4", synth_clip("writers-clean", ".mp4", [])),
    ):
        (clips / name).symlink_to(source)
    (clips / "broken.mp4").write_bytes(b"not a video at all")
    out = tmp_path / "out"
    names = [
        "json",
        "html",
        "csv",
        "junit",
        "github",
        "otio",
        "fcpxml",
        "edl",
        "contact-sheet",
        "frames",
    ]
    config = load_config().with_options(select=["TMP"], formats=names)
    result = run_batch([clips], config, out, engine="serial")
    assert result.exit_code == 2
    by_name = {Path(o.path).name: o for o in result.outcomes}
    assert by_name["flawed.mp4"].families == {"TMP": 3}
    assert set(by_name["flawed.mp4"].reports) == set(names)
    assert "contact-sheet" not in by_name["clean.mp4"].reports  # passes: no sheet
    assert "frames" not in by_name["clean.mp4"].reports
    for outcome in result.outcomes:
        assert all(Path(p).exists() for p in outcome.reports.values())
    rows = list(csv.DictReader((out / "findings.csv").open(newline="")))
    assert sorted(r["code"] for r in rows) == ["TMP001", "TMP003", "TMP004"]
    cases = [case for suite in JUnitXml.fromfile(str(out / "junit.xml")) for case in suite]
    assert len(cases) == 3
    results = {Path(c.name).name: [type(r) for r in c.result] for c in cases}
    assert results["broken.mp4"] == [Error] and results["clean.mp4"] == []
    assert results["flawed.mp4"] == [Failure] * 3
    annotations = (out / "annotations.github.txt").read_text().splitlines()
    assert len(annotations) == 4
    assert [a.startswith("::error") for a in annotations if "broken.mp4" in a] == [True]
    assert (out / "index.html").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert {Path(c["path"]).name: c["families"] for c in summary["clips"]}["flawed.mp4"] == {
        "TMP": 3
    }


def test_batch_files_list_the_clips_of_every_run_into_the_folder(flawed, synth_clip, tmp_path):
    """Two runs into one folder, one clip each: index.html, summary.json, findings.csv and
    junit.xml list both clips (the first from its cache entry), not just the last run's."""
    clean = synth_clip("writers-clean", ".mp4", [])
    config = load_config().with_options(select=["TMP"], formats=["json", "html", "csv", "junit"])
    run_batch([flawed], config, tmp_path, engine="serial")
    second = run_batch([clean], config, tmp_path, engine="serial")
    assert [Path(o.path).name for o in second.outcomes] == ["writers-clean.mp4"]
    assert second.exit_code == 0  # the run's own exit code: its one clip passes
    summary = json.loads((tmp_path / "summary.json").read_text())
    rows = {Path(c["path"]).name: c for c in summary["clips"]}
    assert set(rows) == {"writers-flawed.mp4", "writers-clean.mp4"}
    assert rows["writers-flawed.mp4"]["verdict"] == "fail" and rows["writers-flawed.mp4"]["cached"]
    assert summary["totals"] == {"clips": 2, "pass": 1, "warn": 0, "fail": 1, "error": 0}
    assert summary["last_run"] == {"clips": 1, "exit_code": 0}
    index = (tmp_path / "index.html").read_text()
    assert 'href="writers-flawed.html"' in index and 'href="writers-clean.html"' in index
    codes = [r["code"] for r in csv.DictReader((tmp_path / "findings.csv").open(newline=""))]
    assert sorted(codes) == ["TMP001", "TMP003", "TMP004"]
    cases = [case for suite in JUnitXml.fromfile(str(tmp_path / "junit.xml")) for case in suite]
    assert sorted(Path(c.name).name for c in cases) == ["writers-clean.mp4", "writers-flawed.mp4"]
    third = run_batch([clean], config, tmp_path, engine="serial")  # nothing listed twice
    assert len(json.loads((tmp_path / "summary.json").read_text())["clips"]) == 2
    assert third.outcomes[0].cached


def test_cli_save_frames(flawed, tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vidlint",
            "check",
            str(flawed),
            "--out",
            str(tmp_path),
            "--select",
            "TMP004",
            "--save-frames",
            "--engine",
            "serial",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert sorted(p.name for p in (tmp_path / f"{flawed.stem}.frames").iterdir()) == [
        "TMP004_f000034.png"
    ]
    assert (tmp_path / f"{flawed.stem}.vidlint.json").is_file()


def test_save_frames_keeps_the_cache(flawed, tmp_path):
    """The frame export is a folder: a re-run with --save-frames still finds its cache entry."""
    config = load_config().with_options(select=["TMP004"], formats=["json", "frames"])
    first = run_batch([flawed], config, tmp_path, engine="serial").outcomes[0]
    assert Path(first.reports["frames"]).is_dir() and not first.cached
    again = run_batch([flawed], config, tmp_path, engine="serial").outcomes[0]
    assert again.cached and again.reports == first.reports


def test_markers_and_page_of_a_real_gif_at_an_odd_rate(shared_clips, tmp_path):
    """PIA's 16-frame GIF plays at 7.692 fps (uneven GIF delays): no NLE timeline has that rate,
    so markers land on a 24 fps timeline by presentation time, and the page shows its frames."""
    clip = shared_clips / "gen_i2v_pia_boy_waving_hand.gif"
    report = vidlint.check(clip, select=["TMP", "REF"])
    assert report.findings, "expected at least the cut/first-frame findings on this clip"
    assert otio_writer.timeline_rate(report.clip["fps"]) == 24.0
    timeline = otio.adapters.read_from_file(str(otio_writer.write(report, tmp_path / "g.otio")))
    markers = next(iter(timeline.find_clips())).markers
    assert len(markers) == len(report.findings)
    for marker, finding in zip(markers, report.findings, strict=True):
        origin = report.frame_time_s[0]
        assert marker.marked_range.start_time.value == round((finding.start_s - origin) * 24)
        assert marker.metadata["vidlint"]["start_frame"] == finding.start_frame
    edl_frames = [m["frame"] for m in resolve_markers(edl.write(report, tmp_path / "g.edl"), 24)]
    assert edl_frames == sorted({m.marked_range.start_time.value for m in markers})
    page = html_writer.render(report)
    assert page.count("data:image/jpeg;base64,") >= 12 + 2  # filmstrip, a finding's frames
    assert 'alt="source image"' in page  # the sidecar _source.png is shown


# -- one decode for every writer that shows frames ----------------------------------------------

FRAME_FORMATS = ["json", "html", "contact-sheet", "frames"]


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """The clips the frame grabber opens (each open is one more decode of the clip)."""
    opened: list[str] = []
    original = grab_module.open_clip

    def counting(path, *args, **kwargs):
        opened.append(str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(grab_module, "open_clip", counting)
    return opened


@pytest.fixture
def file_reads(monkeypatch) -> list[Path]:
    """Every file read whole for its sha256, with nothing remembered from earlier tests."""
    reads: list[Path] = []
    original = decode_clip._digest_file

    def counting(path, chunk):
        reads.append(Path(path))
        return original(path, chunk)

    monkeypatch.setattr(decode_clip, "KNOWN_SHA256", {})
    monkeypatch.setattr(decode_clip, "_digest_file", counting)
    return reads


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_write_reports_decodes_the_clip_once_for_every_frame_writer(
    report, flawed, decodes, tmp_path
):
    written = write_reports(report, tmp_path / "shared", "clip", FRAME_FORMATS)
    assert set(written) == set(FRAME_FORMATS)
    assert decodes == [str(flawed)]
    for name in FRAME_FORMATS:  # alone, each writer decodes the clip itself ...
        writer = WRITERS.get(name)
        writer.write(report, tmp_path / "alone" / f"clip{writer.SUFFIX}")
    assert decodes == [str(flawed)] * 4
    shared, alone = files_of(tmp_path / "shared"), files_of(tmp_path / "alone")
    assert sorted(shared) == sorted(alone)
    for name in shared:  # ... and writes byte for byte what it writes from the shared decode
        assert shared[name] == alone[name], name
    # the pictures are the frames a direct decode gives
    shown = frames.frame_findings(report)
    direct = grab_dict(flawed, [f.peak_frame for f in shown])
    for finding in shown:
        png = (
            tmp_path
            / "shared"
            / "clip.frames"
            / frames.frame_file(finding.code, finding.peak_frame)
        )
        assert np.array_equal(np.asarray(Image.open(png)), direct[finding.peak_frame])
    sheet = np.asarray(Image.open(written["contact-sheet"]).convert("RGB"))
    tiles = contact_sheet.chosen(report)
    tile_h = contact_sheet.tile_height(report)
    thumbs = grab_dict(flawed, [f.peak_frame for f in tiles], max_side=contact_sheet.TILE_WIDTH)
    for n, finding in enumerate(tiles):
        if finding.region is not None:
            continue  # its box is drawn over the picture
        x = (n % contact_sheet.COLUMNS) * contact_sheet.TILE_WIDTH
        y = contact_sheet.HEADER_HEIGHT + (n // contact_sheet.COLUMNS) * (
            tile_h + contact_sheet.LABEL_HEIGHT
        )
        expected = np.asarray(
            Image.fromarray(thumbs[finding.peak_frame]).resize((contact_sheet.TILE_WIDTH, tile_h))
        )
        assert np.array_equal(
            sheet[y + 4 : y + tile_h - 4, x + 4 : x + contact_sheet.TILE_WIDTH - 4],
            expected[4:-4, 4:-4],
        ), finding.code


def test_frame_store_holds_each_frame_at_the_sizes_asked_for(flawed, decodes):
    expected = {
        (i, side): grab_dict(flawed, [i], max_side=side)[i]
        for i, side in ((0, 160), (23, 160), (24, 160), (24, None), (47, 100), (5, 160))
    }
    decodes.clear()
    store = FrameStore(flawed)
    store.want([0, 23, 24], 160)
    store.want([24], None)
    store.want([47, 999, -1], 100)
    thumbs, full, small = store.get([24, 23, 0], 160), store.get([24]), store.get([47, 999], 100)
    assert decodes == [str(flawed)]
    assert list(thumbs) == [0, 23, 24] and list(full) == [24] and list(small) == [47]
    for (index, side), rgb in expected.items():
        if index != 5:
            assert np.array_equal(store.get([index], side)[index], rgb), (index, side)
    assert decodes == [str(flawed)]
    # thumbnails stay thumbnails: only the frame wanted at full resolution is held at full size
    assert {i: a.shape for i, a in store.held[None].items()} == {24: (240, 320, 3)}
    assert max(max(a.shape) for a in store.held[160].values()) == 160
    with pytest.raises(ValueError, match="read-only"):
        full[24][0, 0] = 0  # shared between writers
    # a frame nobody declared is still right, at the cost of a decode of its own
    assert np.array_equal(store.get([5], 160)[5], expected[(5, 160)])
    assert decodes == [str(flawed)] * 2


def test_frame_export_past_its_memory_budget_decodes_on_its_own(
    report, flawed, decodes, tmp_path, monkeypatch
):
    """Many findings on a big clip: the shared decode would hold too many full frames, so the
    export streams them from a decode of its own (one frame held at a time)."""
    peaks = frames.peak_frames(report)
    monkeypatch.setattr(frames, "SHARED_BYTES_MAX", (len(peaks) - 1) * 320 * 240 * 3)
    assert frames.wanted_frames(report) == (set(), None)
    written = write_reports(report, tmp_path, "clip", ["html", "frames"])
    assert decodes == [str(flawed)] * 2
    direct = grab_dict(flawed, peaks)
    for png in Path(written["frames"]).iterdir():
        index = int(png.stem.split("_f")[1])
        assert np.array_equal(np.asarray(Image.open(png)), direct[index])


def test_frame_store_refuses_a_changed_clip_to_every_writer(flawed):
    store = FrameStore(flawed, expect_sha256="0" * 64)
    store.want([0], 160)
    for _ in range(2):
        with pytest.raises(InputError, match="changed since its report"):
            store.get([0], 160)


def test_a_batch_reads_and_decodes_a_real_clip_once_after_its_check(
    shared_clips, tmp_path, decodes, file_reads
):
    """PIA's GIF (REF001, its first frame departs from the source image, made an error so that
    the contact sheet is written too): the cache key reads the clip for its sha256; the check
    and the writers reuse it, and the writers share one decode."""
    clip = shared_clips / "gen_i2v_pia_boy_waving_hand.gif"
    config = load_config().with_options(
        select=["TMP", "REF"], formats=FRAME_FORMATS, rules={"REF001": {"severity": "error"}}
    )
    outcome = run_batch([clip], config, tmp_path, engine="serial").outcomes[0]
    assert outcome.verdict == "fail" and set(outcome.reports) == set(FRAME_FORMATS)
    assert file_reads.count(clip) == 1
    assert decodes == [str(clip)]
    report = Report.from_dict(json.loads(Path(outcome.reports["json"]).read_text()))
    assert report.clip["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    with open_clip(clip) as opened:
        direct = {f.index: f.rgb.copy() for f in opened.frames() if f.index <= 1}
    folder = Path(outcome.reports["frames"])
    first = np.asarray(Image.open(folder / frames.frame_file("REF001", 0)))
    assert np.array_equal(first, direct[0]) and not np.array_equal(first, direct[1])


def test_a_file_changed_in_place_is_read_again(tmp_path, monkeypatch, file_reads):
    monkeypatch.setattr(decode_clip, "RACY_NS", 50_000_000)
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"a" * 1000)
    assert sha256_file(path) == sha256_file(path)  # just written: not remembered yet
    assert len(file_reads) == 2
    time.sleep(0.1)
    assert sha256_file(path) == sha256_file(path) == hashlib.sha256(b"a" * 1000).hexdigest()
    assert len(file_reads) == 3
    before = path.stat()
    path.write_bytes(b"b" * 1000)  # same size, and the old mtime put back
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert sha256_file(path) == hashlib.sha256(b"b" * 1000).hexdigest()
    assert len(file_reads) == 4
