"""Process figures cheap enough to read around every test.

``sys.getallocatedblocks()`` (~60 ns) counts pymalloc blocks, i.e. objects up to 512 bytes.
Anything larger goes straight to the C allocator and is invisible to it, so a test that
keeps one 10 kB buffer per run would look clean; glibc's ``mallinfo2`` (sub-microsecond
here) covers those bytes. RSS is read for the report only: it moves in pages and arenas,
too coarse to judge a single run.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import operator
import os
import sys
import threading
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _load_mallinfo2() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]  # ctypes' private base class
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        func = libc.mallinfo2
    except (OSError, AttributeError):  # musl, or glibc older than 2.33
        return None
    func.restype = _MallInfo2
    func.argtypes = []
    return func


_mallinfo2 = _load_mallinfo2()

#: glibc 2.30+ on 64-bit: ``tcache_perthread_struct`` is ``uint16_t counts[64]`` then
#: ``tcache_entry *entries[64]``; its chunk's size field (with PREV_INUSE) reads 0x291.
_TCACHE_BINS = 64
_TCACHE_CHUNK_FIELD = 0x291
#: Chunk size of tcache bin i: 32 bytes, then 16 more per bin.
_TCACHE_CHUNK_SIZES = tuple(32 + 16 * i for i in range(_TCACHE_BINS))


def _heap_start() -> int | None:
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                if line.rstrip().endswith("[heap]"):
                    return int(line.split("-", 1)[0], 16)
    except (OSError, ValueError):
        pass
    return None


def _load_parked_counts() -> memoryview | None:
    """The counts of the main thread's tcache, read in place; None unless recognised.

    glibc parks up to 7 freed chunks per size class below 1 KiB in a per-thread cache
    (the tcache), and ``mallinfo2`` counts them as in use: a clean test that opens and
    closes an SQLite connection read 2-8 KiB of C memory kept on one run in three, so a
    few runs in a row looked like a leak. The main thread's tcache is the first chunk
    glibc hands out (it is made on the first ``malloc``), at the start of the ``[heap]``
    mapping. Its layout is checked (the chunk's size field, each count beside a
    non-null entry) before it is trusted; any other allocator keeps the plain figure.
    """
    if _mallinfo2 is None or sys.maxsize < 2**32:
        return None
    start = _heap_start()
    if start is None:
        return None
    try:
        size_field = ctypes.c_size_t.from_address(start + 8).value
        if size_field != _TCACHE_CHUNK_FIELD:
            return None
        counts = (ctypes.c_uint16 * _TCACHE_BINS).from_address(start + 16)
        entries = (ctypes.c_void_p * _TCACHE_BINS).from_address(start + 16 + 2 * _TCACHE_BINS)
        pairs = zip(counts, entries, strict=True)
        if any((count == 0) != (entry is None) for count, entry in pairs):
            return None
    except (ValueError, OSError):
        return None
    return memoryview(counts).cast("B").cast("H")  # read four times faster than the array


_parked_counts = _load_parked_counts()


def _parked_bytes() -> int:
    if _parked_counts is None:
        return 0
    return sum(map(operator.mul, _parked_counts, _TCACHE_CHUNK_SIZES))


def malloc_bytes() -> int:
    """Bytes in use from the C allocator (heap and mmap'd chunks), less the freed chunks
    the main thread's cache holds; 0 where unknown."""
    if _mallinfo2 is None:
        return 0
    info = _mallinfo2()
    return int(info.uordblks + info.hblkhd) - _parked_bytes()


@dataclass(frozen=True, slots=True)
class Reading:
    blocks: int
    malloc: int
    threads: int = 0
    #: Other resources left open: file descriptors, processes, tasks, connections.
    handles: int = 0
    #: Threads the run started (not a metric: it says how far ``malloc`` can be trusted).
    started: int = 0

    def __sub__(self, other: Reading) -> Reading:
        return Reading(self.blocks - other.blocks, self.malloc - other.malloc,
                       self.threads - other.threads, self.handles - other.handles,
                       self.started)

    def __add__(self, other: Reading) -> Reading:
        return Reading(self.blocks + other.blocks, self.malloc + other.malloc,
                       self.threads + other.threads, self.handles + other.handles,
                       self.started + other.started)

    def as_dict(self) -> dict[str, int]:
        return {metric: getattr(self, metric) for metric in METRICS}


ZERO = Reading(0, 0, 0, 0)

METRICS = ("blocks", "malloc", "threads", "handles")
#: The metrics that are resources, not memory: their growth needs no tracing to explain.
RESOURCE_METRICS = frozenset({"threads", "handles"})


class Gauge:
    """Growth between a mark and now, with nothing the mark allocated alive in between.

    A reading kept as a ``Reading`` is three pymalloc blocks (the object and two ints),
    allocated just after the count and still alive at the second count: every measured
    span would grow by three. The mark lives in a preallocated array instead; values
    computed from it are made after the second count.
    """

    __slots__ = ("_mark", "_now")

    def __init__(self) -> None:
        self._mark = array("q", [0, 0])
        self._now = array("q", [0, 0])

    def mark(self, malloc: bool = True) -> None:
        """``malloc=False``: C memory keeps counting from the last mark that read it (the
        span before this one ended without reading it either)."""
        _read_into(self._mark, malloc)

    def since_mark(self, malloc: bool = True) -> Reading:
        """``malloc=False``: C memory is not read, and counts as 0 here; the next mark
        must not read it either, so that it is counted at a later end that does."""
        _read_into(self._now, malloc)
        return Reading(self._now[0] - self._mark[0],
                       self._now[1] - self._mark[1] if malloc else 0)


def _immortal_interned() -> int:
    return 0


if sys.version_info[:2] == (3, 12):
    # On 3.12 every interned string is immortal, and pathlib interns each part of every
    # path it parses: a test that uses tmp_path gets a new directory name on every run,
    # which stays allocated for good (one block per run, in no one's hands). That is the
    # interpreter's, not the test's, so those blocks are not counted. 3.13 made interned
    # strings mortal again: there an interned string lives only as long as its holder.
    _immortal_interned = sys.getunicodeinternedsize  # type: ignore[attr-defined,assignment,unused-ignore]  # 3.12+ only


#: The interpreter's type attribute cache keeps a strong reference to each attribute
#: name it was asked for, in a slot chosen from the name's address, until another lookup
#: takes the slot. A name built at run time (``getattr(hook, f"pytest_runtest_{when}")``)
#: thus lives on for a while in no one's hands, and its block goes when an unrelated
#: lookup, in whatever test runs then, evicts it: a clean test read -1 or +1 block on
#: one run in six, and a leak of one block per run read as clean. Emptied before every
#: read, the cache holds nothing at either end of a window (about 8 us each time).
_clear_type_cache = getattr(sys, "_clear_type_cache", lambda: None)
#: Bound once, like the cache's clearing: a test may patch ``sys``, never our counter.
_allocated_blocks = sys.getallocatedblocks


def _read_into(slots: array[int], malloc: bool = True) -> None:
    _clear_type_cache()
    slots[0] = _allocated_blocks() - _immortal_interned()
    if malloc:  # glibc walks its free chunks for it: 45-70 us in a large process
        slots[1] = malloc_bytes()


#: glibc gives threads up to 8 arenas per core on 64-bit systems.
_ARENAS_PER_CORE = 8
_MAX_WARM_THREADS = 64


def warm_up_allocator() -> None:
    """Make glibc create its per-thread arenas now, before any test is measured.

    The first time N threads allocate at once, glibc creates an arena for each (up to 8
    per core), and each new arena's header counts as C memory in use: a test that is the
    first to run many threads grows by ~2 KiB per arena, once. Threads started later
    reuse those arenas. A few short-lived threads, all allocating while alive together,
    pay that cost here instead (about a millisecond).
    """
    if _mallinfo2 is None:
        return
    count = min(_ARENAS_PER_CORE * (os.cpu_count() or 1), _MAX_WARM_THREADS)
    barrier = threading.Barrier(count)

    def allocate() -> None:
        try:
            barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            return
        bytes(2048)  # above pymalloc's limit: served by the thread's own arena

    workers = []
    try:
        for _ in range(count):
            worker = threading.Thread(target=allocate, name="leak-forensics-warm-up")
            worker.start()
            workers.append(worker)
    except RuntimeError:  # a thread limit: warm up what we could
        barrier.abort()
    for worker in workers:
        worker.join()


_process: psutil.Process | None = None
_STATM = "/proc/self/statm"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss() -> int:
    """Read twice around every test: on Linux straight from ``/proc/self/statm`` (the
    file psutil reads, in 4 us instead of psutil's 15-30), elsewhere through psutil."""
    try:
        fd = os.open(_STATM, os.O_RDONLY)
    except OSError:
        return _psutil_rss()
    try:
        return int(os.read(fd, 256).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return _psutil_rss()
    finally:
        os.close(fd)


def _psutil_rss() -> int:
    """Where ``/proc`` is not (imported here: only those platforms pay for psutil)."""
    import psutil

    global _process
    if _process is None:
        _process = psutil.Process()
    return int(_process.memory_info().rss)


def peak_rss() -> int | None:
    """The process's highest RSS so far, from the kernel's own account (None where the
    platform keeps none): a sampler between two reads of ``rss`` would miss a spike."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # Linux counts KiB
