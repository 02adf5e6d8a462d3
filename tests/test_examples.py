"""The examples in the package's docstrings run, on the repository's sample clips, and print
what they show."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import vidlint
import vidlint.regen

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", [vidlint, vidlint.regen], ids=lambda m: m.__name__)
def test_docstring_examples(module, monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # the examples name sample_clips/ from the repository root
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True, verbose=False)
    assert result.attempted > 0, "no example ran: the test is broken"
    assert result.failed == 0
