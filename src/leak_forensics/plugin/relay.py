"""Reports a test logs while it is still running (subtests), kept out of the measurement.

pytest's subtests (``subtests`` fixture, ``unittest``'s ``subTest``) log one report per
subtest from inside the test's call. Logged normally, each one is kept by the terminal
reporter: memory the test runner holds, not the test, that grows with every run and
would make every subtest-using test look like a leak.

So while a test is measured, ``pytest_runtest_logreport`` reaches only this plugin:

* during the test's own run the reports are held pickled, copied into a buffer
  allocated before the run, so that holding them allocates nothing; the report objects
  and the bytes die inside the run, so what they cost cancels out. Pickled, a report
  comes back exactly as it was (pytest's serialisable form, the one pytest-xdist sends,
  turns a subtest's ``i=0`` into ``i='0'`` on the way back) and faster (~20 us to hold
  and rebuild a subtest's report instead of ~32). The bytes are this process's
  own, made from a report a moment earlier; nothing from outside is ever unpickled.
  Pausing the counters around each report instead costs two counter reads (~0.1-0.3
  ms) per subtest, which on a suite with thousands of subtests is most of the plugin's
  cost. So when the buffer is full, the counters pause once, the buffer is replaced by
  one twice as large, with the reports copied over, and the counters resume: a test
  with n subtests pauses about log2(n) times, not once per report past the buffer
  (more-itertools has tests with thousands). They are rebuilt and logged, in order,
  once the verdict is known;
* during repetitions they are dropped, and pytest's count of failed subtests is put
  back, so the run's outcome and summary are those of the test's own run.
"""

from __future__ import annotations

import pickle
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pluggy import HookRelay


def _failed_subtests_key() -> pytest.StashKey[Any] | None:
    """pytest >= 9 counts failed subtests per test to fail the test itself."""
    try:
        from _pytest.subtests import failed_subtests_key
    except ImportError:  # pragma: no cover - older pytest
        return None
    return failed_subtests_key


_FAILED_SUBTESTS = _failed_subtests_key()

HOOK = "pytest_runtest_logreport"


