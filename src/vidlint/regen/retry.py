"""Retries for backend calls: exponential backoff with full jitter, honouring Retry-After.

Only :class:`~vidlint.backends.TransientBackendError` is retried; any other BackendError is
final. Submitting is safe to retry because requests carry an idempotency key.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from vidlint.backends import TransientBackendError
from vidlint.errors import BackendError

T = TypeVar("T")


def backoff_delay(try_index: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Full jitter: ``random(0, min(cap, base * 2**n))``."""
    return rng.uniform(0.0, min(cap_s, base_s * 2**try_index))


def call_with_retries(
    call: Callable[[], T],
    *,
    tries: int,
    base_s: float,
    cap_s: float,
    max_retry_after_s: float,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, float, BackendError], None] | None = None,
) -> T:
    rng = rng or random.Random()
    for index in range(max(1, tries)):
        try:
            return call()
        except TransientBackendError as exc:
            if index == tries - 1:
                raise
            if exc.retry_after is not None:
                if exc.retry_after > max_retry_after_s:
                    raise BackendError(
                        f"{exc.cause} (Retry-After {exc.retry_after:.0f} s is "
                        f"over the {max_retry_after_s:.0f} s limit)",
                        exc.path,
                    ) from exc
                delay = exc.retry_after
            else:
                delay = backoff_delay(index, base_s, cap_s, rng)
            if on_retry:
                on_retry(index + 1, delay, exc)
            sleep(delay)
    raise AssertionError("unreachable")
