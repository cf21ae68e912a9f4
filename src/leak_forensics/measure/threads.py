"""Threads a run started, and a bounded wait for them to finish before anything is measured.

Threads that are merely finishing (a worker draining its queue, a timer just firing) must
not count as leaked, so — like goleak and dask's checker — the wait retries with growing
pauses and a collection in between, up to a total budget.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable

from ..types import Frames


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


_original_start = threading.Thread.start
#: Threads started while recording, counted in place: a count kept as an int object
#: would allocate inside the measured run.
_starts = array("q", [0])


def starts() -> int:
    """How many threads have been started while recording (``record_starts``)."""
    return _starts[0]

#: Set on each thread started while recording: its starting stack, innermost frame first.
#: Kept on the thread itself, so it goes when the thread object goes.
_STARTED_AT = "_leak_forensics_started_at"


def record_starts(stack: Callable[[int], Frames] | None) -> None:
    """Remember where threads are started (``stack(skip)`` reads the caller's stack: see
    ``stacks``), so a leaked thread can be reported with the line that started it; None
    restores ``start``."""
    if stack is None:
        threading.Thread.start = _original_start  # type: ignore[method-assign]  # patched while recording
        return

    def start(self: threading.Thread) -> None:
        setattr(self, _STARTED_AT, stack(1))
        _starts[0] += 1
        _original_start(self)

    threading.Thread.start = start  # type: ignore[method-assign]  # patched while recording


def describe(thread: threading.Thread,
             site: Callable[[Frames], str | None] = lambda frames: None) -> str:
    """``Worker-1 (poll, daemon) started at app/workers.py:40, still alive``: ``site``
    picks the line to show from the stack that started it."""
    target = getattr(thread, "_target", None)
    name = getattr(target, "__qualname__", None) or type(thread).__qualname__
    daemon = ", daemon" if thread.daemon else ""
    frames: Frames | None = getattr(thread, _STARTED_AT, None)
    where = site(frames) if frames else None
    started = f" started at {where}," if where else ""
    return f"{thread.name} ({name}{daemon}){started} still alive"
