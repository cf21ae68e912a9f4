"""Knowing when a harness thread handled a message while a test was measured.

Under pytest-xdist a worker's receiving thread (execnet's) reads the controller's
messages whenever they arrive, also while a test is measured, and the allocation
counters are process-wide. A message read when a window opens and freed inside it reads
as the test shrinking (-7 blocks hid a leak of one block per run); work the controller
sent during the window reads as growth. Guessing that thread's share of a process-wide
count cannot be exact, so the thread's message handling is counted instead, through the
lock it holds for each message: a window in which it handled one is *noisy*. The probe
then treats the test as a suspect (its repetitions, during which the worker sends
nothing, settle it) and runs a noisy repetition again, so the noise can cost a re-run
but never decides a verdict.
"""

from __future__ import annotations

from array import array
from types import TracebackType
from typing import Any, Protocol


class _Lock(Protocol):
    def __enter__(self) -> Any: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Any: ...


class Traffic:
    """Messages handled by watched threads; nothing watched, nothing is ever noisy."""

    __slots__ = ("_counts", "_at_mark")

    def __init__(self) -> None:
        # Entered and left, in preallocated arrays: a count kept as int objects would
        # itself allocate inside the window it describes.
        self._counts = array("q", [0, 0])
        self._at_mark = array("q", [0, 0])

    def counting(self, lock: _Lock) -> CountingLock:
        """A stand-in for ``lock`` that counts each time a thread holds it."""
        return CountingLock(lock, self._counts)

    def mark(self) -> None:
        self._at_mark[0] = self._counts[0]
        self._at_mark[1] = self._counts[1]

    def quiet_since_mark(self) -> bool:
        """No message was being handled at the mark, none since, and none now."""
        return (self._at_mark[0] == self._at_mark[1] == self._counts[0]
                and self._counts[0] == self._counts[1])


class CountingLock:
    """Delegates to the wrapped lock; counts entries and exits of ``with`` blocks."""

    __slots__ = ("_lock", "_counts")

    def __init__(self, lock: _Lock, counts: array[int]) -> None:
        self._lock = lock
        self._counts = counts

    def __enter__(self) -> Any:
        entered = self._lock.__enter__()
        self._counts[0] += 1
        return entered

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Any:
        self._counts[1] += 1
        return self._lock.__exit__(kind, exc, tb)

    def __getattr__(self, name: str) -> Any:  # acquire, release, _is_owned, ...
        return getattr(self._lock, name)
