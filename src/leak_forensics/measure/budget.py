"""An opt-in cap on the time that confirming suspects may add to a run.

Off by default, because whatever a clock decides is not reproducible: the same suite on
a machine twice as slow, on a loaded CI runner, or split differently between xdist
workers would get different verdicts, and a run history or a CI alert built on them
would flip with the weather. With no cap every suspect is confirmed, so a verdict
depends only on what the test's repetitions kept.

A project that prefers a bounded run over settled verdicts (a few slow tests that grow
on first use can double a run) sets a share: repetitions may then add at most that share
of the time the tests themselves took so far. Both sides of that comparison are this
machine's own run times, so no absolute number of seconds is involved, but the decision
still depends on timing, and a suspect the cap cannot afford is reported as
``unconfirmed``, never as clean. A confirmed leak's traced runs are never held to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ConfirmBudget:
    """Time for confirming suspects, as a share of the tests' own time (None: no limit)."""

    def __init__(self, share: float | None) -> None:
        self.share = share
        self._tests = 0.0
        self._spent = 0.0

    def ran(self, seconds: float) -> None:
        """A test's own run took ``seconds``: the budget grows by its share of that."""
        self._tests += seconds

    def spend(self, seconds: float) -> None:
        self._spent += seconds

    def for_suspect(self, run_seconds: float) -> Callable[[], bool]:
        """A check to call before each confirming repetition, which costs about
        ``run_seconds`` (the test's own run)."""
        started = time.perf_counter()

        def affords() -> bool:
            if self.share is None:
                return True
            spent = self._spent + time.perf_counter() - started
            return spent + run_seconds <= self.share * self._tests

        return affords
