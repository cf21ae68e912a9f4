"""Differences between two snapshots, with ``tracemalloc.Snapshot.compare_to``'s numbers.

The grouping, the filters and the ranking are compare_to's (tested against it for every
key, cumulative or not), but the work runs over per-traceback totals instead of one
Python tuple per block, and only the rows that are shown get their frames decoded.
"""

from __future__ import annotations

import fnmatch
import heapq
import os
from collections.abc import Callable, Hashable, Sequence
from itertools import compress, filterfalse, groupby, repeat
from operator import neg, sub

from ..types import Frame
from .grouping import KEYS
from .model import Snapshot


class _Record:
    """Values compared and shown by their fields. Not dataclasses: ``dataclasses`` imports
    ``inspect`` (13 ms, an eighth of a small ``leak-forensics diff``); not NamedTuples: a
    field named ``count`` would hide ``tuple.count``."""

    __slots__ = ()

    def _names(self) -> tuple[str, ...]:
        return type(self).__slots__  # each subclass names its own

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._names())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Record) and type(other) is type(self) and (
            self._values() == other._values())

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names())
        return f"{type(self).__name__}({fields})"


class SiteDiff(_Record):
    """One group's change; ``frames`` run most recent first (``filename`` groups carry
    line 0, as in tracemalloc)."""

    __slots__ = ("frames", "size", "size_diff", "count", "count_diff")

    def __init__(self, frames: tuple[Frame, ...], size: int, size_diff: int, count: int,
                 count_diff: int) -> None:
        self.frames = frames
        self.size = size
        self.size_diff = size_diff
        self.count = count
        self.count_diff = count_diff


class TypeDiff(_Record):
    __slots__ = ("type", "count", "count_diff")

    def __init__(self, type: str, count: int, count_diff: int) -> None:  # noqa: A002
        self.type = type
        self.count = count
        self.count_diff = count_diff


class SnapshotDiff(_Record):
    __slots__ = ("key", "cumulative", "sites", "groups", "size", "count", "size_diff",
                 "count_diff", "types")

    def __init__(self, key: str, cumulative: bool, sites: list[SiteDiff], groups: int,
                 size: int, count: int, size_diff: int, count_diff: int,
                 types: list[TypeDiff] | None) -> None:
        self.key = key
        self.cumulative = cumulative
        self.sites = sites  # ranked as compare_to ranks them, at most ``limit``
        self.groups = groups  # how many groups there were before the limit
        self.size = size  # totals of the newer snapshot's kept blocks
        self.count = count
        self.size_diff = size_diff
        self.count_diff = count_diff
        self.types = types  # None unless both snapshots carry a census


def _normalize(filename: str) -> str:
    filename = os.path.normcase(filename)
    return filename[:-1] if filename.endswith(".pyc") else filename


