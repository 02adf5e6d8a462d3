"""Keep native libraries' log lines off stderr.

MediaPipe's TFLite and absl code write "INFO: Created TensorFlow Lite XNNPACK delegate" and
"W0000 ... inference_feedback_manager" lines straight to file descriptor 2, and no environment
variable silences them. The CLI filters descriptor 2 for its whole process (``vidlint.cli.quiet``);
a library must not take over a program's stderr for good, so :func:`quiet_native_logs` does it
only while a check runs: descriptor 2 goes to a temporary file, and on leaving, every line written
there except those log lines is passed on to the real stderr (the caller's own lines are kept,
only delayed until the check ends).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO

NATIVE_NOISE = re.compile(
    rb"^(?:[IWE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\]"  # absl / glog lines
    rb"|INFO: Created TensorFlow Lite"
    rb"|WARNING: All log messages before absl::InitializeLog)"
)

_lock = threading.Lock()
_depth = 0
_saved: int | None = None
_capture: IO[bytes] | None = None


@contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Filter descriptor 2 while inside (nested and concurrent uses share one redirection)."""
    _enter()
    try:
        yield
    finally:
        _leave()


def _enter() -> None:
    global _depth, _saved, _capture
    with _lock:
        _depth += 1
        if _depth > 1:
            return
        try:
            sys.stderr.flush()
            capture = tempfile.TemporaryFile()  # noqa: SIM115 (closed on leaving)
            saved = os.dup(2)
            os.dup2(capture.fileno(), 2)
        except (OSError, ValueError):  # no descriptor 2 to filter: leave things as they are
            return
        _saved, _capture = saved, capture


def _leave() -> None:
    global _depth, _saved, _capture
    with _lock:
        _depth -= 1
        if _depth or _saved is None or _capture is None:
            return
        saved, capture, _saved, _capture = _saved, _capture, None, None
        with suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        with capture:
            capture.seek(0)
            kept = b"".join(line for line in capture if not NATIVE_NOISE.match(line))
        if kept:
            os.write(2, kept)
