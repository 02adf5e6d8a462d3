"""``--engine ray`` on a local Ray cluster (``ray.init(num_cpus=2)``, started once per session):
the same per-clip function gives the same reports as the process pool, the driver writes the
reports, and the resumable cache works the same way."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray")  # in the test extra: skipped only outside `pip install .[test]`

from vidlint.batch import run_batch
from vidlint.config import build_config
from vidlint.engine import make_engine
from vidlint.synth import Artifact

from .test_engine import _reports


@pytest.fixture(scope="module")
def local_ray():
    ray.init(
        num_cpus=2,
        num_gpus=0,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    yield ray
    ray.shutdown()


def test_ray_gives_the_same_reports_as_the_pool(local_ray, synth_clip, tmp_path):
    spec = {"width": 320, "height": 240, "frames": 32}
    clips = [
        synth_clip("ray-freeze", ".mp4", [Artifact("freeze", 8, 12)], **spec),
        synth_clip("ray-cut", ".mp4", [Artifact("cut", 16)], **spec),
        synth_clip("ray-clean", ".mp4", [], **spec),
    ]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 4096)
    inputs = [*clips, broken]
    config = build_config({"select": ["TMP"]})
    pooled = run_batch(inputs, config, tmp_path / "pool", engine="pool", jobs=2)
    seen = []
    on_ray = run_batch(
        inputs, config, tmp_path / "ray", engine="ray", keep_reports=True, on_result=seen.append
    )
    assert ray.is_initialized()  # the engine used the running cluster and left it running
    assert _reports(tmp_path / "ray") == _reports(tmp_path / "pool")
    assert len(_reports(tmp_path / "ray")) == 3
    same = {"seconds": 0, "reports": None}  # timing and output folder differ by design
    assert [o.to_dict() | same for o in on_ray.outcomes] == [
        o.to_dict() | same for o in pooled.outcomes
    ]
    assert on_ray.outcomes[0].reports == {"json": str(tmp_path / "ray" / "ray-freeze.vidlint.json")}
    assert on_ray.outcomes[3].error.startswith(str(broken)) and on_ray.exit_code == 2
    assert [f.code for f in on_ray.reports[str(clips[0])].findings] == ["TMP001"]
    assert len(seen) == 4

    again = run_batch(inputs, config, tmp_path / "ray", engine="ray")
    assert [o.cached for o in again.outcomes] == [True, True, True, False]


def test_ray_address_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "ray://head.example:10001")
    assert make_engine("ray").address == "ray://head.example:10001"
    assert make_engine("ray", address="auto").address == "auto"
