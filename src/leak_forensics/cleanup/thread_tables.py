"""``threading``'s own tables, resized to what they hold once threads have come and gone.

``threading`` keeps every running thread in a dict (``_active``, ``_limbo``), every
thread object in a weak set (``_dangling``) and, before 3.13, each non-daemon thread's
lock in a set (``_shutdown_locks``). Hash tables grow as entries arrive and shrink only
when a later insertion finds enough deleted slots, so their size after a test depends on
how its threads' starts and ends interleaved: a test that runs 16 threads at once read
+1, 0 or -1 blocks from one run to the next, with nothing kept (the table's array is a
block under 512 bytes, C memory above). Rebuilt with the same entries, a table's size is
a function of what it holds, and a clean threaded test reads 0.

Only after threads were started (``measure.threads.starts``): otherwise nothing here
moved, and the step costs nothing.
"""

from __future__ import annotations

import sys

from ..measure import threads as thread_tools


def _rebuilt(table: object) -> None:
    """Anything but a dict or a set (a name gone in a later version) is left alone."""
    if type(table) is dict:
        entries = dict(table)
        table.clear()
        table.update(entries)
    elif type(table) is set:
        members = set(table)
        table.clear()
        table.update(members)


class ThreadTables:
    def __init__(self) -> None:
        self._seen = thread_tools.starts()

    def __call__(self) -> None:
        starts = thread_tools.starts()
        if starts == self._seen:
            return
        self._seen = starts
        threading = sys.modules.get("threading")
        if threading is None:
            return
        # Under threading's own locks, as it changes these tables itself; a thread that
        # is starting or ending in another thread waits for them.
        lock = getattr(threading, "_active_limbo_lock", None)
        if lock is not None:
            with lock:
                _rebuilt(getattr(threading, "_active", None))
                _rebuilt(getattr(threading, "_limbo", None))
        lock = getattr(threading, "_shutdown_locks_lock", None)
        if lock is not None:
            with lock:
                _rebuilt(getattr(threading, "_shutdown_locks", None))
        # A weak set has no lock; a thread object made meanwhile in another thread could
        # miss it, which only a debugging aid (and fork's bookkeeping of 3.13) reads.
        dangling = getattr(threading, "_dangling", None)
        if dangling is not None and not getattr(dangling, "_iterating", True):
            _rebuilt(getattr(dangling, "data", None))
