"""Docs and ``vidlint explain`` speak of artifacts, never of an evaluation clip by name."""

import csv
from pathlib import Path

import pytest

from vidlint.analyzers import ANALYZERS
from vidlint.rules import load_rules
from vidlint.settings import reasons

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT.parent / "shared" / "clips" / "MANIFEST.csv"


@pytest.fixture(scope="module")
def clip_stems() -> list[str]:
    if not MANIFEST.exists():
        pytest.skip(f"no evaluation clip manifest at {MANIFEST}")
    with MANIFEST.open(newline="") as handle:
        return [Path(row["file"]).stem.lower() for row in csv.DictReader(handle)]


def explained_texts() -> dict[str, str]:
    """What ``vidlint explain`` and the docs print, by where it comes from."""
    texts = {str(path.relative_to(ROOT)): path.read_text() for path in ROOT.glob("docs/*.md")}
    texts["README.md"] = (ROOT / "README.md").read_text()
    for code, rule in load_rules().items():
        texts[f"rule {code}"] = rule.doc
        for name, why in rule.param_reasons().items():
            texts[f"rule {code} param {name}"] = why
    for name in ANALYZERS.names():
        analyzer = ANALYZERS.get(name)
        texts[f"analyzer {name}"] = analyzer.__doc__ or ""
        for field, why in reasons(analyzer.Params).items():
            texts[f"analyzer {name} param {field}"] = why
    return texts


def test_docs_and_explain_name_no_evaluation_clip(clip_stems: list[str]) -> None:
    named = [
        f"{where}: {stem}"
        for where, text in explained_texts().items()
        for stem in clip_stems
        if stem in text.lower()
    ]
    assert not named, "evaluation clips named:\n" + "\n".join(named)
