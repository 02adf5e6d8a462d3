"""The one run path. A :class:`Checker` runs the same stages for a clip, a source image or a
prompt: measure (decode once and stream the frames through the analyzers the selected rules
need), judge (the rules on the signals and outputs, then the aggregate rules on the badness
curves), and build the :class:`~vidlint.report.model.Report` in one place."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidlint.analyzers import ANALYZERS
from vidlint.analyzers.base import Analyzer
from vidlint.analyzers.reference import image_size
from vidlint.analyzers.source import DEFAULT_TARGET
from vidlint.clip_context import complete_context
from vidlint.config import Config, load_config
from vidlint.decode import Clip, ClipInfo, DecodeIssue, open_clip, open_frames, sha256_file
from vidlint.errors import DecodeError, InputError
from vidlint.gpu import device_label, pipeline_device
from vidlint.native_logs import quiet_native_logs
from vidlint.report.model import SEVERITY_WEIGHT, Finding, Report
from vidlint.rules import load_rules
from vidlint.rules.base import Rule, RuleInput
from vidlint.signals import Signals

MIN_FRAMES = 2
INPUT_FAMILIES = ("PRM", "SRC")
"""Families about the inputs (the prompt, the source image), not about frames: no badness curve,
so they cannot make frames look bad to the aggregate rules."""


@dataclass
class Measurement:
    """What the measure stage leaves for the rules."""

    signals: Signals
    clip: ClipInfo | None
    outputs: dict[str, Any] = field(default_factory=dict)
    """Per-clip outputs by analyzer name (None for analyzers that declare none)."""
    issues: tuple[DecodeIssue, ...] = ()
    declared_frames: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per analyzer."""
    decode_s: float = 0.0


class Checker:
    """Checks clips, source images and prompts with one configuration. Reusable: build once,
    call per input."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or load_config()
        self.device = pipeline_device(self.config.device)
        """The torch device of the analyzers' batched math, or None for OpenCV/numpy."""

    def check(self, path: str | Path, context: Mapping[str, Any] | None = None) -> Report:
        """Check one clip. Raises :class:`~vidlint.errors.InputError` if it cannot be used."""
        started = time.perf_counter()
        path = Path(path)
        config = self.config.for_clip(path)
        context = complete_context(path, dict(context or {}))
        clip = open_clip(path, decoder=config.decoder, short_side=config.working_short_side)
        rules = config.enabled_rules()
        measured = self._measure(clip, rules, config, context)
        return self._report(measured, rules, config, context, started)

    def check_frames(
        self,
        frames: np.ndarray,
        fps: float,
        context: Mapping[str, Any] | None = None,
        name: str = "frames",
    ) -> Report:
        """Check frames held in memory (RGB uint8, N x H x W x 3) as a clip at ``fps``; ``name``
        stands for its path in the report."""
        started = time.perf_counter()
        context = {k: v for k, v in dict(context or {}).items() if v is not None}
        context.setdefault("mode", "i2v" if context.get("reference") else "t2v")
        clip = open_frames(frames, fps, name, short_side=self.config.working_short_side)
        rules = self.config.enabled_rules()
        measured = self._measure(clip, rules, self.config, context)
        return self._report(measured, rules, self.config, context, started)

    def check_source(self, path: str | Path, target: tuple[int, int] = DEFAULT_TARGET) -> Report:
        """Lint one image-to-video source image for a clip of ``target`` (width, height)
        pixels: the SRC rules, on frame 0. Raises InputError for a missing or unreadable
        image."""
        started = time.perf_counter()
        path = Path(path)
        if target[0] < 1 or target[1] < 1:
            raise InputError(f"target size {target[0]}x{target[1]} is not a size")
        width, height = image_size(path, "source image")
        context = {"mode": "i2v", "reference": str(path), "target": [target[0], target[1]]}
        image = ClipInfo(
            path=str(path),
            sha256=sha256_file(path),
            width=width,
            height=height,
            fps=0.0,
            frame_count=1,
            duration_s=0.0,
            codec="image",
            container=path.suffix.lstrip(".").lower(),
        )
        rules = [r for r in self.config.enabled_rules() if r.family == "SRC"]
        analyzers = self._analyzers(rules, self.config, image, context)
        signals = Signals(np.zeros(1), 0.0, width, height)
        measured = _collect(analyzers, signals, {name: 0.0 for name in analyzers})
        measured.clip = image
        return self._report(measured, rules, self.config, context, started)

    def check_prompt(self, context: Mapping[str, Any]) -> list[Finding]:
        """The PRM rules on a prompt with no clip (a regeneration request). A prompt is always
        linted unless the config ignores PRM (or a code) explicitly: ``--select TMP`` picks what
        to check in the frames, not whether to look at the prompt."""
        rules = [
            r
            for code, r in load_rules().items()
            if r.family == "PRM" and not self.config.explicitly_ignored(code)
        ]
        measured = Measurement(Signals(np.zeros(0), 0.0), None)
        return _judge(measured, rules, self.config, context)[0]

    # -- stages ------------------------------------------------------------------------------
    def _measure(
        self, clip: Clip, rules: list[Rule], config: Config, context: Mapping[str, Any]
    ) -> Measurement:
        """Decode once, streaming every frame through the analyzers."""
        path = Path(clip.info.path)
        with clip, quiet_native_logs():  # MediaPipe's log lines stay off the caller's stderr
            analyzers = self._analyzers(rules, config, clip.info, context)
            timings = {name: 0.0 for name in analyzers}
            times: list[float] = []
            decode_s = 0.0
            frames = clip.frames()
            while True:
                tick = time.perf_counter()
                frame = next(frames, None)
                decode_s += time.perf_counter() - tick
                if frame is None:
                    break
                times.append(frame.time_s)
                for name, analyzer in analyzers.items():
                    tick = time.perf_counter()
                    analyzer.update(frame)
                    timings[name] += time.perf_counter() - tick
            if not times:
                cause = clip.issues[0].message if clip.issues else "the stream holds no frames"
                raise DecodeError(f"no decodable frames ({cause})", path)
            if len(times) < MIN_FRAMES:
                raise InputError("only 1 frame: a clip needs at least 2", path)
            signals = Signals(np.asarray(times), clip.info.fps, clip.info.width, clip.info.height)
            measured = _collect(analyzers, signals, timings)
            measured.clip, measured.issues = clip.info, tuple(clip.issues)
            measured.declared_frames = int(clip.declared_frames or 0)
            measured.decode_s = decode_s
        return measured

    def _analyzers(
        self, rules: list[Rule], config: Config, info: ClipInfo, context: Mapping[str, Any]
    ) -> dict[str, Analyzer]:
        """The analyzers the rules require or use, built with their settings; those that need
        a source image are left out when there is none."""
        names = sorted({name for r in rules for name in r.analyzers})
        analyzers: dict[str, Analyzer] = {}
        for name in names:
            cls = ANALYZERS.get(name)
            if cls.needs.reference and not context.get("reference"):
                continue
            params = config.analyzer_params(cls)
            if cls.uses_device:
                analyzers[name] = cls(params, info, context, device=self.device)
            else:
                analyzers[name] = cls(params, info, context)
        return analyzers

    def _report(
        self,
        measured: Measurement,
        rules: list[Rule],
        config: Config,
        context: Mapping[str, Any],
        started: float,
    ) -> Report:
        tick = time.perf_counter()
        findings, badness = _judge(measured, rules, config, context)
        rules_s = time.perf_counter() - tick
        assert measured.clip is not None
        errors = [
            {"frame": i.index, "time_s": i.time_s, "message": i.message, "fatal": False}
            for i in measured.issues
        ]
        timings: dict[str, Any] = {
            "analyzers_s": {k: round(v, 4) for k, v in measured.timings.items()},
            "rules_s": round(rules_s, 4),
            "total_s": round(time.perf_counter() - started, 4),
        }
        if measured.clip.codec != "image":
            timings = {"decode_s": round(measured.decode_s, 4), **timings}
        return Report(
            clip=measured.clip.to_dict(),
            context=dict(context),
            findings=findings,
            frame_index=list(range(measured.signals.n)),
            frame_time_s=measured.signals.time_s.tolist(),
            signals=measured.signals.per_frame(),
            badness=badness,
            config={**config.effective(), "device_used": device_label(self.device)},
            timings=timings,
            errors=errors,
            extra={
                name: dataclasses.asdict(output)
                for name, output in measured.outputs.items()
                if output is not None
            },
        )


