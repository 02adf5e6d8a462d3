"""Rules, one module per family. Importing this package registers every built-in rule in
``RULES``; plugins add theirs through the entry point group ``vidlint.rules`` (a module)."""

import functools
import importlib
from importlib.metadata import entry_points

from vidlint.errors import ConfigError
from vidlint.rules.base import DOC_HEADINGS, RULES, Hit, Rule, RuleInput, rule, runs

FAMILY_MODULES = {
    "TMP": "vidlint.rules.temporal",
    "MOT": "vidlint.rules.motion",
    "FLK": "vidlint.rules.flicker",
    "QLT": "vidlint.rules.quality",
    "DRF": "vidlint.rules.degradation",
    "HND": "vidlint.rules.hands",
    "FAC": "vidlint.rules.faces",
    "REF": "vidlint.rules.reference",
    "SRC": "vidlint.rules.source",
    "PRM": "vidlint.rules.prompt",
}
FAMILY_TITLES = {
    "TMP": "temporal integrity",
    "FLK": "flicker",
    "MOT": "motion & physics",
    "HND": "hands",
    "FAC": "faces",
    "REF": "reference fidelity",
    "QLT": "visual quality",
    "SRC": "source image",
    "PRM": "prompt",
    "DRF": "degradation",
}


def load_rules() -> dict[str, Rule]:
    """Import every family module and plugin (once: scanning the installed distributions for
    entry points takes milliseconds, and every config build asks); return the code table."""
    _import_rule_modules()
    return dict(sorted(RULES.items()))


@functools.cache
def _import_rule_modules() -> None:
    for module in FAMILY_MODULES.values():
        importlib.import_module(module)
    for point in entry_points(group="vidlint.rules"):
        try:
            importlib.import_module(point.value)
        except Exception as exc:
            raise ConfigError(f"rule plugin {point.name!r} failed to load: {exc}") from exc


__all__ = [
    "DOC_HEADINGS",
    "FAMILY_MODULES",
    "FAMILY_TITLES",
    "RULES",
    "Hit",
    "Rule",
    "RuleInput",
    "load_rules",
    "rule",
    "runs",
]
