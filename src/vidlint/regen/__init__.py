"""Regeneration: from a failing report to a constrained ``vidlint.regen/1`` request, sent to a
backend, checked again, until the clip passes or the budget is spent (``vidlint fix``).

>>> from vidlint.regen import Fixer
>>> fixer = Fixer(config, "synthetic", work_dir="fix-work", out_dir="fixed")  # doctest: +SKIP
>>> fixer.fix("clip.mp4", {"prompt": "..."}).status                          # doctest: +SKIP
'passed'
"""

from vidlint.regen.loop import Fixer, FixResult, best_attempt
from vidlint.regen.request import RegenRequest, build_request, initial_request
from vidlint.regen.settings import LADDER, RegenSettings, regen_settings

__all__ = [
    "LADDER",
    "FixResult",
    "Fixer",
    "RegenRequest",
    "RegenSettings",
    "best_attempt",
    "build_request",
    "initial_request",
    "regen_settings",
]
