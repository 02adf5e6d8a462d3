"""Run ``vidlint`` commands in processes forked from a warm server (multiprocessing's forkserver
with the CLI preloaded), so the crash tests can kill and re-run a command many times without
paying the interpreter's start-up each time; and the checks every crash test shares."""

from __future__ import annotations

import multiprocessing
import os
import pkgutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import vidlint
from vidlint import crashpoints

PRELOAD = [
    "pytest",
    "httpx",
    "standardwebhooks",
    "uvicorn",
] + [  # pytest: each child runs its script again
    module.name
    for module in pkgutil.walk_packages(vidlint.__path__, "vidlint.")
    if not module.name.startswith(("vidlint.gpu", "vidlint.engine.ray"))
    and not module.name.endswith("__main__")
]
"""Imported once by the fork server (installed modules: it does not see the tests' path)."""
RUN_ENV = "VIDLINT_TEST_RUN"
"""A token in the environment of a command and of every process it starts (orphan check)."""
TEMP_PATTERNS = ("*.tmp", "*.part", "*.part.*")


@dataclass
class Run:
    code: int
    """The exit status; -9 when a crash point killed it."""
    output: str
    token: str


def _command(argv: list[str], env: dict[str, str], cwd: str, output: str) -> None:
    os.chdir(cwd)
    for name in (crashpoints.AT_ENV, crashpoints.LOG_ENV):
        os.environ.pop(name, None)
    os.environ.update(env)
    crashpoints.configure()
    handle = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    sys.argv = ["vidlint", *argv]
    from vidlint.cli.app import main

    main()


class Command:
    """``vidlint ARGV`` running in ``cwd``; with ``crash_at`` it kills itself at that step,
    with ``log`` it records the steps it reaches."""

    def __init__(
        self,
        argv: list[str],
        cwd: Path,
        crash_at: str | None = None,
        log: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        self.token = uuid.uuid4().hex
        variables = {RUN_ENV: self.token, **(env or {})}
        if crash_at:
            variables[crashpoints.AT_ENV] = crash_at
        if log:
            variables[crashpoints.LOG_ENV] = str(log)
        self.output = cwd / f".vidlint-output-{self.token[:8]}.txt"
        self.process = context.Process(
            target=_command, args=(argv, variables, str(cwd), str(self.output))
        )
        self.process.start()

    def wait(self, timeout: float = 120.0) -> Run:
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()
            raise AssertionError(f"the command did not finish in {timeout:.0f} s")
        text = self.output.read_text(errors="replace") if self.output.is_file() else ""
        self.output.unlink(missing_ok=True)
        return Run(self.process.exitcode, text, self.token)


def vidlint(
    argv: list[str],
    cwd: Path,
    crash_at: str | None = None,
    log: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> Run:
    """Run ``vidlint ARGV`` in ``cwd`` to its end (see :class:`Command`)."""
    return Command(argv, cwd, crash_at, log, env).wait(timeout)


def steps(log: Path) -> list[str]:
    """The crash points one run reached, as ``STEP#N`` (N: the N-th time its process reached
    STEP), in the order they were first reached."""
    counts: dict[tuple[str, str], int] = {}
    points: list[str] = []
    for line in log.read_text().splitlines():
        pid, step = line.split(" ", 1)
        count = counts[pid, step] = counts.get((pid, step), 0) + 1
        point = f"{step}#{count}"
        if point not in points:
            points.append(point)
    return points


def processes_with(token: str) -> list[int]:
    """The live processes whose environment holds ``token`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"{RUN_ENV}={token}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def wait_no_processes(token: str, timeout: float = 20.0) -> None:
    """No process of the run ``token`` is left (workers notice a dead parent and exit)."""
    deadline = time.monotonic() + timeout
    while left := processes_with(token):
        if time.monotonic() > deadline:
            described = [describe_process(pid) for pid in left]
            for pid in left:  # leave no process behind, then fail
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"orphan processes left: {described}")
        time.sleep(0.05)


def describe_process(pid: int) -> str:
    """``pid (command line, parent pid, what it waits in)``, for a failure message."""
    folder = Path("/proc", str(pid))
    try:
        command = (folder / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        status = dict(line.split(":\t", 1) for line in (folder / "status").read_text().splitlines())
        wchan = (folder / "wchan").read_text()
    except OSError:
        return f"{pid} (gone)"
    return f"{pid} ({command.strip()}, parent {status.get('PPid')}, in {wchan})"


def temp_files(*folders: Path) -> list[Path]:
    return sorted(
        path for folder in folders for pattern in TEMP_PATTERNS for path in folder.rglob(pattern)
    )
