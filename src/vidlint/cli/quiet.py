"""Keep native libraries' log lines off the user's terminal.

MediaPipe's TFLite and absl code write "INFO: Created TensorFlow Lite XNNPACK delegate" and
"W0000 ... inference_feedback_manager" lines straight to file descriptor 2, from their own
threads, and no environment variable silences them. The CLI routes descriptor 2 through a pipe
whose reader drops those lines and passes everything else on; Python's own ``sys.stderr`` writes
to the original descriptor directly, so vidlint's one-line errors never wait on the filter.
Worker processes inherit descriptor 2, so their native lines are filtered too. (A library caller
gets the same filter only while a check runs: ``vidlint.native_logs``.)
"""

from __future__ import annotations

import os
import sys
import threading

from vidlint.native_logs import NATIVE_NOISE


def filter_native_logs() -> None:
    """Install the filter once per process (the CLI's entry point calls it)."""
    if getattr(filter_native_logs, "installed", False):
        return
    filter_native_logs.installed = True  # type: ignore[attr-defined]
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    sys.stderr = open(  # noqa: SIM115 (stderr for the rest of the process, never closed)
        original,
        "w",
        buffering=1,
        encoding="utf-8",
        errors="backslashreplace",
        closefd=False,
    )
    threading.Thread(
        target=_forward, args=(read_end, original), daemon=True, name="native-log-filter"
    ).start()


def _forward(read_end: int, original: int) -> None:
    with os.fdopen(read_end, "rb") as lines:
        for line in lines:
            if not NATIVE_NOISE.match(line):
                os.write(original, line)
