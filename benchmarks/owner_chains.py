"""Benchmark: owner chains of a leaking test's objects inside a process of 1 M objects.

A process holding ~1 million other tracked objects (dicts, lists and class instances,
reachable from module globals) leaks `Entry` objects into the cache of a service held
by a module global. Timed, medians of --rounds: our `owner_chains` for 5 sampled
objects (one reverse-reference index of the whole heap, then a search per object), and
as the baseline, measured in the same run, objgraph's `find_backref_chain` for one of
them (it calls `gc.get_referrers`, a scan of the whole heap, for every object it visits).

    python benchmarks/owner_chains.py [--rounds 3] [--objects 1000000]

The bound: ours at most 2 s for the 5 objects.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
import types

import objgraph

from leak_forensics.analysis.owners import owner_chains


class Record:
    def __init__(self, n: int) -> None:
        self.n = n
        self.tags = [n]


class Entry:
    def __init__(self, key: str) -> None:
        self.key = key
        self.payload = {"key": key}


class Handler:
    def __init__(self) -> None:
        self.cache: dict[str, Entry] = {}


class Service:
    def __init__(self) -> None:
        self.handlers = [Handler() for _ in range(8)]


def build_heap(objects: int) -> types.ModuleType:
    """A module whose globals reach ``objects`` tracked objects, and a service whose
    handlers cache what they are given."""
    app = types.ModuleType("app_under_test")
    sys.modules[app.__name__] = app
    # Each Record is 2 tracked objects (itself and its list); each row dict adds one.
    app.ROWS = [{"record": Record(i)} for i in range(objects // 3)]
    app.SERVICE = Service()
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--objects", type=int, default=1_000_000)
    args = parser.parse_args()
    app = build_heap(args.objects)
    gc.collect()
    gc.freeze()  # as the plugin does: what existed before the test is frozen
    tracemalloc.start()
    cache = app.SERVICE.handlers[3].cache
    for i in range(5):
        cache[f"user-{i}"] = Entry(f"user-{i}")
    # As the plugin decides: created since the freeze, except dicts that only became
    # tracked (the cache was empty) and have no allocation traceback.
    created = {id(o) for o in gc.get_objects()
               if type(o) is not dict or tracemalloc.get_object_traceback(o) is not None}
    tracemalloc.stop()
    gc.unfreeze()
    print(f"tracked objects in the process: {len(gc.get_objects()):,}")
    targets = list(cache.values())

    ours = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        chains = owner_chains(targets, lambda o: id(o) in created)
        ours.append(time.perf_counter() - started)
    print(f"owner chain: {chains[0].path}  (the leak begins at {chains[0].suspect})")
    assert all(c.root == "app_under_test.SERVICE" for c in chains), chains

    started = time.perf_counter()
    found = objgraph.find_backref_chain(targets[0], objgraph.is_proper_module)
    theirs = time.perf_counter() - started
    assert found and found[0] is app, "objgraph found no chain"

    mine = statistics.median(ours)
    print(f"ours, 5 objects:              {mine:8.2f} s (median of {args.rounds})")
    print(f"objgraph, 1 object:           {theirs:8.2f} s")
    print(f"5 objects: ours {mine:.2f} s, objgraph ~{5 * theirs:.1f} s (5 x one) -> "
          f"{5 * theirs / mine:.1f}x")
    print(f"bound: 5 objects in <= 2 s -> {'met' if mine <= 2 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
