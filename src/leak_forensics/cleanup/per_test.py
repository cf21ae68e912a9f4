"""The strategy's per-test clean-up, for suites that want it without the leak checks
(the ``comprehensive_test_cleanup`` fixture): the plugin's own cleanup pass, plus the
database clean-up and a line at DEBUG on what was left.

It runs the same ``CleanupPass`` the checks run, outside any heap window: the collector
then sees the whole heap, which costs more per test (a full collection) but is what a
suite without the checks expects of "collect the garbage".
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

from ..integrations.sqlalchemy_cleanup import EngineTracker, clear_scoped_sessions
from ..measure import meter
from ..measure import threads as thread_tools
from ..measure.heap import HeapWindow
from ..types import Frames
from ..units import size_text
from .sweep import CleanupPass

logger = logging.getLogger("leak_forensics")


def _first_frame(frames: Frames) -> str | None:
    return f"{frames[0][0]}:{frames[0][1]}" if frames else None


class TestCleanup:
    """``before()`` as a test starts, ``after()`` when it has ended."""

    __test__ = False  # not a test class, whatever a collector thinks of the name

    def __init__(self, *, thread_timeout: float = 1.0,
                 hooks: Callable[[], object] | None = None,
                 is_user_file: Callable[[str], bool] = lambda filename: False) -> None:
        self._pass = CleanupPass(HeapWindow(), thread_timeout=thread_timeout, hooks=hooks,
                                 is_user_file=is_user_file)
        self._rss = 0
        self._threads: frozenset[int] = frozenset()
        self._engines: EngineTracker | None = None
        #: Threads the test started and that were still alive after the wait.
        self.alive: list[str] = []
        #: RSS after the clean-up minus RSS before the test, in bytes.
        self.rss_growth = 0

    def before(self) -> None:
        self._rss = meter.rss()
        self._threads = thread_tools.snapshot()
        self._engines = EngineTracker(load=False)  # SQLAlchemy stays unimported

    def after(self) -> None:
        clear_scoped_sessions()  # sessions first: they give their connections back
        if self._engines is not None:
            self._engines.close()
            self._engines = None
        alive = self._pass.run(self._threads)
        stopped = [left.describe(_first_frame) for left in self._pass.take_stopped()]
        for generation in range(3):
            gc.collect(generation)
        self.alive = [thread.name for thread in alive]
        self.rss_growth = meter.rss() - self._rss
        for error in self._pass.errors:
            logger.warning("comprehensive_test_cleanup: %s", error)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("comprehensive_test_cleanup: RSS %s over the test; threads "
                         "still alive: %s%s", size_text(self.rss_growth, signed=True),
                         ", ".join(self.alive) or "none",
                         "".join(f"; {line}" for line in stopped))
