"""How a run's memory behaved: per process, RSS at its first test, its peak and after its
last test, and the rate at which it grew.

The rate is a Theil–Sen fit (the median of the slopes between every pair of points), not
end minus start: one test that loads a big fixture, or the allocator giving pages back
once, moves the two ends but hardly moves the median slope. Per test, the points are RSS
after each test against the test's place in its process, so the figure does not depend on
the machine's speed or on how many workers share the tests; per minute, they are RSS
against the wall clock, which is what fills a CI machine.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING

from ..results import TestMemory, TestResult

if TYPE_CHECKING:  # the sampler needs psutil, which the plugin does not import for this
    from ..measure.sampler import Sample

#: Points a fit uses at most (evenly spaced): Theil–Sen compares every pair.
_MAX_POINTS = 300
#: A process with fewer tests has no rate.
_MIN_POINTS = 3


@dataclass(frozen=True)
class Line:
    slope: float
    intercept: float


def theil_sen(xs: Sequence[float], ys: Sequence[float]) -> Line | None:
    """The Theil–Sen line through the points, or None for fewer than three distinct xs."""
    if len(xs) != len(ys):
        raise ValueError("xs and ys differ in length")
    step = max(1, -(-len(xs) // _MAX_POINTS))
    points = list(zip(xs[::step], ys[::step], strict=True))
    slopes = [(y2 - y1) / (x2 - x1)
              for i, (x1, y1) in enumerate(points) for x2, y2 in points[i + 1:] if x2 != x1]
    if len({x for x, _ in points}) < _MIN_POINTS or not slopes:
        return None
    slope = median(slopes)
    return Line(slope, median(y - slope * x for x, y in points))


@dataclass(frozen=True)
class ProcessMemory:
    process: str
    tests: int
    rss_start: int
    rss_peak: int
    rss_end: int
    #: Bytes per test and per minute; None with too few tests to fit.
    per_test: float | None
    per_minute: float | None


@dataclass(frozen=True)
class RunMemory:
    processes: list[ProcessMemory]
    #: The highest RSS any one process reached.
    peak: int
    #: Bytes per test: the processes' rates weighted by their tests (None: no fit).
    per_test: float | None
    #: Bytes per minute, all processes together.
    per_minute: float | None
    #: The tests during which RSS grew most, most first: (node id, bytes).
    grew_most: list[tuple[str, int]]


def run_memory(results: Sequence[TestResult], top: int = 5) -> RunMemory | None:
    """The run's memory from its tests' ``memory``; None if no test has any."""
    by_process: dict[str, list[TestMemory]] = {}
    for result in results:
        if result.memory is not None:
            by_process.setdefault(result.memory.process, []).append(result.memory)
    if not by_process:
        return None
    processes = [_process(name, sorted(tests, key=lambda m: m.started))
                 for name, tests in sorted(by_process.items())]
    fitted = [p for p in processes if p.per_test is not None]
    per_test = (sum(p.per_test * p.tests for p in fitted if p.per_test is not None)
                / sum(p.tests for p in fitted)) if fitted else None
    timed = [p.per_minute for p in processes if p.per_minute is not None]
    grew = sorted(((r.nodeid, r.memory.rss_end - r.memory.rss_start) for r in results
                   if r.memory is not None), key=lambda pair: -pair[1])
    return RunMemory(processes, max(p.rss_peak for p in processes), per_test,
                     sum(timed) if timed else None, [g for g in grew[:top] if g[1] > 0])


def _process(name: str, tests: list[TestMemory]) -> ProcessMemory:
    ends = [float(m.rss_end) for m in tests]
    by_index = theil_sen(range(len(tests)), ends)
    by_time = theil_sen([m.finished / 60 for m in tests], ends)
    return ProcessMemory(
        name, len(tests), tests[0].rss_start,
        max(max(m.rss_peak or 0, m.rss_end) for m in tests), tests[-1].rss_end,
        by_index.slope if by_index else None, by_time.slope if by_time else None)


@dataclass(frozen=True, slots=True)
class TaggedSample:
    """An RSS sample with the process that was read and the test it was running."""

    #: Seconds since the run started.
    time: float
    pid: int
    process: str
    rss: int
    nodeid: str | None


def tag_samples(samples: Sequence[Sample], results: Sequence[TestResult], start: float
                ) -> list[TaggedSample]:
    """Each sample with the test its process was running at that moment (None between
    tests, and in a process that runs none, such as the xdist controller)."""
    spans: dict[int, list[tuple[float, float, str]]] = {}
    names: dict[int, str] = {}
    for result in results:
        memory = result.memory
        if memory is not None:
            spans.setdefault(memory.pid, []).append((memory.started, memory.finished,
                                                     result.nodeid))
            names[memory.pid] = memory.process
    for pid_spans in spans.values():
        pid_spans.sort()
    starts = {pid: [span[0] for span in pid_spans] for pid, pid_spans in spans.items()}
    tagged = []
    for sample in samples:
        nodeid = None
        index = bisect_right(starts.get(sample.pid, []), sample.time) - 1
        if index >= 0:
            began, ended, name = spans[sample.pid][index]
            nodeid = name if began <= sample.time <= ended else None
        tagged.append(TaggedSample(sample.time - start, sample.pid,
                                   names.get(sample.pid, "pytest"), sample.rss, nodeid))
    return tagged
