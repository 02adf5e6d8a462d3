"""The resumable cache: a re-run skips clips whose reports are already written for the same
clip bytes, configuration and vidlint version.

One small JSON entry per clip in ``<out>/.vidlint-cache/<stem>.json``, written atomically right
after the clip's reports, so an interrupted batch keeps every finished clip. The key hashes the
clip's sha256, the digest of the configuration that applies to that clip (per-glob overrides
included), the vidlint version, the context (prompt, seed...; the reference image by its sha256),
the report formats and the baseline's waivers for the clip. Clips that ended in an error are
not cached: a re-run tries them again.

The clip's sha256 comes from :func:`vidlint.decode.clip.clip_sha256`, which remembers what this
process has read: in the same process, the check and the report writers then reuse the hash
taken here instead of reading the clip again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from vidlint._version import __version__
from vidlint.clip_context import complete_context
from vidlint.config import Config
from vidlint.decode.clip import clip_sha256, sha256_file
from vidlint.engine.work import ClipOutcome
from vidlint.errors import VidlintError
from vidlint.fileio import write_json_atomic
from vidlint.report.baseline import Baseline

log = logging.getLogger(__name__)

CACHE_SCHEMA = "vidlint.cache/1"
CACHE_DIR = ".vidlint-cache"


def cache_key(
    path: Path,
    config: Config,
    context: dict[str, Any] | None,
    formats: tuple[str, ...],
    baseline: Baseline | None = None,
) -> str | None:
    """The key of one clip's result, or None when the clip cannot be read (it is then checked,
    and its error reported, as usual)."""
    try:
        clip = clip_sha256(path)
        full_context = complete_context(path, dict(context or {}))
        reference = full_context.get("reference")
        if reference and Path(reference).is_file():
            full_context["reference"] = sha256_file(Path(reference))
    except (OSError, VidlintError):  # the check reports it as the clip's error
        return None
    material = {
        "clip": clip,
        "config": config.for_clip(path).digest(),
        "version": __version__,
        "context": full_context,
        "formats": sorted(formats),
    }
    if baseline is not None:  # the waivers that may apply to this clip
        material["waivers"] = [w.to_dict() for w in baseline.for_clip(path.name, clip)]
    text = json.dumps(material, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class ResultCache:
    """Cache entries of one output folder."""

    def __init__(self, out_dir: Path) -> None:
        self.folder = Path(out_dir) / CACHE_DIR

    def lookup(self, stem: str, key: str | None) -> ClipOutcome | None:
        """The cached outcome if the entry matches ``key`` and its reports still exist."""
        if key is None:
            return None
        entry_path = self.folder / f"{stem}.json"
        try:
            entry = json.loads(entry_path.read_text(encoding="utf-8"))
            if entry.get("schema") != CACHE_SCHEMA or entry.get("key") != key:
                return None
            outcome = ClipOutcome(**entry["outcome"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("%s: ignoring unreadable cache entry (%s)", entry_path, exc)
            return None
        if not all(Path(p).exists() for p in outcome.reports.values()):
            return None  # a report was deleted (the frame export is a folder, the rest files)
        return outcome

    def earlier(self, skip: set[str]) -> list[ClipOutcome]:
        """The outcomes of clips an earlier run wrote into the folder, whose reports are still
        there, by clip path (``skip``: report stems of this run, listed from this run)."""
        found = []
        for entry_path in sorted(self.folder.glob("*.json")):
            if entry_path.stem in skip:
                continue
            try:
                entry = json.loads(entry_path.read_text(encoding="utf-8"))
                if entry.get("schema") != CACHE_SCHEMA:
                    continue
                outcome = ClipOutcome(**entry["outcome"])
            except (OSError, ValueError, TypeError, KeyError):
                continue
            if outcome.reports and all(Path(p).exists() for p in outcome.reports.values()):
                outcome.cached = True
                found.append(outcome)
        return sorted(found, key=lambda o: o.path)

    def store(self, stem: str, key: str | None, outcome: ClipOutcome) -> None:
        if key is None or outcome.error or outcome.verdict is None:
            return
        write_json_atomic(
            self.folder / f"{stem}.json",
            {"schema": CACHE_SCHEMA, "key": key, "outcome": outcome.to_dict()},
        )
