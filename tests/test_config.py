"""Configuration: precedence, selection like ruff, per-glob overrides, and unknown keys as errors
that name the key and the file."""

from __future__ import annotations

import dataclasses

import pytest

import vidlint
from vidlint.config import build_config, load_config
from vidlint.errors import ConfigError
from vidlint.pipeline import Checker
from vidlint.synth import Artifact


def test_selection_most_specific_wins():
    config = build_config({"select": ["TMP"], "ignore": ["TMP00"]})
    assert not config.is_selected("TMP001")
    config = build_config({"select": ["TMP001"], "ignore": ["TMP"]})
    assert config.is_selected("TMP001") and not config.is_selected("TMP002")
    config = build_config({"ignore": ["TMP003"]})
    assert config.is_selected("TMP001") and not config.is_selected("TMP003")


def test_pyproject_then_vidlint_toml_then_options(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.vidlint]\nselect = ["TMP"]\nprofile = "fast"\n'
        "[tool.vidlint.rules.TMP001]\nmin_frames = 5\n"
    )
    (tmp_path / "vidlint.toml").write_text('profile = "thorough"\n')
    config = load_config(start=tmp_path)
    assert config.profile == "thorough" and config.select == ("TMP",)
    assert config.rules["TMP001"] == {"min_frames": 5}
    assert config.with_options(profile="default").profile == "default"
    assert len(config.sources) == 2


@pytest.mark.parametrize(
    "text, message",
    [
        ("thresholds = 1\n", "unknown key 'thresholds'"),
        ("[rules.TMP001]\nmin_frame = 3\n", "unknown key 'rules.TMP001.min_frame'"),
        ("[rules.TMP999]\nx = 1\n", "unknown rule code 'TMP999'"),
        ('[rules.TMP001]\nmin_frames = "three"\n', "'rules.TMP001.min_frames' = 'three'"),
        ('select = ["XYZ"]\n', "'XYZ' matches no rule code or family"),
        ('profile = "turbo"\n', "'profile' = 'turbo': choose one of fast, default, thorough"),
        ('working_short_side = "360"\n', "'working_short_side' = '360': expected an integer"),
        ("working_short_side = 8\n", "'working_short_side' = 8: must be between 64 and 4320"),
        ('decoder = "ffmpeg"\n', "'decoder' = 'ffmpeg': choose one of pyav, decord"),
        ("[analyzers.nope]\nx = 1\n", "unknown analyzer 'nope'"),
        ('[analyzers.flow]\npreset = "slow"\n', "'analyzers.flow.preset' = 'slow': choose one of"),
        ('[analyzers.flow]\nmodel = "farneback"\n', "choose one of dis, raft"),
        ('device = "gpu"\n', "unknown device 'gpu'"),
        ("[analyzers.flow]\ngrid = 0\n", "'analyzers.flow.grid' = 0: must be between 1 and 32"),
        ("[rules.TMP006]\ngap_factor = 0\n", "'rules.TMP006.gap_factor' = 0: must be above 0"),
        (
            '[[overrides]]\nglob = "*.gif"\n[overrides.rules.HND004]\nmax_jitter = -1\n',
            "'rules.HND004.max_jitter' = -1: must be above 0",
        ),
        ('[[overrides]]\nignore = ["TMP003"]\n', "needs a 'glob'"),
        ("select = [\n", "invalid TOML"),
    ],
)
def test_bad_config_names_key_and_file(tmp_path, text, message):
    path = tmp_path / "vidlint.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_rule_threshold_and_severity_overrides_apply(synth_clip):
    path = synth_clip("freeze-short", ".mp4", [Artifact("freeze", 20, 8)])
    assert [f.code for f in vidlint.check(path, select=["TMP001"]).findings] == ["TMP001"]
    quiet = vidlint.check(path, select=["TMP001"], rules={"TMP001": {"min_frames": 12}})
    assert quiet.findings == []
    softer = vidlint.check(path, select=["TMP001"], rules={"TMP001": {"severity": "warning"}})
    assert softer.findings[0].severity == "warning" and softer.verdict == "warn"


def test_overrides_by_glob(tmp_path, synth_clip):
    path = synth_clip("cut-real", ".mp4", [Artifact("cut", 20)])
    config = build_config(
        {"select": ["TMP"], "overrides": [{"glob": "cut-*", "ignore": ["TMP003"]}]}
    )
    assert config.for_clip(path).is_selected("TMP003") is False
    assert config.for_clip(tmp_path / "other.mp4").is_selected("TMP003")
    assert vidlint.check(path, config=config).findings == []


def test_config_digest_changes_with_thresholds():
    a = build_config({})
    b = build_config({"rules": {"TMP001": {"min_frames": 4}}})
    assert a.digest() != b.digest() and a.digest() == build_config({}).digest()


def _numeric_params():
    from vidlint.analyzers import ANALYZERS

    for name in ANALYZERS.names():
        for f in dataclasses.fields(ANALYZERS.get(name).Params):
            if isinstance(f.default, (int, float)) and not isinstance(f.default, bool):
                yield name, f


def test_every_numeric_analyzer_setting_declares_its_range():
    """A value outside what the code can work with must be refused when the config loads (a
    zero grid or sample rate crashed mid-batch; a negative hand count aborted the process)."""
    for name, f in _numeric_params():
        bounds, choices = f.metadata.get("bounds"), f.metadata.get("choices")
        assert bounds or choices, f"analyzers.{name}.{f.name} declares no bounds or choices"
        if bounds:
            low, high = bounds
            assert low <= f.default <= high, f"analyzers.{name}.{f.name}"
            for bad in (low - 1, high * 2 + 1):
                with pytest.raises(ConfigError, match=f"'analyzers.{name}.{f.name}' = "):
                    load_config().with_options(analyzers={name: {f.name: bad}})


@pytest.mark.parametrize("end", [0, 1], ids=["lowest", "highest"])
def test_analyzers_run_at_the_ends_of_their_ranges(end, synth_clip, shared_clips):
    """Every analyzer, all its settings at their lowest (or highest) allowed values together,
    runs on a clip with a face and a hand, and a source image, without crashing."""
    path = synth_clip(
        "ranges",
        ".mp4",
        [
            Artifact("face", 0, 16, {"x": 0.3, "size": 0.5}),
            Artifact("hand", 0, 16, {"x": 0.75, "size": 0.3}),
        ],
        width=320,
        height=240,
        frames=16,
    )
    reference = shared_clips / "gen_i2v_pia_boy_waving_hand_source.png"
    tables: dict = {}
    for name, f in _numeric_params():
        values = f.metadata.get("bounds") or f.metadata.get("choices")
        tables.setdefault(name, {})[f.name] = values[-1] if end else values[0]
    report = Checker(load_config().with_options(analyzers=tables)).check(
        path, {"reference": str(reference)}
    )
    assert {"temporal", "flow", "flicker", "quality", "hands", "faces", "reference"} <= {
        key.split(".")[0] for key in report.signals
    }
