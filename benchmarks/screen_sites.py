"""Where the screens of a suite's tests kept blocks: allocation sites, summed over tests.

A diagnostic for needless suspects (issue 19): runs pytest in this process under
tracemalloc with ``--leak-forensics``, takes a snapshot before each test's own run and
after its screen, and prints the sites (last ``DEPTH`` frames) that kept blocks in the
most tests, leaving out the reports pytest keeps (made with the counters paused). Slow:
run it on a few classes (``-k``), not a whole suite.

Usage: ``PYTHONTRACEMALLOC=12 python benchmarks/screen_sites.py [pytest args]``
(environment: ``DEPTH`` frames per site, default 6; ``TOP`` sites, default 15).
"""

from __future__ import annotations

import collections
import gc
import os
import sys
import tracemalloc

import pytest

from leak_forensics import probe

DEPTH = int(os.environ.get("DEPTH", "6"))
TOP = int(os.environ.get("TOP", "15"))
_begin, _finish = probe.Probe.begin, probe.Probe.finish_screen
_state: dict[str, tracemalloc.Snapshot] = {}
blocks: collections.Counter[str] = collections.Counter()
tests: collections.Counter[str] = collections.Counter()
screens: collections.Counter[tuple[int, bool]] = collections.Counter()
_KEPT_BY_PYTEST = ('run.py", line', "relay.py")


def begin(self: probe.Probe) -> None:
    _begin(self)
    gc.collect()
    _state["before"] = tracemalloc.take_snapshot()


def finish(self: probe.Probe, discount: probe.Reading = probe.ZERO) -> None:
    _finish(self, discount)
    screen = self.screened()
    screens[(screen.blocks, screen.malloc > 4096)] += 1
    if screen.blocks <= 0:
        return
    gc.collect()
    own = [tracemalloc.Filter(False, tracemalloc.__file__)]
    after = tracemalloc.take_snapshot().filter_traces(own)
    for stat in after.compare_to(_state["before"].filter_traces(own), "traceback"):
        lines = stat.traceback.format()
        if stat.count_diff <= 0 or any("makereport" in line for line in lines):
            continue
        frames = [line.strip() for line in lines
                  if line.startswith("  File") and "pluggy" not in line][-DEPTH:]
        if any(marker in frames[-1] for marker in _KEPT_BY_PYTEST):
            continue
        key = " | ".join(frames)
        blocks[key] += stat.count_diff
        tests[key] += 1


def show() -> None:
    print("screens (blocks, malloc > 4 KiB):", screens.most_common(8), file=sys.stderr)
    for key, n in tests.most_common(TOP):
        print(f"{n:5d} tests {blocks[key]:6d} blocks  {key}", file=sys.stderr)


if __name__ == "__main__":
    if not tracemalloc.is_tracing():
        sys.exit("run with PYTHONTRACEMALLOC=12 (tracing from the start)")
    probe.Probe.begin = begin  # type: ignore[method-assign]
    probe.Probe.finish_screen = finish  # type: ignore[method-assign]
    status = pytest.main(sys.argv[1:])
    show()
    sys.exit(status)
