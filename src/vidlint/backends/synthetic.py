"""``synthetic``: a built-in generator with no GPU, for trying ``vidlint fix`` and for tests.

It renders a procedural clip (:mod:`vidlint.synth`) whose defects depend on the request,
deterministically, the way practitioners describe real generators:

| problem | injected as | goes away when |
|---|---|---|
| ``stall`` | a freeze (TMP001) | the negative prompt says ``still frame``, ``static``, ``frozen`` |
| ``cut`` | a scene cut (TMP003) | the prompt asks for a ``continuous shot`` |
| ``decay`` | garbage from ``decay_after_s`` on (TMP005) | the clip is no longer than that |
| ``blank`` | black frames mid-clip (TMP004) | the request is image-to-video |

A new seed alone changes the scene but fixes nothing: only a more constrained request does, so
the loop converges only by escalating. Rendering happens at submit; the file is keyed by the
idempotency key, so submitting the same key twice renders once.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidlint.backends import (
    DONE,
    JobStatus,
    Submission,
    config_origin,
)
from vidlint.errors import BackendError
from vidlint.settings import param, read_settings

PROBLEMS = ("stall", "cut", "decay", "blank")


@dataclass(frozen=True)
class SyntheticSettings:
    """``[backend.synthetic]``."""

    problems: tuple[str, ...] = param(
        PROBLEMS, "the artifacts a first attempt has, each cured by its own rung", choices=PROBLEMS
    )
    decay_after_s: float = param(
        1.5, "clips longer than this degrade from here on (shorten cures it)"
    )
    max_side: int = param(480, "renders are kept small: the backend is for tests and demos")
    width: int = param(160, "when the request names no size")
    height: int = param(120, "when the request names no size")
    fps: float = param(24.0, "when the request names no rate")


STALL_CURES = ("still frame", "static", "frozen")


class SyntheticBackend:
    name = "synthetic"

    def __init__(
        self,
        settings: dict[str, Any] | None = None,
        config: Any = None,
        work_dir: Path | None = None,
    ) -> None:
        self.settings = read_settings(
            SyntheticSettings,
            settings,
            f"backend.{self.name}",
            config_origin(config),
            positive=True,
        )
        self.folder = Path(work_dir or "vidlint-synthetic") / "synthetic"
        self.renders = 0
        """How many clips this instance rendered (tests count duplicates with it)."""

    def problems_for(self, request: dict[str, Any]) -> list[str]:
        """The defects the clip for ``request`` will have."""
        negative = str(request.get("negative_prompt") or "").lower()
        prompt = str(request.get("prompt") or "").lower()
        params = request.get("params") or {}
        duration = float(params.get("duration_s") or 2.0)
        found = []
        for problem in self.settings.problems:
            if problem == "stall" and any(term in negative for term in STALL_CURES):
                continue
            if problem == "cut" and "continuous shot" in prompt:
                continue
            if problem == "decay" and duration <= self.settings.decay_after_s + 1e-6:
                continue
            if problem == "blank" and request.get("mode") == "i2v" and request.get("reference"):
                continue
            found.append(problem)
        return found

    def submit(self, request: Any) -> Submission:
        data = request.to_dict() if hasattr(request, "to_dict") else dict(request)
        key = data.get("idempotency_key") or ""
        if not key:
            raise BackendError("request has no idempotency key")
        target = self.folder / f"{key[:32]}.mp4"
        problems = self.problems_for(data)
        if not target.is_file():
            self._render(data, problems, target)
        status = JobStatus(DONE, (target.name,), f"problems: {', '.join(problems) or 'none'}")
        return Submission(key[:32], status, {"problems": problems, "file": target.name})

    def poll(self, job_id: str) -> JobStatus:
        target = self.folder / f"{job_id}.mp4"
        if not target.is_file():
            raise BackendError(f"unknown job {job_id!r}")
        return JobStatus(DONE, (target.name,))

    def fetch(self, status: JobStatus, dest: Path) -> Path:
        if not status.outputs:
            raise BackendError("the job has no output")
        name = Path(status.outputs[0]).name  # our own file name, still never a path
        source = self.folder / name
        if not source.is_file():
            raise BackendError(f"output {name!r} is missing")
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / "output.mp4"
        shutil.copyfile(source, target)
        return target

    def cancel(self, job_id: str) -> None:
        return None

    def _render(self, data: dict[str, Any], problems: list[str], target: Path) -> None:
        from vidlint.synth import Artifact, SynthSpec, write_clip  # 60 ms, for renders only

        params = data.get("params") or {}
        fps = float(params.get("fps") or self.settings.fps)
        width = int(params.get("width") or self.settings.width)
        height = int(params.get("height") or self.settings.height)
        scale = min(1.0, self.settings.max_side / max(width, height))
        width, height = (
            max(16, int(width * scale) // 2 * 2),
            max(16, int(height * scale) // 2 * 2),
        )
        frames = max(8, round(float(params.get("duration_s") or 2.0) * fps))
        artifacts = []
        if "stall" in problems:
            artifacts.append(Artifact("freeze", int(0.15 * frames), max(10, frames // 4)))
        if "blank" in problems:
            artifacts.append(Artifact("black", int(0.4 * frames), 2))
        if "cut" in problems:
            artifacts.append(Artifact("cut", int(0.7 * frames)))
        if "decay" in problems:
            start = round(self.settings.decay_after_s * fps)
            if start < frames - 1:
                artifacts.append(Artifact("corrupt", start, frames - start))
        motion = float(params.get("motion_strength") or 1.0)
        spec = SynthSpec(
            width=width,
            height=height,
            fps=fps,
            frames=frames,
            seed=int(data.get("seed") or 0) % 100_000,
            camera="pan",
            motion=max(0.3, motion),
            artifacts=artifacts,
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.stem}.part.mp4")
        try:
            write_clip(spec, temp, write_labels=False)
        except (ValueError, OSError) as exc:
            raise BackendError(f"synthetic render failed: {exc}") from exc
        temp.replace(target)
        (target.with_suffix(".json")).write_text(json.dumps({"problems": problems}))
        self.renders += 1


BACKEND = SyntheticBackend
