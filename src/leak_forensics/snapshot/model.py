"""A memory snapshot held as columns: what is saved, loaded and diffed.

``tracemalloc.Snapshot`` keeps one Python tuple per live block (a million blocks is a
million tuples) and its only file format is a pickle. Here every frame and filename is
stored once, tracebacks are rows of frame numbers, and per-traceback totals are kept
next to the per-block sizes: a diff reads only the totals, so its cost follows the
number of distinct tracebacks, not the number of blocks. Each traceback also carries a
64-bit digest of its content, so two files can match tracebacks without rebuilding them.

Frames are ``(filename, lineno)`` and tracebacks run most recent frame first, as in
``tracemalloc``'s raw traces.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import accumulate, chain, repeat
from typing import Any

from ..errors import SnapshotError
from ..harness import is_own_file
from ..types import Frame, Frames, RawTrace
from . import file as snapshot_file
from .columns import COLUMNS, DERIVED, packed

TYPE_CHECKING = False  # typing's own import would be a tenth of a small diff's run time
if TYPE_CHECKING:
    import tracemalloc

class Snapshot:
    """Live blocks by traceback, plus the census of live object types and metadata.

    Columns load on first use (``column(name)``), so reading a file for a diff never
    decodes the per-block columns.
    """

    def __init__(self, meta: Mapping[str, object],
                 columns: Callable[[str], Sequence[int] | list[str]],
                 census: Mapping[str, int] | None = None,
                 garbage: Mapping[str, int] | None = None, source: str = "snapshot") -> None:
        self.meta = dict(meta)
        self.source = source  # the file it was read from, for error messages
        self.census = None if census is None else dict(census)
        self.garbage = None if garbage is None else dict(garbage)
        self._load = columns
        self._columns: dict[str, Sequence[int] | list[str]] = {}

    def column(self, name: str) -> Sequence[int]:
        found = self._columns.get(name)
        if found is None:
            try:
                found = self._load(name)
            except KeyError:
                if name not in DERIVED:
                    raise
                size, count = self.frame_totals(cumulative=DERIVED[name])
                found = size if name.endswith("size") else count
            self._columns[name] = found
        return found  # type: ignore[return-value]  # derived columns are ints

    def frame_totals(self, keep: Sequence[bool] | None = None,
                     cumulative: bool = False) -> tuple[array[int], array[int]]:
        """Size and count per frame of the blocks allocated there or, ``cumulative``, of
        those whose traceback holds it, as ``compare_to`` adds them up (a frame held twice
        counts twice); ``keep`` selects tracebacks. One pass over the tracebacks (and
        every frame of them, when cumulative): files store the unfiltered result."""
        first, sizes, counts = (self.column(c) for c in ("tb_first", "tb_size", "tb_count"))
        n_frames = len(self.column("frame_file"))
        frame_size, frame_count = [0] * n_frames, [0] * n_frames
        kept = repeat(True) if keep is None else keep
        rest = self.column("tb_rest") if cumulative else ()
        lengths = self.column("tb_rest_length") if cumulative else repeat(0)
        pos = 0
        try:
            for f, n, s, c, k in zip(first, lengths, sizes, counts, kept, strict=False):
                if k:
                    frame_size[f] += s
                    frame_count[f] += c
                    for g in rest[pos:pos + n]:
                        frame_size[g] += s
                        frame_count[g] += c
                pos += n
        except IndexError:
            raise self.damaged() from None
        return packed(frame_size), packed(frame_count)

    @property
    def filenames(self) -> list[str]:
        return self.column("filenames")  # type: ignore[return-value]  # the filenames column holds strings

    @property
    def traceback_count(self) -> int:
        return len(self.column("tb_first"))

    @property
    def total_size(self) -> int:
        return sum(self.column("tb_size"))

    @property
    def total_count(self) -> int:
        return sum(self.column("tb_count"))

    def frame(self, index: int) -> Frame:
        return self.filenames[self.column("frame_file")[index]], self.column("frame_line")[index]

    def traceback(self, index: int) -> tuple[Frame, ...]:
        """The frames of traceback ``index``, most recent first."""
        starts = self._rest_starts()
        rest = self.column("tb_rest")
        ids = chain((self.column("tb_first")[index],), rest[starts[index]:starts[index + 1]])
        try:
            return tuple(self.frame(i) for i in ids)
        except IndexError:
            raise self.damaged() from None

    def damaged(self) -> SnapshotError:
        return SnapshotError(f"{self.source}: corrupted snapshot (a traceback refers past the "
                             "end of the frame table)")

    def _rest_starts(self) -> Sequence[int]:
        starts = self._columns.get("_rest_starts")
        if starts is None:
            starts = self._columns["_rest_starts"] = array(
                "Q", accumulate(self.column("tb_rest_length"), initial=0))
        return starts  # type: ignore[return-value]  # an array of ints

    def raw_traces(self) -> list[tuple[int, int, tuple[Frame, ...], int]]:
        """Traces in ``tracemalloc``'s raw form: (domain, size, traceback, total_nframe)."""
        tracebacks = [self.traceback(i) for i in range(self.traceback_count)]
        totals = self.column("tb_total_nframe")
        owners = chain.from_iterable(repeat(i, n) for i, n in enumerate(self.column("tb_count")))
        return [(domain, size, tracebacks[i], totals[i]) for domain, size, i in
                zip(self.column("trace_domain"), self.column("trace_size"), owners,
                    strict=True)]

    def to_tracemalloc(self) -> tracemalloc.Snapshot:
        """The same blocks as a ``tracemalloc.Snapshot``, for tools built on that API."""
        import tracemalloc
        limit = self.meta.get("traceback_limit")
        return tracemalloc.Snapshot(self.raw_traces(), limit if isinstance(limit, int) else 1)

    @classmethod
    def from_traces(cls, raw_traces: Iterable[RawTrace], traceback_limit: int,
                    meta: Mapping[str, object] | None = None,
                    census: Mapping[str, int] | None = None,
                    garbage: Mapping[str, int] | None = None) -> Snapshot:
        """Build from raw traces: ``(domain, size, frames, total_nframe)`` tuples, or the
        ``(domain, size, frames)`` of snapshots pickled by Python 3.8."""
        columns = _Builder().build(raw_traces)
        header = describe(traceback_limit)
        header.update(meta or {})
        return cls(header, columns.__getitem__, census, garbage)

    @classmethod
    def from_tracemalloc(cls, snapshot: tracemalloc.Snapshot, **kwargs: object) -> Snapshot:
        traces = getattr(snapshot.traces, "_traces", None)
        if traces is None:  # a future tracemalloc without the private list
            traces = [(t.domain, t.size, tuple((f.filename, f.lineno)
                                                for f in reversed(t.traceback)),
                       t.traceback.total_nframe or len(t.traceback)) for t in snapshot.traces]
        return cls.from_traces(traces, snapshot.traceback_limit, **kwargs)  # type: ignore[arg-type]  # kwargs are from_traces' own

    def save(self, path: str) -> None:
        snapshot_file.save(self, path)

    def encode(self) -> bytes:
        """The bytes of a snapshot file (``save`` writes them)."""
        return snapshot_file.encode(self)


