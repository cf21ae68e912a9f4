"""``assert_no_leaks``: the plugin's rule applied to one callable, from a test, a script or
a notebook, so that a regression test for a fixed leak is one line.

The callable's first call is its own run (the first warm-up); the probe then repeats it
as it repeats a suspect test: more warm-ups, measured runs until one does not grow, and
for a leak the traced runs, types and owner chains. Unlike a census of object counts
(``objgraph.show_growth``) or a limit on what one run kept (pytest-memray's
``limit_leaks``), what a first call caches is never a leak here.
"""

from __future__ import annotations

import gc
import os
import threading
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

from ..analysis.attribution import FrameClassifier, Kind
from ..cleanup.sweep import CleanupPass
from ..errors import LeakError, LeakForensicsWarning
from ..measure import heap as heap_module
from ..measure import threads as thread_tools
from ..measure.heap import HeapWindow
from ..probe import Probe
from ..reporters.terminal import describe
from ..results import TestResult, Verdict
from ..settings import Settings, parse_repeat


def _name(func: Callable[..., object]) -> str:
    module = getattr(func, "__module__", None) or "?"
    return f"{module}.{getattr(func, '__qualname__', repr(func))}"


def assert_no_leaks(func: Callable[..., object], /, *args: Any, repeat: str = "1:3",  # noqa: ANN401  # the callable's own arguments
                    **kwargs: Any) -> TestResult:  # noqa: ANN401
    """Call ``func(*args, **kwargs)`` as the plugin repeats a suspect test; raise
    ``LeakError`` with the leak's report (sites, types, owners, resources) if it keeps
    memory or resources on every measured call, else return what was measured.

    ``repeat``: ``W:N``, W warm-up calls (the first call is one) and N measured ones.
    An exception from the first call propagates: there is nothing to check.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    # Inside someone else's traced run (the plugin repeating a test that calls this)
    # every allocation of a heap search is traced: seconds per search, so none is made.
    traced_outside = tracemalloc.is_tracing()
    settings = Settings(repeat=parse_repeat(repeat), fail_library=True,
                        owners=not traced_outside)
    classifier = FrameClassifier(os.getcwd())
    heap = HeapWindow()
    outer_collect = gc.collect  # the plugin's, when a checked test calls this
    nested = outer_collect is not heap_module._real_collect
    cleanup = CleanupPass(heap, is_user_file=lambda f: classifier.kind(f) is Kind.USER)
    probe = Probe(classifier, heap, cleanup,
                  lambda message: warnings.warn(message, LeakForensicsWarning, stacklevel=3))
    recording = threading.Thread.start is thread_tools._original_start
    if recording:
        thread_tools.record_starts(probe.stack)

    def run_once() -> str:
        try:
            func(*args, **kwargs)
        except Exception:
            return "failed"
        return "passed"

    name = _name(func)
    try:
        probe.begin()
        try:
            func(*args, **kwargs)
            result = probe.investigate(name, run_once, settings, affords=lambda: True,
                                       outcome="passed")
        finally:
            probe.end()
    finally:
        if recording:
            thread_tools.record_starts(None)
        if nested:
            gc.collect = outer_collect
            gc.freeze()  # the plugin's window sees only what is newer, as before
        else:
            heap.release()
    if traced_outside and result.verdict == Verdict.LEAK:
        result.notes.append("owner chains not searched: tracemalloc was already tracing "
                            "(a traced run of the plugin's calls this check)")
    if result.verdict == Verdict.LEAK:
        raise LeakError("\n".join(describe(result)))
    if result.verdict == Verdict.INCONCLUSIVE:
        warnings.warn("\n".join(describe(result)), LeakForensicsWarning, stacklevel=2)
    return result
