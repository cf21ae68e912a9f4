"""The cleanup pass: return the process to a clean state so only real leaks remain measured.

Order matters: user hooks first (they may drop references into the caches below), then
threads (a finishing thread still owns its objects), SQLAlchemy (sessions hold
connections and identity maps), the standard library's caches, and the collector last.
A failing step never stops the pass; its error is kept for the report.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from ..integrations import sqlalchemy
from ..measure import resources
from ..measure import threads as thread_tools
from ..measure.heap import HeapWindow
from ..types import Frames
from . import stdlib_caches
from .bounded_caches import BoundedCaches
from .runner_caches import RewriterNames
from .steps import BOUNDED_CACHES, GC, SQLALCHEMY, STDLIB, STDLIB_UNSAFE, THREADS, USER

_registered: list[Callable[[], object]] = []

_RUNNERS = "leak_forensics.integrations.async_runner"


def _runner_text(name: str, created_at: Frames) -> Callable[[resources.Site], str]:
    def describe(site: resources.Site) -> str:
        where = site(created_at) if created_at else None
        made = f" created at {where}," if where else ""
        return f"AsyncRunner {name!r}{made} left running: shut down by the cleanup"
    return describe


def register_cleanup(func: Callable[[], object]) -> Callable[[], object]:
    """Add a project's own cache clearing to every cleanup pass; usable as a decorator."""
    if func not in _registered:
        _registered.append(func)
    return func


def unregister_cleanup(func: Callable[[], object]) -> None:
    if func in _registered:
        _registered.remove(func)


_SKIPPED_AS_SPANS_END = stdlib_caches.EMPTIED_BY_READS | frozenset(stdlib_caches.ONCE_PER_TEST)
_SKIPPED_AS_SPANS_OPEN = _SKIPPED_AS_SPANS_END | stdlib_caches.ONLY_INSIDE_WINDOWS


