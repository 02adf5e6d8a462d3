"""Engines on real decoded clips: the process pool gives the same reports as one process, a
batch interrupted by Ctrl-C keeps its finished reports and a re-run redoes none of them, the
cache key follows the clip bytes and the config, and the batch table is validated."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from vidlint.batch import run_batch
from vidlint.config import build_config, load_config
from vidlint.engine import BatchSettings, batch_settings, make_engine
from vidlint.engine.pool import PoolEngine
from vidlint.engine.work import SINGLE_THREAD_ENV, run_task, single_thread_env
from vidlint.errors import ConfigError
from vidlint.synth import Artifact

SPEC = {"width": 320, "height": 240, "frames": 32}


@pytest.fixture(scope="session")
def clips(synth_clip) -> list[Path]:
    """Four small clips, one of them bigger (so 'largest first' has something to order)."""
    return [
        synth_clip("eng-freeze", ".mp4", [Artifact("freeze", 8, 12)], **SPEC),
        synth_clip("eng-cut", ".mp4", [Artifact("cut", 16)], **SPEC),
        synth_clip("eng-clean", ".mp4", [], **SPEC),
        synth_clip("eng-big", ".mp4", [Artifact("black", 10, 2)], width=480, height=272, frames=40),
    ]


@pytest.fixture(scope="session")
def config():
    return build_config({"select": ["TMP"]})


def _reports(out_dir: Path) -> dict[str, dict]:
    """Every clip report in ``out_dir``, without the timings (the only part that may differ)."""
    reports = {}
    for path in sorted(out_dir.glob("*.vidlint.json")):
        data = json.loads(path.read_text())
        data.pop("timings")
        reports[path.name] = data
    return reports


def test_pool_gives_the_same_reports_as_one_process(clips, config, tmp_path):
    serial = run_batch(clips, config, tmp_path / "serial", engine="serial")
    pooled = run_batch(clips, config, tmp_path / "pool", engine="pool", jobs=2)
    assert [o.path for o in pooled.outcomes] == [str(c) for c in clips]  # input order kept
    assert _reports(tmp_path / "serial") == _reports(tmp_path / "pool")
    codes = {Path(o.path).stem: o.codes for o in pooled.outcomes}
    assert codes == {
        "eng-freeze": ["TMP001"],
        "eng-cut": ["TMP003"],
        "eng-clean": [],
        "eng-big": ["TMP004"],
    }
    assert serial.exit_code == pooled.exit_code == 1
    summary = json.loads((tmp_path / "pool" / "summary.json").read_text())
    assert summary["totals"] == {"clips": 4, "pass": 1, "warn": 0, "fail": 3, "error": 0}


def test_pool_matches_one_process_on_evaluation_clips(shared_clips, tmp_path):
    """Real footage and a generated GIF, default rules: the pool changes nothing in a report."""
    inputs = [
        shared_clips / "real_mmaction2_eye_makeup.avi",
        shared_clips / "gen_t2v_videocrafter2_tom_cruise_face.gif",
    ]
    config = build_config({"select": ["TMP", "QLT"]})
    serial = run_batch(inputs, config, tmp_path / "serial", engine="serial")
    pooled = run_batch(inputs, config, tmp_path / "pool", engine="pool", jobs=2)
    assert all(o.verdict for o in pooled.outcomes), [o.error for o in pooled.outcomes]
    assert _reports(tmp_path / "serial") == _reports(tmp_path / "pool")
    assert [o.codes for o in serial.outcomes] == [o.codes for o in pooled.outcomes]


def test_largest_clip_starts_first(clips, config, tmp_path):
    seen: list[str] = []
    run_batch(clips, config, tmp_path, engine="serial", on_result=lambda o: seen.append(o.path))
    assert seen[0] == str(clips[3])


def test_interrupted_batch_keeps_finished_reports_and_resume_redoes_none(clips, config, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    partial = out / ".eng-cut.vidlint.json.x1y2.tmp"  # as left by a worker stopped mid-write
    partial.write_text("{")

    def interrupt(outcome):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(clips, config, out, engine="pool", jobs=2, on_result=interrupt)
    assert multiprocessing.active_children() == []  # the workers were stopped
    finished = sorted(p.stem for p in (out / ".vidlint-cache").glob("*.json"))
    assert 1 <= len(finished) < len(clips)
    written = {stem: (out / f"{stem}.vidlint.json").stat().st_mtime_ns for stem in finished}
    assert not list(out.glob(".*.tmp"))  # no half-written report left behind
    assert not partial.exists()

    seen = []
    result = run_batch(clips, config, out, engine="pool", jobs=2, on_result=seen.append)
    assert sorted(Path(o.path).stem for o in seen if o.cached) == finished
    assert len([o for o in seen if not o.cached]) == len(clips) - len(finished)
    for stem, mtime in written.items():
        assert (out / f"{stem}.vidlint.json").stat().st_mtime_ns == mtime
    assert all(o.verdict for o in result.outcomes) and len(_reports(out)) == len(clips)

    again = run_batch(clips, config, out, engine="pool", jobs=2)
    assert all(o.cached for o in again.outcomes)
    assert again.exit_code == result.exit_code == 1
    forced = run_batch(clips, config, out, engine="serial", force=True)
    assert not any(o.cached for o in forced.outcomes)


def test_cache_follows_clip_bytes_config_and_reports(clips, config, tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    clip = folder / "a.mp4"
    clip.write_bytes(clips[0].read_bytes())
    out = tmp_path / "out"
    run_batch([clip], config, out, keep_reports=True)
    cached = run_batch([clip], config, out, keep_reports=True)
    assert cached.outcomes[0].cached
    assert [f.code for f in cached.reports[str(clip)].findings] == ["TMP001"]  # read back

    stricter = config.with_options(rules={"TMP001": {"min_frames": 20}})
    assert not run_batch([clip], stricter, out).outcomes[0].cached
    assert not run_batch([clip], config, out, context={"prompt": "new"}).outcomes[0].cached

    clip.write_bytes(clips[1].read_bytes())  # same name, other bytes
    changed = run_batch([clip], config, out)
    assert not changed.outcomes[0].cached and changed.outcomes[0].codes == ["TMP003"]

    (out / "a.vidlint.json").unlink()  # a report deleted by hand is written again
    assert not run_batch([clip], config, out).outcomes[0].cached


def test_bad_clip_is_an_error_row_in_the_pool_and_never_cached(clips, config, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    result = run_batch([broken, clips[2]], config, tmp_path / "out", engine="pool", jobs=2)
    error, clean = result.outcomes
    assert error.error and error.error.startswith(str(broken)) and clean.verdict == "pass"
    assert result.exit_code == 2
    again = run_batch([broken, clips[2]], config, tmp_path / "out", engine="pool", jobs=2)
    assert [o.cached for o in again.outcomes] == [False, True]


def test_workers_get_single_thread_caps_and_parent_env_is_restored(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    with single_thread_env():
        assert all(os.environ[k] == "1" for k in SINGLE_THREAD_ENV)
    assert os.environ["OMP_NUM_THREADS"] == "7" and "MKL_NUM_THREADS" not in os.environ
    assert PoolEngine().jobs == os.cpu_count() and PoolEngine(3).jobs == 3


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal: Linux")
def test_a_worker_whose_parent_died_before_it_started_watching_exits_at_once():
    """A worker still starting up when its command is killed has another parent already, and
    the parent-death signal would never come: told its parent's pid, it sees the change and
    exits. Told the pid of the parent it has, it keeps working."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that is nobody's parent now
    script = (
        "import os, sys, time\n"
        "from vidlint.engine.watchdog import watch_parent\n"
        "watch_parent(int(sys.argv[1]) or os.getppid())\n"
        "time.sleep(1.0)\n"
        "print('worked')\n"
    )
    for parent, output in [(gone.pid, ""), (0, "worked\n")]:
        done = subprocess.run(
            [sys.executable, "-c", script, str(parent)], capture_output=True, text=True, timeout=60
        )
        assert (done.returncode, done.stdout) == (0, output), done.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal: Linux")
