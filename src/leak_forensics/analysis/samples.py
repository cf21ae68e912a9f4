"""Leaked objects picked at the end of a test's traced runs, for their owner chains.

Picked while tracemalloc still traces (it knows where each was allocated) and while the
heap is still frozen at the start of the runs (what the collector sees is what the runs
created), then searched once tracing stops, so the search's own allocations are not
traced.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Sequence

from ..harness import is_harness_name
from ..measure.census import type_name
from ..measure.heap import HeapWindow
from ..results import Owner
from ..types import Frames
from . import owners, signatures
from .attribution import FrameClassifier

#: Types (those that grew the most) and objects per type whose owners are searched: the
#: searches are cheap next to the index they share.
TYPES = 10
PER_TYPE = 5


class Sample:
    def __init__(self, objects: list[object], sites: list[str | None], new: set[int],
                 classifier: FrameClassifier,
                 untracked: owners.Untracked | None = None) -> None:
        self.objects = objects
        self.sites = sites
        self.new = new
        self.classifier = classifier
        self.untracked = untracked or owners.Untracked()

    @classmethod
    def take(cls, created: list[object], types: Sequence[str], classifier: FrameClassifier,
             site_of: Callable[[Frames], str | None],
             roots: Sequence[tuple[str, dict[str, object]]] = ()) -> Sample | None:
        """``created``: what the collector sees since the runs began; ``types``: those that
        grew on every run, most first; ``site_of``: the line a traceback is charged to;
        ``roots``: the namespaces of the code under test, searched forward for leaked
        objects the collector does not track (``owners.untracked_leaks``)."""
        wanted: dict[str, list[object]] = {name: [] for name in types}
        # A dict that existed before (empty, or holding only atomic values) is tracked
        # only from its first container value on: it shows as created, though it has
        # no allocation traceback. Such dicts are the usual holders, so they count as old.
        new: set[int] = set()
        sites: dict[int, str | None] = {}
        for obj in created:
            if type(obj) is not dict or tracemalloc.get_object_traceback(obj) is not None:
                new.add(id(obj))
            bucket = wanted.get(type_name(obj))
            if bucket is None or len(bucket) >= PER_TYPE:
                continue
            frames = owners.creation_traceback(obj)
            site = site_of(frames) if frames else None
            if frames and site is None:
                continue  # allocated by pytest, the standard library or this toolkit
            bucket.append(obj)
            sites[id(obj)] = site
        picked = [obj for bucket in wanted.values() for obj in bucket]

        def untracked_site(obj: object) -> str | None:
            found = tracemalloc.get_object_traceback(obj)
            return None if found is None else site_of(
                tuple((f.filename, f.lineno) for f in reversed(found)))

        untracked = _in_shallow_thread(
            lambda: owners.untracked_leaks(roots, new, untracked_site)) if roots else None
        if not picked and (untracked is None or not untracked.found):
            return None
        return cls(picked, [sites[id(obj)] for obj in picked], new, classifier, untracked)

    def untracked_growth(self, runs: int) -> dict[str, int]:
        """Per type of the untracked objects found, how many the traced ``runs`` made per
        run: counted at the sites that made only that type (the census cannot count
        objects the collector does not track)."""
        types_at: dict[str, set[str]] = {}
        for _, nodes, site in self.untracked.found:
            types_at.setdefault(site, set()).add(type_name(nodes[-1]))
        growth: dict[str, int] = {}
        for site, found in types_at.items():
            if len(found) == 1:
                (only,) = found
                growth[only] = growth.get(only, 0) + self.untracked.counts[site] // runs
        return {name: n for name, n in growth.items() if n > 0}

    def owners(self, heap: HeapWindow, runs: int, ignore: Sequence[object] = ()
               ) -> tuple[list[Owner], list[object]]:
        """The owners, and the containers at their suspect edges (``shared``), after
        ``runs`` traced runs. ``ignore``: the caller's containers that refer to heap
        objects."""
        objects, self.objects = self.objects, []
        with heap.whole():
            chains = owners.owner_chains(objects, lambda o: id(o) in self.new,
                                         display=self.classifier.display, ignore=ignore)
        untracked = self.untracked.recurring(runs)
        chains += owners.untracked_chains(untracked, self.new)
        sites = [*self.sites, *(site for _, _, site in untracked.found)]
        self.untracked = owners.Untracked()
        del objects
        # The harness is never a leak's owner: what only pytest keeps (caplog's record
        # list, the running item that ``_pytest.assertion.util._reprcompare`` closes over)
        # is a new object of a growing type by chance, not what the code leaked.
        # Their suspect edges are still the leak's holders (``shared``) where they are.
        holders = [c.holder for c in chains if c.holder is not None]
        kept = [(c, site) for c, site in zip(chains, sites, strict=True)
                if not is_harness_name(c.root)]
        found = signatures.group_owners([c for c, _ in kept], [site for _, site in kept])
        del kept
        del chains
        heap.collect()  # the search's index is gone; its cycles too
        return found, holders


def _in_shallow_thread(search: Callable[[], owners.Untracked]) -> owners.Untracked:
    """Run ``search`` on a thread of its own, and wait for it.

    It must run while tracemalloc traces (to tell new objects from old), and tracing
    costs every allocation a traceback: at the depth of a pytest hook, ~80 us each, which
    made one search ~10 s. A new thread's stack is a few frames deep.
    """
    import threading

    found: list[owners.Untracked] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            found.append(search())
        except BaseException as exc:  # handed back to the caller's thread
            errors.append(exc)

    worker = threading.Thread(target=run, name="leak-forensics-untracked-search")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return found[0]
