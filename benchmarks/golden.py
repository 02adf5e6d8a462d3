"""Golden comparison: check the sample clips and every evaluation clip, keep each report minus
its timings, and compare two such runs. A refactor that claims to change no behaviour must show
no difference here.

    python benchmarks/golden.py write golden-before/
    python benchmarks/golden.py write golden-after/
    python benchmarks/golden.py compare golden-before/ golden-after/
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_CLIPS = REPO.parent / "shared" / "clips"
VIDEO_SUFFIXES = {".mp4", ".gif", ".avi", ".mkv", ".mov", ".webm"}


def clips() -> list[tuple[Path, dict]]:
    """Every sample clip, and every evaluation clip with its prompt from the manifest."""
    out = [(p, {}) for p in sorted((REPO / "sample_clips").iterdir()) if p.suffix in VIDEO_SUFFIXES]
    manifest = SHARED_CLIPS / "MANIFEST.csv"
    if manifest.is_file():
        with manifest.open(newline="") as handle:
            for row in csv.DictReader(handle):
                out.append((SHARED_CLIPS / row["file"], {"prompt": row["prompt"]}))
    return out


def normalized(report: dict) -> dict:
    """What must not change: verdict, score, findings, per-frame signals and badness, and the
    per-clip results (tracks, curves) the report carries."""
    return {
        "verdict": report["verdict"],
        "score": report["score"],
        "findings": report["findings"],
        "badness": report["frames"]["badness"],
        "signals": report["frames"]["signals"],
        "extra": report.get("extra", {}),
        "errors": report["errors"],
    }


def write(folder: Path) -> None:
    import vidlint

    folder.mkdir(parents=True, exist_ok=True)
    for path, context in clips():
        report = vidlint.check(path, context=context).to_dict()
        (folder / f"{path.name}.json").write_text(json.dumps(normalized(report), sort_keys=True))
        print(f"{report['verdict']:4} {report['score']:3}  {path.name}", flush=True)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def differences(old: dict, new: dict) -> list[str]:
    """What changed between two normalized reports, part by part: findings are compared with
    and without their fix hints, signals and per-clip results key by key."""
    out = []
    for part in sorted(old.keys() | new.keys()):
        a, b = old.get(part), new.get(part)
        if _same(a, b):
            continue
        if part == "findings" and len(a) == len(b):
            strip = [{k: v for k, v in f.items() if k != "fix"} for f in a]
            if _same(strip, [{k: v for k, v in f.items() if k != "fix"} for f in b]):
                out.append("findings: fix hints only")
                continue
        if isinstance(a, dict) and isinstance(b, dict):
            added, removed = sorted(b.keys() - a.keys()), sorted(a.keys() - b.keys())
            changed = sorted(k for k in a.keys() & b.keys() if not _same(a[k], b[k]))
            parts = (
                [f"+{k}" for k in added] + [f"-{k}" for k in removed] + [f"~{k}" for k in changed]
            )
            out.append(f"{part}: {' '.join(parts)}")
        else:
            out.append(part)
    return out


def compare(before: Path, after: Path) -> int:
    """Print, per clip, whether its verdict, score and findings are the same; exit 1 when a
    verdict, a score or a finding (fix hints aside) differs."""
    names = sorted({p.name for p in before.glob("*.json")} | {p.name for p in after.glob("*.json")})
    differ = 0
    for name in names:
        a, b = before / name, after / name
        if not (a.is_file() and b.is_file()):
            print(f"MISSING  {name}")
            differ += 1
            continue
        old, new = json.loads(a.read_text()), json.loads(b.read_text())
        changes = differences(old, new)
        codes = " ".join(sorted({f["code"] for f in new["findings"]})) or "-"
        judged = [c for c in changes if c.split(":")[0] in ("verdict", "score", "findings")]
        if judged and judged != ["findings: fix hints only"]:
            differ += 1
            print(f"DIFFERS  {name}: {'; '.join(changes)}")
        else:
            also = f"  ({'; '.join(changes)})" if changes else ""
            print(f"same     {name}: {new['verdict']} {new['score']} {codes}{also}")
    print(
        f"{len(names)} clips: {len(names) - differ} with the same verdict, score and findings, "
        f"{differ} differ"
    )
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("write").add_argument("folder", type=Path)
    cmp = sub.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "write":
        write(args.folder)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
