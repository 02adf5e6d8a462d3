"""Crash consistency, the way databases test it: run a command once and record every step where
it writes state (vidlint.crashpoints), then, for each step in turn, kill -9 the command there,
run it again, and check that nothing was lost or done twice, no temp file and no process is
left, and the result is the one an uninterrupted run gives."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.comfy_fake import DATA as COMFY_DATA
from tests.comfy_fake import ComfyState, FakeComfy
from tests.crashrun import Command, Run, steps, temp_files, vidlint, wait_no_processes
from tests.loopback import Generator, Server
from tests.test_backends import SECRET, HttpService, HttpState
from vidlint.backends.synthetic import SyntheticBackend
from vidlint.service import SECRET_ENV

httpx = pytest.importorskip("httpx")

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="kill -9 and /proc: Linux")

PROMPT = "a few colourful balls roll across a textured floor"
SMALL = {"width": 160, "height": 120, "frames": 24}
CONFIG = """\
select = ["TMP"]

[regen]
retry_base_s = 0.01
retry_cap_s = 0.05
poll_interval_s = 0.01
max_poll_interval_s = 0.02

[backend.synthetic]
problems = ["stall"]

[backend.http]
url = "{url}/jobs"
timeout_s = 10.0

[backend.comfyui]
url = "{url}"
workflow = "{workflow}"
timeout_s = 10.0
"""
HEAD = {"state.create_job#1", "state.add_attempt+update_attempt#1", "state.update_attempt+event#1"}
TAIL = ("regen.final-copied", "state.finish_job", "fileio.")
"""The steps before the first plan (the job, the original attempt, its check) and after the
last check (the final copy, the job's end, the outputs) are the loop's own and the same whatever
the backend: only the synthetic backend's scenario kills at each of them."""


def backend_steps(points: list[str]) -> list[str]:
    return [p for p in points if p not in HEAD and not p.startswith(TAIL)]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- vidlint fix ---------------------------------------------------------------------------------


def fix_outcome(folder: Path, stem: str) -> dict[str, Any]:
    """What a finished ``vidlint fix`` leaves, in the terms a re-run must reproduce."""
    out = folder / "out"
    history = json.loads((out / f"{stem}.regen.json").read_text())
    report = json.loads((out / f"{stem}.vidlint.json").read_text())
    final = folder / history["final_path"]  # relative to where the command ran
    return {
        "status": history["status"],
        "final_attempt": history["final_attempt"],
        "final_sha256": sha(final),
        "attempts": [
            (
                a["attempt"],
                a["kind"],
                a["status"],
                a["verdict"],
                a["score"],
                a["idempotency_key"],
                a["sha256"],
                [f["code"] for f in a["findings"]],
            )
            for a in history["attempts"]
        ],
        # a resumed submit says so; every other event is told exactly once
        "events": [(e["attempt"], e["kind"]) for e in history["events"] if e["kind"] != "resubmit"],
        "report": (report["verdict"], report["score"], report["extra"]["regen"]["status"]),
        "html": (out / f"{stem}.regen.html").is_file(),
    }


def fix_scenario(
    tmp_path: Path,
    clip: Path,
    backend: str,
    jobs_started: Callable[[Path], int],
    url: str = "",
    reset: Callable[[], None] = lambda: None,
    env: dict[str, str] | None = None,
    every_step: bool = False,
) -> int:
    """Kill ``vidlint fix`` at every step it reaches (with ``every_step``; else at the
    :func:`backend_steps`), then re-run; returns the number of steps killed at.
    ``jobs_started(folder)`` counts the jobs the backend started for the run in ``folder`` (a
    duplicate submission shows there); ``reset()`` gives the backend a fresh memory before each
    run."""
    config = tmp_path / "vidlint.toml"
    config.write_text(CONFIG.format(url=url, workflow=COMFY_DATA / "text_to_video_wan.json"))
    argv = ["fix", str(clip), "--backend", backend, "--config", str(config)]
    argv += ["--out", "out", "--prompt", PROMPT]
    log = tmp_path / "reference.log"
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    reset()
    reference = vidlint(argv, reference_dir, log=log, env=env)
    expected = fix_outcome(reference_dir, clip.stem)
    jobs = jobs_started(reference_dir)
    assert jobs == sum(a[1] == "regen" for a in expected["attempts"])
    points = steps(log) if every_step else backend_steps(steps(log))
    assert len(points) >= 3, points
    for number, point in enumerate(points):
        folder = tmp_path / f"crash-{number}"
        folder.mkdir()
        reset()
        crashed = vidlint(argv, folder, crash_at=point, env=env)
        assert crashed.code == -9, f"{point} was not reached: {crashed.output}"
        again = vidlint(argv, folder, env=env)
        where = f"killed at {point}; re-run said:\n{again.output}"
        assert again.code == reference.code, where
        assert fix_outcome(folder, clip.stem) == expected, where
        assert temp_files(folder) == [], where
        assert jobs_started(folder) == jobs, f"{where}\njobs started: {jobs_started(folder)}"
        shutil.rmtree(folder)
    return len(points)


@pytest.fixture(scope="module")
def stalled(synth_clip) -> Path:
    """A stall the synthetic generator also makes until the negative prompt names it."""
    from vidlint.synth import Artifact

    return synth_clip("crash_stall", artifacts=[Artifact("freeze", 7, 12)], seed=3, **SMALL)


def rendered(folder: Path) -> int:
    """The synthetic backend renders one file per job it starts, named by its key."""
    return sum(1 for _ in folder.rglob("synthetic/*.mp4"))


def test_fix_synthetic_survives_kill_9_at_every_step(stalled, tmp_path) -> None:
    points = fix_scenario(tmp_path, stalled, "synthetic", rendered, every_step=True)
    print(f"vidlint fix --backend synthetic: {points} crash points")


@pytest.fixture(scope="module")
def bad_tail(synth_clip) -> Path:
    """Only the tail is bad: the loop keeps the clean prefix instead of regenerating."""
    from vidlint.synth import Artifact

    tail = {**SMALL, "frames": 48}  # a clean prefix of 1.25 s
    return synth_clip("crash_tail", artifacts=[Artifact("corrupt", 30, 18)], seed=4, **tail)


def test_kill_during_the_salvage_trim_keeps_the_salvage(bad_tail, tmp_path) -> None:
    """A re-run after a kill -9 in the middle of the trim trims again and salvages after 0
    regenerations (it used to fail the trim attempt with a TypeError, then regenerate)."""
    (tmp_path / "vidlint.toml").write_text(CONFIG.format(url="", workflow=""))
    argv = ["fix", str(bad_tail), "--backend", "synthetic", "--config", "vidlint.toml"]
    argv += ["--out", "fixed", "--prompt", PROMPT]
    assert vidlint(argv, tmp_path, crash_at="salvage.trimmed").code == -9
    assert list(tmp_path.glob("fixed/.vidlint-fix/*/attempt-1/.trimmed.mp4.part.mp4"))
    again = vidlint(argv, tmp_path)
    assert again.code == 0, again.output
    assert "salvaged after 0 regeneration(s): attempt 1 pass 100" in again.output
    assert rendered(tmp_path) == 0 and temp_files(tmp_path) == []


def test_fix_salvage_survives_kill_9_at_every_step(bad_tail, tmp_path) -> None:
    points = fix_scenario(tmp_path, bad_tail, "synthetic", rendered)
    print(f"vidlint fix (salvage): {points} crash points")


def test_fix_http_survives_kill_9_at_every_step(stalled, tmp_path) -> None:
    generator = Generator(tmp_path / "generator")
    generator.synthetic = SyntheticBackend({"problems": ["stall"]}, work_dir=tmp_path / "gen")
    server = Server(HttpService, HttpState(generator, sync=False))

    def reset() -> None:  # a fresh service: the same requests must start new jobs
        HttpService.state = HttpState(generator, sync=False)

    try:
        points = fix_scenario(
            tmp_path,
            stalled,
            "http",
            lambda _: len(HttpService.state.created),
            server.url,
            reset,
            {"VIDLINT_HTTP_SECRET": SECRET},
        )
    finally:
        server.close()
    print(f"vidlint fix --backend http: {points} crash points")


def test_fix_comfyui_survives_kill_9_at_every_step(stalled, tmp_path) -> None:
    generator = Generator(tmp_path / "generator", ["stall"])
    server = Server(FakeComfy, ComfyState(generator, tmp_path / "comfy"))

    def reset() -> None:  # a fresh ComfyUI: an empty queue and history
        FakeComfy.state = ComfyState(generator, tmp_path / "comfy")

    try:
        points = fix_scenario(
            tmp_path, stalled, "comfyui", lambda _: len(FakeComfy.state.prompts), server.url, reset
        )
    finally:
        server.close()
    print(f"vidlint fix --backend comfyui: {points} crash points")


# -- vidlint check --jobs 2 ----------------------------------------------------------------------


def check_outcome(folder: Path) -> tuple[int, list[tuple]]:
    summary = json.loads((folder / "out" / "summary.json").read_text())
    rows = [(c["path"], c["verdict"], c["score"], c["codes"], c["error"]) for c in summary["clips"]]
    return summary["exit_code"], rows


def cached_stems(folder: Path) -> set[str]:
    return {p.stem for p in (folder / "out" / ".vidlint-cache").glob("*.json")}


def report_stems(folder: Path) -> set[str]:
    return {p.name.removesuffix(".vidlint.json") for p in (folder / "out").glob("*.vidlint.json")}


def test_check_jobs_2_survives_kill_9_at_every_step(synth_clip, tmp_path) -> None:
    """The command is killed at each step (a step a worker reaches kills the command, not the
    worker), the other worker being wherever it is: the workers finish the clip in hand, store
    it in the cache and exit; the re-run takes every finished clip from the cache and writes
    the same summary."""
    from vidlint.synth import Artifact

    clips = tmp_path / "clips"
    clips.mkdir()
    for name, artifacts in [("frozen", [Artifact("freeze", 7, 12)]), ("clean", [])]:
        source = synth_clip(f"crash_check_{name}", artifacts=artifacts, seed=5, **SMALL)
        shutil.copyfile(source, clips / f"{name}.mp4")
    argv = ["check", str(clips), "--jobs", "2", "--select", "TMP", "--out", "out"]
    log = tmp_path / "reference.log"
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    reference = vidlint(argv, reference_dir, log=log)
    expected = check_outcome(reference_dir)
    assert reference.code == expected[0] == 1 and len(expected[1]) == 2
    # each clip goes through the same steps in its worker: those of one clip, and the batch's
    points = [p for p in steps(log) if ":clean." not in p]
    written = {p.split(":", 1)[1].split("#")[0] for p in points}
    assert written == {"frozen.vidlint.json", "frozen.json", "summary.json"}, points
    for number, point in enumerate(points):
        folder = tmp_path / f"crash-{number}"
        folder.mkdir()
        crashed = vidlint(argv, folder, crash_at=point)
        assert crashed.code == -9, f"{point} was not reached: {crashed.output}"
        wait_no_processes(crashed.token)
        finished = report_stems(folder)
        assert finished <= cached_stems(folder), f"killed at {point}: finished work not cached"
        again = vidlint(argv, folder)
        where = f"killed at {point}; re-run said:\n{again.output}"
        assert again.code == reference.code, where
        assert check_outcome(folder) == expected, where
        summary = json.loads((folder / "out" / "summary.json").read_text())
        assert {Path(c["path"]).stem for c in summary["clips"] if c["cached"]} >= finished, where
        assert temp_files(folder) == [], where
        wait_no_processes(again.token)
        shutil.rmtree(folder)
    print(f"vidlint check --jobs 2: {len(points)} crash points")


# -- vidlint serve: the job store ------------------------------------------------------------------


class Hooks(BaseHTTPRequestHandler):
    """Records webhook deliveries by their webhook-id."""

    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        Hooks.received.append(self.headers["webhook-id"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """``vidlint serve`` in a process of its own, and a client that retries a submission that
    got no answer with the same Idempotency-Key, as the API asks clients to."""

    def __init__(self, folder: Path, crash_at: str | None = None, log: Path | None = None):
        self.port = free_port()
        argv = ["serve", "--port", str(self.port), "--config", str(folder / "serve.toml")]
        self.command = Command(argv, folder, crash_at, log, {SECRET_ENV: HOOK_SECRET})
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while not self._up():
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.05)

    def _up(self) -> bool:
        if self.command.process.exitcode is not None:
            return True  # it died starting: the caller sees the exit code
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def alive(self) -> bool:
        return self.command.process.exitcode is None

    def submit(self, clip: Path, hook: str) -> str | None:
        """The job id, or None when the service died before it answered."""
        try:
            answer = httpx.post(
                f"{self.url}/v1/jobs",
                files={"file": ("clip.mp4", clip.read_bytes())},
                data={"webhook_url": hook, "prompt": PROMPT},
                headers={"Idempotency-Key": "job-a"},
                timeout=30,
            )
        except httpx.HTTPError:
            return None
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    def finished(self, job_id: str, timeout: float = 60) -> dict[str, Any] | None:
        """The job once it ended and its webhook is delivered, or None if the service died."""
        deadline = time.monotonic() + timeout
        while self.alive and time.monotonic() < deadline:
            try:
                job = httpx.get(f"{self.url}/v1/jobs/{job_id}", timeout=5).json()
                if job["status"] in ("done", "failed") and job["webhook"]["status"] not in (
                    "pending",
                    "sending",
                ):
                    report = httpx.get(f"{self.url}/v1/jobs/{job_id}/report", timeout=5).json()
                    return job | {"findings": [f["code"] for f in report["findings"]]}
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        assert not self.alive, f"job {job_id} did not end"
        return None

    def stop(self) -> Run:
        if self.alive:
            self.command.process.terminate()  # uvicorn's graceful shutdown
        return self.command.wait(60)


def serve_outcome(job: dict[str, Any]) -> tuple:
    return (
        job["status"],
        job["verdict"],
        job["score"],
        job["codes"],
        job["findings"],
        job["webhook"]["status"],
    )


HOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_serve_job_store_survives_kill_9_at_every_step(stalled, tmp_path) -> None:
    """kill -9 the service at each step its job store, its uploads and its webhooks go
    through, start it again, and let the client retry what got no answer: one job, the same
    result, the webhook delivered, no upload left behind and no worker process alive."""
    uploads = tmp_path / "uploads"
    (tmp_path / "serve.toml").write_text(
        f'select = ["TMP"]\n\n[serve]\nupload_dir = "{uploads}"\nconcurrency = 1\n'
        "allow_private_webhooks = true\nwebhook_backoff_s = 0.05\n"
    )
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

    def run(folder: Path, crash_at: str | None = None, log: Path | None = None):
        uploads.mkdir(exist_ok=True)
        Hooks.received.clear()
        service = Service(folder, crash_at, log)
        job_id = service.submit(stalled, hook) if service.alive else None
        job = service.finished(job_id) if job_id else None
        tokens = [service.command.token]
        if crash_at:
            assert service.stop().code == -9, f"{crash_at} was not reached"
            wait_no_processes(tokens[-1])
            service = Service(folder)  # started again: the client retries with its key
            retried = service.submit(stalled, hook)
            assert job_id in (None, retried), "a retry with the same key made a second job"
            job = service.finished(retried)
        stopped = service.stop()  # uvicorn ends by raising the signal again, after shutdown
        assert stopped.code == -15 and "shutdown complete" in stopped.output, stopped.output
        wait_no_processes(service.command.token)
        left = [p.name for p in uploads.iterdir() if not p.name.startswith("jobs.")]
        shutil.rmtree(uploads)
        return job, left

    try:
        log = tmp_path / "reference.log"
        job, left = run(tmp_path, log=log)
        expected = serve_outcome(job)
        assert expected[0] == "done" and expected[-1] == "delivered" and left == []
        assert Hooks.received == [f"msg_{job['id']}"]
        points = steps(log)
        assert len(points) >= 5, points
        for point in points:
            job, left = run(tmp_path, crash_at=point)
            where = f"killed at {point}"
            assert serve_outcome(job) == expected, where
            assert set(Hooks.received) <= {f"msg_{job['id']}"}, where
            assert left == [], f"{where}: uploads left {left}"
    finally:
        receiver.shutdown()
    print(f"vidlint serve: {len(points)} crash points")
