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
import select
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


def watch_parent(parent: int) -> None:
    """In a worker: exit (after the clip in hand) as soon as the parent process, pid
    ``parent``, is gone. The pid comes from the parent: a worker still starting when its parent
    was killed already has another parent, and would wait for that one for ever."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)

    def wake(*_: object) -> None:
        # a signal handler takes no lock: a second signal arriving while the first one's
        # handler held it (an Event's, say) would deadlock the main thread on it
        with suppress(BlockingIOError):
            os.write(wake_write, b"\0")

    if sys.platform.startswith("linux"):
        signal.signal(signal.SIGUSR1, wake)
        with suppress(OSError, AttributeError):  # the pid watch below still works
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGUSR1)
    if os.getppid() != parent:  # gone before the signal was asked for: it will never come
        os._exit(0)

    def watch() -> None:
        # the signal also comes when the thread that started this worker ends while its
        # process lives on: only a changed parent pid means the parent is gone
        while os.getppid() == parent:
            if select.select([wake_read], [], [], POLL_S)[0]:
                os.read(wake_read, 4096)
        with _working:
            os._exit(0)

    threading.Thread(target=watch, name="vidlint-parent-watch", daemon=True).start()
