"""The accuracy benchmark's own instruments, on real decoded footage: each injector changes only
its labelled frames and region, a case renders to H.264 that decodes to what was injected, the
same seed gives the same case, the base list holds together, and the scorer's matching and
arithmetic are right on hand-made findings."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from benchmarks.accuracy.cases import (
    Base,
    assigned_kinds,
    build,
    case_seed,
    cover,
    decode_base,
    decode_case,
    inject,
    load_bases,
)
from benchmarks.accuracy.inject import KINDS, LEG_KINDS, PEOPLE_KINDS, Scene, draw
from benchmarks.accuracy.score import overall, score, score_case, span_iou

PERSISTS = {"morph_swirl", "morph_dissolve", "cut"}
"""Kinds whose change stays to the end of the clip after their labelled span."""
EVERY_FRAME = {"repeat_single", "repeat_cadence"}
"""Kinds that also give the whole clip a property (grain, a slow pan) the artifact lives in."""
LOCAL = [k for k in KINDS if k not in EVERY_FRAME and k not in PEOPLE_KINDS and k != "clean"]

BASE = Base("court", "real_mmaction2_basketball.mp4", 0, 59, "tune", "real", "test")
DONOR = Base("face", "real_liveportrait_woman_expressions.mp4", 0, 29, "tune", "real", "test")
DANCER = Base(
    "dancer", "gen_i2v_mimicmotion_girl_dancing.gif", 0, 18, "tune", "generated", "test", "legs"
)


@pytest.fixture(scope="module")
def dancing(shared_clips):
    """19 frames of a generated dancer seen whole, arms and legs in plain view."""
    frames, fps = decode_base(DANCER, shared_clips)
    return frames, fps, frames[::-1].copy()


@pytest.fixture(scope="module")
def footage(shared_clips):
    """60 frames of real camera footage (426x240, 29.97 fps) and a donor of the same size."""
    frames, fps = decode_base(BASE, shared_clips)
    donor = cover(decode_base(DONOR, shared_clips)[0], frames.shape[2], frames.shape[1])
    return frames, fps, donor


def injected(footage, kind: str, seed: int = 1):
    frames, fps, donor = footage
    out = frames.copy()
    rng = np.random.default_rng(seed)
    labels = KINDS[kind].inject(Scene(out, fps, rng, donor), draw(KINDS[kind].params, rng))
    return out, labels


def pixel_box(region, width: int, height: int, margin: int = 2):
    x, y, w, h = region
    return (
        max(0, int(x * width) - margin),
        max(0, int(y * height) - margin),
        int((x + w) * width) + margin + 1,
        int((y + h) * height) + margin + 1,
    )


@pytest.mark.parametrize("kind", LOCAL)
def test_injection_changes_only_the_labelled_frames_and_region(footage, kind):
    out, labels = injected(footage, kind)
    assert_only_labelled_changes(footage[0], out, labels, kind)


@pytest.mark.parametrize("kind", PEOPLE_KINDS)
def test_body_injection_changes_one_limb_on_the_labelled_frames_only(dancing, kind):
    out, labels = injected(dancing, kind)
    assert_only_labelled_changes(dancing[0], out, labels, kind)
    assert len(labels) == 1 and labels[0].extra["limb"].split()[0] in ("left", "right")
    again, labels_again = injected(dancing, kind)
    assert np.array_equal(out, again) and labels == labels_again, "the same seed, the same case"


def assert_only_labelled_changes(base: np.ndarray, out: np.ndarray, labels, kind: str) -> None:
    assert labels, f"{kind} labelled nothing"
    changed = np.abs(out.astype(np.int16) - base).max(axis=(1, 2, 3)) > 0
    allowed = np.zeros(len(base), bool)
    for label in labels:
        assert 0 <= label.start <= label.end < len(base)
        allowed[label.start : (len(base) if kind in PERSISTS else label.end + 1)] = True
        span = changed[label.start : label.end + 1]
        if kind == "flash":  # one-frame flashes with normal frames between them
            assert span[0] and span[-1] and span.sum() == label.extra["flashes"] >= 4
        else:
            assert span[-1] and span.mean() >= 0.5, f"{kind}: {span.sum()} of {len(span)} change"
    assert not (changed & ~allowed).any(), (
        f"{kind} changed unlabelled frames {np.flatnonzero(changed & ~allowed)}"
    )
    height, width = base.shape[1:3]
    for label in labels:
        if label.region is None:
            continue
        inside = np.zeros((height, width), bool)
        for region in (label.region, label.extra.get("region_to")):
            if region is not None:
                x0, y0, x1, y1 = pixel_box(region, width, height)
                inside[y0:y1, x0:x1] = True
        diff = np.abs(out.astype(np.int16) - base).max(axis=3)
        assert not (diff[:, ~inside] > 0).any(), f"{kind} changed pixels outside its region"


def test_lone_repeats_copy_their_predecessor_in_grainy_footage(footage):
    out, labels = injected(footage, "repeat_single")
    repeats = {label.start for label in labels}
    assert 1 <= len(repeats) <= 3 and all(label.start == label.end for label in labels)
    for index in range(1, len(out)):
        same = np.array_equal(out[index], out[index - 1])
        assert same == (index in repeats), f"frame {index}"
    grain = np.abs(out.astype(np.int16) - footage[0]).mean()
    assert 2 < grain < 6, "the footage has film grain everywhere"


def test_cadence_holds_each_frame_over_its_span_in_a_moving_picture(footage):
    out, (label,) = injected(footage, "repeat_cadence")
    hold = label.extra["hold"]
    same = [np.array_equal(out[i], out[i - 1]) for i in range(1, len(out))]
    for index in range(1, len(out)):
        in_group = label.start < index <= label.end and (index - label.start) % hold != 0
        assert same[index - 1] == in_group, f"frame {index}"
    assert (label.end - label.start + 1) % hold == 0


def test_same_seed_same_case_other_seed_other_case(footage):
    first, labels = injected(footage, "teleport", seed=5)
    again, labels_again = injected(footage, "teleport", seed=5)
    other, other_labels = injected(footage, "teleport", seed=6)
    assert not np.array_equal(other, first)
    assert np.array_equal(first, again) and labels == labels_again
    assert other_labels != labels


def test_a_case_renders_to_h264_with_its_labels_and_is_reused(footage, shared_clips, tmp_path):
    work, video = tmp_path / "work", tmp_path / "work" / "cases" / "court__ghost.mp4"

    def render() -> dict:
        (made,) = build([BASE], ["ghost"], work, 3, 1, shared_clips, every_base=[BASE, DONOR])
        return made

    case = render()
    assert json.loads((work / "labels.json").read_text()) == [case]
    assert case["codes"] == list(KINDS["ghost"].codes) and case["frames"] == 60
    frames, fps, donor = footage
    expected = frames.copy()
    assert inject(expected, fps, donor, "ghost", case_seed(3, "court", "ghost")) == {
        "params": case["params"],
        "labels": case["labels"],
    }
    decoded = decode_case(video)
    assert decoded.shape == frames.shape
    error = np.abs(decoded.astype(np.float32) - expected).mean(axis=(1, 2, 3))
    assert error.max() < 3, "the encoding keeps what was injected"
    label = case["labels"][0]
    blended = np.abs(expected[label["start"]].astype(np.float32) - frames[label["start"]]).mean()
    assert blended > 3 * error.max(), "the double exposure shows through the encoding"
    stamp = video.stat().st_mtime_ns
    assert render() == case and video.stat().st_mtime_ns == stamp, "an up-to-date case is reused"
    video.unlink()
    assert render()["sha256"] == case["sha256"], "the same recipe gives the same bytes"


def test_bases_are_cut_free_stretches_split_by_clip(shared_clips):
    with (shared_clips / "MANIFEST.csv").open(newline="") as handle:
        manifest = {row["file"]: row for row in csv.DictReader(handle)}
    bases = load_bases()
    split_of: dict[str, str] = {}
    for base in bases:
        row = manifest[base.clip]
        assert base.split in ("tune", "heldout") and base.origin == row["kind"]
        assert 0 <= base.start < base.end < int(row["frames"])
        seconds = (base.end - base.start + 1) / float(row["fps"])
        shortest = 1.5 if base.people else 3.0  # generated clips with whole people are short
        assert shortest <= seconds <= 5.01, f"{base.name}: {seconds:.1f} s"
        assert split_of.setdefault(base.clip, base.split) == base.split, (
            f"{base.clip} in both splits"
        )
        if base.clip == "real_mmaction2_armwrestling.mp4":
            assert base.end < 229, "the file's own corrupt stretch is no clean base"
    for split in ("tune", "heldout"):
        assert {b.origin for b in bases if b.split == split} == {"real", "generated"}
    assert len({b.name for b in bases}) == len(bases)


def test_each_kind_goes_into_two_bases_per_split_one_real_one_generated():
    bases = load_bases()
    for split in ("tune", "heldout"):
        chosen = {b.name: assigned_kinds(b, bases, 2) for b in bases if b.split == split}
        origin = {b.name: b.origin for b in bases}
        assert all(kinds[0] == "clean" for kinds in chosen.values())
        people = {b.name: b.people for b in bases if b.split == split and b.people}
        general = [k for k in KINDS if k not in PEOPLE_KINDS]
        for kind in general:
            into = [name for name, kinds in chosen.items() if kind in kinds and name not in people]
            assert len(into) == (len(chosen) - len(people) if kind == "clean" else 2), (kind, into)
        mixed = [k for k in general if len({origin[n] for n, ks in chosen.items() if k in ks}) == 2]
        assert len(mixed) >= len(general) - 3, "most kinds on one real and one generated base"
        for name, hosts in people.items():  # every other kind, and the body kinds they host
            hosted = [k for k in PEOPLE_KINDS if hosts == "legs" or k not in LEG_KINDS]
            assert chosen[name] == [*general, *hosted], name
    general_base = next(b for b in bases if not b.people)
    assert assigned_kinds(general_base, bases, 0) == [k for k in KINDS if k not in PEOPLE_KINDS]


# --- scorer ----------------------------------------------------------------------------------


def finding(code: str, start: int, end: int, severity: str = "warning") -> dict:
    return {"code": code, "start_frame": start, "end_frame": end, "severity": severity}


def case(kind: str, labels: list[tuple[int, int]], codes: tuple[str, ...] = ("MOT001",)) -> dict:
    return {
        "case": f"c_{kind}_{labels}",
        "kind": kind,
        "codes": list(codes),
        "labels": [{"start": s, "end": e, "region": None} for s, e in labels],
    }


def test_a_finding_matches_with_its_code_within_two_frames():
    label = case("morph", [(10, 19)])
    for start, end, found in [(21, 30, True), (22, 30, False), (0, 8, True), (0, 7, False)]:
        tally = score_case(label, {"findings": [finding("MOT001", start, end)]})
        assert tally.labels[0].found is found, (start, end)
        assert len(tally.false_findings) == (0 if found else 1)
    tally = score_case(label, {"findings": [finding("FLK001", 10, 19)]})
    assert not tally.labels[0].found and tally.false_findings == [("morph", "FLK001", "warning")]
    assert tally.labels[0].reported == ("FLK001",)


def test_span_iou_of_the_union_of_matching_findings_and_onset_error():
    assert span_iou([(8, 12), (15, 25)], {"start": 10, "end": 19}) == pytest.approx(8 / 18)
    assert span_iou([(10, 19)], {"start": 10, "end": 19}) == 1.0
    report = {"findings": [finding("MOT001", 8, 12), finding("MOT001", 15, 25, "error")]}
    (result,) = score_case(case("morph", [(10, 19)]), report).labels
    assert result.iou == pytest.approx(8 / 18) and result.onset == -2


def test_info_findings_count_neither_way_and_overall_arithmetic():
    cases = [
        case("morph", [(10, 19)]),
        case("morph", [(30, 31)]),
        case("clean", []),
        case("flicker", [(5, 9)], ("FLK001",)),
    ]
    reports = {
        cases[0]["case"]: {"findings": [finding("MOT001", 11, 13), finding("MOT003", 40, 41)]},
        cases[1]["case"]: {"findings": [finding("MOT001", 30, 30, "info")]},
        cases[2]["case"]: {
            "findings": [finding("QLT001", 3, 9, "error"), finding("FAC004", 1, 2, "info")],
            "verdict": "fail",
        },
        # the flicker case has no report: vidlint could not check it
    }
    result = overall(score(cases, reports))
    assert (result.labels, result.found, result.missing) == (3, 1, 1)
    assert result.precision == pytest.approx(1 / 3) and result.recall == pytest.approx(1 / 3)
    assert result.f1 == pytest.approx(1 / 3)
    assert result.false_per_case == pytest.approx(2 / 4) and result.false_per_clean == 1.0
    assert result.errors_on_clean == 1 and result.failed_clean == 1


def test_a_tolerated_code_over_the_span_is_neither_a_hit_nor_false():
    flicker = {**case("flicker", [(10, 40)], ("FLK001",)), "tolerated": ["FLK002"]}
    report = {"findings": [finding("FLK002", 12, 30, "error"), finding("FLK002", 60, 62)]}
    tally = score_case(flicker, report)
    assert not tally.labels[0].found and tally.true_findings == 0
    assert tally.false_findings == [("flicker", "FLK002", "warning")], "outside the span it is"


def test_a_code_the_base_rightly_carries_is_neither_a_hit_nor_false_anywhere():
    clean = {**case("clean", []), "known": ["TMP002"]}
    report = {"findings": [finding("TMP002", 5, 93), finding("MOT001", 40, 41)]}
    tally = score_case(clean, report)
    assert tally.true_findings == 0
    assert tally.false_findings == [("clean", "MOT001", "warning")]


def test_a_clean_case_failed_only_for_what_its_base_carries_is_not_a_false_failure():
    clean = {**case("clean", []), "known": ["FAC006"]}
    melt = finding("FAC006", 28, 40, "error")
    assert score_case(clean, {"verdict": "fail", "findings": [melt]}).failed_clean == 0
    both = {"verdict": "fail", "findings": [melt, finding("MOT001", 5, 9, "error")]}
    assert score_case(clean, both).failed_clean == 1


def test_the_bases_known_to_carry_codes_are_the_real_repeats_and_the_melting_face():
    # the conversion repeats of the real arm-wrestling file; the low-resolution boy's face melts
    # from frame 28 (test_faces.py checks FAC006 there on the file itself)
    known = {b.name: b.known for b in load_bases() if b.known}
    assert known == {"arm": "TMP002", "wrestlers": "TMP002", "boy_low": "FAC006,DRF001"}


def test_rewriting_the_docs_moves_the_latest_results_on_top_of_the_earlier_ones():
    from benchmarks.accuracy.run import earlier_results

    old = (
        "# Accuracy\n\n## Latest results\nvidlint at abc1234, 78 cases.\n\n| table |\n\n"
        "## Earlier results\nEarlier runs, newest first.\n\n### Baseline at b606b28\n| old |\n"
    )
    assert earlier_results(old) == (
        "## Earlier results\nEarlier runs, newest first.\n\n"
        "### vidlint at abc1234, 78 cases.\n| table |\n\n"
        "### Baseline at b606b28\n| old |\n"
    )
    assert earlier_results("# Accuracy\n\n## Latest results\nx\n") == ""
