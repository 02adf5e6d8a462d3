"""The QA service on loopback (a real uvicorn server in a thread): 50 concurrent submissions all
finish with their reports, bad uploads get clear 4xx answers, a full queue says 429, and the
completion webhook is signed per Standard Webhooks."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar, Self

import pytest

httpx = pytest.importorskip("httpx")  # the serve extra is in the test extra
uvicorn = pytest.importorskip("uvicorn")
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from vidlint.config import build_config
from vidlint.errors import ConfigError
from vidlint.service import SECRET_ENV, ServeSettings, create_app, serve_settings
from vidlint.service.webhooks import WebhookRefused, check_webhook_url
from vidlint.synth import Artifact

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC = {"width": 320, "height": 240, "frames": 24}


class Server:
    """A uvicorn server on a free loopback port, run in a thread."""

    def __init__(self, app) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.time() + 60
        while not self.server.started:
            assert time.time() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)


class Receiver(BaseHTTPRequestHandler):
    """Records webhook deliveries."""

    received: ClassVar[list[tuple[bytes, dict]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        Receiver.received.append((body, dict(self.headers)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def clips(synth_clip) -> dict[str, Path]:
    return {
        "freeze": synth_clip("svc-freeze", ".mp4", [Artifact("freeze", 6, 10)], **SPEC),
        "clean": synth_clip("svc-clean", ".mp4", [], **SPEC),
    }


@pytest.fixture(scope="module")
def service(clips):
    os.environ[SECRET_ENV] = SECRET
    try:
        settings = ServeSettings(
            root=str(clips["clean"].parent),
            concurrency=2,
            queue_size=100,
            max_upload_mb=1,
            allow_private_webhooks=True,
            webhook_backoff_s=0.1,
        )
        app = create_app(build_config({"select": ["TMP"]}), settings)
    finally:
        os.environ.pop(SECRET_ENV)
    with Server(app) as server:
        yield server


async def _wait_done(client, ids: list[str], timeout: float = 120) -> dict[str, dict]:
    deadline = time.time() + timeout
    jobs: dict[str, dict] = {}
    while time.time() < deadline:
        answers = await asyncio.gather(*(client.get(f"/v1/jobs/{i}") for i in ids))
        jobs = {a.json()["id"]: a.json() for a in answers}
        if all(j["status"] in ("done", "failed") for j in jobs.values()):
            return jobs
        await asyncio.sleep(0.2)
    raise AssertionError(f"jobs not finished: {[j['status'] for j in jobs.values()]}")


def test_fifty_concurrent_submissions_all_finish(service, clips):
    data = {name: path.read_bytes() for name, path in clips.items()}

    async def main():
        async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:

            async def submit(number: int):
                name = "freeze" if number % 2 else "clean"
                if number % 5 == 0:  # some by path under the root, the rest uploaded
                    answer = await client.post("/v1/jobs", data={"path": clips[name].name})
                else:
                    answer = await client.post(
                        "/v1/jobs",
                        files={"file": (f"clip{number}.mp4", data[name])},
                        data={"prompt": f"clip number {number}", "seed": str(number)},
                    )
                return number, name, answer

            submitted = await asyncio.gather(*(submit(n) for n in range(50)))
            assert [a.status_code for _, _, a in submitted] == [202] * 50
            ids = [a.json()["id"] for _, _, a in submitted]
            assert len(set(ids)) == 50
            jobs = await _wait_done(client, ids)
            for (number, name, _), job_id in zip(submitted, ids, strict=True):
                job = jobs[job_id]
                assert job["status"] == "done", job
                assert job["codes"] == (["TMP001"] if name == "freeze" else []), job
                report = (await client.get(f"/v1/jobs/{job_id}/report")).json()
                assert report["schema"] == "vidlint.report/1"
                assert [f["code"] for f in report["findings"]] == job["codes"]
                if number % 5:
                    assert report["clip"]["path"] == f"clip{number}.mp4"
                    assert report["context"]["seed"] == number
            health = (await client.get("/health")).json()
            assert health["status"] == "ok" and health["queued"] == 0 and health["running"] == 0

    asyncio.run(main())


@pytest.mark.parametrize(
    "files, data, status, says",
    [
        ({"file": ("empty.mp4", b"")}, {}, 400, "empty.mp4: empty upload"),
        ({"file": ("notes.txt", b"hello")}, {}, 415, "unsupported file type '.txt'"),
        ({"file": ("fake.mp4", b"this is not a video" * 50)}, {}, 422, "fake.mp4: "),
        ({"file": ("big.mp4", b"\0" * (1024 * 1024 + 1))}, {}, 413, "larger than 1 MB"),
        ({"file": ("a.mp4", b"x")}, {"path": "svc-clean.mp4"}, 400, "exactly one of"),
        (None, {"prompt": "no clip"}, 400, "exactly one of"),
        (None, {"path": "../../etc/passwd"}, 403, "outside the served root"),
        (None, {"path": "missing.mp4"}, 404, "no such clip"),
        (None, {"path": "svc-clean.mp4", "mode": "v2v"}, 400, "mode must be one of"),
        (None, {"path": "svc-clean.mp4", "webhook_url": "ftp://x/y"}, 400, "http(s) URL"),
    ],
    ids=[
        "empty",
        "not-video-type",
        "not-video-bytes",
        "too-large",
        "file-and-path",
        "nothing",
        "escape-root",
        "missing-path",
        "bad-mode",
        "bad-webhook",
    ],
)
def test_bad_submissions_get_clear_4xx(service, files, data, status, says):
    answer = httpx.post(f"{service.url}/v1/jobs", files=files, data=data, timeout=30)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["detail"]


def test_unknown_job_and_openapi(service):
    assert httpx.get(f"{service.url}/v1/jobs/nope").status_code == 404
    assert httpx.get(f"{service.url}/v1/jobs/nope/report").status_code == 404
    spec = httpx.get(f"{service.url}/openapi.json").json()
    assert {"/health", "/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/report"} <= set(
        spec["paths"]
    )


def test_webhook_is_signed_and_delivered(service, clips):
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    Receiver.received.clear()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        answer = httpx.post(
            f"{service.url}/v1/jobs", data={"path": clips["freeze"].name, "webhook_url": url}
        )
        assert answer.status_code == 202
        job_id = answer.json()["id"]
        deadline = time.time() + 60
        while not Receiver.received and time.time() < deadline:
            time.sleep(0.1)
        body, headers = Receiver.received[0]
        payload = Webhook(SECRET).verify(body, headers)  # raises if the signature is wrong
        assert headers["webhook-id"] == f"msg_{job_id}"
        assert payload["type"] == "vidlint.job.completed"
        assert payload["data"]["id"] == job_id and payload["data"]["codes"] == ["TMP001"]
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 32).verify(body, headers)
        deadline = time.time() + 30  # the job records the delivery once the POST returns
        while (job := httpx.get(f"{service.url}/v1/jobs/{job_id}").json())["webhook"].get(
            "status"
        ) in ("pending", "sending") and time.time() < deadline:
            time.sleep(0.05)
        assert job["webhook"] == {"status": "delivered", "attempts": 1}
    finally:
        receiver.shutdown()


def test_full_queue_answers_429(synth_clip):
    clip = synth_clip("svc-long", ".mp4", [], width=480, height=272, frames=96)
    app = create_app(build_config({"select": ["TMP"]}), ServeSettings(concurrency=1, queue_size=1))
    with Server(app) as server:

        async def main():
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                answers = await asyncio.gather(
                    *(
                        client.post("/v1/jobs", files={"file": ("c.mp4", clip.read_bytes())})
                        for _ in range(10)
                    )
                )
                codes = sorted(a.status_code for a in answers)
                assert 202 in codes and 429 in codes and set(codes) <= {202, 429}, codes
                busy = next(a for a in answers if a.status_code == 429)
                assert busy.headers["retry-after"] == "5"
                ids = [a.json()["id"] for a in answers if a.status_code == 202]
                pending = await client.get(f"/v1/jobs/{ids[-1]}/report")
                assert pending.status_code in (200, 409)
                await _wait_done(client, ids)
                assert (await client.get(f"/v1/jobs/{ids[-1]}/report")).status_code == 200

        asyncio.run(main())


def test_private_webhooks_are_refused_unless_allowed():
    with pytest.raises(WebhookRefused, match="private address"):
        check_webhook_url("http://127.0.0.1:9/hook", allow_private=False)
    check_webhook_url("http://127.0.0.1:9/hook", allow_private=True)


def test_serve_table_is_validated(tmp_path):
    config = build_config({"serve": {"queue_size": 10, "concurrency": 2}})
    assert serve_settings(config).queue_size == 10
    with pytest.raises(ConfigError, match=re.escape("serve.queues")):
        serve_settings(build_config({"serve": {"queues": 1}}))
    with pytest.raises(ConfigError, match=re.escape("serve.queue_size")):
        serve_settings(build_config({"serve": {"queue_size": "many"}}))
    with pytest.raises(ConfigError, match="not a folder"):
        serve_settings(build_config({}), root=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=re.escape("'serve.queue_size' = 0: must be between 1")):
        serve_settings(build_config({"serve": {"queue_size": 0}}))
    with pytest.raises(
        ConfigError, match=re.escape("'serve.webhook_timeout_s' = '15': expected a number")
    ):
        serve_settings(build_config({"serve": {"webhook_timeout_s": "15"}}))
    with pytest.raises(ConfigError, match=re.escape("'serve.keep_jobs' = -1: must be above 0")):
        serve_settings(build_config({"serve": {"keep_jobs": -1}}))
    assert json.loads(json.dumps(ServeSettings().__dict__))["root"] is None


def test_a_worker_that_dies_fails_only_its_job(synth_clip, tmp_path, monkeypatch):
    from tests.test_engine import die_on_poison  # dies on clips named poison*
    from vidlint.service.jobs import JobQueue

    clean = synth_clip("svc-clean", ".mp4", [], **SPEC)
    (tmp_path / "poison.mp4").write_bytes(clean.read_bytes())
    (tmp_path / "clean.mp4").write_bytes(clean.read_bytes())
    monkeypatch.setattr(JobQueue, "function", staticmethod(die_on_poison))
    app = create_app(
        build_config({"select": ["TMP"]}), ServeSettings(root=str(tmp_path), concurrency=2)
    )
    with Server(app) as server:

        async def main():
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                names = ["poison.mp4", "clean.mp4", "clean.mp4"]
                answers = [await client.post("/v1/jobs", data={"path": n}) for n in names]
                jobs = await _wait_done(client, [a.json()["id"] for a in answers])
                poison, *others = (jobs[a.json()["id"]] for a in answers)
                assert poison["status"] == "failed"
                assert poison["error"] == (
                    "poison.mp4: a worker process died on this clip twice "
                    "(killed for memory, or a crash in native code)"
                )
                assert [job["status"] for job in others] == ["done", "done"]
                later = await client.post("/v1/jobs", data={"path": "clean.mp4"})
                done = await _wait_done(client, [later.json()["id"]])
                assert done[later.json()["id"]]["status"] == "done"  # the workers were replaced

        asyncio.run(main())


def test_bearer_token_and_declared_body_size(clips, monkeypatch):
    monkeypatch.setenv("VIDLINT_SERVE_TOKEN", "s3cret-token")
    app = create_app(
        build_config({"select": ["TMP"]}),
        ServeSettings(root=str(clips["clean"].parent), concurrency=1, max_upload_mb=1),
    )
    with Server(app) as server:
        assert httpx.get(f"{server.url}/health").status_code == 200  # health stays open
        post = {"url": f"{server.url}/v1/jobs", "data": {"path": clips["clean"].name}}
        assert httpx.post(**post).status_code == 401
        wrong = httpx.post(**post, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        right = {"Authorization": "Bearer s3cret-token"}
        answer = httpx.post(**post, headers=right)
        assert answer.status_code == 202
        assert httpx.get(f"{server.url}/v1/jobs/{answer.json()['id']}").status_code == 401
        huge = httpx.post(
            f"{server.url}/v1/jobs", headers=right, files={"file": ("big.mp4", b"\0" * (4 << 20))}
        )
        assert huge.status_code == 413 and "larger than 1 MB" in huge.json()["detail"]
