"""Garbage-collector control that makes a measurement cost what the test did, not the heap size.

A full ``gc.collect()`` scans every tracked object (73 ms at 600k objects), so collecting
around every test would make large processes slow. Inside a *window* everything that existed
when the window opened is frozen (``gc.freeze()`` is O(1)): collections then scan only what
the test created, and a generation-2 collection still empties CPython's free lists, which
is what makes ``sys.getallocatedblocks()`` comparable at both ends of a run.

Two consequences are handled here rather than left to surprise users:

* A test that calls ``gc.collect()`` itself expects old garbage to go too, so while a window
  is open ``gc.collect`` un-freezes the heap first. The window is then *thawed* and the
  remaining collections in it are full ones.
* Frozen cyclic garbage is only reclaimed when the heap is unfrozen, and our own
  collections reset CPython's full-collection bookkeeping. So the heap stays frozen
  between windows too, and ``maybe_full_collect`` applies CPython's own rule (collect
  everything once the heap grew by a quarter), amortised; ``release`` unfreezes at the end.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator

_real_collect: Callable[..., int] = gc.collect


class HeapWindow:
    def __init__(self) -> None:
        self.open = False
        self.thawed = False
        self._heap_at_full = len(gc.get_objects())
        self._grown_since_full = 0

    def start(self) -> None:
        """Freeze the current heap; later collections see only newer objects."""
        if not self.open:
            self.open = True
            self.thawed = False
            gc.collect = self._test_collect
        gc.freeze()

    def refreeze(self) -> None:
        """Move everything alive now out of sight, e.g. before a census of what comes next.

        What goes out of sight is counted as growth, as at ``stop``: frozen, its garbage
        waits for ``maybe_full_collect``, which must know it is there.
        """
        if self.open:
            self._count_hidden()
            gc.freeze()
            self.thawed = False

    def stop(self) -> None:
        """Close the window. The heap stays frozen until the next one opens.

        Unfrozen, the whole heap would be back in the oldest generation while our own
        collections have reset CPython's count of it, so its next automatic full
        collection would come at once and then keep coming (60 ms each at 1 M objects).
        ``maybe_full_collect`` does that work on CPython's schedule instead.
        """
        if not self.open:
            return
        self._count_hidden()
        gc.collect = _real_collect
        self.open = False
        self.thawed = False

    def _count_hidden(self) -> None:
        """Count what the collector sees as growth: it stays frozen from here on. A thawed
        window sees the whole heap, which is not growth."""
        if not self.thawed:
            self._grown_since_full += len(gc.get_objects())

    def release(self) -> None:
        """At the end of the session: give the whole heap back to the collector."""
        self.stop()
        gc.unfreeze()

    def collect(self) -> int:
        """Collect garbage in sight until no finalizer can have made more.

        A finalizer or weakref callback that runs in a collection can leave new cyclic
        garbage, which only another pass frees. Anything it made is young: a full
        collection moves every survivor to the oldest generation, so an empty youngest
        one after it means nothing was made, and a second pass (as costly as the first:
        both walk all the test's live objects) would find nothing. On jinja2's suite that
        was a third of the collections.
        """
        freed = 0
        for _ in range(4):
            n = _real_collect()
            freed += n
            # Asked after every pass, needed or not: the list it returns goes to the
            # interpreter's free list, one block held at every read alike (asked only
            # after a pass that freed something, it was +1 block on most of jinja2's tests).
            made = bool(gc.get_objects(0))  # holding the objects would keep them
            if not n or not made:
                break
        return freed

    @contextlib.contextmanager
    def whole(self) -> Iterator[None]:
        """Let the collector see every object for a while (a search over the whole
        heap), then hide all of them again."""
        gc.unfreeze()
        try:
            yield
        finally:
            gc.freeze()
            self.thawed = False

    def visible_objects(self) -> list[object]:
        """Objects the collector sees: inside an unthawed window, those created since it froze."""
        return gc.get_objects()

    def maybe_full_collect(self) -> None:
        """Between windows: a full collection once the heap has grown by a quarter."""
        if self.open or self._grown_since_full * 4 < self._heap_at_full:
            return
        gc.unfreeze()
        _real_collect()
        self._heap_at_full = max(len(gc.get_objects()), 1)
        gc.freeze()
        self._grown_since_full = 0

    def _test_collect(self, generation: int = 2) -> int:
        if self.open and not self.thawed:
            gc.unfreeze()
            self.thawed = True
        return _real_collect(generation)
