"""The accuracy benchmark: build the cases, check them with vidlint, print the tables.

    python -m benchmarks.accuracy                      # every case; tune and heldout side by side
    python -m benchmarks.accuracy --kinds flicker,clean --bases court_a,arm
    python -m benchmarks.accuracy --split heldout
    python -m benchmarks.accuracy --write-docs         # also rewrite docs/accuracy.md
    python -m benchmarks.accuracy --sheets             # contact sheets of the cases, to look at

Cases and reports live in a work folder outside the repository (``--work``, default
$XDG_CACHE_HOME/vidlint-accuracy or ~/.cache/vidlint-accuracy). vidlint runs through its CLI
(``vidlint check --format json``); its reports are kept per digest of vidlint's source and
configuration, so a second run with the same code only scores.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.accuracy.cases import CRF, REPO, SHARED_CLIPS, SHORT_SIDE, Base, build, load_bases
from benchmarks.accuracy.inject import KINDS
from benchmarks.accuracy.score import (
    TOLERANCE,
    Tally,
    by_kind,
    false_by_rule,
    overall,
    score,
)

SPLITS = ("tune", "heldout")
PER_KIND = 2
"""Each kind goes into this many bases per split (clean into all): a run of the whole benchmark
stays short enough on two cores to repeat after every change."""
TARGET_RECALL, TARGET_IOU, TARGET_FALSE_PER_CLEAN = 0.9, 0.6, 0.1
"""The targets the held-out table must meet: per kind, and per clean clip."""
DOCS = REPO / "docs" / "accuracy.md"


def default_work() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "vidlint-accuracy"


def vidlint_digest(config: Path | None, profile: str) -> str:
    """A digest of vidlint's installed source and data files, the config and the profile: the
    reports of one digest are those of one vidlint."""
    spec = importlib.util.find_spec("vidlint")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("vidlint is not installed in this Python (pip install -e .)")
    package = Path(next(iter(spec.submodule_search_locations)))
    digest = hashlib.sha256(profile.encode())
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".json", ".css", ".toml"}:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    if config is not None:
        digest.update(config.read_bytes())
    return digest.hexdigest()[:16]


def check(
    cases: list[dict[str, Any]], work: Path, jobs: int, config: Path | None, profile: str
) -> dict[str, dict[str, Any] | None]:
    """Each case's vidlint report (None where vidlint could not check it), checking only the
    cases without an up-to-date one."""
    folder = work / "reports" / vidlint_digest(config, profile)
    folder.mkdir(parents=True, exist_ok=True)

    def cached(case: dict[str, Any]) -> dict[str, Any] | None:
        path = folder / f"{case['case']}.vidlint.json"
        if not path.is_file():
            return None
        report = json.loads(path.read_text())
        return report if report["clip"].get("sha256") == case["sha256"] else None

    pending = [c for c in cases if cached(c) is None]
    if pending:
        print(f"checking {len(pending)} case(s) with vidlint ({jobs} jobs)...", flush=True)
        empty = work / "vidlint.toml"  # no project or user config leaks into the run
        empty.write_text("# the accuracy benchmark runs vidlint with its defaults\n")
        command = [
            sys.executable, "-m", "vidlint", "check", *(c["path"] for c in pending),
            "--out", str(folder), "--format", "json", "--jobs", str(jobs), "--profile", profile,
            "--config", str(config or empty), "--exit-zero", "--quiet", "--force",
        ]  # fmt: skip
        done = subprocess.run(command, check=False, cwd=work)
        if done.returncode not in (0, 1):
            print(f"vidlint check exited with {done.returncode}", file=sys.stderr)
    return {c["case"]: cached(c) for c in cases}


# --- tables --------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def top_codes(counts: Counter, n: int = 4) -> str:
    return " ".join(f"{code}×{count}" for code, count in counts.most_common(n)) or "-"


def kind_table(tallies: dict[str, Tally]) -> str:
    summaries = {split: by_kind(t) for split, t in tallies.items()}
    kinds = [k for k in KINDS if k != "clean" and any(k in s for s in summaries.values())]
    header = ["kind", "codes"]
    for split in tallies:
        header += [f"{split}: found", "IoU", "onset", "false/case"]
    rows = []
    for kind in kinds:
        row = [kind, ",".join(KINDS[kind].codes)]
        for split in tallies:
            s = summaries[split].get(kind)
            if s is None:
                row += ["", "", "", ""]
                continue
            row += [
                f"{s.found}/{s.labels}",
                fmt(s.iou),
                fmt(s.onset, 1),
                fmt(s.false_per_case, 1),
            ]
        rows.append(row)
    return table(header, rows)


def reported_table(tallies: dict[str, Tally]) -> str:
    summaries = {split: by_kind(t) for split, t in tallies.items()}
    kinds = [k for k in KINDS if k != "clean" and any(k in s for s in summaries.values())]
    rows = [
        [kind]
        + [top_codes(summaries[s][kind].reported) if kind in summaries[s] else "" for s in tallies]
        for kind in kinds
    ]
    return table(["kind", *tallies], rows)


def overall_table(tallies: dict[str, Tally]) -> str:
    results = {split: overall(t) for split, t in tallies.items()}
    lines = [
        ("cases (clean)", lambda o: f"{o.cases} ({o.clean_cases})"),
        ("labels found (recall)", lambda o: f"{o.found}/{o.labels} ({fmt(o.recall)})"),
        ("precision", lambda o: fmt(o.precision)),
        ("F1", lambda o: fmt(o.f1)),
        ("false findings per case", lambda o: fmt(o.false_per_case)),
        ("false findings per clean case", lambda o: fmt(o.false_per_clean)),
        ("errors on clean cases", lambda o: str(o.errors_on_clean)),
        ("clean cases failed", lambda o: str(o.failed_clean)),
        ("cases vidlint could not check", lambda o: str(o.missing)),
    ]
    rows = [[name] + [get(results[s]) for s in tallies] for name, get in lines]
    return table(["", *tallies], rows)


def false_table(tallies: dict[str, Tally]) -> str:
    rules = {split: false_by_rule(t) for split, t in tallies.items()}
    codes = sorted(set().union(*rules.values()))
    header = ["code"]
    for split in tallies:
        header += [f"{split}: errors", "warnings", "on clean"]
    rows = []
    for code in codes:
        row = [code]
        for split in tallies:
            c = rules[split].get(code, Counter())
            row += [str(c["error"]), str(c["warning"]), str(c["clean"])]
        rows.append(row)
    return table(header, rows) if rows else "(none)"


def misses(tally: Tally) -> list[str]:
    """What falls short of the targets."""
    out = []
    for kind, s in by_kind(tally).items():
        if kind == "clean" or not s.labels:
            continue
        recall = s.found / s.labels
        if recall < TARGET_RECALL or s.iou is None or s.iou < TARGET_IOU:
            out.append(f"{kind} (recall {recall:.2f}, IoU {fmt(s.iou)})")
    result = overall(tally)
    if result.false_per_clean is not None and result.false_per_clean > TARGET_FALSE_PER_CLEAN:
        out.append(f"{result.false_per_clean:.2f} false findings per clean case")
    if result.errors_on_clean:
        out.append(f"{result.errors_on_clean} error(s) on clean cases")
    return out


def targets_text(tallies: dict[str, Tally]) -> str:
    lines = []
    for split, tally in tallies.items():
        short = misses(tally)
        lines.append(
            f"- {split}: "
            + ("meets every target" if not short else "short of target: " + "; ".join(short))
        )
    return "\n".join(lines)


def tables(tallies: dict[str, Tally]) -> str:
    return "\n\n".join(
        [
            (
                "Per kind (found: labels matched; IoU: mean span IoU of the found; onset: mean "
                "|onset error| in frames; false/case: false findings per case of that kind)"
            ),
            kind_table(tallies),
            "Overall",
            overall_table(tallies),
            "False findings per rule code",
            false_table(tallies),
            "Codes reported over the labelled spans (matching or not)",
            reported_table(tallies),
            (
                f"Targets (recall ≥ {TARGET_RECALL}, IoU ≥ {TARGET_IOU} per kind; ≤ "
                f"{TARGET_FALSE_PER_CLEAN} false findings per clean case, no error on one)"
            ),
            targets_text(tallies),
        ]
    )


# --- docs ----------------------------------------------------------------------------------


def kinds_doc() -> str:
    rows = []
    for name, kind in KINDS.items():
        params = ", ".join(f"{p} {lo}–{hi}" for p, (lo, hi) in kind.params.items()) or "-"
        also = ",".join(kind.tolerated) or "-"
        rows.append([name, ",".join(kind.codes) or "-", also, params, kind.summary])
    header = ["kind", "codes", "also right", "parameters (drawn per case)", "what"]
    return table(header, rows)


def bases_doc(bases: list[Base]) -> str:
    rows = [
        [b.name, b.split, b.origin, f"{b.start}–{b.end}", b.reason, b.known.replace(",", " ")]
        for b in sorted(bases, key=lambda b: (SPLITS.index(b.split), b.name))
    ]
    header = ["base", "split", "origin", "frames", "why this stretch", "its own footage carries"]
    return table(header, rows)


def git_head() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], check=False, cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "src")
    return git("rev-parse", "--short", "HEAD") + (" with changes in src/" if changed else "")


DOC_TEMPLATE = """# Accuracy

