"""Backends against real servers on loopback (a fake HTTP generation service speaking real HTTP
in a thread), the command backend against a real script, and the loop surviving kill -9 without
submitting twice. The ComfyUI backend is tested in test_comfyui.py."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from standardwebhooks.webhooks import Webhook

from vidlint.backends import DONE, JobStatus, TransientBackendError, make_backend
from vidlint.backends.command import CommandBackend
from vidlint.backends.http import HttpBackend
from vidlint.config import build_config
from vidlint.errors import BackendError, ConfigError
from vidlint.regen import RegenRequest

from .loopback import FAST, PROMPT, Generator, Handler, Server, failing_clip, regens, run_loop

SECRET = "whsec_" + base64.b64encode(b"vidlint-test-secret-0123456789ab").decode()


# -- fake HTTP generation service ----------------------------------------------------------------


@dataclasses.dataclass
class HttpState:
    generator: Generator
    sync: bool = True
    polls_before_done: int = 0
    fail_posts: list = dataclasses.field(default_factory=list)  # (status, retry-after)
    slow_s: float = 0.0
    malformed: bool = False
    output: str | None = None  # override the output URL
    file_kind: str = "video/mp4"
    file_bytes: bytes | None = None
    hold: threading.Event | None = None  # jobs stay running until set
    hold_post: threading.Event | None = None  # POST creates the job, then waits for this
    posts: list = dataclasses.field(default_factory=list)
    verified: list = dataclasses.field(default_factory=list)
    jobs: dict = dataclasses.field(default_factory=dict)  # idempotency key -> job
    created: list = dataclasses.field(default_factory=list)
    polls: int = 0
    fetched: list = dataclasses.field(default_factory=list)


class HttpService(Handler):
    state: HttpState

    def do_POST(self) -> None:
        s = self.state
        raw = self.body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        s.posts.append({"headers": headers, "body": json.loads(raw)})
        try:
            Webhook(SECRET).verify(raw, headers)
            s.verified.append(True)
        except Exception:
            s.verified.append(False)
            return self.reply(401, {"error": "bad signature"})
        if s.fail_posts:
            code, retry_after = s.fail_posts.pop(0)
            return self.reply(
                code,
                {"error": "try later"},
                headers={"retry-after": retry_after} if retry_after else None,
            )
        if s.malformed:
            return self.reply(200, raw=b"<html>gateway</html>", kind="text/html")
        key = headers["idempotency-key"]
        if key not in s.jobs:
            job_id = f"job{len(s.jobs) + 1}"
            request = json.loads(raw)
            path = s.generator.render(request)
            s.jobs[key] = {"id": job_id, "file": path, "request": request}
            s.created.append(key)
        job = s.jobs[key]
        if s.hold_post is not None:
            s.hold_post.wait(30)
        if s.slow_s:
            time.sleep(s.slow_s)
        if s.sync:
            return self.reply(
                200,
                {
                    "id": job["id"],
                    "status": "succeeded",
                    "output": s.output or f"/files/{job['id']}.mp4",
                },
            )
        return self.reply(201, {"id": job["id"], "status": "queued"})

    def do_GET(self) -> None:
        s = self.state
        path = urlsplit(self.path).path
        if path.startswith("/jobs/"):
            s.polls += 1
            job_id = path.split("/")[2]
            if s.hold is not None and not s.hold.is_set():
                return self.reply(200, {"id": job_id, "status": "processing"})
            if s.polls <= s.polls_before_done:
                return self.reply(200, {"id": job_id, "status": "processing"})
            return self.reply(
                200,
                {"id": job_id, "status": "succeeded", "output": s.output or f"/files/{job_id}.mp4"},
            )
        if path.startswith("/files/"):
            name = path.split("/")[-1]
            s.fetched.append(name)
            job = next((j for j in s.jobs.values() if f"{j['id']}.mp4" == name), None)
            data = (
                s.file_bytes
                if s.file_bytes is not None
                else (job["file"].read_bytes() if job else None)
            )
            if data is None:
                return self.reply(404, {"error": "no such file"})
            return self.reply(200, raw=data, kind=s.file_kind)
        self.reply(404, {"error": "not found"})


@pytest.fixture(scope="module")
def generator(tmp_path_factory) -> Generator:
    return Generator(tmp_path_factory.mktemp("generator"))


@pytest.fixture
def service(generator):
    state = HttpState(generator)
    server = Server(HttpService, state)
    yield server, state
    server.close()


@pytest.fixture(scope="module")
def bad_clip(synth_clip) -> Path:
    return failing_clip(synth_clip)


@pytest.fixture(autouse=True)
def webhook_secret(monkeypatch):
    monkeypatch.setenv("VIDLINT_HTTP_SECRET", SECRET)


def http_config(url: str, tmp_path: Path, **extra: Any):
    return build_config(
        {"select": ["TMP"], "backend": {"http": {"url": f"{url}/jobs", "timeout_s": 5.0, **extra}}},
        sources=(str(tmp_path / "vidlint.toml"),),
    )


# -- http ---------------------------------------------------------------------------------------


def test_http_loop_converges_with_signed_requests(service, bad_clip, tmp_path) -> None:
    server, state = service
    result = run_loop(http_config(server.url, tmp_path), tmp_path, bad_clip)
    assert result.status == "passed"
    attempts = regens(result)
    assert len(state.posts) == len(attempts) == len(state.created) == 4
    assert all(state.verified), "every request verifies with the standardwebhooks verifier"
    for post, attempt in zip(state.posts, attempts, strict=True):
        request = attempt["request"]
        headers, body = post["headers"], post["body"]
        assert headers["webhook-id"] == headers["idempotency-key"] == request["idempotency_key"]
        assert body["prompt"] == request["prompt"] and body["seed"] == request["seed"]
        assert body["negative_prompt"] == request["negative_prompt"]
        assert body["schema"] == "vidlint.regen/1"
        assert attempt["backend_job_id"] == state.jobs[request["idempotency_key"]]["id"]
    # the image-to-video attempt carries its reference frame inline
    last = state.posts[-1]["body"]
    assert last["mode"] == "i2v"
    sent = base64.b64decode(last["reference_image"]["data"])
    assert sent == Path(attempts[-1]["request"]["reference"]).read_bytes()
    assert last["reference_image"]["media_type"] == "image/png"
    assert state.fetched == [f"job{i}.mp4" for i in range(1, 5)]
    secret = SECRET.removeprefix("whsec_")
    for stored in [*(tmp_path / "work").glob("state.sqlite*"), Path(result.history_path)]:
        assert secret.encode() not in stored.read_bytes(), "secrets never reach state or history"
    assert Path(attempts[-1]["output"]).name == "output.mp4"


def test_http_async_job_is_polled(service, bad_clip, tmp_path) -> None:
    server, state = service
    state.sync, state.polls_before_done = False, 3
    result = run_loop(http_config(server.url, tmp_path), tmp_path, bad_clip)
    assert result.status == "passed" and state.polls >= 4 + 3
    assert len(state.created) == 4


def test_http_500_and_429_are_retried_honouring_retry_after(service, bad_clip, tmp_path) -> None:
    server, state = service
    state.fail_posts = [(500, None), (429, "0.25"), (503, None)]
    sleeps: list[float] = []
    settings = dataclasses.replace(FAST, submit_tries=4, max_attempts=1)
    result = run_loop(
        http_config(server.url, tmp_path), tmp_path, bad_clip, settings=settings, sleeps=sleeps
    )
    attempt = regens(result)[0]
    assert attempt["status"] == "checked" and len(state.created) == 1
    retries = [e for e in result.history["events"] if e["kind"] == "retry"]
    assert len(retries) == 3 and "HTTP 500" in retries[0]["detail"]
    assert 0.25 in sleeps, "Retry-After is honoured"
    assert all(0 <= s <= FAST.retry_cap_s for s in sleeps if s != 0.25), "jittered backoff"
    keys = {p["headers"]["idempotency-key"] for p in state.posts}
    assert len(state.posts) == 4 and len(keys) == 1, "retries resend the same key"


def test_a_failed_attempt_does_not_escalate(service, bad_clip, tmp_path) -> None:
    server, state = service
    state.fail_posts = [(422, None)]  # final: the service refuses the first request
    settings = dataclasses.replace(FAST, max_attempts=2)
    result = run_loop(http_config(server.url, tmp_path), tmp_path, bad_clip, settings=settings)
    first, second = regens(result)
    assert first["status"] == "failed" and "HTTP 422" in first["error"]
    assert second["status"] == "checked" and len(state.posts) == 2
    for attempt in (first, second):
        assert sorted({c["rung"] for c in attempt["changes"]}) == ["reseed"]
        negative = next(c for c in attempt["changes"] if c["field"] == "negative_prompt")
        assert negative["old"] == "", "both start from the original request"
    assert first["request"]["seed"] != second["request"]["seed"]


def test_http_retry_after_too_long_fails_the_call(service, tmp_path) -> None:
    server, state = service
    state.fail_posts = [(429, "3600")]
    backend = HttpBackend({"url": f"{server.url}/jobs"})
    request = RegenRequest("job", 1, prompt=PROMPT).keyed()
    with pytest.raises(TransientBackendError) as info:
        backend.submit(request)
    assert info.value.retry_after == 3600
    from vidlint.regen.retry import call_with_retries

    state.fail_posts = [(429, "3600")]
    with pytest.raises(BackendError, match="Retry-After 3600"):
        call_with_retries(
            lambda: backend.submit(request),
            tries=3,
            base_s=0,
            cap_s=0,
            max_retry_after_s=60,
            sleep=lambda s: None,
        )


def test_http_backend_down(bad_clip, tmp_path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    settings = dataclasses.replace(FAST, max_attempts=2)
    result = run_loop(
        http_config(f"http://127.0.0.1:{port}", tmp_path), tmp_path, bad_clip, settings=settings
    )
    assert result.status == "exhausted" and result.final_attempt == 0  # the original is kept
    failed = regens(result)
    assert [a["status"] for a in failed] == ["failed", "failed"]
    assert all("ConnectError" in a["error"] for a in failed)
    assert len([e for e in result.history["events"] if e["kind"] == "retry"]) == 4


def test_http_slow_server_times_out_without_duplicate_jobs(service, bad_clip, tmp_path) -> None:
    server, state = service
    state.slow_s = 1.0
    settings = dataclasses.replace(FAST, max_attempts=1, submit_tries=2)
    result = run_loop(
        http_config(server.url, tmp_path, timeout_s=0.3), tmp_path, bad_clip, settings=settings
    )
    (attempt,) = regens(result)
    assert attempt["status"] == "failed" and "timed out after 0.3 s" in attempt["error"]
    assert len(state.posts) == 2 and len(state.created) == 1, "the retry reused the job"


def test_http_malformed_answer(service, bad_clip, tmp_path) -> None:
    server, state = service
    state.malformed = True
    settings = dataclasses.replace(FAST, max_attempts=1)
    result = run_loop(http_config(server.url, tmp_path), tmp_path, bad_clip, settings=settings)
    (attempt,) = regens(result)
    assert attempt["status"] == "failed" and "not JSON" in attempt["error"]
    assert "<html>" in attempt["error"]


@pytest.mark.parametrize(
    "kind, data, message",
    [
        pytest.param(
            "video/mp4",
            b"\x00\x00\x00 ftypisom this is not a movie" * 10,
            "not a usable video",
            id="garbage-bytes",
        ),
        pytest.param(
            "text/plain", b"sorry", "not a video (content-type text/plain)", id="text-answer"
        ),
        pytest.param("video/mp4", b"", "empty", id="empty"),
    ],
)
def test_http_returned_file_is_not_a_video(
    service, bad_clip, tmp_path, kind, data, message
) -> None:
    server, state = service
    state.file_kind, state.file_bytes = kind, data
    settings = dataclasses.replace(FAST, max_attempts=1)
    result = run_loop(http_config(server.url, tmp_path), tmp_path, bad_clip, settings=settings)
    (attempt,) = regens(result)
    assert attempt["status"] == "failed" and message in attempt["error"]
    assert result.status == "exhausted"


def test_returned_names_are_never_paths(service, tmp_path) -> None:
    server, state = service
    backend = HttpBackend({"url": f"{server.url}/jobs"})
    state.output = "/files/..%2F..%2Fevil.sh"
    request = RegenRequest("job", 1, prompt=PROMPT, params={"duration_s": 0.5}).keyed()
    submission = backend.submit(request)
    state.file_bytes = b"x" * 100
    saved = backend.fetch(submission.status, tmp_path / "dest")
    assert saved == tmp_path / "dest" / "output.mp4"
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["output.mp4"]
    foreign = JobStatus(DONE, ("http://198.51.100.7/clip.mp4",))
    with pytest.raises(BackendError, match="refusing to fetch"):
        backend.fetch(foreign, tmp_path / "dest")


def test_http_protocol_errors(service, tmp_path) -> None:
    server, _ = service
    with pytest.raises(ConfigError, match=re.escape("backend.http.url")):
        HttpBackend({"url": "ftp://example.com"})
    with pytest.raises(ConfigError, match=re.escape("unknown key 'backend.http.tokn_env'")):
        HttpBackend({"url": server.url, "tokn_env": "X"})
    backend = HttpBackend({"url": f"{server.url}/jobs", "token_env": "VIDLINT_TEST_TOKEN"})
    with pytest.raises(BackendError, match="VIDLINT_TEST_TOKEN"):
        backend.submit(RegenRequest("job", 1, prompt=PROMPT).keyed())
    backend = HttpBackend({"url": f"{server.url}/nothing"})
    with pytest.raises(BackendError, match="HTTP 404"):
        backend.poll("job1")


# -- kill -9 in the middle of a loop ---------------------------------------------------------------

LOOP_SCRIPT = textwrap.dedent("""
    import sys
    from vidlint.config import build_config
    from vidlint.regen import Fixer, RegenSettings

    url, clip, work = sys.argv[1:4]
    config = build_config({"select": ["TMP"], "backend": {"http": {"url": url + "/jobs"}}})
    settings = RegenSettings(poll_interval_s=0.02, max_poll_interval_s=0.05, retry_base_s=0.01)
    fixer = Fixer(config, "http", work + "/state", work + "/out", settings=settings)
    result = fixer.fix(clip, {"prompt": "a few colourful balls roll across a textured floor"})
    print("RESULT", result.status, result.final_attempt)
