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
