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
import sys
from array import array
from dataclasses import dataclass

import psutil


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _load_mallinfo2() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
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


def malloc_bytes() -> int:
    """Bytes in use from the C allocator (heap and mmap'd chunks); 0 where unknown."""
    if _mallinfo2 is None:
        return 0
    info = _mallinfo2()
    return int(info.uordblks + info.hblkhd)


@dataclass(frozen=True, slots=True)
class Reading:
    blocks: int
    malloc: int
    threads: int = 0

    def __sub__(self, other: Reading) -> Reading:
        return Reading(self.blocks - other.blocks, self.malloc - other.malloc,
                       self.threads - other.threads)

    def __add__(self, other: Reading) -> Reading:
        return Reading(self.blocks + other.blocks, self.malloc + other.malloc,
                       self.threads + other.threads)


ZERO = Reading(0, 0, 0)

#: The C allocator rounds and keeps per-thread caches; growth below this is noise.
MALLOC_NOISE = 256
#: glibc counts chunks parked in its per-thread cache (up to 7 per size class below
#: 1 KiB) as in use, so one run's C-allocator figure moves by a kilobyte or so without
#: anything kept. Repetitions need growth on every run and can use MALLOC_NOISE.
SCREEN_MALLOC_NOISE = 4096

METRICS = ("blocks", "malloc", "threads")


def grew(delta: Reading, metric: str) -> bool:
    value = getattr(delta, metric)
    return value > (MALLOC_NOISE if metric == "malloc" else 0)


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

    def mark(self) -> None:
        _read_into(self._mark)

    def since_mark(self) -> Reading:
        _read_into(self._now)
        return Reading(self._now[0] - self._mark[0], self._now[1] - self._mark[1])


def _read_into(slots: array) -> None:
    slots[0] = sys.getallocatedblocks()
    slots[1] = malloc_bytes()


_process: psutil.Process | None = None


def rss() -> int:
    global _process
    if _process is None:
        _process = psutil.Process()
    return int(_process.memory_info().rss)