class FrameFilter:
    """Keeps blocks by their most recent frame's filename, like ``tracemalloc.Filter``
    with ``all_frames=False``: kept if any include pattern matches (or there is none)
    and no exclude pattern does."""

    def __init__(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
        self.include = [_normalize(p) for p in include]
        self.exclude = [_normalize(p) for p in exclude]

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def keeps(self, filename: str) -> bool:
        name = _normalize(filename)
        if self.include and not any(fnmatch.fnmatch(name, p) for p in self.include):
            return False
        return not any(fnmatch.fnmatch(name, p) for p in self.exclude)

    def traceback_mask(self, snapshot: Snapshot) -> list[bool] | None:
        """Per traceback: whether its blocks are kept (None: all are)."""
        if not self:
            return None
        by_file = [self.keeps(name) for name in snapshot.filenames]
        by_frame = [by_file[i] for i in snapshot.column("frame_file")]
        return [by_frame[i] for i in snapshot.column("tb_first")]


class _Groups:
    """One snapshot's size and count per group key (each key once), and how to name a
    key's frames."""

    def __init__(self, snapshot: Snapshot, key: str, cumulative: bool,
                 mask: list[bool] | None) -> None:
        self.snapshot = snapshot
        sizes, counts = snapshot.column("tb_size"), snapshot.column("tb_count")
        if mask is not None:
            sizes, counts = list(compress(sizes, mask)), list(compress(counts, mask))
        self.size, self.count = sum(sizes), sum(counts)
        # Rows: keys[i] has sizes[i] and counts[i]; for the traceback key, rows[i] is the
        # traceback (None: row i is traceback i).
        self.rows: Sequence[int] | None = None
        if key == "traceback":
            digests = snapshot.column("tb_digest")
            if mask is not None:
                digests = list(compress(digests, mask))
                self.rows = list(compress(range(len(mask)), mask))
            self.keys: Sequence[Hashable] = digests
            self.sizes: Sequence[int] = sizes
            self.counts: Sequence[int] = counts
        else:
            self._by_frame(key, cumulative, mask)

    def _by_frame(self, key: str, cumulative: bool, mask: list[bool] | None) -> None:
        snap = self.snapshot
        if mask is None:
            prefix = "frame_total_" if cumulative else "frame_"
            frame_size, frame_count = snap.column(prefix + "size"), snap.column(prefix + "count")
        else:
            frame_size, frame_count = snap.frame_totals(mask, cumulative)
        names, files, lines = snap.filenames, snap.column("frame_file"), snap.column("frame_line")
        used = list(compress(range(len(frame_count)), frame_count))
        self.keys = [(names[files[f]], lines[f] if key == "lineno" else 0) for f in used]
        self.sizes = [frame_size[f] for f in used]
        self.counts = [frame_count[f] for f in used]

    def position(self) -> dict[Hashable, int]:
        """Key -> row, once each key's rows are added up (see ``merge_repeats``)."""
        position = dict(zip(self.keys, range(len(self.keys)), strict=True))
        if len(position) == len(self.keys):
            return position
        self._merge()
        return dict(zip(self.keys, range(len(self.keys)), strict=True))

    def merge_repeats(self) -> None:
        """Add up the rows of a key listed more than once: a file named by several
        frames, a digest a damaged file repeats. (A set is cheaper than ``position``.)"""
        if len(set(self.keys)) < len(self.keys):
            self._merge()

    def _merge(self) -> None:
        merged: dict[Hashable, list[int]] = {}  # key -> [size, count, first row]
        for row, (k, size, count) in enumerate(zip(self.keys, self.sizes, self.counts,
                                                   strict=True)):
            total = merged.setdefault(k, [0, 0, row])
            total[0] += size
            total[1] += count
        rows = self.rows if self.rows is not None else range(len(self.keys))
        self.keys = list(merged)
        self.sizes = [v[0] for v in merged.values()]
        self.counts = [v[1] for v in merged.values()]
        self.rows = [rows[v[2]] for v in merged.values()]

    def frames(self, row: int) -> tuple[Frame, ...]:
        key = self.keys[row]
        if not isinstance(key, int):
            return (key,)  # type: ignore[return-value]  # a one-frame key
        return self.snapshot.traceback(row if self.rows is None else self.rows[row])


def diff(old: Snapshot, new: Snapshot, key: str = "lineno", cumulative: bool = False,
         include: Sequence[str] = (), exclude: Sequence[str] = (),
         limit: int | None = 10) -> SnapshotDiff:
    """What grew and shrank from ``old`` to ``new``, ranked as ``compare_to`` ranks it.

    ``limit`` (None for all) bounds the rows returned, not the work: totals and
    rankings always cover every block the filters keep.
    """
    if key not in KEYS:
        raise ValueError(f"key must be one of {', '.join(KEYS)}, not {key!r}")
    if cumulative and key == "traceback":
        raise ValueError("cumulative sums need key lineno or filename")
    keep = FrameFilter(include, exclude)
    was = _Groups(old, key, cumulative, keep.traceback_mask(old))
    now = _Groups(new, key, cumulative, keep.traceback_mask(new))
    # Rows of the newer snapshot first, then those only the older one has. With a
    # traceback key these are lists of ~a million, so every step below runs in C.
    earlier = was.position()
    now.merge_repeats()
    absent = len(was.keys)
    matched = list(map(earlier.get, now.keys, repeat(absent)))
    old_sizes, old_counts = [*was.sizes, 0], [*was.counts, 0]
    gone = list(filterfalse(set(matched).__contains__, range(absent)))
    size = [*now.sizes, *repeat(0, len(gone))]
    count = [*now.counts, *repeat(0, len(gone))]
    size_diff = [*map(sub, now.sizes, map(old_sizes.__getitem__, matched)),
                 *map(neg, map(old_sizes.__getitem__, gone))]
    count_diff = [*map(sub, now.counts, map(old_counts.__getitem__, matched)),
                  *map(neg, map(old_counts.__getitem__, gone))]
    fresh = len(now.keys)

    def frames(i: int) -> tuple[Frame, ...]:
        return now.frames(i) if i < fresh else was.frames(gone[i - fresh])

    rows = [SiteDiff(frames(i), size[i], size_diff[i], count[i], count_diff[i])
            for i in _ranked(size_diff, size, count_diff, count, frames, limit)]
    types = None
    if old.census is not None and new.census is not None:
        types = census_diff(old.census, new.census)
    return SnapshotDiff(key, cumulative, rows, len(size), now.size, now.count,
                        now.size - was.size, now.count - was.count, types)


def statistics(snapshot: Snapshot, key: str = "lineno", cumulative: bool = False,
               include: Sequence[str] = (), exclude: Sequence[str] = (),
               limit: int | None = 10) -> SnapshotDiff:
    """The largest groups of one snapshot: its diff against nothing, which ranks exactly
    as ``Snapshot.statistics`` does (size, then count, then traceback)."""
    return diff(empty(), snapshot, key, cumulative, include, exclude, limit)


def _ranked(size_diff: list[int], size: list[int], count_diff: list[int], count: list[int],
            frames: Callable[[int], tuple[Frame, ...]], limit: int | None) -> list[int]:
    """Row indexes in compare_to's order: by (|size_diff|, size, |count_diff|, count),
    then the frames, oldest first, decoded only to break exact ties. With a limit, only
    rows whose |size_diff| reaches the limit-th largest are ranked in full."""
    primary = list(map(abs, size_diff))
    chosen: Sequence[int] = range(len(primary))
    if limit is not None and limit < len(primary):
        if limit <= 0:
            return []
        kth = heapq.nlargest(limit, primary)[-1]
        chosen = list(compress(chosen, map(kth.__le__, primary)))
    numeric = dict(zip(chosen, zip(map(primary.__getitem__, chosen),
                                   map(size.__getitem__, chosen),
                                   map(abs, map(count_diff.__getitem__, chosen)),
                                   map(count.__getitem__, chosen), strict=True),
                       strict=True))
    if limit is not None and limit < len(numeric):
        kth_key = heapq.nlargest(limit, numeric.values())[-1]
        chosen = [i for i, k in numeric.items() if k >= kth_key]
    ordered = sorted(chosen, key=numeric.__getitem__, reverse=True)
    result: list[int] = []
    for _, tied in groupby(ordered, key=numeric.__getitem__):
        group = list(tied)
        if len(group) > 1:
            group.sort(key=lambda i: frames(i)[::-1], reverse=True)
        result.extend(group)
        if limit is not None and len(result) >= limit:
            break
    return result[:limit]


def census_diff(old: dict[str, int], new: dict[str, int]) -> list[TypeDiff]:
    """Types whose live count changed, largest change first."""
    changed = [TypeDiff(name, new.get(name, 0), new.get(name, 0) - old.get(name, 0))
               for name in new.keys() | old.keys()]
    changed = [t for t in changed if t.count_diff]
    changed.sort(key=lambda t: (-abs(t.count_diff), -t.count, t.type))
    return changed


def empty() -> Snapshot:
    return Snapshot.from_traces([], 1)
