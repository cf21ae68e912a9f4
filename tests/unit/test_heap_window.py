"""The heap window's own schedule of full collections (``HeapWindow.maybe_full_collect``).

The collector never sees frozen objects, so garbage that became unreachable after it was
frozen is reclaimed only when the window lets the whole heap be collected, once the heap
has grown by a quarter since the last time, as CPython schedules its full collections."""

import gc
import weakref

import pytest

from leak_forensics.measure import heap
from leak_forensics.measure.heap import HeapWindow
from leak_forensics.measure.meter import Gauge


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture
def window():
    heap = HeapWindow()
    yield heap
    heap.release()


def _frozen_garbage(window):
    """A cycle the window's second start freezes, then dropped: only a full collection
    frees it. Its weak reference."""
    window.start()
    node = Node()
    dead = weakref.ref(node)
    window.stop()
    window.start()  # the node is frozen now
    del node
    return dead


def test_frozen_garbage_is_collected_once_the_heap_grew_by_a_quarter(window):
    dead = _frozen_garbage(window)
    window.collect()
    assert dead() is not None  # out of the collector's sight
    window.stop()
    window.maybe_full_collect()
    assert dead() is not None  # the heap has not grown: no full collection yet
    window.start()
    grown = [[] for _ in range(gc.get_freeze_count() // 3)]  # tracked lists
    window.stop()
    window.start()  # freezing them counts them as growth
    window.stop()
    window.maybe_full_collect()
    assert dead() is None
    del grown


def test_what_a_refreeze_hides_counts_as_growth(window):
    # A property-based test's examples each refreeze the window: what the engine made
    # between them is frozen mid-window, and its garbage must still bring on the full
    # collection that frees it, though the window's end sees none of it.
    dead = _frozen_garbage(window)
    grown = [[] for _ in range(gc.get_freeze_count() // 3)]
    window.refreeze()
    window.stop()
    window.maybe_full_collect()
    assert dead() is None
    del grown


def test_a_thawed_window_does_not_count_the_whole_heap_as_growth(window):
    dead = _frozen_garbage(window)
    gc.collect(0)  # a test's own collection thaws the window, and collects what it asks
    assert window.thawed
    window.stop()
    window.start()  # the whole heap was in sight: freezing it again is not growth
    window.stop()
    window.maybe_full_collect()
    # Counted as growth, the whole heap would have brought on a full collection.
    assert dead() is not None  # gc.collect(0) left it: the node was in the oldest


def test_collect_runs_again_only_when_a_finalizer_made_objects(window, monkeypatch):
    passes = []
    real = heap._real_collect

    def counted(*args):
        passes.append(args)
        return real(*args)

    monkeypatch.setattr(heap, "_real_collect", counted)

    class Remakes:
        def __del__(self):
            again = []
            again.append(again)  # new cyclic garbage, made while collecting

    plain = []
    plain.append(plain)
    del plain
    window.collect()
    assert len(passes) == 1  # nothing made while collecting: no second pass

    passes.clear()
    made = Remakes()
    made.self = made
    del made
    window.collect()
    assert len(passes) == 2
    assert real() == 0  # the finalizer's garbage went in the second pass


def test_a_collection_that_freed_something_reads_as_one_that_did_not(window):
    """Whatever ``collect`` does to decide on another pass must leave the same blocks
    behind either way: the screen reads exactly zero for a clean run."""
    gauge = Gauge()
    window.start()
    readings = []
    for _ in range(3):
        window.collect()  # frees nothing
        gauge.mark()
        garbage = Node()
        del garbage
        window.collect()  # frees the cycle
        readings.append(gauge.since_mark().blocks)
    assert readings == [0, 0, 0]