""")


def run_script(tmp_path: Path, *args: str) -> subprocess.Popen:
    script = tmp_path / "loop.py"
    script.write_text(LOOP_SCRIPT)
    env = {**os.environ, "VIDLINT_HTTP_SECRET": SECRET}
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


@pytest.mark.parametrize("when", ["polling", "submitting"])
def test_kill_9_then_rerun_submits_no_duplicate(service, bad_clip, tmp_path, when) -> None:
    server, state = service
    state.sync = False
    gate = threading.Event()
    if when == "polling":
        state.hold = gate  # the job is created, the loop polls it forever
    else:
        state.hold_post = gate  # the POST reached the service but never answered

    def ready() -> bool:
        return bool(state.created) and (when == "submitting" or state.polls >= 2)

    process = run_script(tmp_path, server.url, str(bad_clip), str(tmp_path))
    wait_for(ready)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert process.returncode == -signal.SIGKILL
    posts_before = len(state.posts)
    assert posts_before == 1 and len(state.created) == 1
    gate.set()
    state.hold = state.hold_post = None
    process = run_script(tmp_path, server.url, str(bad_clip), str(tmp_path))
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "RESULT passed" in stdout
    keys = [p["headers"]["idempotency-key"] for p in state.posts]
    assert len(state.created) == len(set(keys)) == 4, "one job per attempt"
    if when == "polling":
        assert len(state.posts) == 4, "the interrupted attempt was polled, not sent again"
    else:
        assert keys[0] == keys[1] and len(state.posts) == 5, "re-sent with the same key"
    history = json.loads((tmp_path / "out" / "backend_bad.regen.json").read_text())
    kinds = [e["kind"] for e in history["events"]]
    assert ("resubmit" in kinds) == (when == "submitting")


# -- command ------------------------------------------------------------------------------------

GENERATOR_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    from vidlint.backends.synthetic import SyntheticBackend

    request = json.load(sys.stdin)
    assert os.environ["VIDLINT_IDEMPOTENCY_KEY"] == request["idempotency_key"]
    if os.environ.get("FAIL"):
        print("model crashed", file=sys.stderr)
        sys.exit(int(os.environ["FAIL"]))
    backend = SyntheticBackend(work_dir=Path(sys.argv[1]))
    status = backend.submit(request).status
    print("rendering...")
    print(backend.folder / status.outputs[0])
""")


