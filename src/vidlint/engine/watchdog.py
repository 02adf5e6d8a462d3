"""Pool workers end when their parent does. A worker whose command was killed (kill -9, the
out-of-memory killer) would otherwise live on for ever, blocked writing to a dead pipe and
holding its memory.

Linux tells a worker at once (the parent-death signal, ``prctl(PR_SET_PDEATHSIG)``); elsewhere a
thread notices within :data:`POLL_S` that the parent's pid changed. Either way the worker first
finishes the clip in hand (its reports and its cache entry get written, so a re-run takes the
clip from the cache), then exits.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

POLL_S = 0.5
PR_SET_PDEATHSIG = 1
_working = threading.Lock()


@contextmanager
def one_clip() -> Iterator[None]:
    """Hold the worker's exit back while a clip is checked and its results written."""
    with _working:
        yield


def watch_parent() -> None:
    """In a worker: exit (after the clip in hand) as soon as the parent process is gone."""
    parent = os.getppid()
    woken = threading.Event()
    if sys.platform.startswith("linux"):
        signal.signal(signal.SIGUSR1, lambda *_: woken.set())
        with suppress(OSError, AttributeError):  # the pid watch below still works
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGUSR1)

    def watch() -> None:
        # the signal also comes when the thread that started this worker ends while its
        # process lives on: only a changed parent pid means the parent is gone
        while os.getppid() == parent:
            woken.wait(POLL_S)
            woken.clear()
        with _working:
            os._exit(0)

    threading.Thread(target=watch, name="vidlint-parent-watch", daemon=True).start()