def describe(traceback_limit: int) -> dict[str, object]:
    """Metadata every snapshot carries: enough to tell two files apart months later."""
    import platform

    from .. import __version__
    return {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": sys.version.split()[0],
            "implementation": sys.implementation.name, "platform": platform.platform(),
            "tool": f"pytest-leak-forensics {__version__}", "traceback_limit": traceback_limit,
            "test": None, "label": None}


def frame_digest(frame: Frame) -> bytes:
    import hashlib  # slow to import (OpenSSL), and only writing needs it
    text = f"{frame[0]}\0{frame[1]}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=8).digest()


def traceback_digest(frame_digests: Iterable[bytes]) -> int:
    """Content digest of a traceback: the same frames give the same number in any file."""
    import hashlib
    return int.from_bytes(hashlib.blake2b(b"".join(frame_digests), digest_size=8).digest(),
                          "little")


class _Builder:
    """Deduplicates filenames, frames and tracebacks of raw traces into columns."""

    def __init__(self) -> None:
        self.filenames: dict[str, int] = {}
        self.frames: dict[Frame, int] = {}
        self.frame_digests: list[bytes] = []
        self.columns: dict[str, list[Any]] = {name: [] for name in COLUMNS if name not in DERIVED}

    def _frame(self, frame: Frame) -> int:
        index = self.frames.get(frame)
        if index is None:
            filename, lineno = frame
            if type(filename) is not str or type(lineno) is not int or lineno < 0:
                raise ValueError(f"not a tracemalloc frame: {frame!r}")
            file_index = self.filenames.setdefault(filename, len(self.filenames))
            index = self.frames[frame] = len(self.frames)
            self.columns["frame_file"].append(file_index)
            self.columns["frame_line"].append(lineno)
            self.frame_digests.append(frame_digest(frame))
        return index

    def _traceback(self, frames: tuple[Frame, ...], total: int) -> None:
        if not frames:
            raise ValueError("a trace without frames")
        ids = [self._frame(f) for f in frames]
        c = self.columns
        c["tb_first"].append(ids[0])
        c["tb_rest_length"].append(len(ids) - 1)
        c["tb_rest"].extend(ids[1:])
        c["tb_total_nframe"].append(total)
        c["tb_digest"].append(traceback_digest(self.frame_digests[i] for i in ids))

    def build(self, raw_traces: Iterable[RawTrace]) -> dict[str, Sequence[int] | list[str]]:
        by_object: dict[int, int] = {}  # tracemalloc shares one tuple per traceback
        by_content: dict[Frames, int] = {}
        blocks: list[list[tuple[int, int]]] = []
        for trace in raw_traces:
            domain, size, frames = trace[0], trace[1], trace[2]
            index = by_object.get(id(frames))
            if index is None:
                index = by_content.get(frames)
                if index is None:
                    index = by_content[frames] = len(blocks)
                    self._traceback(frames, trace[3] if len(trace) > 3 else len(frames))
                    blocks.append([])
                by_object[id(frames)] = index
            if type(size) is not int or size < 0 or type(domain) is not int or domain < 0:
                raise ValueError(f"not a tracemalloc trace: {trace!r}")
            blocks[index].append((size, domain))
        c = self.columns
        c["filenames"] = list(self.filenames)
        c["tb_count"] = [len(b) for b in blocks]
        c["tb_size"] = [sum(size for size, _ in b) for b in blocks]
        flat = list(chain.from_iterable(blocks))
        c["trace_size"] = [size for size, _ in flat]
        c["trace_domain"] = [domain for _, domain in flat]
        return {name: (values if COLUMNS[name] == "s" else packed(values))
                for name, values in c.items()}


