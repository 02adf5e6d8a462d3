"""The one pipeline: decode once, stream frames through the analyzers the selected rules need,
run the rules on the signals, aggregate findings into a report."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from vidlint.analyzers import ANALYZERS
from vidlint.clip_context import complete_context
from vidlint.config import Config, load_config
from vidlint.decode import open_clip
from vidlint.errors import DecodeError, InputError
from vidlint.gpu import device_label, pipeline_device
from vidlint.native_logs import quiet_native_logs
from vidlint.report.model import SEVERITY_WEIGHT, Finding, Report
from vidlint.rules.base import Rule, RuleInput
from vidlint.signals import Signals

log = logging.getLogger(__name__)

MIN_FRAMES = 2


class Checker:
    """Checks clips with one configuration. Reusable: build once, call ``check`` per clip."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or load_config()
        self.device = pipeline_device(self.config.device)
        """The torch device of the analyzers' batched math, or None for OpenCV/numpy."""

    def check(self, path: str | Path, context: dict[str, Any] | None = None) -> Report:
        """Check one clip. Raises :class:`~vidlint.errors.InputError` if it cannot be used."""
        with quiet_native_logs():  # MediaPipe's log lines stay off the caller's stderr
            return self._check(Path(path), context)

    def _check(self, path: Path, context: dict[str, Any] | None) -> Report:
        config = self.config.for_clip(path)
        context = complete_context(path, dict(context or {}))
        started = time.perf_counter()
        rules = config.enabled_rules()
        with open_clip(path, decoder=config.decoder, short_side=config.working_short_side) as clip:
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
            for name, analyzer in analyzers.items():
                tick = time.perf_counter()
                for key, values in analyzer.finish().items():
                    signals.add(key, values)
                if analyzer.meta:
                    signals.meta[name] = analyzer.meta
                timings[name] += time.perf_counter() - tick
            signals.meta["decode"] = {"expected_frames": clip.declared_frames}
            info, issues = clip.info, tuple(clip.issues)
        data = RuleInput(signals, info, context, issues)
        tick = time.perf_counter()
        findings = run_rules([r for r in rules if r.stage == "signals"], data, config)
        badness = badness_curves(findings, signals.n)
        aggregate = [r for r in rules if r.stage == "aggregate"]
        if aggregate:
            data = RuleInput(signals, info, context, issues, tuple(findings), badness)
            findings += run_rules(aggregate, data, config)
            badness = badness_curves(findings, signals.n)
        rules_s = time.perf_counter() - tick
        findings.sort(key=lambda f: (f.start_frame, f.code, f.peak_frame))
        errors = [
            {"frame": i.index, "time_s": i.time_s, "message": i.message, "fatal": False}
            for i in issues
        ]
        return Report(
            clip=info.to_dict(),
            context=context,
            findings=findings,
            frame_index=list(range(signals.n)),
            frame_time_s=signals.time_s.tolist(),
            signals=signals.per_frame(),
            badness=badness,
            config={**config.effective(), "device_used": device_label(self.device)},
            timings={
                "decode_s": round(decode_s, 4),
                "analyzers_s": {k: round(v, 4) for k, v in timings.items()},
                "rules_s": round(rules_s, 4),
                "total_s": round(time.perf_counter() - started, 4),
            },
            errors=errors,
            extra={k: v for k, v in signals.meta.items() if k != "decode" and _is_reportable(v)},
        )

    def _analyzers(
        self, rules: list[Rule], config: Config, info: Any, context: dict[str, Any]
    ) -> dict[str, Any]:
        names = sorted({name for r in rules for name in r.requires})
        analyzers = {}
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


def run_rules(rules: list[Rule], data: RuleInput, config: Config) -> list[Finding]:
    """Run each rule whose signals are present (an analyzer may have been skipped, e.g. the
    reference analyzers when there is no source image)."""
    findings: list[Finding] = []
    present = {key.split(".")[0] for key in data.signals} | set(data.signals.meta)
    for rule in rules:
        if any(name not in present for name in rule.requires):
            continue
        findings += rule.run(data, config.rule_params(rule), config.rule_severity(rule))
    return findings


INPUT_FAMILIES = ("PRM", "SRC")
"""Families about the inputs (the prompt, the source image), not about frames: no badness curve,
so they cannot make frames look bad to the aggregate rules."""


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


def _is_reportable(value: Any) -> bool:
    import json

    try:
        json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    except (TypeError, ValueError):
        return False
    return True
