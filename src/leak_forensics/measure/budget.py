"""How much time confirming suspects may add to a run.

A suspect is confirmed by running it again, so each repetition costs what the test
itself took. On a real suite the one-time growth of a few slow tests (first use of a
big code path, a thread pool's first start) would otherwise double their share of the
run: on more-itertools, re-running one 5.7 s test is a third of the whole run. So
repetitions of slow tests are held to a share of the time the tests themselves took;
tests cheaper than ``CHEAP_RUN`` are always confirmed, whatever the budget says, so
small suites and fast tests are never left unconfirmed. A suspect the budget cannot
afford is reported as ``unconfirmed`` with what its own run kept, never as clean.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Seconds below which a test's repetitions are not counted against the budget.
CHEAP_RUN = 0.5


class ConfirmBudget:
    """Time for confirming suspects; a confirmed leak's traced runs are never held to it."""

    def __init__(self, share: float | None) -> None:
        self.share = share  # None: no limit
        self._tests = 0.0
        self._spent = 0.0

    def ran(self, seconds: float) -> None:
        """A test's own run took ``seconds``: the budget grows by its share of that."""
        self._tests += seconds

    def spend(self, seconds: float) -> None:
        self._spent += seconds

    def for_suspect(self, run_seconds: float) -> Callable[[], bool]:
        """A check to call before each confirming repetition."""
        started = time.perf_counter()

        def affords() -> bool:
            cost = run_seconds
            if self.share is None or cost < CHEAP_RUN:
                return True
            spent = self._spent + time.perf_counter() - started
            return spent + cost <= self.share * self._tests

        return affords