def take_snapshot(*, census: bool = True, test: str | None = None,
                  label: str | None = None) -> Snapshot:
    """Snapshot the blocks ``tracemalloc`` traces now, with a census of live object types.

    Needs tracing on (``tracemalloc.start(25)`` or ``PYTHONTRACEMALLOC=25``): memory
    allocated before tracing started has no traceback and is not in any snapshot.
    """
    import tracemalloc
    if not tracemalloc.is_tracing():
        raise RuntimeError("tracemalloc is not tracing; call tracemalloc.start(25) (or set "
                           "PYTHONTRACEMALLOC=25) before the code you want to measure")
    # What building a snapshot imports on first use is imported first: done after the
    # traces are taken, those imports would show as growth in the caller's next snapshot.
    import hashlib  # noqa: F401
    import platform  # noqa: F401

    from ..measure.census import census as type_census
    traced = tracemalloc.take_snapshot()
    types = type_census(gc.get_objects()) if census else None
    own: dict[int, bool] = {}  # per shared traceback tuple

    def theirs(trace: RawTrace) -> bool:
        """Blocks this package allocated (earlier snapshots held by the caller) are ours."""
        frames = trace[2]
        mine = own.get(id(frames))
        if mine is None:
            mine = own[id(frames)] = any(is_own_file(name) for name, _ in frames)
        return not mine

    raw: list[RawTrace] = traced.traces._traces  # type: ignore[attr-defined]  # no copies
    return Snapshot.from_traces(filter(theirs, raw), traced.traceback_limit, census=types,
                                garbage=garbage_summary(), meta={"test": test, "label": label})


def garbage_summary() -> dict[str, int]:
    """Uncollectable objects now in ``gc.garbage``, by type, as every snapshot records."""
    from ..measure.census import garbage_types
    return {t.type: t.count_diff for t in garbage_types(gc.garbage)}


def load(path: str | os.PathLike[str]) -> Snapshot:
    """Read a snapshot file; any defect is a ``SnapshotError`` with a one-line message.

    Columns are checked when first used, so a damaged column of a file that passed
    here raises ``SnapshotError`` then.
    """
    return Snapshot(**snapshot_file.read(path))


def decode(data: bytes, name: str = "snapshot") -> Snapshot:
    """A snapshot from a file's bytes (``Snapshot.encode``)."""
    return Snapshot(**snapshot_file.decode(data, name))
