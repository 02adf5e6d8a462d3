"""The QA service under hostile input. Property-based (Hypothesis, derandomized, a bounded number
of examples): whatever the paths, fields, file names, bodies, content types, tokens and webhook
URLs, no answer is a 500, every refusal is a 4xx that says why, and nothing is written outside
the configured folders. Plus the defects that such inputs found, each pinned by its own test."""

from __future__ import annotations

import json
import select
import shutil
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_service import SECRET, Server
from vidlint.config import build_config
from vidlint.service import SECRET_ENV, TOKEN_ENV, ServeSettings, create_app
from vidlint.synth import Artifact

TOKEN = "fuzz-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FUZZ = settings(
    max_examples=100,
    derandomize=True,  # the same examples on every run: CI never flakes on a new one
    database=None,  # and writes no example database into the tree
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SMALL = {"width": 160, "height": 120, "frames": 24}


@pytest.fixture(scope="module")
def folders(synth_clip, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("fuzz")
    root, uploads, system_temp = base / "root", base / "uploads", base / "systemp"
    for folder in (root / "sub", uploads, system_temp):
        folder.mkdir(parents=True)
    clip = synth_clip("fuzz-clip", ".mp4", [Artifact("freeze", 4, 8)], **SMALL)
    shutil.copyfile(clip, root / "clip.mp4")
    shutil.copyfile(clip, root / "sub" / "inner.mp4")
    return {"root": root, "uploads": uploads, "system_temp": system_temp, "clip": clip}


def tree(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def client(folders):
    """The service with a token, a webhook secret, a served root and a 1 MB upload limit; the
    system temp folder points at an empty folder that must stay empty."""
    saved = tempfile.tempdir
    patch = pytest.MonkeyPatch()
    patch.setenv("TMPDIR", str(folders["system_temp"]))
    patch.setenv(SECRET_ENV, SECRET)
    patch.setenv(TOKEN_ENV, TOKEN)
    tempfile.tempdir = str(folders["system_temp"])
    root_before = tree(folders["root"])
    serving = ServeSettings(
        root=str(folders["root"]),
        upload_dir=str(folders["uploads"]),
        max_upload_mb=1,
        concurrency=1,
        queue_size=1000,
    )
    try:
        app = create_app(build_config({"select": ["TMP"]}), serving)
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
            wait_idle(test_client)
        left = sorted(p.name for p in folders["uploads"].iterdir())
        assert set(left) <= {"jobs.sqlite", "jobs.sqlite-wal", "jobs.sqlite-shm", "jobs.lock"}
        assert tree(folders["root"]) == root_before, "the served root was written to"
        assert list(folders["system_temp"].iterdir()) == [], "something went to the temp folder"
    finally:
        tempfile.tempdir = saved
        patch.undo()


def refused_with_a_reason(answer) -> None:
    """Never a 500; a refusal is a 4xx whose JSON ``detail`` says why."""
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    if answer.status_code >= 400:
        detail = answer.json()["detail"]
        assert isinstance(detail, str) and detail.strip(), answer.text[:300]


# -- the defects ----------------------------------------------------------------------------------


def test_a_nul_byte_in_path_is_a_400(client) -> None:
    answer = client.post("/v1/jobs", data={"path": "clip\0.mp4"}, headers=AUTH)
    assert answer.status_code == 400, answer.text
    assert "NUL" in answer.json()["detail"]


def test_a_folder_path_names_the_videos_it_holds(client) -> None:
    answer = client.post("/v1/jobs", data={"path": "sub"}, headers=AUTH)
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"] == (
        "sub: a folder of 1 video(s), not a clip: submit one clip by its path, e.g. sub/inner.mp4"
    )
    assert client.post("/v1/jobs", data={"path": "sub/inner.mp4"}, headers=AUTH).status_code == 202


def test_idempotency_key_returns_the_same_job(client, folders) -> None:
    data = folders["clip"].read_bytes()
    headers = {**AUTH, "Idempotency-Key": "retry-after-a-timeout"}
    first = client.post("/v1/jobs", files={"file": ("a.mp4", data)}, headers=headers)
    again = client.post("/v1/jobs", files={"file": ("a.mp4", data)}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]


def test_racing_retries_with_one_key_make_one_job(client, folders) -> None:
    """Retries that race (the first has not been stored when the others arrive) get the one
    job; the others' uploads are deleted (they once answered 500: the key is unique)."""
    data = folders["clip"].read_bytes()
    headers = {**AUTH, "Idempotency-Key": "raced-retries"}
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(
                lambda _: client.post("/v1/jobs", files={"file": ("a.mp4", data)}, headers=headers),
                range(6),
            )
        )
    assert [a.status_code for a in answers] == [202] * 6, [a.text[:200] for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    wait_idle(client)
    assert [p.name for p in folders["uploads"].iterdir() if p.suffix == ".mp4"] == []


def wait_idle(client, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (health := client.get("/health").json())["queued"] or health["running"]:
        assert time.monotonic() < deadline, health
        time.sleep(0.1)


def test_a_chunked_upload_stops_at_the_limit(folders, monkeypatch) -> None:
    """No Content-Length: the service counts as the body streams in and answers 413 once it
    passes the limit, long before the client is done; nothing is left in the upload folder."""
    uploads = folders["uploads"].parent / "chunked-uploads"
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    app = create_app(
        build_config({"select": ["TMP"]}),
        ServeSettings(upload_dir=str(uploads), max_upload_mb=1, concurrency=1),
    )
    boundary = "fuzzboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    block = b"\0" * 65536
    total = 16 << 20  # what the client would send: 16 MB against a 1 MB limit
    with Server(app) as server, socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            f"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n".encode()
        )
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        sent = 0
        answered = False
        while sent < total and not answered:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(block)
            answered = bool(select.select([sock], [], [], 0.01)[0])  # 64 KB per 10 ms
        sock.settimeout(30)
        answer = read_answer(sock)
        assert answer.startswith("HTTP/1.1 413"), answer[:200]
        assert "big.mp4: larger than 1 MB" in answer
        assert sent < 4 << 20, f"the service read {sent >> 20} MB before it answered"
        assert [p.name for p in uploads.iterdir() if not p.name.startswith("jobs.")] == []


def read_answer(sock: socket.socket) -> str:
    """One HTTP response, headers and body (by its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length and (chunk := sock.recv(65536)):
        body += chunk
    return (head + b"\r\n\r\n" + body).decode(errors="replace")


# -- properties ----------------------------------------------------------------------------------

paths = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(["..", ".", "sub", "clip.mp4", "inner.mp4", "/", "~", "\0", "é", "%2e"]),
        max_size=8,
    ).map("/".join),
    st.sampled_from(["/etc/passwd", "../../../../etc/shadow", "C:\\Windows", "a" * 5000]),
)
hosts = st.sampled_from(
    [
        "127.0.0.1",
        "10.0.0.7",
        "169.254.169.254",
        "[::1]",
        "[fe80::1]",
        "0.0.0.0",
        "8.8.8.8",
        "localhost",
        "hook.invalid",
        "user:pw@127.0.0.1",
        "",
        "%00",
    ]
)
webhooks = st.one_of(
    st.builds(
        "{}://{}{}/{}".format,
        st.sampled_from(["http", "https", "ftp", "file", "javascript", ""]),
        hosts,
        st.sampled_from(["", ":0", ":80", ":99999", ":x"]),
        st.text(max_size=10),
    ),
    st.text(max_size=40),
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "path": paths,
        "prompt": st.text(max_size=200),
        "negative_prompt": st.text(max_size=50),
        "mode": st.one_of(st.sampled_from(["t2v", "i2v"]), st.text(max_size=5)),
        "seed": st.one_of(st.integers().map(str), st.text(max_size=25)),
        "generator": st.text(max_size=20),
        "webhook_url": webhooks,
    },
)
names = st.one_of(
    st.text(max_size=30),
    st.builds(
        "{}{}".format,
        st.sampled_from(["clip", "../../x", "/abs/y", "a\\b", "", ".hidden", "é"]),
        st.sampled_from([".mp4", ".MOV", ".png", ".txt", "", ".mp4.exe", ".gif"]),
    ),
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=512),
    st.sampled_from([b"\0" * 2048, b"not a video" * 100, b"\x00\x00\x00\x18ftypmp42" + b"\0" * 64]),
)
tokens = st.sampled_from([AUTH, {}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])


@FUZZ
@given(fields=fields, name=names, body=bodies, upload=st.booleans(), auth=tokens)
def test_submissions_never_fail_with_a_500(client, folders, fields, name, body, upload, auth):
    files = {"file": (name, body)} if upload else None
    answer = client.post("/v1/jobs", data=fields, files=files, headers=auth)
    refused_with_a_reason(answer)
    if auth != AUTH:
        assert answer.status_code == 401
    if answer.status_code == 202:
        clip = Path(folders["uploads"] / f"{answer.json()['id']}{Path(name).suffix.lower()}")
        assert not upload or clip.is_file() or answer.json()["status"] != "queued"


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=600), st.text(max_size=300).map(str.encode)),
    kind=st.one_of(
        st.sampled_from(
            [
                "multipart/form-data; boundary=b",
                "multipart/form-data",
                "application/x-www-form-urlencoded",
                "application/json",
                "text/plain",
                "",
                'multipart/form-data; boundary=""',
            ]
        ),
        st.text(max_size=40),
    ),
)
def test_raw_bodies_and_content_types_are_refused_with_a_reason(client, body, kind):
    wrapped = body
    if "boundary=b" in kind:  # often a near-valid multipart body around the bytes
        wrapped = b'--b\r\nContent-Disposition: form-data; name="path"\r\n\r\n' + body
    try:
        answer = client.post("/v1/jobs", content=wrapped, headers={**AUTH, "content-type": kind})
    except UnicodeEncodeError:  # a header that HTTP cannot carry: no request is sent
        return
    refused_with_a_reason(answer)


@FUZZ
@given(job_id=st.text(max_size=80), suffix=st.sampled_from(["", "/report", "/../report"]))
def test_job_lookups_never_fail_with_a_500(client, job_id, suffix):
    from urllib.parse import quote

    answer = client.get(f"/v1/jobs/{quote(job_id, safe='')}{suffix}", headers=AUTH)
    refused_with_a_reason(answer)


def test_openapi_describes_the_submission_form(client) -> None:
    spec = client.get("/openapi.json").json()
    form = spec["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert {"file", "path", "reference", "prompt", "webhook_url"} <= set(
        form["schema"]["properties"]
    )
    json.dumps(spec)
