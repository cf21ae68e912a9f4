"""RSS over a whole run, read from outside the processes that run the tests.

The runner samples the pytest process and every process below it (the xdist workers)
from a thread of its own process: nothing is allocated inside a process under test, so
no sample can show up in a test's measurement, and a worker that hangs is still sampled.
Which test a sample belongs to is found afterwards, from the times each process recorded
for its tests (``analysis.memory_trend.tag_samples``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psutil


@dataclass(frozen=True, slots=True)
class Sample:
    #: Seconds since the epoch (the processes' own clock, so the two line up).
    time: float
    pid: int
    rss: int


class TreeSampler:
    """Samples ``pid`` and its descendants every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, interval: float) -> None:
        self.interval = interval
        self.samples: list[Sample] = []
        self._root = psutil.Process(pid)
        self._known: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="leak-forensics-sampler",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join()
        return self.samples

    def sample(self) -> None:
        try:
            processes = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:  # the run is over
            return
        now = time.time()
        for process in processes:
            # The same Process object each time: psutil then knows a reused pid apart.
            known = self._known.setdefault(process.pid, process)
            try:
                rss = int(known.memory_info().rss)
            except psutil.Error:  # it ended between the listing and the read
                continue
            # A process that has exited but not been waited for yet (a zombie, as pytest
            # is for a moment at the end of the run) reads 0: it holds no memory, and a
            # 0 would draw a false drop to nothing at the end of the timeline.
            if rss > 0:
                self.samples.append(Sample(now, known.pid, rss))

    def _loop(self) -> None:
        # Deadlines count from the start, so a slow read does not stretch the interval
        # for the rest of the run.
        deadline = time.monotonic()
        while True:
            self.sample()
            deadline += self.interval
            if self._stop.wait(max(0.0, deadline - time.monotonic())):
                self.sample()  # the end of the run
                return
