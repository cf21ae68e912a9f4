"""Growth that recurs on every measured repetition, per allocation site and per type.

One-time effects (a cache filled, a module imported) grow once and then stop; a leak grows
every time. So a site or a type counts only if it grew in *each* measured interval —
CPython's refleak rule, applied per site instead of to the whole process.
"""

from __future__ import annotations

import linecache
from collections import Counter
from collections.abc import Callable, Sequence
from statistics import mean

from ..measure.census import type_name
from ..results import CollectedGarbage, Site, TypeGrowth
from ..types import Frame, RawTrace
from ..types import Frames as Traceback
from .attribution import FrameClassifier, Kind


class TraceTotals:
    """Bytes and blocks alive per traceback, keyed by an encoded string.

    Strings and dicts of strings and ints are not tracked by the garbage collector, so
    holding snapshots this way keeps them out of the type census taken between runs.
    """

    __slots__ = ("sizes", "counts")

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}
        self.counts: dict[str, int] = {}


_FRAME_SEP, _LINE_SEP = "\x00", "\x01"


def encode(frames: Traceback) -> str:
    return _FRAME_SEP.join(f"{name}{_LINE_SEP}{line}" for name, line in frames)


def decode(key: str) -> Traceback:
    frames = []
    for part in key.split(_FRAME_SEP):
        name, _, line = part.rpartition(_LINE_SEP)
        frames.append((name, int(line)))
    return tuple(frames)


def group_traces(raw_traces: Sequence[RawTrace], classifier: FrameClassifier) -> TraceTotals:
    """Sum a ``tracemalloc`` snapshot's raw traces per traceback, dropping our own."""
    totals = TraceTotals()
    sizes, counts = totals.sizes, totals.counts
    keys: dict[Traceback, str | None] = {}
    for trace in raw_traces:
        frames = trace[2]
        key = keys.get(frames, "")
        if key == "":
            key = keys[frames] = None if classifier.is_own(frames) else encode(frames)
        if key is None:
            continue
        sizes[key] = sizes.get(key, 0) + trace[1]
        counts[key] = counts.get(key, 0) + 1
    return totals


def _site_deltas(old: TraceTotals, new: TraceTotals, classifier: FrameClassifier
                 ) -> tuple[dict[Frame, list[int]], dict[Frame, tuple[int, Traceback, Kind]]]:
    """Per charged frame: [size, count] growth, and its largest-growing traceback."""
    sites: dict[Frame, list[int]] = {}
    example: dict[Frame, tuple[int, Traceback, Kind]] = {}
    for key in new.sizes.keys() | old.sizes.keys():
        size = new.sizes.get(key, 0) - old.sizes.get(key, 0)
        count = new.counts.get(key, 0) - old.counts.get(key, 0)
        if not size and not count:
            continue
        tb = decode(key)
        charged = classifier.charge(tb)
        if charged is None:
            continue
        frame, kind = charged
        acc = sites.setdefault(frame, [0, 0])
        acc[0] += size
        acc[1] += count
        if size > example.get(frame, (0,))[0]:
            example[frame] = (size, tb, kind)
    return sites, example


def recurring_sites(snapshots: Sequence[TraceTotals], classifier: FrameClassifier
                    ) -> tuple[list[Site], int, int]:
    """Sites that grew in every interval between consecutive snapshots.

    Returns the sites (largest first), and the traced bytes and blocks retained per
    repetition: over all recurring sites, or, when no site recurs (the objects are made
    on different lines from run to run), the least total growth of any interval, so a
    leak always has a size to hold against the threshold.
    """
    pairs = zip(snapshots, snapshots[1:], strict=False)
    intervals = [_site_deltas(a, b, classifier) for a, b in pairs]
    if not intervals:
        return [], 0, 0
    common = set(intervals[0][0])
    for deltas, _ in intervals[1:]:
        common &= set(deltas)
    found: list[Site] = []
    for frame in common:
        sizes = [deltas[frame][0] for deltas, _ in intervals]
        counts = [deltas[frame][1] for deltas, _ in intervals]
        if min(sizes) <= 0:
            continue
        _, tb, kind = max((ex[frame] for _, ex in intervals if frame in ex),
                          key=lambda e: e[0])
        found.append(Site(
            filename=classifier.display(frame[0]),
            lineno=frame[1],
            size_diff=round(mean(sizes)),
            count_diff=round(mean(counts)),
            traceback=tuple((classifier.display(f), n) for f, n in tb),
            source=linecache.getline(frame[0], frame[1]).strip(),
            in_user_code=kind is Kind.USER,
        ))
    found.sort(key=lambda s: (-s.size_diff, -s.count_diff, s.filename, s.lineno))
    if found:
        return found, sum(s.size_diff for s in found), sum(s.count_diff for s in found)
    least_size = min(sum(v[0] for v in deltas.values()) for deltas, _ in intervals)
    least_count = min(sum(v[1] for v in deltas.values()) for deltas, _ in intervals)
    return [], max(least_size, 0), max(least_count, 0)


def recurring_types(censuses: Sequence[dict[str, int] | None]) -> list[TypeGrowth]:
    """Types whose live count grew between every pair of consecutive censuses.

    ``None`` marks a census that can't be compared with its neighbours (the test asked
    for a full collection, which un-froze the heap the census is relative to).
    """
    grown = [TypeGrowth(name, round(mean(counts))) for name, counts in grown_in_every(
        [(a, b) for a, b in zip(censuses, censuses[1:], strict=False)
         if a is not None and b is not None]).items()]
    grown.sort(key=lambda t: (-t.count_diff, t.type))
    return grown


def grown_in_every(pairs: Sequence[tuple[dict[str, int], dict[str, int]]]
                   ) -> dict[str, list[int]]:
    """Types whose count grew from each census ``before`` to its ``after``, with the
    growth in each pair; nothing when there are no pairs."""
    intervals = [Counter(after) - Counter(before) for before, after in pairs]
    if not intervals:
        return {}
    common = set(intervals[0])
    for diff in intervals[1:]:
        common &= set(diff)
    return {name: [d[name] for d in intervals] for name in common}


def collected_by_site(objects: Sequence[object],
                      site_of: Callable[[object], str | None]) -> list[CollectedGarbage]:
    """Objects the cyclic collector found unreachable, by type and allocation site, most
    first (``site_of`` is None where the allocation is unknown)."""
    counts = Counter((type_name(obj), site_of(obj)) for obj in objects)
    return [CollectedGarbage(name, n, site) for (name, site), n in counts.most_common()]