How often vidlint finds what is there, and how often it reports what is not, measured on
artifacts injected into footage the rules were not developed on. Every change to analyzers,
rules or thresholds quotes the held-out table. Targets: per kind recall ≥ 0.9 and span IoU ≥ 0.6;
at most 0.1 false findings per clean clip; no error on a clean clip.

```
python -m benchmarks.accuracy [--split tune|heldout|all] [--kinds K,...] [--bases B,...]
                              [--per-kind 2] [--work DIR] [--jobs 2] [--sheets] [--write-docs]
```

## How it works
- **Bases** (`benchmarks/accuracy/bases.csv`, which names the source file of each): cut-free
  stretches of 3–5 s of real camera footage and of generated clips that look clean frame by
  frame, scaled to a short side of at most {short_side} px. The split is by source clip: thresholds
  may be tuned on the `tune` bases only; the `heldout` bases say whether that generalizes.
  Both mix real and generated footage. Bases with people in plain view (the `people` column:
  whole bodies, or arms only; 1.5–5 s, as generated clips of people are short) get every kind,
  and the body kinds their people can host.
- **Kinds** (`benchmarks/accuracy/inject.py`): one small injector per artifact, written
  independently of `vidlint synth`, with its parameters drawn per case from fixed ranges (a seed
  per base and kind) and the rule codes that should report it. The body kinds find the limbs
  with MediaPipe Pose in static mode on the base's own frames (`inject_bodies.py`). Each other
  kind goes into every base with people and into {per_kind} of the other bases of each split,
  spread so that one is real and one generated where the split allows (`--per-kind 0`: every
  base), and every base has its clean twin. Cut and dissolve take their other content from the
  next base of the same split. A whole run is {cases} cases, about
  {run_minutes:.0f} min on two cores when nothing is cached.