def test_a_burst_of_parent_death_signals_does_not_hang_the_worker():
    """The parent-death signal comes once when the thread that started a worker ends and
    again when the parent dies; one arriving while the handler of the one before still runs
    must not deadlock the worker (it did when the handler set a threading.Event)."""
    script = (
        "import os, signal, sys, time\n"
        "from vidlint.engine.watchdog import watch_parent\n"
        "watch_parent(os.getppid())\n"
        "print('ready', flush=True)\n"
        "deadline = time.monotonic() + 3\n"
        "while time.monotonic() < deadline:\n"
        "    sum(range(1000))\n"
        "print('worked', flush=True)\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
        for _ in range(3000):
            os.kill(worker.pid, signal.SIGUSR1)
        output, _ = worker.communicate(timeout=30)
    finally:
        worker.kill()
    assert (worker.returncode, output) == (0, "worked\n")


def test_batch_table_is_validated(tmp_path):
    good = tmp_path / "vidlint.toml"
    good.write_text('[batch]\nengine = "pool"\njobs = 2\n')
    assert batch_settings(load_config(good)) == BatchSettings(engine="pool", jobs=2)
    for body, key in [
        ("[batch]\nworkers = 2\n", "batch.workers"),
        ('[batch]\njobs = "two"\n', "batch.jobs"),
        ('[batch]\nengine = "dask"\n', "batch.engine"),
    ]:
        bad = tmp_path / "bad.toml"
        bad.write_text(body)
        with pytest.raises(ConfigError, match=key) as info:
            batch_settings(load_config(bad))
        assert str(bad) in str(info.value)
    with pytest.raises(ConfigError, match="unknown engine"):
        make_engine("threads")


def test_cli_jobs_cache_force_and_engine_options(clips, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "vidlint",
                "check",
                *map(str, clips[:3]),
                "--out",
                str(tmp_path),
                "--select",
                "TMP",
                "-q",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )

    first = run("--jobs", "2")
    assert first.returncode == 1, first.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [row["cached"] for row in summary["clips"]] == [False] * 3
    again = run("--jobs", "2")
    lines = again.stdout.splitlines()
    assert all(line.endswith(" s, cached)") for line in lines[:-1])  # each clip, then totals
    assert again.returncode == 1 and sorted(
        line.replace(", cached", "") for line in lines
    ) == sorted(first.stdout.splitlines())
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [row["cached"] for row in summary["clips"]] == [True] * 3
    run("--force", "--engine", "serial")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [row["cached"] for row in summary["clips"]] == [False] * 3
    bad = run("--engine", "dask")
    assert bad.returncode == 2 and "unknown engine 'dask'" in bad.stderr


def die_on_poison(task, job):
    """A per-clip function whose worker process dies on clips named poison*, as one killed for
    memory would (runs in the spawned workers, so it lives at module level)."""
    if task.path.name.startswith("poison"):
        os._exit(1)
    return run_task(task, job)


def test_a_worker_that_dies_costs_only_its_own_clip(clips, config, tmp_path):
    poison = tmp_path / "poison.mp4"
    poison.write_bytes(clips[3].read_bytes())  # the biggest: it starts first, with a neighbour
    inputs = [clips[0], poison, clips[1], clips[2]]
    result = run_batch(
        inputs, config, tmp_path / "out", engine=PoolEngine(2, function=die_on_poison)
    )
    errors = [o for o in result.outcomes if o.error]
    assert [Path(o.path).name for o in errors] == ["poison.mp4"]
    assert (
        errors[0].error == f"{poison}: a worker process died on this clip twice (killed for "
        "memory, or a crash in native code)"
    )
    assert [o.codes for o in result.outcomes if not o.error] == [["TMP001"], ["TMP003"], []]
    assert result.exit_code == 2 and multiprocessing.active_children() == []
