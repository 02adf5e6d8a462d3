"""Engines run a batch's clips through the one per-clip function
(:func:`vidlint.batch.check_clip`): ``serial`` in this process, ``pool`` with one
single-threaded worker process per core, ``ray`` as Ray tasks on a local or remote cluster.

:func:`run_clips` adds what every engine shares: the resumable cache (finished clips are skipped
on a re-run unless ``force``), largest clips first, results reported as they finish, and the
outcomes returned in input order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidlint.batch import ClipOutcome
from vidlint.config import Config
from vidlint.engine.cache import CACHE_DIR, ResultCache, cache_key
from vidlint.engine.pool import PoolEngine, SerialEngine
from vidlint.engine.work import BatchJob, ClipTask, clip_size, run_task
from vidlint.errors import ConfigError
from vidlint.fileio import remove_stale_temps
from vidlint.report.baseline import Baseline
from vidlint.report.model import Report

ENGINES = ("serial", "pool", "ray")
BATCH_KEYS = {"engine": str, "jobs": int, "address": str}
"""Keys of the ``[tool.vidlint.batch]`` table."""


def make_engine(name: str, jobs: int | None = None, address: str | None = None) -> Any:
    if name == "serial":
        return SerialEngine()
    if name == "pool":
        return PoolEngine(jobs)
    if name == "ray":
        from vidlint.engine.ray_engine import RayEngine

        return RayEngine(jobs, address)
    raise ConfigError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")


def batch_settings(config: Config) -> dict[str, Any]:
    """The validated ``[tool.vidlint.batch]`` table (engine, jobs, Ray address)."""
    table = config.section("batch")
    origin = ", ".join(config.sources) or "options"
    for key, value in table.items():
        if key not in BATCH_KEYS:
            raise ConfigError(f"unknown key 'batch.{key}' (known: {', '.join(BATCH_KEYS)})", origin)
        kind = BATCH_KEYS[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"'batch.{key}' = {value!r}: expected {kind.__name__}", origin)
    if "engine" in table and table["engine"] not in ENGINES:
        raise ConfigError(
            f"'batch.engine' = {table['engine']!r}: choose from {', '.join(ENGINES)}", origin
        )
    if table.get("jobs", 1) < 0:
        raise ConfigError("'batch.jobs' must be 0 (one per core) or more", origin)
    return table


def run_clips(
    clips: list[tuple[Path, str]],
    config: Config,
    out_dir: Path | None,
    context: dict[str, Any] | None = None,
    kept: dict[str, Report] | None = None,
    engine: str | Any = "serial",
    jobs: int | None = None,
    force: bool = False,
    on_result: Callable[[ClipOutcome], None] | None = None,
    baseline: Baseline | None = None,
) -> list[ClipOutcome]:
    """Check ``clips`` (path, report stem) and return their outcomes in input order.

    With an ``out_dir`` a clip whose cache entry matches is not checked again (its outcome is
    marked ``cached``) unless ``force``. ``kept`` receives the reports by clip path (for a cached
    clip, read back from its JSON report when there is one).
    """
    runner = make_engine(engine, jobs) if isinstance(engine, str) else engine
    job = BatchJob(config, out_dir, tuple(config.formats), context, kept is not None, baseline)
    cache = ResultCache(out_dir) if out_dir is not None else None
    outcomes: dict[int, ClipOutcome] = {}
    todo: list[ClipTask] = []
    if out_dir is not None:
        remove_stale_temps(out_dir)  # left by a killed run
        remove_stale_temps(Path(out_dir) / CACHE_DIR)
    for order, (path, stem) in enumerate(clips):
        key = (
            cache_key(Path(path), config, context, job.formats, baseline)
            if cache is not None
            else None
        )
        task = ClipTask(Path(path), stem, order, clip_size(Path(path)), key)
        if cache is not None:
            hit = None if force else cache.lookup(stem, key)
            if hit is not None:
                hit.cached = True
                outcomes[order] = hit
                if kept is not None:
                    _read_back(hit, kept)
                if on_result:
                    on_result(hit)
                continue
        todo.append(task)
    todo.sort(key=lambda t: (-t.size, t.order))  # largest first: no long clip left for last
    results = runner.run(todo, job)
    try:
        for task, outcome, report in results:  # the cache entry is stored by run_task
            if kept is not None and report is not None:
                kept[str(task.path)] = report
            outcomes[task.order] = outcome
            if on_result:
                on_result(outcome)
    finally:
        results.close()  # on Ctrl-C here: the engine stops its workers now, not at gc
    return [outcomes[order] for order in sorted(outcomes)]


def _read_back(outcome: ClipOutcome, kept: dict[str, Report]) -> None:
    import json

    path = outcome.reports.get("json")
    if path:
        try:
            kept[outcome.path] = Report.from_dict(json.loads(Path(path).read_text("utf-8")))
        except (OSError, ValueError, KeyError):
            pass


__all__ = [
    "BATCH_KEYS",
    "ENGINES",
    "BatchJob",
    "ClipTask",
    "batch_settings",
    "make_engine",
    "run_clips",
    "run_task",
]
