"""The child-process listing around every test: its one-call answer for a process with no
children must not hide a child, and must not reap one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from leak_forensics.measure import resources

pytestmark = pytest.mark.skipif(not hasattr(os, "waitid"), reason="POSIX waitid")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def _wait_until_exited(pid: int) -> None:
    """Until ``pid`` is a zombie: exited, and not waited for yet."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            if stat.read().rpartition(b")")[2].split()[0] == b"Z":
                return
        time.sleep(0.01)
    raise AssertionError("the child did not exit")


def test_no_child_is_none() -> None:
    """In a fresh process: this one may have children of other tests' fixtures."""
    check = ("from leak_forensics.measure import resources; "
             "assert resources._childless() and resources._children() == []")
    subprocess.run([sys.executable, "-c", check], check=True)


def test_a_running_child_is_listed(sleeper: subprocess.Popen[bytes]) -> None:
    assert not resources._childless()
    assert sleeper.pid in resources._children()


def test_a_child_started_by_another_thread_is_listed() -> None:
    started: list[subprocess.Popen[bytes]] = []
    worker = threading.Thread(target=lambda: started.append(
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])))
    worker.start()
    worker.join()
    try:
        assert started[0].pid in resources._children()
    finally:
        started[0].kill()
        started[0].wait()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="reads /proc")
def test_an_exited_child_is_not_listed_and_is_left_for_its_parent_to_reap() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    _wait_until_exited(child.pid)
    assert not resources._childless()
    assert child.pid not in resources._children()
    # Still there for its parent to wait for: the check reaped nothing.
    assert os.waitpid(child.pid, os.WNOHANG)[0] == child.pid
    child.returncode = 0  # reaped here, not by Popen


def test_a_child_left_since_the_baseline_is_left_as_a_process(
        sleeper: subprocess.Popen[bytes]) -> None:
    sleeper.kill()
    sleeper.wait()
    base = resources.baseline()
    assert resources.left_since(base) == []
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        left = resources.left_since(base)
        assert [entry.kind for entry in left] == ["process"]
        assert f"pid {child.pid}" in left[0].describe(lambda frames: None)
    finally:
        child.kill()
        child.wait()


def _descriptor() -> int:
    return os.open(os.devnull, os.O_RDONLY)


def test_a_file_opened_since_the_baseline_is_left_as_a_file() -> None:
    base = resources.baseline()
    assert [entry.kind for entry in resources.left_since(base)] == []
    fd = _descriptor()
    try:
        left = resources.left_since(base)
        assert [entry.kind for entry in left] == ["fd"]
        assert left[0].describe(lambda frames: None) == f"fd {fd} -> /dev/null, still open"
    finally:
        os.close(fd)
    assert resources.left_since(base) == []


def test_the_same_count_of_other_descriptors_is_not_the_same_set() -> None:
    """The count alone would say nothing changed: one of the baseline's was closed and
    another left open in its place (under another number)."""
    first, second = _descriptor(), _descriptor()
    base = resources.baseline()
    os.close(first)
    reused = _descriptor()  # takes first's number
    other = _descriptor()
    os.close(reused)
    try:
        assert other not in base.fds
        left = resources.left_since(base)
        assert [entry.describe(lambda frames: None) for entry in left] == [
            f"fd {other} -> /dev/null, still open"]
    finally:
        os.close(other)
        os.close(second)


@pytest.mark.skipif(not resources._COUNTED, reason="the kernel counts open descriptors")
def test_the_open_set_is_asked_without_listing_it() -> None:
    listed = frozenset(resources._fds())
    assert resources._only_open(listed)
    fd = _descriptor()
    try:
        assert not resources._only_open(listed)
        assert resources._only_open(listed | {fd})
    finally:
        os.close(fd)
    assert not resources._only_open(listed | {fd})
    assert resources._only_open(listed)
