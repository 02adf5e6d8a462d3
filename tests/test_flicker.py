"""FLK rules on synthetic clips: flicker, flashes and boiling texture injected at known frames
under a static and a panning camera, and the same clips without them."""

from __future__ import annotations

import numpy as np
import pytest

from vidlint.config import Config
from vidlint.pipeline import Checker
from vidlint.synth import Artifact

SIZE = {"width": 320, "height": 240, "frames": 40}

CASES = [
    ("FLK001", Artifact("flicker", 16, 8), (16, 23)),
    ("FLK002", Artifact("flash", 10, 24), (10, 33)),
    ("FLK003", Artifact("boil", 8, 24), (8, 31)),
]


def findings(path, select: str) -> list:
    return Checker(Config(select=tuple(select.split(",")))).check(path).findings


@pytest.mark.parametrize("camera", ["static", "pan"])
@pytest.mark.parametrize("code, artifact, span", CASES, ids=[c[0] for c in CASES])
def test_injected_flicker_is_found_at_its_frames(synth_clip, camera, code, artifact, span):
    path = synth_clip(f"{artifact.kind}_{camera}", artifacts=[artifact], camera=camera, **SIZE)
    hits = [f for f in findings(path, "FLK") if f.code == code]
    assert hits, f"{code} missing"
    start, end = span
    assert any(abs(f.start_frame - start) <= 2 and abs(f.end_frame - end) <= 2 for f in hits), [
        (f.start_frame, f.end_frame) for f in hits
    ]


def test_flash_counts_follow_the_broadcast_rule(synth_clip):
    """Flashes every 3 frames at 24 fps are 8 per second (fail); every 12 frames, 2 (pass)."""
    fast = synth_clip(
        "flash_static", artifacts=[Artifact("flash", 10, 24)], camera="static", **SIZE
    )
    hit = next(f for f in findings(fast, "FLK002") if f.code == "FLK002")
    assert hit.evidence["flashes_per_second"] > 3
    slow = synth_clip(
        "flash_slow", artifacts=[Artifact("flash", 4, 30, {"period": 12})], camera="static", **SIZE
    )
    assert [f for f in findings(slow, "FLK002") if f.code == "FLK002"] == []


def test_brightness_shift_is_motion_compensated(synth_clip):
    """A pan changes the frame's mean brightness as new content enters; the motion-compensated
    shift stays near zero, while injected flicker shows as alternating steps."""
    clean = Checker(Config(select=("FLK001",))).check(
        synth_clip("clean_pan_2.5", camera="pan", motion=2.5, **SIZE)
    )
    shift = np.asarray(clean.signals["flow.brightness_shift"][1:], float)
    assert np.nanmax(np.abs(shift)) < 1.5
    flicker = Checker(Config(select=("FLK001",))).check(
        synth_clip("flicker_pan", artifacts=[Artifact("flicker", 16, 8)], camera="pan", **SIZE)
    )
    steps = np.asarray(flicker.signals["flow.brightness_shift"][17:24], float)
    assert np.all(np.abs(steps) > 5) and np.all(np.sign(steps[1:]) == -np.sign(steps[:-1]))


ARM = ("real_mmaction2_armwrestling.mp4", 0, 69)
"""Hand-held real footage, cut-free: shake, motion blur, hands gripping."""


def overlaps(finding, label, margin: int = 3) -> bool:
    return finding.start_frame <= label.end + margin and finding.end_frame >= label.start - margin


@pytest.mark.parametrize("kind", ["flicker", "flicker_region"])
def test_a_gain_pumping_at_4_hz_on_real_footage_is_flicker_not_a_morph(real_case, kind):
    path, (label,) = real_case(*ARM, kind, amplitude=0.1, hz=4.0, seconds=1.2, area=0.3)
    found = findings(path, "FLK,MOT")
    flicker = [f for f in found if f.code == "FLK001"]
    assert len(flicker) == 1, [(f.code, f.start_frame, f.end_frame) for f in found]
    assert abs(flicker[0].start_frame - label.start) <= 3
    assert abs(flicker[0].end_frame - label.end) <= 3
    if kind == "flicker_region":
        x, y, w, h = label.region
        r = flicker[0].region
        assert r is not None and r.x < x + w and x < r.x + r.w and r.y < y + h and y < r.y + r.h
        assert flicker[0].severity == "warning", "a region's flicker is a doubt"
    else:
        assert flicker[0].region is None and flicker[0].severity == "error"
    assert 3.0 <= flicker[0].evidence["hz"] <= 5.0
    assert [f for f in found if f.code == "MOT001" and overlaps(f, label)] == []


def test_the_clean_twin_has_no_flicker(real_case):
    path, _ = real_case(*ARM, "clean")
    assert [f for f in findings(path, "FLK001") if f.code == "FLK001"] == []


def test_a_region_flickering_in_still_parts_is_flicker_not_boiling(real_case):
    """A generated 8 fps street painter whose wall flickers in one region for 1.9 s: the
    motion-compensated error of the still wall rises with every swing of its brightness,
    which FLK003 also called texture boiling (frames 31-43). Pumping light is FLK001's."""
    clip = ("gen_t2v_cogvideox-2b_street_artist.mp4", 0, 48)
    path, (label,) = real_case(*clip, "flicker_region", seed=7)
    found = findings(path, "FLK")
    assert any(f.code == "FLK001" and f.end_frame >= label.start for f in found), [
        (f.code, f.start_frame) for f in found
    ]
    assert "FLK003" not in {f.code for f in found}, [(f.code, f.start_frame) for f in found]


SWING = ("gen_t2v_videocrafter2_child_swing.gif", 0, 15)
"""A generated child swinging towards the camera at about 1.5 Hz, 10 fps: the dark seat and
legs move in and out of the cells below her with every swing."""


def test_a_swing_moving_in_and_out_of_a_region_is_no_flicker(real_case):
    path, _ = real_case(*SWING, "clean")
    assert [f for f in findings(path, "FLK001") if f.code == "FLK001"] == []


def test_a_region_pumping_light_over_the_swing_is_flicker(real_case):
    path, (label,) = real_case(*SWING, "flicker_region", amplitude=0.15, hz=4.0, area=0.3)
    flicker = [f for f in findings(path, "FLK001") if f.code == "FLK001"]
    assert any(overlaps(f, label) for f in flicker), (
        label,
        [(f.start_frame, f.end_frame) for f in flicker],
    )


def test_a_moving_subject_pausing_is_not_a_still_part(shared_clips):
    """A generated child on a swing is still for three frames at the top of her arc (4 of 15
    in all) with a 10 fps GIF's dithering on her shirt: FLK003 called it boiling at frames 4-9.
    Boiling is judged in still parts of the picture, so the cell must also be still in half
    the clip (the synthetic boiling above, in a still corner, is still found)."""
    swing = shared_clips / "gen_t2v_videocrafter2_child_swing.gif"
    assert findings(swing, "FLK003") == []
    anyway = Config(select=("FLK003",), rules={"FLK003": {"min_static_clip": 0.0}})
    assert [f.start_frame for f in Checker(anyway).check(swing).findings] == [4]
