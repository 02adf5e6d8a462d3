"""Rules, one module per family. Every module of this package is a family (it declares itself
with :func:`~vidlint.rules.base.family`); loading the code table imports them all, and plugins
add theirs through the entry point group ``vidlint.rules`` (a module)."""

from __future__ import annotations

import functools

from vidlint.errors import VidlintError
from vidlint.registry import Registry, package_modules
from vidlint.rules.base import DOC_HEADINGS, FAMILIES, RULES, Fix, Hit, Rule, RuleInput, rule, runs

RULE_MODULES = Registry("rule", package_modules("vidlint.rules", skip=("base",)))


def load_rules() -> dict[str, Rule]:
    """The code table, every family module and plugin imported (once: scanning the installed
    distributions for entry points takes milliseconds, and every config build asks)."""
    _import_rule_modules()
    return dict(sorted(RULES.items()))


def rules_for_reports() -> dict[str, Rule]:
    """The code table for writers: empty when a plugin fails to load, so a report about a clip
    is still written (the check itself reports the broken plugin)."""
    try:
        return load_rules()
    except VidlintError:
        return {}


def family_titles() -> dict[str, str]:
    """Family prefix -> title, for every loaded family."""
    _import_rule_modules()
    return dict(FAMILIES)


@functools.cache
def _import_rule_modules() -> None:
    RULE_MODULES.load_all()


__all__ = [
    "DOC_HEADINGS",
    "RULES",
    "RULE_MODULES",
    "Fix",
    "Hit",
    "Rule",
    "RuleInput",
    "family_titles",
    "load_rules",
    "rule",
    "rules_for_reports",
    "runs",
]