class ReportRelay:
    def __init__(self, config: pytest.Config, owner: object) -> None:
        self._config = config
        self._owner = owner  # the plugin whose pytest_runtest_logreport calls receive()
        # Set only while a test's own run is measured (and the hook is muted).
        self._hold: tuple[Callable[[], bool], Callable[[], None]] | None = None
        self._held: list[bytes | pytest.TestReport] = []
        self._buffer = _Buffer(_FIRST_BUFFER)
        #: A held report could not be serialised; it was kept whole and counted.
        self.inexact = False

    @contextmanager
    def holding(self, pause: Callable[[], bool], resume: Callable[[], None]) -> Iterator[None]:
        """Hold reports logged inside; ``pause`` stops the counters (False if not running)."""
        self.inexact = False
        self._hold = (pause, resume)
        try:
            with self._muted():
                yield
        finally:
            self._hold = None

    @contextmanager
    def dropping(self) -> Iterator[None]:
        counts = (self._config.stash.get(_FAILED_SUBTESTS, None)
                  if _FAILED_SUBTESTS is not None else None)
        saved = dict(counts) if counts is not None else None
        try:
            with self._muted():
                yield
        finally:
            if counts is not None and saved is not None:
                counts.clear()
                counts.update(saved)

    def receive(self, report: pytest.TestReport) -> None:
        if self._hold is None:
            return  # normal logging, or a repetition: dropped
        pause, resume = self._hold
        # Pickling touches the report (on 3.11+ reading ``__dict__`` materialises it), and
        # what that makes dies with the report, inside the counted span: so it is made
        # there too, and only the bytes that are kept are held with the counters paused.
        try:
            blob = pickle.dumps(report, pickle.HIGHEST_PROTOCOL)
        except Exception:
            blob = b""
        # In order: once one report went to the list, all do.
        if blob and not self._held and (self._buffer.put(blob) or self._grow(blob, pause, resume)):
            del blob  # made in the span: it must die in one as well
            return
        del blob  # made in the span: the bytes kept are made again with the counters paused
        paused = pause()
        try:
            self._held.append(pickle.dumps(report, pickle.HIGHEST_PROTOCOL))
        except Exception:  # a user property that cannot be pickled: kept whole, counted
            self._held.append(report)
            self.inexact = True
        if paused:
            resume()

    def _grow(self, blob: bytes, pause: Callable[[], bool], resume: Callable[[], None]) -> bool:
        """Hold ``blob`` in a larger buffer, made with the counters paused."""
        paused = pause()
        try:
            self._buffer = self._buffer.grown(len(blob))
            return self._buffer.put(blob)
        except MemoryError:  # the list then holds the rest, one pause each
            return False
        finally:
            if paused:
                resume()

    def replay(self, ihook: HookRelay) -> None:
        """Log the held reports as the test's run would have, then forget them."""
        held, self._held = [*self._buffer.take(), *self._held], []
        needed = max(sum(len(e) for e in held if isinstance(e, bytes)),
                     len(held) * _BYTES_PER_REPORT)
        if needed > len(self._buffer.data):  # room for twice as many next time
            self._buffer = _Buffer(1 << (2 * needed).bit_length())
        for entry in held:
            report = entry if isinstance(entry, pytest.TestReport) else pickle.loads(entry)
            ihook.pytest_runtest_logreport(report=report)

    @contextmanager
    def _muted(self) -> Iterator[None]:
        """Route ``pytest_runtest_logreport`` to the owner only.

        Item hook proxies look the caller up on ``config.hook`` at call time, and a
        subset caller is a real pluggy ``HookCaller``, so per-directory proxies that
        subset it again keep working.
        """
        pm = self._config.pluginmanager
        original = getattr(pm.hook, HOOK)
        others = [p for p in pm.get_plugins() if p is not self._owner]
        setattr(pm.hook, HOOK, pm.subset_hook_caller(HOOK, remove_plugins=others))
        try:
            yield
        finally:
            setattr(pm.hook, HOOK, original)


_FIRST_BUFFER = 1 << 20
#: Bytes per held report the index is sized for: the index (an array) must not grow
#: inside a measured run either.
_BYTES_PER_REPORT = 256


class _Buffer:
    """Space for held reports, made before the run: copying into it allocates nothing."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)
        self.count_limit = size // _BYTES_PER_REPORT
        # [count, bytes used, then (offset, length) per report]; an array's items are
        # not objects, so writing them allocates nothing.
        self._index = array("q", bytes(8 * (2 + 2 * self.count_limit)))

    def put(self, blob: bytes) -> bool:
        index = self._index
        count, used = index[0], index[1]
        if count >= self.count_limit or used + len(blob) > len(self.data):
            return False
        self.data[used:used + len(blob)] = blob
        index[2 + 2 * count] = used
        index[3 + 2 * count] = len(blob)
        index[0] = count + 1
        index[1] = used + len(blob)
        return True

    def grown(self, room: int) -> _Buffer:
        """A buffer at least twice this size, holding the same reports in the same order,
        with room for one more of ``room`` bytes. (Made while the counters are paused.)"""
        index = self._index
        count, used = index[0], index[1]
        size = 2 * len(self.data)
        while size < used + room or size // _BYTES_PER_REPORT <= count:
            size *= 2
        bigger = _Buffer(size)
        bigger.data[:used] = memoryview(self.data)[:used]
        bigger._index[:2 + 2 * count] = index[:2 + 2 * count]
        return bigger

    def take(self) -> list[bytes]:
        index = self._index
        blobs = [bytes(self.data[index[2 + 2 * i]:index[2 + 2 * i] + index[3 + 2 * i]])
                 for i in range(index[0])]
        index[0] = index[1] = 0
        return blobs