- **Cases** are rendered once to H.264 (yuv420p, CRF {crf}, the base's frame rate) with their
  labels (`labels.json`: frame span, normalized region, accepted codes, drawn parameters) into
  the work folder, outside the repository, and rendered again only when their recipe changes.
- **vidlint** runs through its CLI (`vidlint check --format json`, default profile, no project
  config); reports are kept per digest of vidlint's source, so a re-run only scores.
- **Scoring** (`benchmarks/accuracy/score.py`): a finding matches a label when its code is one
  the kind accepts and its span overlaps the label's within ±{tolerance} frames. A label is found
  when some finding matches it; its span IoU is the IoU of the union of the matching findings
  with the labelled span; its onset error is the first matching finding's start minus the
  label's. Any other finding on a case is false, except where the kind names its code as also
  right over the span (a strong flicker may be a photosensitive flash as well): such a finding
  is neither a hit nor false, and so is a code the base's own footage rightly carries anywhere
  on its cases (bases.csv's `known`, the last column of the bases' table: a real file's
  frame-rate conversion repeats, a generated face that melts; each seen in the saved frames).
  Only warnings and errors count, for and against. Precision is matching findings over all
  counted findings; F1 combines it with the recall of labels. A clean case failed only for
  errors its base's footage carries is not counted as a clean case failed.

## Kinds
{kinds}

## Bases
{bases}

## Latest results
vidlint {version} at {commit}, default profile; {cases} cases of {frames} frames in all.
vidlint took {per_case:.1f} s per case on average, {minutes:.0f} min for all of them in one
process (the runner uses two).

{tables}
"""


LATEST = "## Latest results"
EARLIER = "## Earlier results"
"""The part of docs/accuracy.md from this heading on is kept when the docs are rewritten, and
the results it replaces go to its top."""


def earlier_results(old: str) -> str:
    """The docs' earlier results with the latest ones of ``old`` on top, under a heading made
    of their first line (which names the commit)."""
    if EARLIER not in old:
        return ""
    earlier = old[old.index(EARLIER) :]
    if LATEST not in old:
        return earlier
    latest = old[old.index(LATEST) + len(LATEST) : old.index(EARLIER)].strip()
    first, _, body = latest.partition("\n")
    intro_end = earlier.index("\n\n") + 2  # the heading and its one-line intro
    return f"{earlier[:intro_end]}### {first}\n{body.strip()}\n\n{earlier[intro_end:]}"


def write_docs(
    tallies: dict[str, Tally],
    bases: list[Base],
    cases: list[dict[str, Any]],
    reports: dict[str, dict[str, Any] | None],
    per_kind: int,
) -> None:
    from vidlint import __version__

    seconds = sum(r["timings"]["total_s"] for r in reports.values() if r)
    old = DOCS.read_text() if DOCS.is_file() else ""
    earlier = earlier_results(old)
    DOCS.write_text(
        DOC_TEMPLATE.format(
            short_side=SHORT_SIDE,
            crf=CRF,
            tolerance=TOLERANCE,
            kinds=kinds_doc(),
            bases=bases_doc(bases),
            version=__version__,
            commit=git_head(),
            cases=len(cases),
            frames=sum(c["frames"] for c in cases),
            per_case=seconds / len(cases),
            minutes=seconds / 60,
            run_minutes=seconds / 60 / 2,
            per_kind=per_kind,
            tables=tables(tallies),
        )
        + ("\n" + earlier if earlier else "")
    )
    print(f"wrote {DOCS}")


# --- command line --------------------------------------------------------------------------


def names(text: str | None, known: list[str], what: str) -> list[str] | None:
    if text is None:
        return None
    chosen = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy", description=__doc__)
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all")
    parser.add_argument("--kinds", help="comma-separated kinds (default: all)")
    parser.add_argument("--bases", help="comma-separated bases (default: all of the split)")
    parser.add_argument("--work", type=Path, default=default_work())
    parser.add_argument("--clips", type=Path, default=SHARED_CLIPS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--per-kind",
        type=int,
        default=PER_KIND,
        help=f"bases per split each kind is injected into (default {PER_KIND}; 0: all)",
    )
    parser.add_argument("--profile", default="default")
    parser.add_argument("--config", type=Path, help="a vidlint.toml to benchmark")
    parser.add_argument("--sheets", action="store_true", help="write contact sheets per kind")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite {DOCS}")
    args = parser.parse_args(argv)

    if not (args.clips / "MANIFEST.csv").is_file():
        raise SystemExit(f"{args.clips}: evaluation clips not found (set --clips)")
    every_base = load_bases()
    wanted = names(args.bases, [b.name for b in every_base], "base")
    bases = [
        b
        for b in every_base
        if (args.split == "all" or b.split == args.split) and (wanted is None or b.name in wanted)
    ]
    kinds = names(args.kinds, list(KINDS), "kind") or list(KINDS)
    if args.write_docs and (args.kinds or args.bases or args.split != "all"):
        raise SystemExit("--write-docs takes the whole benchmark: drop --kinds, --bases, --split")

    started = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    cases = build(
        bases, kinds, args.work, args.seed, args.jobs, args.clips, every_base, args.per_kind
    )
    print(f"{len(cases)} cases in {args.work} ({time.perf_counter() - started:.0f} s)")
    if args.sheets:
        from benchmarks.accuracy.sheets import write_sheets

        for path in write_sheets(cases, args.work / "sheets"):
            print(f"sheet {path}")
    reports = check(cases, args.work, args.jobs, args.config, args.profile)
    splits = [s for s in SPLITS if any(c["split"] == s for c in cases)]
    tallies = {s: score([c for c in cases if c["split"] == s], reports) for s in splits}
    print()
    print(tables(tallies))
    print(f"\n{len(cases)} cases; {time.perf_counter() - started:.0f} s in all")
    if args.write_docs:
        write_docs(tallies, every_base, cases, reports, args.per_kind)
    return 0