def test_command_backend_loop(bad_clip, tmp_path) -> None:
    script = tmp_path / "generate.py"
    script.write_text(GENERATOR_SCRIPT)
    config = build_config(
        {
            "select": ["TMP"],
            "backend": {
                "command": {"command": [sys.executable, str(script), str(tmp_path / "gen")]}
            },
        }
    )
    result = run_loop(config, tmp_path, bad_clip, backend="command")
    assert result.status == "passed" and len(regens(result)) == 4


@pytest.mark.parametrize("code, error", [(75, TransientBackendError), (1, BackendError)])
def test_command_backend_failures(tmp_path, monkeypatch, code, error) -> None:
    script = tmp_path / "generate.py"
    script.write_text(GENERATOR_SCRIPT)
    monkeypatch.setenv("FAIL", str(code))
    backend = CommandBackend({"command": [sys.executable, str(script), str(tmp_path)]})
    with pytest.raises(error, match=f"status {code}: model crashed"):
        backend.submit(RegenRequest("job", 1, prompt=PROMPT).keyed())
    with pytest.raises(ConfigError, match=re.escape("backend.command.command")):
        CommandBackend({})


def test_unknown_backend_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="unknown backend 'replicate'"):
        make_backend("replicate")
    typo = build_config(
        {"backend": {"comfy": {"url": "http://x"}}}, sources=(str(tmp_path / "vidlint.toml"),)
    )
    with pytest.raises(ConfigError) as info:
        make_backend("synthetic", typo)
    assert "unknown key 'backend.comfy'" in str(info.value) and "vidlint.toml" in str(info.value)


@pytest.mark.parametrize(
    ("name", "table", "refusal"),
    [
        ("synthetic", {"problems": ["stall", "melt"]}, "backend.synthetic.problems"),
        ("synthetic", {"fps": "24"}, "'backend.synthetic.fps' = '24': expected a number"),
        ("command", {"command": "gen.sh", "timeout_s": 0}, "must be above 0"),
        ("http", {"url": "http://127.0.0.1:9", "inline_reference": "yes"}, "true or false"),
        ("comfyui", {"workflow": "w.json", "length_step": -4}, "between 0 and 1024"),
    ],
)
def test_backend_tables_are_checked_like_every_other_table(name, table, refusal) -> None:
    """Each backend reads its table through the one settings validator: a string is never a
    number, choices and bounds hold, and the error names the key and the file."""
    config = build_config({"backend": {name: table}}, sources=("vidlint.toml",))
    with pytest.raises(ConfigError, match=re.escape(refusal)) as refused:
        make_backend(name, config)
    assert "vidlint.toml" in str(refused.value)
