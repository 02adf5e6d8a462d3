"""What the backend tests share: a generator behind the fake services, a real HTTP server on
127.0.0.1 in a thread, and the loop run fast (no sleeping between retries and polls)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from vidlint.backends.synthetic import SyntheticBackend
from vidlint.regen import Fixer, RegenSettings
from vidlint.synth import Artifact

PROMPT = "a few colourful balls roll across a textured floor"
FAST = RegenSettings(
    retry_base_s=0.01,
    retry_cap_s=0.05,
    poll_interval_s=0.01,
    max_poll_interval_s=0.02,
    submit_tries=3,
)


def failing_clip(synth_clip) -> Path:
    """A small clip that fails TMP: a freeze and a cut (rendered once per session)."""
    return synth_clip(
        "backend_bad",
        artifacts=[Artifact("freeze", 7, 12), Artifact("cut", 33)],
        seed=1,
        width=160,
        height=120,
        frames=48,
    )


class Generator:
    """Renders what the synthetic backend would for a request dict; thread-safe. ``problems``
    are the defects it can render (default: all of the synthetic backend's)."""

    def __init__(self, folder: Path, problems: list[str] | None = None) -> None:
        settings = {"problems": problems} if problems is not None else {}
        self.synthetic = SyntheticBackend(settings, work_dir=folder)
        self.lock = threading.Lock()

    def render(self, request: dict[str, Any]) -> Path:
        with self.lock:
            submission = self.synthetic.submit(request)
        return self.synthetic.folder / submission.status.outputs[0]


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 running ``handler`` in a thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], state: Any) -> None:
        handler.state = state  # type: ignore[attr-defined]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Handler(BaseHTTPRequestHandler):
    state: Any

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def reply(
        self,
        code: int,
        data: Any = None,
        raw: bytes | None = None,
        kind: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = raw if raw is not None else json.dumps(data).encode()
        try:
            self.send_response(code)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)


def run_loop(
    config,
    tmp_path: Path,
    clip: Path,
    backend: str = "http",
    settings: RegenSettings = FAST,
    sleeps: list | None = None,
    context: dict[str, Any] | None = None,
):
    fixer = Fixer(
        config,
        backend,
        tmp_path / "work",
        tmp_path / "out",
        settings=settings,
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        seed=0,
    )
    try:
        return fixer.fix(clip, context or {"prompt": PROMPT})
    finally:
        fixer.close()


def regens(result) -> list[dict]:
    return [a for a in result.history["attempts"] if a["kind"] == "regen"]
