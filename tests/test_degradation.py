"""DRF001 reads the other families' badness and finds where a clip starts to stay bad, with the
clean prefix the regeneration loop can keep."""

from __future__ import annotations

import numpy as np

from vidlint.config import Config
from vidlint.pipeline import Checker
from vidlint.rules import load_rules
from vidlint.rules.base import RuleInput
from vidlint.rules.degradation import OnsetParams, degradation_onset
from vidlint.signals import Signals
from vidlint.synth import Artifact

SIZE = {"width": 320, "height": 240, "frames": 48}


def onset_hits(badness: dict[str, list[float]], n: int = 48) -> list:
    signals = Signals(np.arange(n) / 24.0, 24.0)
    data = RuleInput(signals, None, {}, badness=badness)
    return list(degradation_onset(data, OnsetParams()))


def test_progressive_degradation_gives_the_onset_and_clean_prefix(synth_clip):
    path = synth_clip("degrade_pan", artifacts=[Artifact("degrade", 24)], camera="pan", **SIZE)
    report = Checker(Config(select=("QLT", "DRF"))).check(path)
    drf = [f for f in report.findings if f.code == "DRF001"]
    assert len(drf) == 1
    onset = drf[0].evidence["onset_frame"]
    assert abs(onset - 24) <= 2
    assert drf[0].evidence["clean_prefix_frames"] == onset
    assert abs(drf[0].evidence["clean_prefix_s"] - onset / 24.0) < 0.05
    assert drf[0].end_frame == 47 and "shorten rung" in drf[0].fix["why"]


def test_clean_clip_and_a_passing_burst_have_no_onset(synth_clip):
    clean = Checker(Config(select=("QLT", "DRF"))).check(
        synth_clip("clean_pan_1.0", camera="pan", motion=1.0, **SIZE)
    )
    assert [f.code for f in clean.findings] == []
    burst = [0.0] * 20 + [1.0] * 10 + [0.0] * 18  # bad in the middle, then recovers
    assert onset_hits({"QLT": burst}) == []


def test_onset_is_read_from_every_family_and_ignores_its_own_curve():
    curve = [0.0] * 30 + [0.5] * 18  # warnings from frame 30 on
    hits = onset_hits({"MOT": curve, "DRF": [1.0] * 48})
    assert [h.evidence["onset_frame"] for h in hits] == [30]
    assert hits[0].evidence["families"] == ["MOT"]
    assert onset_hits({"DRF": [1.0] * 48}) == []
    assert onset_hits({"FLK": [1.0] * 48}) == []  # bad from the start: nothing to salvage


def test_drf_is_an_aggregate_rule():
    assert load_rules()["DRF001"].stage == "aggregate"
