"""Regeneration: from a failing report to a constrained ``vidlint.regen/1`` request, sent to a
backend, checked again, until the clip passes or the budget is spent (``vidlint fix``).

>>> import tempfile
>>> from vidlint import load_config
>>> from vidlint.regen import Fixer
>>> fixer = Fixer(load_config(), "synthetic", work_dir=tempfile.mkdtemp())
>>> result = fixer.fix("sample_clips/frozen_stall.mp4", {"prompt": "balls roll across a table"})
>>> result.status, [a["verdict"] for a in result.history["attempts"]]
('passed', ['fail', 'fail', 'fail', 'fail', 'warn'])
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
