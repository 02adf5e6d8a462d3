"""PRM001-PRM005: prompt lint, on its own (a regeneration request) and inside ``check``."""

from __future__ import annotations

import pytest

import vidlint
from vidlint.config import load_config
from vidlint.pipeline import Checker
from vidlint.rules import load_rules

SHOT = (
    "Medium tracking shot, a woman in a red jacket sprinting through a dense pine forest, "
    "dappled morning light, shallow depth of field, cinematic, her breath visible in the "
    "cold air as she glances back over her shoulder at the winding trail behind her"
)
I2V_GOOD = "slow push-in, her hair moves gently in the wind"
I2V_WILD = "the camera orbits 360 degrees as two dancers spin and jump together"


def codes(context: dict) -> list[str]:
    return sorted({f.code for f in Checker(load_config(start="/")).check_prompt(context)})


@pytest.mark.parametrize(
    "context, expected",
    [
        pytest.param({"prompt": SHOT}, [], id="shot-description-is-clean"),
        pytest.param(
            {"prompt": "a woman running"}, ["PRM001", "PRM002", "PRM003"], id="story-summary"
        ),
        pytest.param(
            {"prompt": "a red sports car on a coastal road at sunset, " * 4},
            ["PRM002"],
            id="no-camera",
        ),
        pytest.param(
            {
                "prompt": SHOT.replace("dappled morning light, ", "").replace(
                    "through a dense pine forest", ""
                )
            },
            ["PRM003"],
            id="no-lighting",
        ),
        pytest.param(
            {"prompt": I2V_WILD, "mode": "i2v", "reference": "x.png"},
            ["PRM001", "PRM003", "PRM004"],
            id="ambitious-i2v",
        ),
        pytest.param(
            {"prompt": I2V_WILD, "mode": "t2v"}, ["PRM001", "PRM003"], id="t2v-motion-is-not-PRM004"
        ),
        pytest.param(
            {"prompt": I2V_GOOD, "mode": "i2v"}, ["PRM001", "PRM003"], id="subtle-i2v-motion"
        ),
        pytest.param({"prompt": SHOT, "duration_s": 8.0}, ["PRM005"], id="eight-seconds"),
        pytest.param({"prompt": SHOT, "params": {"duration_s": 4.0}}, [], id="four-seconds"),
        pytest.param({}, [], id="no-prompt-no-findings"),
    ],
)
def test_prompt_rules(context: dict, expected: list[str]) -> None:
    assert codes(context) == expected


def test_evidence_and_thresholds_from_config() -> None:
    config = load_config(start="/").with_options(rules={"PRM001": {"min_words": 3}})
    assert not [
        f for f in Checker(config).check_prompt({"prompt": "a woman running"}) if f.code == "PRM001"
    ]
    (short,) = [
        f for f in Checker().check_prompt({"prompt": "a woman running"}) if f.code == "PRM001"
    ]
    assert short.evidence == {"words": 3, "min_words": 30}
    assert short.severity == "warning"


def test_words_match_whole_words_only() -> None:
    # "pants" and "panel" are not "pan"; "spotlight" is not "lit" but "light" is a lighting word
    prompt = "a man in blue pants fixes a panel " * 5
    assert "PRM002" in codes({"prompt": prompt})


def test_every_prompt_rule_is_documented() -> None:
    rules = {c: r for c, r in load_rules().items() if c.startswith("PRM")}
    assert sorted(rules) == ["PRM001", "PRM002", "PRM003", "PRM004", "PRM005"]
    for rule in rules.values():
        assert rule.requires == ()
        sections = rule.sections()
        assert all(
            sections.get(h)
            for h in (
                "What it detects",
                "Why it matters",
                "Known false positives",
                "Example",
                "Thresholds",
                "Fix hint",
            )
        ), rule.code
        assert all(rule.param_reasons().values()), rule.code


def test_check_lints_the_prompt_given_with_a_clip(synth_clip) -> None:
    clip = synth_clip("prm_clean", width=160, height=120, frames=24)
    report = vidlint.check(
        clip, select=["TMP", "PRM"], context={"prompt": "a ball rolls", "duration_s": 7.0}
    )
    found = {f.code: f for f in report.findings}
    assert set(found) == {"PRM001", "PRM002", "PRM003", "PRM005"}
    assert found["PRM001"].start_frame == found["PRM001"].end_frame == 0
    assert "PRM" not in report.badness, "the prompt does not make frames bad"
    assert report.verdict == "warn"
    silent = vidlint.check(clip, select=["TMP", "PRM"])
    assert not silent.findings and silent.verdict == "pass"


@pytest.mark.parametrize(
    "clip, expected",
    [
        # "Mid-shot framing, vibrant lighting", a street food market: a complete shot description
        ("gen_t2v_fasthunyuan_willsmith_noodles.mp4", []),
        # camera ("tight cinematic close-up"), light ("warm sunny"), place ("backyard"); 5.0 s
        ("gen_t2v_ltx2-distilled_backyard_couple.mp4", []),
        # a one-line mood, no camera, no place, no light
        ("gen_t2v_hunyuanvideo-sta_woman_reading.mp4", ["PRM001", "PRM002", "PRM003"]),
        # long and detailed but no camera at all; 6.2 s
        ("gen_t2v_longcat-video_boy_dog_icecream.mp4", ["PRM002", "PRM005"]),
        # image-to-video asking two people to dance
        ("gen_i2v_dynamicrafter_two_people_dancing.gif", ["PRM001", "PRM002", "PRM003", "PRM004"]),
        # image-to-video with an orbiting camera over 5 s
        ("gen_i2v_gen3c-cosmos_woman_orbit.mp4", ["PRM004", "PRM005"]),
        # "closeup face photo ..., night city street, bokeh": only short
        ("gen_i2v_animatediff-sparsectrl_man_fireworks.gif", ["PRM001"]),
    ],
)
def test_real_prompts_of_the_evaluation_clips(shared_clips, clip, expected) -> None:
    """The prompts the evaluation clips were generated from (MANIFEST.csv), with the mode and
    the duration of the clip that came out."""
    import csv

    with open(shared_clips / "MANIFEST.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["file"] == clip)
    context = {
        "prompt": row["prompt"],
        "mode": row["mode"],
        "duration_s": int(row["frames"]) / float(row["fps"]),
    }
    if row["mode"] == "i2v":
        context["reference"] = str(shared_clips / clip)
    assert codes(context) == expected
