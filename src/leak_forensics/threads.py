"""Threads a run started, and a bounded wait for them to finish before anything is measured.

Threads that are merely finishing (a worker draining its queue, a timer just firing) must
not count as leaked, so — like goleak and dask's checker — the wait retries with growing
pauses and a collection in between, up to a total budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def snapshot() -> frozenset[int]:
    return frozenset(t.ident for t in threading.enumerate() if t.ident is not None)


def started_since(baseline: frozenset[int]) -> list[threading.Thread]:
    current = threading.current_thread()
    return [t for t in threading.enumerate()
            if t.ident not in baseline and t is not current and t.is_alive()]


def wait_for(baseline: frozenset[int], timeout: float,
             between: Callable[[], object] | None = None) -> list[threading.Thread]:
    """Return the threads started since ``baseline`` that are still alive after waiting."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    alive = started_since(baseline)
    while alive:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        alive[0].join(min(pause, remaining))
        pause = min(pause * 2, 0.2)
        if between is not None:
            between()
        alive = started_since(baseline)
    return alive


def describe(thread: threading.Thread) -> str:
    target = getattr(thread, "_target", None)
    name = getattr(target, "__qualname__", None) or type(thread).__qualname__
    daemon = ", daemon" if thread.daemon else ""
    return f"{thread.name} ({name}{daemon}) still alive"