def _collect(
    analyzers: Mapping[str, Analyzer], signals: Signals, timings: dict[str, float]
) -> Measurement:
    """Each analyzer's ``finish()``, checked against its declaration, into one measurement."""
    outputs: dict[str, Any] = {}
    for name, analyzer in analyzers.items():
        tick = time.perf_counter()
        measured = type(analyzer).checked(analyzer.finish())
        for key, values in measured.signals.items():
            signals.add(key, values)
        outputs[name] = measured.output
        timings[name] += time.perf_counter() - tick
    return Measurement(signals, None, outputs, timings=timings)


def _judge(
    measured: Measurement, rules: list[Rule], config: Config, context: Mapping[str, Any]
) -> tuple[list[Finding], dict[str, list[float]]]:
    """The signal-stage rules whose required analyzers ran, then the aggregate stage over
    their badness curves; findings in frame order."""
    data = RuleInput(
        measured.signals,
        measured.clip,
        context,
        measured.issues,
        measured.outputs,
        measured.declared_frames,
    )
    n = measured.signals.n
    findings = _run_rules([r for r in rules if r.stage == "signals"], data, config)
    badness = badness_curves(findings, n)
    aggregate = [r for r in rules if r.stage == "aggregate"]
    if aggregate:
        data = dataclasses.replace(data, findings=tuple(findings), badness=badness)
        findings += _run_rules(aggregate, data, config)
        badness = badness_curves(findings, n)
    findings.sort(key=lambda f: (f.start_frame, f.code, f.peak_frame))
    return findings, badness


def _run_rules(rules: list[Rule], data: RuleInput, config: Config) -> list[Finding]:
    """Each rule whose required analyzers ran (the reference analyzers do not run without a
    source image)."""
    findings: list[Finding] = []
    for rule in rules:
        if all(name in data.outputs for name in rule.requires):
            findings += rule.run(data, config.rule_params(rule), config.rule_severity(rule))
    return findings


def badness_curves(findings: list[Finding], n: int) -> dict[str, list[float]]:
    """Per family, per frame: the worst finding covering the frame (severity weight x
    confidence). A family with no finding has no curve."""
    curves: dict[str, np.ndarray] = {}
    for finding in findings:
        if finding.family in INPUT_FAMILIES:
            continue
        curve = curves.setdefault(finding.family, np.zeros(n))
        value = SEVERITY_WEIGHT[finding.severity] * finding.confidence
        lo, hi = max(0, finding.start_frame), min(n - 1, finding.end_frame)
        curve[lo : hi + 1] = np.maximum(curve[lo : hi + 1], value)
    return {family: np.round(curve, 3).tolist() for family, curve in sorted(curves.items())}
