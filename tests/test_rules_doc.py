"""Every rule is documented under the fixed headings, with a kebab-case name, a unique code and a
reason for every threshold."""

from __future__ import annotations

import re

import pytest

from vidlint.rules import DOC_HEADINGS, load_rules

RULES = load_rules()


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_is_documented(code):
    rule = RULES[code]
    sections = rule.sections()
    missing = [h for h in DOC_HEADINGS if not sections.get(h)]
    assert not missing, f"{code} docstring lacks {missing}"
    assert rule.summary and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    for name, why in rule.param_reasons().items():
        assert len(why) > 20, f"{code}.{name} needs a reason for its default"


def test_codes_and_names_are_unique():
    names = [r.name for r in RULES.values()]
    assert len(set(names)) == len(names)
    assert all(code[:3] == rule.family for code, rule in RULES.items())


def test_threshold_lines_are_on_signals_the_rule_reads():
    """A rule's ``thresholds`` (drawn on the HTML report's plots) name signals of the analyzers it
    requires and parameters it has."""
    from vidlint.analyzers import ANALYZERS

    drawn = {code: rule for code, rule in RULES.items() if rule.thresholds}
    assert {"TMP003", "TMP004", "REF003", "FAC001"} <= set(drawn)
    for code, rule in drawn.items():
        for signal, parameter in rule.thresholds.items():
            analyzer = signal.split(".")[0]
            assert analyzer in rule.requires, (code, signal)
            assert signal in ANALYZERS.get(analyzer).signals, (code, signal)
            assert parameter in rule.defaults(), (code, parameter)
