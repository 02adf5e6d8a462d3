"""Engines run a batch's clips through the one per-clip function
(:func:`vidlint.engine.work.check_clip`): ``serial`` in this process, ``pool`` with one
single-threaded worker process per core, ``ray`` as Ray tasks on a local or remote cluster.

:func:`run_clips` adds what every engine shares: the resumable cache (finished clips are skipped
on a re-run unless ``force``), largest clips first, results reported as they finish, and the
outcomes returned in input order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidlint.config import Config
from vidlint.engine.cache import ResultCache, cache_key
from vidlint.engine.work import BatchJob, ClipOutcome, ClipTask, clip_size, run_task
from vidlint.errors import ConfigError
from vidlint.registry import Registry
from vidlint.report.baseline import Baseline
from vidlint.report.model import Report
from vidlint.settings import param, read_settings

ENGINES = Registry(
    "engine",
    {
        "serial": "vidlint.engine.pool:SerialEngine",
        "pool": "vidlint.engine.pool:PoolEngine",
        "ray": "vidlint.engine.ray_engine:RayEngine",
    },
)
"""Engine classes by name; each is built as ``Engine(jobs, address)`` and ignores what it does
not use. Plugins add theirs under the entry point group ``vidlint.engines``."""


@dataclass(frozen=True)
class BatchSettings:
    """``[batch]``: how a batch's clips run, for ``vidlint check`` and :func:`run_batch` alike."""

    engine: str = param(
        "pool",
        "one single-threaded worker process per core: clips are independent, and a process "
        "each scales with cores where threads share one interpreter",
    )
    jobs: int = param(0, "worker processes; 0: one per core", bounds=(0, 4096))
    address: str = param("", "the Ray cluster (default: RAY_ADDRESS, else a local one)")

    def make_engine(self, engine: str | None = None, jobs: int | None = None) -> Any:
        """The engine these settings name, with a run's own choices (CLI options) on top."""
        return make_engine(
            engine or self.engine, jobs if jobs is not None else self.jobs or None, self.address
        )


def make_engine(name: str, jobs: int | None = None, address: str | None = None) -> Any:
    """The engine ``name`` with ``jobs`` workers (None: one per core) and a Ray ``address``."""
    return ENGINES.get(name)(jobs, address or None)


def batch_settings(config: Config) -> BatchSettings:
    """The validated ``[batch]`` table of ``config``."""
    origin = ", ".join(config.sources) or "options"
    settings = read_settings(BatchSettings, config.section("batch"), "batch", origin)
    if settings.engine not in ENGINES:
        raise ConfigError(
            f"'batch.engine' = {settings.engine!r}: choose from {', '.join(ENGINES.names())}",
            origin,
        )
    return settings


def run_clips(
    clips: list[tuple[Path, str]],
    config: Config,
    out_dir: Path | None,
    context: dict[str, Any] | None = None,
    kept: dict[str, Report] | None = None,
    engine: str | Any | None = None,
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
    if engine is None or isinstance(engine, str):
        runner = batch_settings(config).make_engine(engine, jobs)
    else:
        runner = engine
    job = BatchJob(config, out_dir, tuple(config.formats), context, kept is not None, baseline)
    cache = ResultCache(out_dir) if out_dir is not None else None
    outcomes: dict[int, ClipOutcome] = {}
    keys: dict[int, str | None] = {}
    todo: list[ClipTask] = []
    for order, (path, stem) in enumerate(clips):
        task = ClipTask(Path(path), stem, order, clip_size(Path(path)))
        if cache is not None:
            keys[order] = cache_key(task.path, config, context, job.formats, baseline)
            hit = None if force else cache.lookup(stem, keys[order])
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
        for task, outcome, report in results:
            if cache is not None:
                cache.store(task.stem, keys.get(task.order), outcome)
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
        with contextlib.suppress(OSError, ValueError, KeyError):
            kept[outcome.path] = Report.from_dict(json.loads(Path(path).read_text("utf-8")))


__all__ = [
    "ENGINES",
    "BatchJob",
    "BatchSettings",
    "ClipTask",
    "batch_settings",
    "make_engine",
    "run_clips",
    "run_task",
]