class CleanupPass:
    def __init__(self, heap: HeapWindow, *, skip: frozenset[str] = frozenset(),
                 opt_in: frozenset[str] = frozenset(), thread_timeout: float = 1.0,
                 hooks: Callable[[], object] | None = None,
                 is_user_file: Callable[[str], bool] = lambda filename: False) -> None:
        self.heap = heap
        self.skip = skip
        self.opt_in = opt_in
        self.thread_timeout = thread_timeout
        self.hooks = hooks
        self.is_user_file = is_user_file
        self._bounded = BoundedCaches(is_user_file)
        if STDLIB not in skip:
            stdlib_caches.SLOT_NAMES.install()
        self._rewriter_names = RewriterNames()
        #: Waits for threads that ran out the whole timeout: the cost of a thread leak.
        self.full_waits = 0
        self._stopped: list[resources.Left] = []
        #: Each distinct failure, with how many times it happened.
        self._failures: dict[str, int] = {}

    def run(self, thread_baseline: frozenset[int], *, caches: bool = True
            ) -> list[threading.Thread]:
        """Clean up; return the threads started since ``thread_baseline`` still alive."""
        if caches and USER not in self.skip:
            self._user_hooks()
        alive: list[threading.Thread] = []
        if THREADS not in self.skip and thread_tools.started_since(thread_baseline):
            self._guard("async runners", lambda: self._stop_runners(thread_baseline))
            alive = thread_tools.wait_for(thread_baseline, self.thread_timeout,
                                          between=self._collect)
            if alive:
                self.full_waits += 1
        if caches and SQLALCHEMY not in self.skip:
            self._guard("sqlalchemy", self._release_sqlalchemy)
        if caches:
            self._caches()
        self._collect()
        return alive

    def _stop_runners(self, thread_baseline: frozenset[int]) -> None:
        """Shut down the ``AsyncRunner``s started since the baseline and left running,
        and keep a line for each (``take_stopped``): their threads no longer count as
        alive, but leaving one running is a thread leak all the same."""
        module = sys.modules.get(_RUNNERS)  # not imported: nobody made a runner
        if module is None:
            return
        for runner in module.left_running(thread_baseline):
            runner.shutdown(self.thread_timeout)
            self._stopped.append(resources.Left("thread", _runner_text(runner.name,
                                                                     runner.created_at)))

    def take_stopped(self) -> list[resources.Left]:
        """The runners the pass shut down since the last call, as resources left.
        Emptied in place: a new list kept here would be a list each repetition left."""
        stopped = self._stopped.copy()
        self._stopped.clear()
        return stopped

    def forget_caches(self, opening: bool = False) -> None:
        """Empty the caches a repetition's cleanup empties, and nothing else.

        Done at the end of every measured span of a test's own run, and as one opens
        unless the phase before it passed (``plugin.run.run_screened``), so that it starts
        from the state every repetition starts from. Otherwise each confirmed suspect
        would leave these caches empty and the next tests would refill them, each
        becoming a suspect in turn: on a unittest suite with subtests, one test in six.
        Emptied only where they were empty at the span's start, they free only what the
        span itself cached.
        """
        if USER not in self.skip:
            self._user_hooks()
        # The type cache is left to the counter's read, which empties it anyway; the
        # patterns compiled before a window opens are the runner's, and stay; the
        # warning registries and the ABCs' caches are emptied once before and once after
        # a test that grew (``forget_once_per_test``).
        self._caches(skip_steps=_SKIPPED_AS_SPANS_OPEN if opening else _SKIPPED_AS_SPANS_END,
                     opening=opening, find=opening)
        if not opening and STDLIB not in self.skip:
            self._guard("stdlib cache", stdlib_caches.REGISTERED_SOURCE.forget_new,
                        "linecache")

    def forget_once_per_test(self, before: bool = False) -> None:
        """Empty the caches too slow to look at on every span's ends; ``before`` a test,
        those found last time (``stdlib_caches.BeforeEachTest``)."""
        if STDLIB not in self.skip:
            for name, step in stdlib_caches.ONCE_PER_TEST.items():
                self._guard("stdlib cache", step.before_test if before else step, name)

    def note_window(self) -> None:
        """A measured window opens: what the test runner memoises from now on is the
        window's to forget (``runner_caches``)."""
        self._guard("test runner cache", self._rewriter_names.note)
        if BOUNDED_CACHES not in self.skip:
            self._guard("bounded caches", self._bounded.note)
        if STDLIB not in self.skip:
            self._guard("stdlib cache", stdlib_caches.PATTERNS.note, "re")
            self._guard("stdlib cache", stdlib_caches.REGISTERED_SOURCE.note, "linecache")

    def take_disturbed(self) -> bool:
        """Did a bounded cache lose, in the window now ending, an entry it had as the
        window opened (``BoundedCaches.take_disturbed``)? Then the window freed memory
        that was not its own, and its reading is not to be trusted."""
        return self._bounded.take_disturbed()

    def _user_hooks(self) -> None:
        for func in list(_registered):
            self._guard("cleanup", func, repr(getattr(func, "__qualname__", func)))
        if self.hooks is not None:
            self._guard("pytest_leak_forensics_cleanup hook", self.hooks)

    def _caches(self, skip_steps: frozenset[str] = frozenset(), opening: bool = False,
                find: bool = True) -> None:
        self._guard("test runner cache", self._rewriter_names.forget_new)
        if BOUNDED_CACHES not in self.skip:
            self._guard("bounded caches", lambda: self._bounded.clear(opening, find))
        if STDLIB not in self.skip:
            for name, step in stdlib_caches.SAFE.items():
                if name not in skip_steps:
                    self._guard("stdlib cache", step, name)
            if STDLIB_UNSAFE in self.opt_in:
                for name, step in stdlib_caches.UNSAFE.items():
                    self._guard("stdlib cache", step, name)

    def _collect(self) -> None:
        if GC not in self.skip:
            self.heap.collect()

    def _release_sqlalchemy(self) -> None:
        if "sqlalchemy" in sys.modules and self.heap.open and not self.heap.thawed:
            # Inside an unthawed window the collector sees only what this run created.
            sqlalchemy.release(self.heap.visible_objects(), self.is_user_file)

    def _guard(self, what: str, func: Callable[[], object], name: str = "") -> None:
        """Run one step; its label is formatted only if it fails (steps run six times a
        test)."""
        try:
            func()
        except Exception as exc:  # a broken cache must not break the run
            label = f"{what} {name}" if name else what
            message = f"{label} failed: {type(exc).__name__}: {exc}"
            self._failures[message] = self._failures.get(message, 0) + 1

    @property
    def errors(self) -> list[str]:
        """The failures for the report, one line each, with how often they happened."""
        return [message if count == 1 else f"{message} ({count} times)"
                for message, count in self._failures.items()]
