"""The regeneration loop: check -> request -> submit -> fetch -> check again, until the clip
passes or the budget is spent; resumable from its SQLite state after a crash or a kill.

Policy lives here, not in backends: retries with backoff, the attempt and wall-time budget, the
idempotency key stored before submitting, salvage by trimming, keeping the best attempt.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidlint.backends import FAILED as JOB_FAILED
from vidlint.backends import Backend, JobStatus, make_backend
from vidlint.config import Config
from vidlint.decode.clip import sha256_file
from vidlint.engine.work import write_reports
from vidlint.errors import BackendError, InputError, VidlintError
from vidlint.fileio import write_json_atomic
from vidlint.pipeline import Checker
from vidlint.regen import history_html
from vidlint.regen.request import RegenRequest, build_request, initial_request, passes
from vidlint.regen.retry import call_with_retries
from vidlint.regen.salvage import best_clean_frame, salvage_cut, trim_clip
from vidlint.regen.settings import RegenSettings, regen_settings
from vidlint.regen.state import (
    CHECKED,
    FAILED,
    FETCHED,
    PLANNED,
    SUBMITTED,
    SUBMITTING,
    Attempt,
    StateStore,
)
from vidlint.report.model import Report

log = logging.getLogger(__name__)

HISTORY_SCHEMA = "vidlint.regen-history/1"
STATE_NAME = "state.sqlite"
PASSED, SALVAGED, EXHAUSTED = "passed", "salvaged", "exhausted"
TERMINAL = (PASSED, SALVAGED, EXHAUSTED)


@dataclass
class FixResult:
    clip: str
    job: str
    status: str
    final_attempt: int | None
    final_path: str | None
    history: dict[str, Any] = field(default_factory=dict)
    history_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in (PASSED, SALVAGED)


class Fixer:
    """Runs the loop for clips with one configuration and one backend. Reusable."""

    def __init__(
        self,
        config: Config,
        backend: str | Backend,
        work_dir: str | Path,
        out_dir: str | Path | None = None,
        settings: RegenSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.config = config
        self.settings = settings or regen_settings(config)
        self.work_dir = Path(work_dir).resolve()  # paths in the state survive a cd
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.backend = (
            make_backend(backend, config, self.work_dir / "backend")
            if isinstance(backend, str)
            else backend
        )
        self.skipped = dict(getattr(self.backend, "skipped_rungs", dict)())
        """Rungs the backend cannot apply (e.g. no image input for i2v): left out of the ladder
        so that they never spend an attempt; each job's history says why."""
        if self.skipped:
            ladder = tuple(r for r in self.settings.ladder if r not in self.skipped)
            self.settings = dataclasses.replace(self.settings, ladder=ladder)
        self.store = StateStore(self.work_dir / STATE_NAME)
        self.checker = Checker(config)
        self.sleep = sleep
        self.rng = random.Random(seed)
        self.on_event = on_event

    def close(self) -> None:
        self.store.close()
        close = getattr(self.backend, "close", None)  # optional: HTTP clients hold sockets
        if callable(close):
            close()

    # -- the loop -----------------------------------------------------------------------------
    def fix(self, path: str | Path, context: dict[str, Any] | None = None) -> FixResult:
        """Take one clip through the loop (or resume it); never submits an attempt twice."""
        path = Path(path)
        if not path.is_file():
            raise InputError("no such file", path)
        sha = sha256_file(path)
        job = f"{_safe_stem(path)}-{sha[:12]}"
        self.store.create_job(job, str(path), sha, self.backend.name, dict(context or {}))
        row = self.store.job(job)
        assert row is not None
        if row["status"] in TERMINAL:
            return self._result(job, path)
        started = time.monotonic()
        if not self.store.attempts(job):
            self.store.add_attempt(job, 0, "original", FETCHED)
            self.store.update_attempt(job, 0, output_path=str(path), output_sha256=sha)
            for rung, reason in self.skipped.items():
                self._event(job, None, "skipped", f"the {rung} rung is skipped: {reason}")
        while True:
            attempts = self.store.attempts(job)
            pending = [a for a in attempts if a.status not in (CHECKED, FAILED)]
            if pending:
                self._advance(job, pending[0], dict(row["context"] or {}))
                continue
            checked = [a for a in attempts if a.status == CHECKED]
            if not checked:
                raise InputError(attempts[0].error or "cannot check the clip", path)
            last = checked[-1]
            last_report = Report.from_dict(last.report or {})
            if passes(last_report, self.settings):
                status = SALVAGED if last.kind == "trim" else PASSED
                return self._finish(job, path, status, last)
            if self._try_salvage(job, attempts, last, last_report):
                continue
            regens = [a for a in attempts if a.kind == "regen"]
            if len(regens) >= self.settings.max_attempts:
                self._event(job, None, "budget", f"{len(regens)} attempts spent")
                return self._finish(job, path, EXHAUSTED, best_attempt(checked))
            if time.monotonic() - started > self.settings.max_wall_s:
                self._event(
                    job, None, "budget", f"wall time {self.settings.max_wall_s:.0f} s spent"
                )
                return self._finish(job, path, EXHAUSTED, best_attempt(checked))
            self._plan(job, attempts, dict(row["context"] or {}))

    def _plan(self, job: str, attempts: list[Attempt], context: dict[str, Any]) -> None:
        """Build and store the next request (with its idempotency key) before sending it."""
        checked = [a for a in attempts if a.status == CHECKED and a.kind != "trim"]
        base = checked[-1]
        report = Report.from_dict(base.report or {})
        regens = [a for a in attempts if a.kind == "regen"]
        # build on the last request that produced a clip: a failed attempt's changes were
        # never tried, so they are not escalated upon
        previous = next(
            (
                RegenRequest.from_dict(a.request)
                for a in reversed(regens)
                if a.request and a.status == CHECKED
            ),
            None,
        )
        if previous is None:
            original = Report.from_dict(attempts[0].report or {})
            previous = initial_request(
                job, {**original.context, **context}, original, self.settings
            )
        rung = sum(1 for a in regens if a.status == CHECKED)
        number = attempts[-1].attempt + 1
        clean_frame = None
        ladder = self.settings.ladder
        if rung < len(ladder) and ladder[rung] == "i2v" and previous.mode == "t2v":
            best = best_attempt([a for a in attempts if a.status == CHECKED])
            if best.output_path:
                target = self.work_dir / job / f"attempt-{number}" / "reference.png"
                found = best_clean_frame(
                    Path(best.output_path), Report.from_dict(best.report or {}), target
                )
                clean_frame = str(found) if found else None
        request = build_request(
            previous,
            report,
            number,
            self.settings,
            rung,
            parent_report=f"{job}#{base.attempt}",
            clean_frame=clean_frame,
            checker=self.checker,
        )
        lint = [
            {"code": f.code, "severity": f.severity, "message": f.message}
            for f in self.checker.check_prompt(request.context())
        ]
        self.store.add_attempt(
            job, number, "regen", PLANNED, request.to_dict(), request.idempotency_key
        )
        self.store.update_attempt(job, number, prompt_lint=lint)
        self._event(
            job,
            number,
            "planned",
            f"rung {min(rung, len(ladder) - 1) + 1} "
            f"({', '.join(sorted({c['rung'] for c in request.changes}))}); "
            f"reasons {', '.join(request.reasons) or '-'}",
        )

    def _advance(self, job: str, attempt: Attempt, context: dict[str, Any]) -> None:
        """Move one unfinished attempt on by as many steps as it can go."""
        number = attempt.attempt
        s = self.settings
        retry = {
            "tries": s.submit_tries,
            "base_s": s.retry_base_s,
            "cap_s": s.retry_cap_s,
            "max_retry_after_s": s.max_retry_after_s,
            "rng": self.rng,
            "sleep": self.sleep,
            "on_retry": lambda n, delay, exc: self._event(
                job, number, "retry", f"try {n} failed ({exc.cause}); next in {delay:.1f} s"
            ),
        }
        try:
            if attempt.status in (PLANNED, SUBMITTING):
                request = RegenRequest.from_dict(attempt.request or {})
                if attempt.status == SUBMITTING:
                    self._event(
                        job,
                        number,
                        "resubmit",
                        "resuming an interrupted submit with the same idempotency key",
                    )
                self.store.update_attempt(job, number, status=SUBMITTING)
                submission = call_with_retries(lambda: self.backend.submit(request), **retry)
                self.store.update_attempt(
                    job,
                    number,
                    status=SUBMITTED,
                    backend_job_id=submission.job_id,
                    response=submission.response,
                    job_status=submission.status.to_dict() if submission.status else None,
                )
                self._event(job, number, "submitted", f"backend job {submission.job_id}")
                attempt = self._reload(job, number)
            if attempt.status == SUBMITTED:
                status = JobStatus.from_dict(attempt.job_status) if attempt.job_status else None
                if status is None or not status.finished:
                    status = self._wait(job, attempt, retry)
                if status.state == JOB_FAILED:
                    raise BackendError(f"the backend reports the job failed: {status.detail}")
                dest = self.work_dir / job / f"attempt-{number}"
                output = call_with_retries(lambda: self.backend.fetch(status, dest), **retry)
                self.store.update_attempt(
                    job,
                    number,
                    status=FETCHED,
                    output_path=str(output),
                    output_sha256=sha256_file(Path(output)),
                )
                attempt = self._reload(job, number)
            if attempt.status == FETCHED:
                self._check(job, attempt, context)
        except VidlintError as exc:
            self.store.update_attempt(job, number, status=FAILED, error=str(exc))
            self._event(job, number, "failed", str(exc))
        except Exception as exc:  # a backend bug must not kill the batch; the row says why
            log.exception("internal error in attempt %s of %s", number, job)
            error = f"internal error ({type(exc).__name__}: {exc})"
            self.store.update_attempt(job, number, status=FAILED, error=error)
            self._event(job, number, "failed", error)

    def _wait(self, job: str, attempt: Attempt, retry: dict[str, Any]) -> JobStatus:
        job_id = attempt.backend_job_id or ""
        interval = self.settings.poll_interval_s
        deadline = time.monotonic() + self.settings.job_timeout_s
        while True:
            status = call_with_retries(lambda: self.backend.poll(job_id), **retry)
            if status.finished:
                self.store.update_attempt(job, attempt.attempt, job_status=status.to_dict())
                return status
            if time.monotonic() > deadline:
                try:
                    self.backend.cancel(job_id)
                except VidlintError as exc:
                    self._event(job, attempt.attempt, "cancel-failed", str(exc))
                raise BackendError(
                    f"job {job_id} not finished after "
                    f"{self.settings.job_timeout_s:.0f} s; cancelled"
                )
            self.sleep(interval)
            interval = min(interval * 1.5, self.settings.max_poll_interval_s)

    def _check(self, job: str, attempt: Attempt, context: dict[str, Any]) -> None:
        assert attempt.output_path
        if attempt.kind == "original":
            check_context = context
        elif attempt.kind == "trim":
            parent = self._reload(job, int((attempt.request or {})["trim_of"]))
            check_context = dict((parent.report or {}).get("context", {}))
        else:
            check_context = RegenRequest.from_dict(attempt.request or {}).context()
        try:
            report = self.checker.check(attempt.output_path, context=check_context)
        except InputError as exc:
            if attempt.kind == "original":
                raise
            raise BackendError(f"the returned file is not a usable video ({exc.cause})") from exc
        self.store.update_attempt(
            job,
            attempt.attempt,
            status=CHECKED,
            report=report.to_dict(),
            verdict=report.verdict,
            score=report.score,
        )
        self._event(
            job,
            attempt.attempt,
            "checked",
            f"{report.verdict} {report.score} "
            f"{', '.join(sorted({f.code for f in report.findings})) or '-'}",
        )

    def _try_salvage(
        self, job: str, attempts: list[Attempt], last: Attempt, report: Report
    ) -> bool:
        if not self.settings.salvage or last.kind == "trim" or not last.output_path:
            return False
        if any(
            a.kind == "trim" and (a.request or {}).get("trim_of") == last.attempt for a in attempts
        ):
            return False
        cut = salvage_cut(report, self.settings)
        if cut is None:
            return False
        number = attempts[-1].attempt + 1
        self.store.add_attempt(
            job, number, "trim", PLANNED, {"trim_of": last.attempt, "frames": cut}
        )
        self._event(
            job,
            number,
            "salvage",
            f"only frames {cut}+ of attempt {last.attempt} are bad: keeping the first {cut} frames",
        )
        target = self.work_dir / job / f"attempt-{number}" / "trimmed.mp4"
        try:
            trim_clip(Path(last.output_path), cut, target)
        except VidlintError as exc:
            self.store.update_attempt(job, number, status=FAILED, error=str(exc))
            return True
        self.store.update_attempt(
            job,
            number,
            status=FETCHED,
            output_path=str(target),
            output_sha256=sha256_file(Path(target)),
        )
        return True

    def _reload(self, job: str, number: int) -> Attempt:
        return next(a for a in self.store.attempts(job) if a.attempt == number)

    def _event(self, job: str, attempt: int | None, kind: str, detail: str) -> None:
        self.store.event(job, attempt, kind, detail)
        log.info("%s #%s %s: %s", job, attempt, kind, detail)
        if self.on_event:
            self.on_event(kind, {"job": job, "attempt": attempt, "detail": detail})

    # -- outputs ------------------------------------------------------------------------------
    def _finish(self, job: str, path: Path, status: str, final: Attempt) -> FixResult:
        final_path = None
        if self.out_dir is not None and final.output_path:
            label = "fixed" if status in (PASSED, SALVAGED) else "best"
            suffix = Path(final.output_path).suffix or ".mp4"
            target = self.out_dir / f"{_safe_stem(path)}_{label}{suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.part")
            shutil.copyfile(final.output_path, temp)
            temp.replace(target)
            final_path = str(target)
        self.store.finish_job(job, status, final.attempt, final_path or final.output_path)
        self._event(
            job,
            final.attempt,
            status,
            f"final attempt {final.attempt} ({final.verdict} {final.score})",
        )
        return self._result(job, path)

    def _result(self, job: str, path: Path) -> FixResult:
        row = self.store.job(job)
        assert row is not None
        history = self.history(job)
        history_path = None
        if self.out_dir is not None:
            stem = _safe_stem(path)
            history_path = str(write_json_atomic(self.out_dir / f"{stem}.regen.json", history))
            history_html.write(history, self.out_dir / f"{stem}.regen.html")
            final = next(
                (a for a in self.store.attempts(job) if a.attempt == row["final_attempt"]), None
            )
            if final is not None and final.report:
                report = Report.from_dict(final.report)
                report.extra["regen"] = summary_of(history)
                write_reports(report, self.out_dir, stem, self.config.formats)
        return FixResult(
            str(path),
            job,
            row["status"],
            row["final_attempt"],
            row["final_path"],
            history,
            history_path,
        )

    def history(self, job: str) -> dict[str, Any]:
        """The regeneration history of one clip: each attempt's changes, findings and score."""
        row = self.store.job(job) or {}
        attempts = []
        for a in self.store.attempts(job):
            request = a.request or {}
            report = a.report or {}
            attempts.append(
                {
                    "attempt": a.attempt,
                    "kind": a.kind,
                    "status": a.status,
                    "idempotency_key": a.idempotency_key,
                    "backend_job_id": a.backend_job_id,
                    "request": request if a.kind == "regen" else None,
                    "trim": request if a.kind == "trim" else None,
                    "changes": request.get("changes", []),
                    "reasons": request.get("reasons", []),
                    "prompt_lint": a.prompt_lint or [],
                    "verdict": a.verdict,
                    "score": a.score,
                    "findings": [
                        {
                            k: f[k]
                            for k in ("code", "severity", "start_frame", "end_frame", "message")
                        }
                        for f in report.get("findings", [])
                    ],
                    "output": a.output_path,
                    "sha256": a.output_sha256,
                    "error": a.error,
                }
            )
        return {
            "schema": HISTORY_SCHEMA,
            "job": job,
            "clip": row.get("clip"),
            "clip_sha256": row.get("clip_sha256"),
            "backend": row.get("backend"),
            "status": row.get("status"),
            "final_attempt": row.get("final_attempt"),
            "final_path": row.get("final_path"),
            "attempts": attempts,
            "events": self.store.events(job),
        }


def summary_of(history: dict[str, Any]) -> dict[str, Any]:
    """The short form that goes into the final report's ``extra.regen`` (and the HTML report)."""
    return {
        "status": history["status"],
        "final_attempt": history["final_attempt"],
        "attempts": [
            {k: a[k] for k in ("attempt", "kind", "status", "verdict", "score", "changes", "error")}
            | {"codes": sorted({f["code"] for f in a["findings"]})}
            for a in history["attempts"]
        ],
    }


def best_attempt(checked: list[Attempt]) -> Attempt:
    """The highest score; on a tie the earlier attempt (fewer changes from what was asked)."""
    return max(checked, key=lambda a: (a.score if a.score is not None else -1, -a.attempt))


def _safe_stem(path: Path) -> str:
    stem = path.stem if path.is_file() else path.name
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:80] or "clip"
