"""The comfyui backend on ComfyUI's own video templates (converted once to API format by
scripts/convert_comfy_templates.py), against a fake ComfyUI that speaks the real API
(tests/comfy_fake.py), and an independent ComfyUI client talking to the same fake."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
from pathlib import Path

import pytest

from vidlint.backends import TransientBackendError
from vidlint.backends.comfyui import ComfyUIBackend
from vidlint.config import build_config
from vidlint.decode import open_clip
from vidlint.errors import BackendError, ConfigError
from vidlint.regen import RegenRequest

from .comfy_fake import DATA, ComfyState, FakeComfy
from .loopback import FAST, PROMPT, Generator, Server, failing_clip, regens, run_loop

LOOP = dataclasses.replace(FAST, salvage=False)  # every rung regenerates, none trims
ALL_PROBLEMS = ["stall", "cut", "decay", "blank"]
T2V_PROBLEMS = ["stall", "cut", "decay"]
TEMPLATES = {
    # template: (workflow_i2v, problems the fake's generator renders, final rung)
    "text_to_video_wan": ("", T2V_PROBLEMS, "shorten"),
    "image_to_video_wan": ("", ALL_PROBLEMS, "i2v"),
    "ltxv_text_to_video": ("", T2V_PROBLEMS, "shorten"),
    "ltxv_image_to_video": ("", ALL_PROBLEMS, "i2v"),
    # no negative prompt node: a freeze cannot be cured by negative terms there
    "hunyuan_video_text_to_video": ("", ["cut", "decay"], "shorten"),
    "video_wan2_2_5B_ti2v": ("video_wan2_2_5B_ti2v_i2v", ALL_PROBLEMS, "i2v"),
}


@pytest.fixture(scope="module")
def bad_clip(synth_clip) -> Path:
    return failing_clip(synth_clip)


def fake_comfy(tmp_path: Path, problems: list[str] | None = None) -> tuple[Server, ComfyState]:
    state = ComfyState(Generator(tmp_path / "generator", problems), tmp_path / "comfy")
    return Server(FakeComfy, state), state


@pytest.fixture
def comfy(tmp_path):
    server, state = fake_comfy(tmp_path)
    yield server, state
    server.close()


def template(name: str) -> str:
    return str(DATA / f"{name}.json")


def comfy_config(url: str, tmp_path: Path, workflow: str, **extra):
    settings = {"url": url, "workflow": template(workflow), "timeout_s": 5.0, **extra}
    return build_config(
        {"select": ["TMP"], "backend": {"comfyui": settings}},
        sources=(str(tmp_path / "vidlint.toml"),),
    )


def node(graph: dict, class_type: str) -> dict:
    (found,) = [n for n in graph.values() if n["class_type"] == class_type]
    return found["inputs"]


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_real_template_completes_a_fix_loop(bad_clip, tmp_path, name) -> None:
    workflow_i2v, problems, last_rung = TEMPLATES[name]
    server, state = fake_comfy(tmp_path, problems)
    extra = {"workflow_i2v": template(workflow_i2v)} if workflow_i2v else {}
    try:
        config = comfy_config(server.url, tmp_path, name, **extra)
        result = run_loop(config, tmp_path, bad_clip, backend="comfyui", settings=LOOP)
    finally:
        server.close()
    assert result.status == "passed", [a["error"] for a in regens(result)]
    attempts = regens(result)
    assert all(a["status"] == "checked" for a in attempts)
    assert last_rung in {c["rung"] for c in attempts[-1]["changes"]}
    assert len(state.prompts) == len(attempts)
    shipped = json.loads(Path(template(name)).read_text())
    own_negative = next(
        (n["inputs"]["text"] for n in shipped.values() if "Negative" in n["_meta"]["title"]), None
    )
    for body, attempt in zip(state.prompts, attempts, strict=True):
        request, graph = attempt["request"], body["prompt"]
        assert body["prompt_id"] == attempt["backend_job_id"]
        texts = [n["inputs"]["text"] for n in graph.values() if n["class_type"] == "CLIPTextEncode"]
        assert request["prompt"] in texts, "the positive encoder carries the request's prompt"
        if own_negative is not None:  # appended to the template's own negative prompt
            assert f"{own_negative}, {request['negative_prompt']}" in texts
        seeds = [n["inputs"].get(k) for n in graph.values() for k in ("seed", "noise_seed")]
        assert [s for s in seeds if s is not None] == [request["seed"]]
        (length,) = [n["inputs"]["length"] for n in graph.values() if "length" in n["inputs"]]
        fps = next(n["inputs"]["fps"] for n in graph.values() if n["class_type"] == "CreateVideo")
        step = 8 if "ltxv" in name else 4
        assert length % step == 1, "Wan and Hunyuan take 4n + 1 frames, LTX 8n + 1"
        assert abs(length / fps - request["params"]["duration_s"]) <= step / fps
        images = [n["inputs"]["image"] for n in graph.values() if n["class_type"] == "LoadImage"]
        if request["mode"] == "i2v":
            (image,) = images
            assert state.uploads[image] == Path(request["reference"]).read_bytes()
        else:
            assert all(i not in state.uploads for i in images)
    # the fake rendered what the graph asked for: the loop converged on its defects
    assert len({a["request"]["seed"] for a in attempts}) == len(attempts)


def test_t2v_template_never_spends_an_attempt_on_i2v(bad_clip, tmp_path) -> None:
    server, state = fake_comfy(tmp_path, ALL_PROBLEMS)  # blank frames need an image
    try:
        config = comfy_config(server.url, tmp_path, "ltxv_text_to_video")
        result = run_loop(config, tmp_path, bad_clip, backend="comfyui", settings=LOOP)
    finally:
        server.close()
    attempts = regens(result)
    assert result.status == "exhausted" and len(attempts) == FAST.max_attempts
    assert [a["status"] for a in attempts] == ["checked"] * 4, [a["error"] for a in attempts]
    assert all(a["request"]["mode"] == "t2v" for a in attempts)
    assert "i2v" not in {c["rung"] for a in attempts for c in a["changes"]}
    assert {c["rung"] for c in attempts[-1]["changes"]} == {"reseed"}
    (skipped,) = [e for e in result.history["events"] if e["kind"] == "skipped"]
    assert "the i2v rung is skipped" in skipped["detail"]
    assert "no LoadImage" in skipped["detail"]
    assert not state.uploads


def test_validation_failure_names_the_missing_model_and_image(comfy, tmp_path) -> None:
    server, state = comfy
    request = RegenRequest("job", 1, prompt=PROMPT, seed=3, params={"duration_s": 1.0}).keyed()
    state.uninstall("UNETLoader", "unet_name", "wan2.1_t2v_1.3B_fp16.safetensors")
    backend = ComfyUIBackend({"url": server.url, "workflow": template("text_to_video_wan")})
    with pytest.raises(BackendError) as info:
        backend.submit(request)
    message = str(info.value)
    assert "Prompt outputs failed validation" in message
    assert "node 37 (UNETLoader)" in message
    assert "Value not in list (unet_name: 'wan2.1_t2v_1.3B_fp16.safetensors' not in [" in message
    (state.root / "input" / "image_to_video_wan_start_image.png").unlink()
    backend = ComfyUIBackend({"url": server.url, "workflow": template("image_to_video_wan")})
    with pytest.raises(BackendError, match="Invalid image file: image_to_video_wan_start_image"):
        backend.submit(request)
    assert "node 52 (LoadImage)" in str(backend_error(backend, request))


def backend_error(backend: ComfyUIBackend, request: RegenRequest) -> BackendError:
    try:
        backend.submit(request)
    except BackendError as exc:
        return exc
    raise AssertionError("the submit was accepted")


def test_resume_execution_error_and_cancel(comfy, tmp_path) -> None:
    server, state = comfy
    backend = ComfyUIBackend(
        {"url": server.url, "workflow": template("hunyuan_video_text_to_video")}
    )
    request = RegenRequest("job", 1, prompt=PROMPT, seed=5, params={"duration_s": 1.0}).keyed()
    first = backend.submit(request)
    again = backend.submit(request)
    assert first.job_id == again.job_id and again.response.get("resumed")
    assert len(state.prompts) == 1
    status = backend.poll(first.job_id)
    while not status.finished:
        status = backend.poll(first.job_id)
    assert status.state == "done"
    record = json.loads(status.outputs[0])
    assert record["subfolder"] == "video" and record["filename"].endswith(".mp4")
    saved = backend.fetch(status, tmp_path / "fetched")
    with open_clip(saved) as clip:
        assert clip.info.frame_count == 25  # 1 s at 24 fps, as 4n + 1 frames
    state.fail_class = "VAEDecodeTiled"
    failed = backend.submit(dataclasses.replace(request, seed=9).keyed())
    status = backend.poll(failed.job_id)
    while not status.finished:
        status = backend.poll(failed.job_id)
    assert status.state == "failed"
    assert "VAEDecodeTiled (node 73) failed: Allocation on device" in status.detail
    backend.cancel(failed.job_id)
    assert {"delete": [failed.job_id]} in state.deleted
    assert {"prompt_id": failed.job_id} in state.interrupts
    assert backend.poll("no-such-prompt").state == "failed"


def test_workflow_and_mapping_are_validated(comfy, tmp_path) -> None:
    server, _ = comfy
    ui_format = tmp_path / "ui.json"
    ui_format.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(ConfigError, match="not an API-format workflow"):
        ComfyUIBackend({"url": server.url, "workflow": str(ui_format)})
    with pytest.raises(ConfigError, match="workflow file not found"):
        ComfyUIBackend({"url": server.url, "workflow": str(tmp_path / "missing.json")})
    wan = template("text_to_video_wan")
    with pytest.raises(ConfigError) as info:
        ComfyUIBackend(
            {
                "url": server.url,
                "workflow": wan,
                "inputs": {"prompt": {"title": "Positive Prompt", "input": "text"}},
            }
        )
    assert "inputs.prompt" in str(info.value) and "text_to_video_wan.json" in str(info.value)
    with pytest.raises(ConfigError, match=re.escape("unknown key 'backend.comfyui.inputs.steps'")):
        ComfyUIBackend(
            {"url": server.url, "workflow": wan, "inputs": {"steps": {"class": "X", "input": "s"}}}
        )
    by_id = ComfyUIBackend(
        {"url": server.url, "workflow": wan, "inputs": {"prompt": {"id": 7, "input": "text"}}}
    )
    assert [t.node_id for t in by_id.t2v.map["prompt"]] == ["7"]
    assert by_id.frames_for(5.0) == 81  # Wan: 4n + 1 frames at the workflow's 16 fps
    assert by_id.skipped_rungs() == {
        "i2v": "text_to_video_wan.json has no LoadImage node and "
        "backend.comfyui.workflow_i2v is not set"
    }
    hunyuan = ComfyUIBackend(
        {"url": server.url, "workflow": template("hunyuan_video_text_to_video")}
    )
    assert any("negative terms are not sent" in note for note in hunyuan.notes)


def test_comfyui_unreachable_is_said_plainly(tmp_path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}"
    backend = ComfyUIBackend({"url": url, "workflow": template("text_to_video_wan")})
    with pytest.raises(TransientBackendError) as info:
        backend.submit(RegenRequest("job", 1, prompt=PROMPT).keyed())
    assert str(info.value).startswith(f"ComfyUI at {url} is unreachable (ConnectError)")
    assert "/history" not in str(info.value)


def test_an_independent_client_talks_to_the_fake(comfy, tmp_path) -> None:
    from comfy_api_simplified import ComfyApiError, ComfyApiWrapper, ComfyWorkflowWrapper

    server, state = comfy
    api = ComfyApiWrapper(server.url)
    picture = tmp_path / "start.png"
    picture.write_bytes((DATA.parent / "still.png").read_bytes())
    uploaded = api.upload_image(picture)  # no type: ComfyUI's default is the input folder
    assert uploaded == {"name": "start.png", "subfolder": "default_upload_folder", "type": "input"}
    assert api.upload_image(picture)["name"] == "start.png", "the same file is not renamed"
    workflow = ComfyWorkflowWrapper(template("text_to_video_wan"))
    workflow.set_node_param("CLIP Text Encode (Positive Prompt)", "text", PROMPT)
    workflow.set_node_param("KSampler", "seed", 42)
    videos = api.queue_and_wait_images(workflow, "Save Video")  # over the /ws websocket
    (name, data) = next(iter(videos.items()))
    saved = tmp_path / name
    saved.write_bytes(data)
    with open_clip(saved) as clip:
        assert clip.info.frame_count == 33  # the template's own length
    (prompt_id,) = state.jobs
    history = api.get_history(prompt_id)
    assert history[prompt_id]["status"]["status_str"] == "success"
    assert api.get_queue() == {"queue_running": [], "queue_pending": []}
    assert api.get_object_info("KSampler")["KSampler"]["input_order"]["required"][1] == "seed"
    assert api.get_system_stats()["devices"]
    api.interrupt()
    assert state.interrupts == [{}], "an interrupt with no body is a global interrupt"
    state.uninstall("VAELoader", "vae_name", "wan_2.1_vae.safetensors")
    with pytest.raises(ComfyApiError, match="400"):
        api.queue_prompt(dict(workflow))
