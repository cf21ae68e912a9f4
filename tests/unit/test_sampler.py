"""The runner's sampler reads the process tree from outside; these pin what it keeps."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

from leak_forensics.measure.sampler import TreeSampler


def test_a_process_that_has_exited_but_not_been_waited_for_is_not_sampled():
    # pytest itself is such a zombie for a moment at the end of every run: its 0 bytes
    # would draw a false drop at the end of the timeline.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        zombie = psutil.Process(child.pid)
        while zombie.status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)
        sampler = TreeSampler(os.getpid(), interval=1.0)
        sampler.sample()
        sampled = {sample.pid: sample.rss for sample in sampler.samples}
        assert child.pid not in sampled
        assert sampled[os.getpid()] > 0
    finally:
        child.wait()


def test_every_living_process_of_the_tree_is_sampled():
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        sampler = TreeSampler(os.getpid(), interval=1.0)
        sampler.sample()
        assert {os.getpid(), child.pid} <= {sample.pid for sample in sampler.samples}
        assert all(sample.rss > 0 for sample in sampler.samples)
    finally:
        child.communicate(b"")
